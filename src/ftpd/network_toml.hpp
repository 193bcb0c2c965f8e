// Reads NetworkSettings' keys from a parsed config file (config.cpp); kept apart so that only
// the two files that parse TOML include toml++.
#pragma once

#include <toml++/toml.h>

#include <string>

#include "ftpd/network_config.hpp"

namespace muxio::ftpd {

// False with an error naming the key when a key has the wrong type or value.
bool read_network_keys(const toml::table& t, NetworkSettings& n, std::string* error);

}  // namespace muxio::ftpd
