#include "ftpd/bandwidth.hpp"

#include <charconv>

namespace muxio::ftpd {

std::optional<std::uint64_t> parse_bytes(std::string_view text) {
  std::uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end == text.data()) return std::nullopt;
  std::string_view unit(end, static_cast<std::size_t>(text.data() + text.size() - end));
  unsigned shift = 0;
  if (unit == "K" || unit == "k") {
    shift = 10;
  } else if (unit == "M" || unit == "m") {
    shift = 20;
  } else if (unit == "G" || unit == "g") {
    shift = 30;
  } else if (!unit.empty()) {
    return std::nullopt;
  }
  if (value > (UINT64_MAX >> shift)) return std::nullopt;
  return value << shift;
}

std::shared_ptr<UserBandwidth::Buckets> UserBandwidth::for_user(const std::string& name,
                                                                const BandwidthLimits& limits) {
  return buckets_.get(name, [&] {
    auto b = std::make_shared<Buckets>();
    b->download.set_rate(limits.user_download);
    b->upload.set_rate(limits.user_upload);
    return b;
  });
}

}  // namespace muxio::ftpd
