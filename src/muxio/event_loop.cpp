#include "muxio/event_loop.hpp"

#include <fcntl.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <stdexcept>
#include <thread>

#include "muxio/log.hpp"
#include "muxio/thread_pool.hpp"
#include "muxio/unique_fd.hpp"

namespace muxio {
namespace {

thread_local EventLoop* t_current = nullptr;

std::unique_ptr<Selector> selector_or_throw(std::string_view backend) {
  auto selector = make_selector(backend);
  if (!selector) {
    throw std::system_error(selector.error(), "muxio: backend '" + std::string(backend) + "'");
  }
  return std::move(*selector);
}

}  // namespace

// What call_soon_threadsafe() and stop() write to wake a loop blocked in select(): an eventfd,
// or a pipe for backends that cannot watch eventfds (signal-driven IO: eventfd has no O_ASYNC).
class EventLoop::Wakeup final : public IoWatcher {
 public:
  explicit Wakeup(EventLoop& loop) : loop_(loop) {
    if (loop_.selector().backend().watches_eventfd()) {
      read_end_ = UniqueFd(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
      if (!read_end_) throw std::system_error(errno_code(errno), "muxio: eventfd");
    } else {
      int fds[2];
      if (::pipe2(fds, O_NONBLOCK | O_CLOEXEC) < 0) {
        throw std::system_error(errno_code(errno), "muxio: wake-up pipe");
      }
      read_end_ = UniqueFd(fds[0]);
      write_end_ = UniqueFd(fds[1]);
    }
    if (auto ec = loop_.selector().register_fd(read_end_.get(), kReadable,
                                               static_cast<IoWatcher*>(this))) {
      throw std::system_error(ec, "muxio: registering the wake-up descriptor");
    }
  }
  ~Wakeup() { (void)loop_.selector().unregister(read_end_.get()); }

  void post(std::function<void()> fn) {
    {
      std::lock_guard lock(mutex_);
      queue_.push_back(std::move(fn));
    }
    wake();
  }

  // Only the first wake-up between two drains writes: the rest would be redundant syscalls.
  void wake() {
    if (!pending_.exchange(true, std::memory_order_acq_rel)) {
      std::uint64_t one = 1;
      int fd = write_end_ ? write_end_.get() : read_end_.get();
      [[maybe_unused]] ssize_t n = ::write(fd, &one, sizeof one);
    }
  }

  void on_events(Events) override {
    std::uint64_t drain[8];
    while (::read(read_end_.get(), drain, sizeof drain) > 0) {
    }
    pending_.store(false, std::memory_order_release);
    std::vector<std::function<void()>> batch;
    {
      std::lock_guard lock(mutex_);
      batch.swap(queue_);
    }
    for (auto& fn : batch)
      loop_.call_soon(std::move(fn));
  }

 private:
  EventLoop& loop_;
  UniqueFd read_end_;
  UniqueFd write_end_;  // empty for an eventfd, which is both ends
  std::atomic<bool> pending_{false};
  std::mutex mutex_;
  std::vector<std::function<void()>> queue_;
};

namespace {
// Write ends of the self-pipes, by signal number. A signal handler may only touch lock-free
// atomics and async-signal-safe calls, so this is a plain array of atomics.
std::atomic<int> g_signal_pipe[NSIG];

extern "C" void forward_signal(int signo) {
  int fd = g_signal_pipe[signo].load(std::memory_order_relaxed);
  if (fd < 0) return;
  int saved = errno;
  auto byte = static_cast<unsigned char>(signo);
  [[maybe_unused]] ssize_t n = ::write(fd, &byte, 1);
  errno = saved;
}
}  // namespace

// The self-pipe: the process-wide handler writes the signal number, the loop reads it and runs
// the handler as an ordinary callback (where anything may be done, unlike in a signal handler).
class EventLoop::SignalPipe final : public IoWatcher {
 public:
  explicit SignalPipe(EventLoop& loop) : loop_(loop) {
    int fds[2];
    if (::pipe2(fds, O_NONBLOCK | O_CLOEXEC) < 0) {
      throw std::system_error(errno_code(errno), "muxio: signal pipe");
    }
    read_end_ = UniqueFd(fds[0]);
    write_end_ = UniqueFd(fds[1]);
    if (auto ec = loop_.selector().register_fd(read_end_.get(), kReadable,
                                               static_cast<IoWatcher*>(this))) {
      throw std::system_error(ec, "muxio: registering the signal pipe");
    }
  }
  ~SignalPipe() {
    for (auto& [signo, handler] : handlers_)
      restore(signo);
    (void)loop_.selector().unregister(read_end_.get());
  }

  std::error_code add(int signo, std::function<void()> handler) {
    if (signo <= 0 || signo >= NSIG) return errno_code(EINVAL);
    struct sigaction sa {};
    sa.sa_handler = forward_signal;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    g_signal_pipe[signo].store(write_end_.get());
    if (::sigaction(signo, &sa, nullptr) < 0) {
      g_signal_pipe[signo].store(-1);
      return errno_code(errno);
    }
    handlers_[signo] = std::move(handler);
    return {};
  }

  void remove(int signo) {
    if (handlers_.erase(signo) > 0) restore(signo);
  }

  void on_events(Events) override {
    unsigned char buf[64];
    ssize_t n;
    while ((n = ::read(read_end_.get(), buf, sizeof buf)) > 0) {
      for (ssize_t i = 0; i < n; ++i) {
        auto it = handlers_.find(buf[i]);
        if (it != handlers_.end()) loop_.call_soon(it->second);
      }
    }
  }

 private:
  void restore(int signo) {
    int expected = write_end_.get();
    if (g_signal_pipe[signo].compare_exchange_strong(expected, -1)) ::signal(signo, SIG_DFL);
  }

  EventLoop& loop_;
  UniqueFd read_end_;
  UniqueFd write_end_;
  std::unordered_map<int, std::function<void()>> handlers_;
};

EventLoop::EventLoop(std::string_view backend) : EventLoop(selector_or_throw(backend)) {}

EventLoop::EventLoop(std::unique_ptr<Selector> selector)
    : selector_(std::move(selector)), now_(Clock::now()) {
  static const bool init_pipes = [] {
    for (auto& fd : g_signal_pipe)
      fd.store(-1);
    return true;
  }();
  (void)init_pipes;
  wakeup_ = std::make_unique<Wakeup>(*this);
  t_current = this;
}

EventLoop::~EventLoop() {
  thread_.adopt();  // the thread that destroys the loop has it to itself (see loop_thread.hpp)
  while (offloads_.load(std::memory_order_acquire) > 0)
    std::this_thread::yield();
  closing_ = true;
  // The kernel may still work on operations whose buffers live in the frames (a file read in an
  // io_uring worker): it must be done with all of them before any frame is freed.
  if (Proactor* proactor = selector_->backend().proactor()) proactor->abandon_all();
  // Destroy the frames of unfinished tasks first, while everything their destructors touch
  // (selector, timers) still exists; queued resumptions of those frames must never run. Newest
  // first: a task spawned by another (a transfer by its session) may refer to what its spawner
  // owns, so it must go before it.
  std::vector<std::shared_ptr<detail::SpawnedTask>> tasks;
  tasks.reserve(tasks_.size());
  for (auto& [raw, task] : tasks_)
    tasks.push_back(std::move(task));
  tasks_.clear();
  std::sort(tasks.begin(), tasks.end(),
            [](const auto& a, const auto& b) { return a->spawn_order > b->spawn_order; });
  for (auto& task : tasks)
    task->task.reset();
  tasks.clear();
  ready_.clear();
  callback_timers_.clear();
  signals_.reset();
  wakeup_.reset();
  if (t_current == this) t_current = nullptr;
}

EventLoop* EventLoop::current() {
  return t_current;
}

void EventLoop::run() {
  stop_.store(false);
  while (!stop_requested())
    run_once();
}

void EventLoop::stop() {
  stop_.store(true);
  if (wakeup_) wakeup_->wake();
}

void EventLoop::run_once(Duration max_wait) {
  thread_.adopt();
  t_current = this;
  dispatch_io(max_wait);
  update_now();
  fire_timers();
  run_ready();
}

void EventLoop::dispatch_io(Duration max_wait) {
  Duration timeout = Duration(-1);
  if (!ready_.empty()) {
    timeout = Duration::zero();
  } else if (!timers_.empty()) {
    timeout = std::max(Duration::zero(), timers_.next_deadline() - Clock::now());
  }
  if (max_wait.count() >= 0 && (timeout.count() < 0 || max_wait < timeout)) timeout = max_wait;
  auto wait_started = Clock::now();
  auto events = selector_->select(timeout);
  waiting_ += Clock::now() - wait_started;
  if (!events) {
    log_message(LogLevel::error, "select failed: " + events.error().message());
    return;
  }
  for (const ReadyEvent& ev : *events) {
    // A watcher dispatched earlier in this batch may have unregistered this one: look again.
    const SelectorKey* key = selector_->get_key(ev.key.fd);
    if (key == nullptr || key->data != ev.key.data) continue;
    static_cast<IoWatcher*>(key->data)->on_events(ev.mask);
  }
}

void EventLoop::fire_timers() {
  // Timers armed while firing (even for "now") wait for the next iteration, so a callback that
  // re-arms itself with zero delay cannot starve IO.
  std::size_t budget = timers_.size();
  while (budget-- > 0) {
    Timer* t = timers_.pop_due(now_);
    if (t == nullptr) break;
    TimerQueue::fire(t);
  }
}

void EventLoop::run_ready() {
  // Only what was ready when this phase began runs now; what it schedules runs next iteration.
  running_.swap(ready_);
  for (Job& job : running_) {
    if (job.coroutine) {
      job.coroutine.resume();
    } else {
      job.callback();
    }
  }
  running_.clear();
}

void EventLoop::call_soon(std::function<void()> fn) {
  assert_in_loop_thread("EventLoop::call_soon");
  ready_.push_back(Job{{}, std::move(fn)});
}

void EventLoop::call_soon_threadsafe(std::function<void()> fn) {
  wakeup_->post(std::move(fn));
}

TimerId EventLoop::call_later(Duration delay, std::function<void()> fn) {
  assert_in_loop_thread("EventLoop::call_later");
  TimerId id = next_timer_id_++;
  auto timer = std::make_unique<Timer>(*this);
  timer->set_callback([this, id, fn = std::move(fn)] {
    auto node = callback_timers_.extract(id);  // keeps the Timer (and this lambda) alive
    fn();
  });
  timer->arm_after(delay);
  callback_timers_.emplace(id, std::move(timer));
  return id;
}

bool EventLoop::cancel_timer(TimerId id) {
  assert_in_loop_thread("EventLoop::cancel_timer");
  return callback_timers_.erase(id) > 0;
}

std::error_code EventLoop::add_signal_handler(int signo, std::function<void()> handler) {
  assert_in_loop_thread("EventLoop::add_signal_handler");
  if (!signals_) signals_ = std::make_unique<SignalPipe>(*this);
  return signals_->add(signo, std::move(handler));
}

void EventLoop::remove_signal_handler(int signo) {
  if (signals_) signals_->remove(signo);
}

TaskHandle EventLoop::spawn(Task<void> task) {
  assert_in_loop_thread("EventLoop::spawn");
  auto spawned = std::make_shared<detail::SpawnedTask>();
  spawned->loop = this;
  spawned->context.loop = this;
  spawned->task = std::move(task);
  spawned->spawn_order = next_spawn_order_++;
  auto& promise = spawned->task.handle().promise();
  promise.context = &spawned->context;
  promise.on_root_done = &detail::SpawnedTask::on_done;
  promise.root = spawned.get();
  tasks_.emplace(spawned.get(), spawned);
  resume_soon(spawned->task.handle());
  return TaskHandle(std::move(spawned));
}

void EventLoop::task_finished(detail::SpawnedTask* task) {
  auto it = tasks_.find(task);
  if (it == tasks_.end()) return;
  std::shared_ptr<detail::SpawnedTask> keep = std::move(it->second);
  tasks_.erase(it);
  task->done = true;
  task->error = task->task.handle().promise().exception;
  for (detail::JoinAwaiter* j : std::exchange(task->joiners, {}))
    j->wake();
  if (task->error && keep.use_count() == 1) {
    // Nobody holds a handle: nobody can see this exception but the log.
    try {
      std::rethrow_exception(task->error);
    } catch (const std::exception& e) {
      log_message(LogLevel::error, std::string("task ended with an exception: ") + e.what());
    } catch (...) {
      log_message(LogLevel::error, "task ended with an unknown exception");
    }
  }
  // Dropping `keep` may destroy the frame; we run inside its final suspend, which allows that.
}

void EventLoop::cancel_all() {
  std::vector<detail::SpawnedTask*> running;
  for (auto& [raw, task] : tasks_)
    running.push_back(raw);
  for (auto* task : running)
    task->context.cancel();
}

void TaskHandle::destroy_with_loop() {
  if (task_ && !task_->done && task_->loop->closing()) task_->task.reset();
}

void detail::SpawnedTask::on_done(void* self) {
  auto* task = static_cast<SpawnedTask*>(self);
  task->loop->task_finished(task);
}

detail::JoinAwaiter::~JoinAwaiter() {
  if (waiting && task) std::erase(task->joiners, this);
}

std::error_code detail::JoinAwaiter::await_resume() {
  if (result || !task) return result;
  if (task->error) std::rethrow_exception(task->error);
  return {};
}

void detail::JoinAwaiter::interrupt(std::error_code reason) {
  std::erase(task->joiners, this);
  result = reason;
  auto h = std::exchange(waiting, {});
  ctx->loop->resume_soon(h);
}

void detail::JoinAwaiter::wake() {
  if (ctx->pending == this) ctx->pending = nullptr;
  auto h = std::exchange(waiting, {});
  ctx->loop->resume_soon(h);
}

ThreadPool& EventLoop::offload_pool() {
  return pool_ != nullptr ? *pool_ : default_thread_pool();
}

}  // namespace muxio
