// chat-server: the seeds' select chat server, on muxio coroutines.
//
// The seeds' chat server keeps every connection in select()'s input list and serves whichever
// speaks; here each client is two plain top-to-bottom coroutines — a reader that waits for lines
// and a writer that drains the client's outbox — and the loop multiplexes all of them on one
// thread (the event-driven model, without callbacks).
//
// Protocol (lines end with \n; a \r before it is dropped):
//   to a new client:     "* welcome, you are client N (M others here)"
//   to the others:       "* client N joined"
//   a line from client N, to every other client: "client N: <line>"
//   client N leaves:     "* client N left"   (or "* client N left (too slow)", see below)
// Lines longer than 4 KiB are cut into 4 KiB pieces.
//
// Slow clients: every client has a bounded outbox (64 KiB queued, on top of the kernel's socket
// buffer). A client whose outbox would overflow is DISCONNECTED, not fed with gaps: dropping
// lines would silently change the conversation it sees, while a disconnect is visible to it and
// to the others ("left (too slow)"). So memory per client is bounded and one reader that stalls
// never slows the room down.
//
// Options: --listen HOST:PORT (port 0: any free port), --io BACKEND (as echo-server).
// Prints "listening on HOST:PORT"; exits with 0 on SIGINT/SIGTERM.
#include <array>
#include <csignal>
#include <cstdio>
#include <deque>
#include <map>
#include <memory>
#include <string>

#include "muxio/muxio.hpp"

namespace {

using muxio::Task;

constexpr std::size_t kOutboxLimit = 64 * 1024;
constexpr std::size_t kMaxLine = 4096;

// A one-waiter wake-up (the part of asyncio.Event the writer needs): notify() resumes the task
// waiting in wait(), or makes its next wait() return at once. Cancellable like every muxio wait.
class Notify {
 public:
  class Awaiter final : public muxio::Cancellable {
   public:
    explicit Awaiter(Notify& n) : n_(n) {}
    Awaiter(const Awaiter&) = delete;
    Awaiter& operator=(const Awaiter&) = delete;
    ~Awaiter() {
      if (n_.waiter_ == this) n_.waiter_ = nullptr;
    }
    bool await_ready() const noexcept { return n_.pending_; }
    template <class P>
    bool await_suspend(std::coroutine_handle<P> h) {
      ctx_ = muxio::context_of(h);
      if ((result_ = ctx_->stop_reason())) return false;
      handle_ = h;
      n_.waiter_ = this;
      ctx_->pending = this;
      return true;
    }
    std::error_code await_resume() {
      n_.pending_ = false;
      return result_;
    }
    void interrupt(std::error_code reason) override {
      n_.waiter_ = nullptr;
      result_ = reason;
      ctx_->loop->resume_soon(handle_);
    }
    void wake() {
      if (ctx_->pending == this) ctx_->pending = nullptr;
      ctx_->loop->resume_soon(handle_);
    }

   private:
    Notify& n_;
    muxio::TaskContext* ctx_ = nullptr;
    std::coroutine_handle<> handle_;
    std::error_code result_;
  };

  Awaiter wait() { return Awaiter(*this); }
  void notify() {
    if (Awaiter* w = waiter_) {
      waiter_ = nullptr;
      w->wake();
    } else {
      pending_ = true;
    }
  }

 private:
  Awaiter* waiter_ = nullptr;
  bool pending_ = false;
};

struct Client {
  int id = 0;
  muxio::TcpStream stream;
  std::deque<std::string> outbox;
  std::size_t queued = 0;  // bytes in outbox
  Notify wake_writer;
  bool gone = false;
};

struct Room {
  std::map<int, std::shared_ptr<Client>> clients;  // by id: join order
  int next_id = 1;
};

void leave(Room& room, const std::shared_ptr<Client>& c, const char* why);

void deliver(Room& room, const std::shared_ptr<Client>& to, const std::string& line) {
  if (to->gone) return;
  if (to->queued + line.size() > kOutboxLimit) {
    leave(room, to, " (too slow)");  // the policy: disconnect, never drop lines
    return;
  }
  to->outbox.push_back(line);
  to->queued += line.size();
  to->wake_writer.notify();
}

void broadcast(Room& room, int from, const std::string& line) {
  // A copy of the list: deliver() may remove a slow client from the room while we iterate.
  std::map<int, std::shared_ptr<Client>> snapshot = room.clients;
  for (auto& [id, c] : snapshot)
    if (id != from) deliver(room, c, line);
}

// Removes a client (once) and tells the others; its writer ends and its reader is interrupted.
void leave(Room& room, const std::shared_ptr<Client>& c, const char* why) {
  if (c->gone) return;
  c->gone = true;
  room.clients.erase(c->id);
  c->stream.close();  // interrupts its pending recv/send with ECANCELED
  c->wake_writer.notify();
  std::string line = "* client " + std::to_string(c->id) + " left" + why + "\n";
  broadcast(room, c->id, line);
}

Task<void> writer(Room& room, std::shared_ptr<Client> c) {
  while (!c->gone) {
    if (c->outbox.empty()) {
      std::error_code cancelled = co_await c->wake_writer.wait();
      if (cancelled) break;  // the loop is shutting down
      continue;
    }
    std::string line = std::move(c->outbox.front());
    c->outbox.pop_front();
    c->queued -= line.size();
    // Suspends while the client does not read.
    std::error_code failed = co_await c->stream.send_all(line);
    if (failed) break;
  }
  leave(room, c, "");
}

Task<void> session(Room& room, muxio::TcpStream stream) {
  auto c = std::make_shared<Client>();
  c->id = room.next_id++;
  c->stream = std::move(stream);
  std::string welcome = "* welcome, you are client " + std::to_string(c->id) + " (" +
                        std::to_string(room.clients.size()) + " others here)\n";
  std::string joined = "* client " + std::to_string(c->id) + " joined\n";
  broadcast(room, c->id, joined);
  room.clients[c->id] = c;
  deliver(room, c, welcome);
  muxio::EventLoop::current()->spawn(writer(room, c));

  std::array<std::byte, 4096> buf;
  std::string pending;  // bytes after the last newline
  std::string prefix = "client " + std::to_string(c->id) + ": ";
  while (!c->gone) {
    auto n = co_await c->stream.recv(buf);
    if (!n || *n == 0) break;
    pending.append(reinterpret_cast<const char*>(buf.data()), *n);
    std::size_t start = 0;
    for (;;) {
      std::size_t nl = pending.find('\n', start);
      std::size_t end = nl == std::string::npos ? pending.size() : nl;
      if (nl == std::string::npos && end - start < kMaxLine) break;
      if (end - start > kMaxLine) end = start + kMaxLine;  // cut an overlong line
      std::size_t text_end = end;
      if (text_end > start && pending[text_end - 1] == '\r') --text_end;
      std::string line = prefix + pending.substr(start, text_end - start) + "\n";
      broadcast(room, c->id, line);
      start = (end == nl) ? nl + 1 : end;
    }
    pending.erase(0, start);
    // Fairness: recv() completes at once while this client has data queued, so without a pause
    // one fast talker would keep the loop to itself and fill the others' outboxes before their
    // writers ever ran. Yield to the next loop iteration after every chunk.
    std::error_code stopped = co_await muxio::sleep_for(muxio::Duration::zero());
    if (stopped) break;
  }
  leave(room, c, "");
}

Task<void> accept_loop(Room& room, muxio::TcpListener& listener) {
  for (;;) {
    auto accepted = co_await listener.accept();
    if (!accepted) {
      if (accepted.error() == muxio::Error::cancelled) co_return;
      co_await muxio::sleep_for(std::chrono::milliseconds(50));  // out of descriptors
      continue;
    }
    muxio::EventLoop::current()->spawn(session(room, std::move(accepted->stream)));
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::string listen = "127.0.0.1:7000", io = "best";
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--listen" && i + 1 < argc) {
      listen = argv[++i];
    } else if (arg == "--io" && i + 1 < argc) {
      io = argv[++i];
    } else {
      std::fprintf(stderr, "usage: chat-server [--listen HOST:PORT] [--io BACKEND]\n");
      return 2;
    }
  }
  auto addr = muxio::SocketAddress::parse(listen);
  if (!addr) {
    std::fprintf(stderr, "chat-server: --listen %s: %s\n", listen.c_str(),
                 addr.error().message().c_str());
    return 2;
  }
  std::signal(SIGPIPE, SIG_IGN);
  Room room;  // declared before the loop: the loop's tasks refer to it
  try {
    muxio::EventLoop loop(io);
    auto listener = muxio::TcpListener::bind(loop, *addr);
    if (!listener) {
      std::fprintf(stderr, "chat-server: listen on %s: %s\n", listen.c_str(),
                   listener.error().message().c_str());
      return 1;
    }
    loop.spawn(accept_loop(room, *listener));
    (void)loop.add_signal_handler(SIGINT, [&loop] { loop.stop(); });
    (void)loop.add_signal_handler(SIGTERM, [&loop] { loop.stop(); });
    std::printf("listening on %s\n", listener->local_address()->to_string().c_str());
    std::fflush(stdout);
    loop.run();
    // The clients' streams must close while the loop still exists: drop the room's references,
    // so that the task frames (destroyed by the loop's destructor) hold the last ones.
    room.clients.clear();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "chat-server: %s\n", e.what());
    return 1;
  }
  return 0;
}
