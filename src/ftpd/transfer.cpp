// Transfer's lifetime, pacing and record: what downloads, uploads and listings share.
#include "ftpd/transfer.hpp"

#include <algorithm>

#include "muxio/time.hpp"

namespace muxio::ftpd {

Transfer::Transfer(TransferSetup setup, std::string what)
    : setup_(std::move(setup)), what_(std::move(what)) {}

Transfer::~Transfer() {
  // The session joins its transfer; only a loop destroyed with both suspended gets here with the
  // task still there. Its frame refers to this transfer and to the session: it goes first, then
  // the members (an upload's reservation is given back).
  task_.destroy_with_loop();
}

void Transfer::start_download(UniqueFd file, std::string path, std::uint64_t offset,
                              std::uint64_t size) {
  session_rate_.set_rate(setup_.bandwidth.session_download);
  task_ = setup_.loop.spawn(send_file(std::move(file), std::move(path), offset, size));
}

void Transfer::start_upload(UploadTarget target) {
  upload_ = true;
  session_rate_.set_rate(setup_.bandwidth.session_upload);
  target_ = std::move(target);
  task_ = setup_.loop.spawn(receive_file());
}

void Transfer::start_listing(std::string text, std::string what) {
  task_ = setup_.loop.spawn(send_listing(std::move(text), std::move(what)));
}

std::size_t Transfer::paced_chunk(std::size_t wanted) const {
  std::size_t n = session_rate_.chunk(wanted);
  if (setup_.user_rates) {
    n = (upload_ ? setup_.user_rates->upload : setup_.user_rates->download).chunk(n);
  }
  return n;
}

Task<std::error_code> Transfer::pace(std::size_t n) {
  Duration wait = session_rate_.reserve(n);
  if (setup_.user_rates) {
    RateLimiter& user = upload_ ? setup_.user_rates->upload : setup_.user_rates->download;
    wait = std::max(wait, user.reserve(n));
  }
  if (wait <= Duration::zero()) co_return std::error_code{};
  co_return co_await sleep_for(wait);
}

Duration Transfer::stall_period() const {
  return std::chrono::duration_cast<Duration>(setup_.settings.data_timeout);
}

void Transfer::record(const std::string& path, std::uint64_t bytes, bool complete,
                      TimePoint started) {
  TransferRecord r;
  r.seconds = std::chrono::duration<double>(Clock::now() - started).count();
  r.peer_ip = setup_.peer_ip;
  r.bytes = bytes;
  r.path = path;
  r.binary = setup_.binary;
  r.upload = upload_;
  r.user = setup_.user;
  r.complete = complete;
  setup_.server.xferlog.write(r);
  setup_.server.metrics.transfer(
      upload_ ? Metrics::Direction::upload : Metrics::Direction::download, complete, bytes,
      r.seconds);
  SessionEvent e("transfer");
  e.path = path;
  e.bytes = bytes;
  e.duration = r.seconds;
  e.result = complete ? "complete" : "incomplete";
  e.direction = upload_ ? "upload" : "download";
  setup_.host.log_event(e, std::string(upload_ ? "upload " : "download ") + path + ": " +
                               std::to_string(bytes) + " bytes" +
                               (complete ? "" : " (incomplete)"));
}

}  // namespace muxio::ftpd
