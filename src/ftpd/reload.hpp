// Reload: what SIGHUP does. The users file is read again (the command-line accounts on top) and,
// with a config file, its reloadable keys (apply_reloadable, config.hpp) are taken over — without
// dropping a session: a logged-in session needs nothing more from the user list, and a session
// keeps the settings it started with. A part that fails to load keeps what was loaded before and
// logs why, so a typo in the users file does not lock everyone out.
#pragma once

#include <functional>
#include <string>
#include <system_error>

#include "ftpd/server_context.hpp"

namespace muxio::ftpd {

// Fills cfg from the config file and the command-line flags, as at start-up.
using SettingsLoader = std::function<std::error_code(ServerConfig& cfg, std::string* error)>;

// Blocking (small files): runs on a loop thread, in the signal handler.
void reload(ServerContext& ctx, const SettingsLoader& load_settings);

}  // namespace muxio::ftpd
