// Host name to address for the client's connections. Numeric forms and "localhost" are answered
// at once; other names go to getaddrinfo on the offload pool (thread_pool.hpp), so a slow DNS
// server never stalls the loop. Loop thread only.
#pragma once

#include <cstdint>
#include <string>

#include "muxio/result.hpp"
#include "muxio/socket_address.hpp"
#include "muxio/task.hpp"

namespace muxio::ftpc {

// The first address getaddrinfo gives (any family); ClientError::resolve_failed when none.
Task<Result<SocketAddress>> resolve(std::string host, std::uint16_t port);

}  // namespace muxio::ftpc
