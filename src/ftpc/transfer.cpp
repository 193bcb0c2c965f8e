#include "ftpc/transfer.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>

#include "ftpc/ascii_files.hpp"
#include "ftpc/verify.hpp"
#include "muxio/thread_pool.hpp"

namespace muxio::ftpc {

namespace {

// Closes a descriptor at the end of a scope.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

double seconds_between(TimePoint a, TimePoint b) {
  return std::chrono::duration<double>(b - a).count();
}

bool is_cancel(std::error_code ec) {
  return ec == Error::cancelled;
}

// TYPE A for a text transfer. Sent before each one: cheap, and the session may be new.
Task<std::error_code> use_ascii_type(ControlConnection& conn) {
  auto reply = co_await conn.command("TYPE", "A");
  if (!reply) co_return reply.error();
  if (reply->kind() != 2) co_return reply_error(reply->code);
  co_return std::error_code{};
}

// A temporary file, gone when closed.
class TempFile {
 public:
  TempFile() : file_(std::tmpfile()) {}
  ~TempFile() {
    if (file_ != nullptr) std::fclose(file_);
  }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  int fd() const { return file_ != nullptr ? ::fileno(file_) : -1; }

 private:
  std::FILE* file_;
};

}  // namespace

Task<void> transfer_worker(TransferRunner& runner) {
  co_await runner.work();
}

TransferRunner::TransferRunner(EventLoop& loop, Endpoint endpoint, std::vector<Job>& jobs,
                               RunOptions options, TransferObserver* observer)
    : loop_(loop),
      endpoint_(std::move(endpoint)),
      jobs_(jobs),
      options_(options),
      observer_(observer) {}

Task<void> TransferRunner::run() {
  std::size_t n =
      std::clamp<std::size_t>(options_.parallel, 1, std::max<std::size_t>(jobs_.size(), 1));
  for (std::size_t i = 0; i < n; ++i)
    workers_.push_back(loop_.spawn(transfer_worker(*this)));
  for (auto& w : workers_)
    (void)co_await w.finish();
}

void TransferRunner::stop() {
  stopping_ = true;
  for (auto& w : workers_)
    w.cancel();
}

Task<void> TransferRunner::work() {
  std::unique_ptr<ControlConnection> conn;
  while (!stopping_ && next_ < jobs_.size()) {
    Job& job = jobs_[next_++];
    job.state = JobState::running;
    const TimePoint started = loop_.now();
    if (observer_ != nullptr) observer_->started(job);
    std::error_code ec;
    for (;;) {
      ++job.attempts;
      if (conn && !conn->usable()) {
        conn->close();
        conn.reset();
      }
      if (!conn) {
        auto c = co_await open_session(loop_, endpoint_);
        if (c) {
          conn = std::move(*c);
        } else {
          ec = c.error();
        }
      }
      std::string server_says;
      if (conn) {
        ec = co_await attempt(job, *conn);
        if (ec && reply_code_of(ec) != 0) server_says = conn->last_reply_line();
      }
      if (!ec) break;
      job.error = with_hint(server_says.empty() ? ec.message() : server_says, ec);
      if (stopping_ || is_cancel(ec)) {
        job.error = "interrupted";
        break;
      }
      if (!is_transient(ec) || job.attempts > options_.retries) break;
      if (conn) {  // after a transient error the session is suspect: start a new one
        conn->close();
        conn.reset();
      }
      auto pause = options_.backoff * (1 << std::min(job.attempts - 1, 5));
      pause = std::min<Duration>(pause, std::chrono::seconds(10));
      std::error_code interrupted = co_await sleep_for(pause);
      if (interrupted) {
        job.error = "interrupted";
        break;
      }
    }
    job.seconds = seconds_between(started, loop_.now());
    if (!ec) {
      if (job.state == JobState::running) job.state = JobState::done;
      job.error.clear();
    } else {
      job.state = JobState::failed;
    }
    if (observer_ != nullptr) observer_->finished(job);
  }
  if (conn) {
    if (!stopping_) co_await conn->quit();
    conn->close();
  }
}

Task<std::error_code> TransferRunner::attempt(Job& job, ControlConnection& conn) {
  if (options_.ascii) {
    if (job.direction == JobKind::get) co_return co_await get_text(job, conn);
    co_return co_await put_text(job, conn);
  }
  std::error_code ec;
  if (job.direction == JobKind::get) {
    ec = co_await get(job, conn);
  } else {
    ec = co_await put(job, conn);
  }
  if (ec || !options_.verify || job.range) co_return ec;
  auto checked = co_await verify_copy(conn, job.remote, job.local);
  if (!checked) co_return checked.error();
  job.verified_by = *checked;
  co_return std::error_code{};
}

Task<std::error_code> TransferRunner::get(Job& job, ControlConnection& conn) {
  struct stat before {};
  const bool existed = ::stat(job.local.c_str(), &before) == 0;
  Fd fd(::open(job.local.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
  if (fd.get() < 0) co_return errno_code(errno);
  if (job.range) {
    // A segment: continues from where an earlier attempt stopped.
    std::uint64_t from =
        job.attempts > 1 ? std::max(job.position, job.range->first) : job.range->first;
    if (job.attempts == 1) job.position = from;
    job.start_offset = job.range->first;
    if (from >= job.range->second) co_return std::error_code{};
    std::optional<std::uint64_t> length = job.range->second - from;
    co_return co_await conn.retrieve(job.remote, fd.get(), from, length, &job.position);
  }
  if (!job.size) {
    auto s = co_await conn.size(job.remote);
    if (s) job.size = *s;
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) < 0) co_return errno_code(errno);
  std::uint64_t offset = 0;
  if (options_.resume || job.attempts > 1) offset = static_cast<std::uint64_t>(st.st_size);
  if (job.size && offset > *job.size) offset = 0;  // not a prefix of the remote file
  if (job.attempts == 1) job.start_offset = offset;
  job.position = offset;
  if (job.size && offset == *job.size && offset > 0 && job.attempts == 1) {
    job.state = JobState::skipped;  // already complete
    co_return std::error_code{};
  }
  if (offset == 0 && ::ftruncate(fd.get(), 0) < 0) co_return errno_code(errno);
  auto ec = co_await conn.retrieve(job.remote, fd.get(), offset, std::nullopt, &job.position);
  if (ec && !existed && job.position == 0 && !is_transient(ec) && !is_cancel(ec)) {
    ::unlink(job.local.c_str());  // nothing came (550 ...): leave no empty file behind
  }
  if (ec) co_return ec;
  if (job.size && job.position != *job.size) {
    // The file changed on the server meanwhile, or the connection ended early without an error.
    if (job.position < *job.size) co_return make_error_code(ClientError::short_transfer);
  }
  if (options_.preserve_mtime && job.mtime) {
    timespec times[2];
    times[0].tv_sec = *job.mtime;
    times[0].tv_nsec = 0;
    times[1] = times[0];
    (void)::futimens(fd.get(), times);
  }
  co_return std::error_code{};
}

Task<std::error_code> TransferRunner::put(Job& job, ControlConnection& conn) {
  Fd fd(::open(job.local.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) co_return errno_code(errno);
  struct stat st {};
  if (::fstat(fd.get(), &st) < 0) co_return errno_code(errno);
  const auto size = static_cast<std::uint64_t>(st.st_size);
  job.size = size;
  std::uint64_t offset = 0;
  auto mode = ControlConnection::StoreMode::replace;
  if (options_.resume || job.attempts > 1) {
    auto remote = co_await conn.size(job.remote);
    if (remote && *remote == size && job.attempts == 1) {
      job.position = size;
      job.start_offset = size;
      job.state = JobState::skipped;
      co_return std::error_code{};
    }
    if (remote && *remote <= size) {
      offset = *remote;
      auto rest = conn.features().find("REST");
      bool rest_stream =
          rest != conn.features().end() && rest->second.find("STREAM") != std::string::npos;
      mode = rest_stream ? ControlConnection::StoreMode::restart
                         : ControlConnection::StoreMode::append;
    }
  }
  if (job.attempts == 1) job.start_offset = offset;
  job.position = offset;
  if (offset == size && offset > 0) co_return std::error_code{};
  auto ec = co_await store_resumed(job, conn, fd.get(), offset, mode);
  if (ec) co_return ec;
  if (options_.preserve_mtime && conn.has_feature("MFMT")) {
    (void)co_await conn.set_mtime(job.remote, st.st_mtim.tv_sec);
  }
  co_return std::error_code{};
}

// The refusals come before any data (the REST, or the STOR/APPE itself), so nothing is lost by
// asking again another way on the same session.
Task<std::error_code> TransferRunner::store_resumed(Job& job, ControlConnection& conn, int fd,
                                                    std::uint64_t offset,
                                                    ControlConnection::StoreMode mode) {
  using Mode = ControlConnection::StoreMode;
  for (;;) {
    if (mode == Mode::restart && restart_refused_) mode = Mode::append;
    if (mode == Mode::append && append_refused_) {
      mode = Mode::replace;
      offset = 0;
      job.start_offset = 0;  // the whole file goes
    }
    job.position = offset;
    auto ec = co_await conn.store(job.remote, fd, offset, mode, &job.position);
    const bool refused_before_data =
        ec && job.position == offset && conn.usable() && refuses_resumed_store(ec) && !stopping_;
    if (mode == Mode::replace || !refused_before_data) co_return ec;
    (mode == Mode::restart ? restart_refused_ : append_refused_) = true;
  }
}

// Text: whole files every time (the sizes differ on the two sides, so there is nothing to resume
// from), progress in bytes on the wire.
Task<std::error_code> TransferRunner::get_text(Job& job, ControlConnection& conn) {
  struct stat before {};
  const bool existed = ::stat(job.local.c_str(), &before) == 0;
  Fd fd(::open(job.local.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (fd.get() < 0) co_return errno_code(errno);
  job.size.reset();
  job.start_offset = 0;
  job.position = 0;
  if (auto ec = co_await use_ascii_type(conn)) co_return ec;
  auto ec = co_await conn.retrieve(job.remote, fd.get(), 0, std::nullopt, &job.position);
  if (ec && !existed && job.position == 0 && !is_transient(ec) && !is_cancel(ec)) {
    ::unlink(job.local.c_str());
  }
  if (ec) co_return ec;
  const int raw = fd.get();
  auto convert = [raw] { return crlf_to_lf_in_place(raw); };  // not in the co_await (g++ 12)
  co_return co_await offload(convert);
}

Task<std::error_code> TransferRunner::put_text(Job& job, ControlConnection& conn) {
  Fd fd(::open(job.local.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) co_return errno_code(errno);
  TempFile wire;
  if (wire.fd() < 0) co_return errno_code(errno);
  const int from = fd.get(), to = wire.fd();
  auto convert = [from, to] { return lf_to_crlf_copy(from, to); };
  std::error_code converted = co_await offload(convert);
  if (converted) co_return converted;
  struct stat st {};
  if (::fstat(to, &st) < 0) co_return errno_code(errno);
  job.size = static_cast<std::uint64_t>(st.st_size);
  job.start_offset = 0;
  job.position = 0;
  if (auto ec = co_await use_ascii_type(conn)) co_return ec;
  co_return co_await conn.store(job.remote, to, 0, ControlConnection::StoreMode::replace,
                                &job.position);
}

}  // namespace muxio::ftpc
