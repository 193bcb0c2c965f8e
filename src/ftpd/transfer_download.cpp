// Downloads (RETR) and listings (LIST, NLST, MLSD): a file or a listing text sent over the data
// connection. A binary download over plain TCP goes through sendfile; TLS and ASCII mode go
// through user space.
#include <sys/stat.h>

#include "ftp/ascii_codec.hpp"
#include "ftpd/stall_watchdog.hpp"
#include "ftpd/transfer.hpp"
#include "muxio/file_ops.hpp"
#include "muxio/time.hpp"

namespace muxio::ftpd {

namespace {
constexpr std::size_t kSendfileChunk = 4 << 20;  // per call: keeps ABOR and progress responsive
constexpr std::size_t kReadBuffer = 256 << 10;
constexpr std::size_t kListingChunk = 64 << 10;
}  // namespace

Task<void> Transfer::send_file(UniqueFd file, std::string path, std::uint64_t offset,
                               std::uint64_t size) {
  TimePoint started = Clock::now();
  const bool binary = setup_.binary;
  auto data = co_await setup_.host.open_data_connection(
      std::string("Opening ") + (binary ? "BINARY" : "ASCII") + " mode data connection for " +
      path + " (" + std::to_string(size) + " bytes).");
  if (!data) {
    record(path, 0, false, started);
    co_return;
  }
  TaskContext* ctx = co_await current_context();
  StallWatchdog watchdog(setup_.loop, ctx, stall_period(), bytes_);
  std::error_code ec;
  std::uint64_t pos = offset;
  // A file cut short meanwhile (truncated by someone else) cannot be sent whole: the client
  // must not be told 226 for a copy that lacks its end.
  bool shrank = false;
  if (binary && !data->tls) {
    while (pos < size && !ec) {
      std::size_t chunk = paced_chunk(kSendfileChunk);
      auto n = co_await data->tcp.sendfile(file.get(), static_cast<off_t>(pos),
                                           std::min<std::uint64_t>(size - pos, chunk));
      if (!n)
        ec = n.error();
      else if (*n == 0)
        shrank = true;
      else
        pos += *n;
      bytes_ = pos - offset;
      if (shrank) break;
      if (n) ec = co_await pace(*n);
    }
  } else {
    // Through user space: TLS encrypts every byte, ASCII mode converts line ends.
    ftp::ToNetworkAscii codec;
    std::string raw(kReadBuffer, '\0');
    std::string wire;
    while (!ec) {
      std::size_t chunk = paced_chunk(raw.size());
      auto n =
          co_await read_file_at(file.get(), std::as_writable_bytes(std::span(raw).first(chunk)),
                                static_cast<std::int64_t>(pos));
      if (!n) ec = n.error();
      if (n && *n == 0) shrank = pos < size;  // an end before the size seen at RETR
      if (!n || *n == 0) break;
      pos += *n;
      std::string_view out(raw.data(), *n);
      if (!binary) {
        wire.clear();
        codec.convert(out, wire);
        out = wire;
      }
      ec = co_await data->stream().write_all(std::as_bytes(std::span(out.data(), out.size())));
      bytes_ = pos - offset;
      if (!ec) ec = co_await pace(*n);
    }
  }
  bool complete = !ec && !shrank;
  if (complete) {
    co_await data->finish();
  } else {
    data->abort();
  }
  TransferHost& host = setup_.host;
  if (complete) {
    co_await shielded(host.reply(226, "Transfer complete."));
  } else if (shrank) {
    setup_.server.log->warn("[{}] download {}: the file shrank during the transfer",
                            setup_.session_id, path);
    co_await shielded(host.reply(451, "File shrank during the transfer; transfer aborted."));
  } else if (ec == Error::timed_out) {
    co_await shielded(host.reply(426, "Transfer timed out: no progress."));
  } else if (ec == Error::cancelled) {
    co_await shielded(host.reply(426, "Transfer aborted."));
  } else {
    co_await shielded(host.reply(426, "Connection closed; transfer aborted."));
  }
  record(path, pos - offset, complete, started);
}

// In pieces, so that the stall watchdog sees progress: a client that opens a listing and never
// reads it is cut after the data timeout like a download (the control connection's idle timeout
// does not run during a transfer), and one that reads slowly is not.
Task<void> Transfer::send_listing(std::string text, std::string what) {
  TransferHost& host = setup_.host;
  auto data = co_await host.open_data_connection("Here comes the listing of " + what + ".");
  if (!data) co_return;
  TaskContext* ctx = co_await current_context();
  StallWatchdog watchdog(setup_.loop, ctx, stall_period(), bytes_);
  std::error_code ec;
  std::size_t pos = 0;
  while (!ec && pos < text.size()) {
    std::size_t n = std::min(kListingChunk, text.size() - pos);
    ec = co_await data->stream().write_all(std::as_bytes(std::span(text.data() + pos, n)));
    if (!ec) pos += n;
    bytes_ = pos;
  }
  if (ec) {
    data->abort();  // a reset: nothing more waits on a peer that does not read
  } else {
    co_await data->finish();
  }
  if (!ec) {
    co_await shielded(host.reply(226, "Directory send OK."));
  } else if (ec == Error::timed_out) {
    co_await shielded(host.reply(426, "Listing timed out: no progress."));
  } else {
    co_await shielded(host.reply(426, "Listing aborted."));
  }
}

}  // namespace muxio::ftpd
