// Supervision by systemd, written by hand (no libsystemd): readiness and status through the
// sd_notify datagram protocol, and listening sockets handed over by socket activation.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace muxio::ftpd {

// Sends `state` ("READY=1", "STATUS=...", lines joined by \n) as one datagram to
// $NOTIFY_SOCKET: a path, or an abstract socket when it starts with '@'. Does nothing (false)
// when the variable is unset; never blocks (MSG_DONTWAIT). Any thread.
bool sd_notify(std::string_view state);

struct InheritedSocket {
  int fd;
  std::string name;  // from LISTEN_FDNAMES; "" when not given
};

// The sockets systemd passed (LISTEN_PID is this process, LISTEN_FDS of them from fd 3), with
// their names. Unsets the three variables so that child processes do not take them too.
// `error` is set (and nothing returned) when the variables are malformed.
std::vector<InheritedSocket> take_listen_fds(std::string* error);

}  // namespace muxio::ftpd
