// Session::log_event: the session's structured log events (json_log.hpp).
#include "ftpd/session.hpp"

namespace muxio::ftpd {

void Session::log_event(SessionEvent e, const std::string& text) const {
  if (!json_logs()) {
    if (!text.empty()) log(text);
    return;
  }
  e.session = id_;
  std::string client = peer_.to_string();
  e.client = client;
  if (e.user.empty()) e.user = user_name_;
  std::string line = kEventMarker + format_event_fields(e);
  if (e.event == "error") {
    server_.log->warn("{}", line);
  } else {
    server_.log->info("{}", line);
  }
}

}  // namespace muxio::ftpd
