// The whole public API of muxio in one include.
#pragma once

#include "muxio/async_mutex.hpp"
#include "muxio/event_loop.hpp"
#include "muxio/events.hpp"
#include "muxio/io_handle.hpp"
#include "muxio/rate_limiter.hpp"
#include "muxio/result.hpp"
#include "muxio/selector.hpp"
#include "muxio/socket_address.hpp"
#include "muxio/stream.hpp"
#include "muxio/task.hpp"
#include "muxio/task_handle.hpp"
#include "muxio/tcp_listener.hpp"
#include "muxio/tcp_stream.hpp"
#include "muxio/thread_pool.hpp"
#include "muxio/time.hpp"
#include "muxio/timer.hpp"
