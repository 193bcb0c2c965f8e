// A statement's parameters, or a result row, as the database stores exchange them: every column
// as text, NULL as nullopt.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace muxio::ftpd {

using SqlRow = std::vector<std::optional<std::string>>;

}  // namespace muxio::ftpd
