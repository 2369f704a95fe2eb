#include "http/event_loop.h"

#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "check.h"
#include "clock.h"
#include "crebito_limits.h"

namespace http {
namespace {

// Set by close_after_response() on the thread that serves the request; read back by that thread
// right after process_request() returns.
thread_local bool close_requested = false;
thread_local bool linger_requested = false;

// httplib::Stream over one buffered request and the connection's output buffer. Reading past the
// request is the end of the stream: the request is whole (http/request_frame.h).
class BufferStream final : public httplib::Stream {
 public:
  BufferStream(std::string_view request, std::string* out, int fd)
      : request_(request), out_(out), fd_(fd) {}

  bool is_readable() const override { return read_ < request_.size(); }
  bool is_writable() const override { return true; }
  ssize_t read(char* ptr, size_t size) override {
    const size_t count = std::min(size, request_.size() - read_);
    std::memcpy(ptr, request_.data() + read_, count);
    read_ += count;
    return static_cast<ssize_t>(count);
  }
  ssize_t write(const char* ptr, size_t size) override {
    out_->append(ptr, size);
    return static_cast<ssize_t>(size);
  }
  // No addresses: nothing in crebito uses them, and they would cost two system calls a request.
  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    ip.clear();
    port = 0;
  }
  void get_local_ip_and_port(std::string& ip, int& port) const override {
    ip.clear();
    port = 0;
  }
  // Debian's cpp-httplib is built for select(), and process_request() answers 500 for a socket
  // number at or above FD_SETSIZE; it never waits on this stream's socket (the bytes are here), so
  // such a connection reports socket 0 to it.
  socket_t socket() const override { return fd_ < FD_SETSIZE ? fd_ : 0; }

 private:
  const std::string_view request_;
  std::string* const out_;
  const int fd_;
  size_t read_ = 0;
};

// Runs requests whose handler may block, on their own threads (limits::blocking_threads).
class BlockingPool {
 public:
  using Job = std::function<void()>;
  explicit BlockingPool(int threads) {
    for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { work(); });
  }
  ~BlockingPool() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    changed_.notify_all();
    for (std::thread& t : threads_) t.join();
  }
  // false when the queue is full: the caller runs the job itself.
  bool submit(Job job) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (jobs_.size() >= limits::blocking_queue_max) return false;
      jobs_.push_back(std::move(job));
    }
    changed_.notify_one();
    return true;
  }

 private:
  void work() {
    while (true) {
      Job job;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        changed_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
        if (jobs_.empty()) return;
        job = std::move(jobs_.front());
        jobs_.pop_front();
      }
      job();
    }
  }
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<Job> jobs_;   // Guarded by mutex_.
  bool stopping_ = false;  // Guarded by mutex_.
  std::vector<std::thread> threads_;
};

}  // namespace

void EventLoop::close_after_response(bool linger) {
  close_requested = true;
  linger_requested = linger;
}

RequestServer::Answered EventLoop::answer_request(std::string_view request, bool last,
                                                  bool continue_sent, int fd, std::string* out) {
  BufferStream stream(request, out, fd);
  close_requested = false;
  linger_requested = false;
  bool connection_closed = false;
  const bool ok =
      process_request(stream, last, connection_closed, [continue_sent](httplib::Request& req) {
        // Already answered 100 Continue.
        if (continue_sent) req.headers.erase("Expect");
      });
  RequestServer::Answered answered;
  answered.close = !ok || connection_closed || last || close_requested;
  answered.linger = answered.close && close_requested && linger_requested;
  return answered;
}

class EventLoop::Thread final : public RequestServer {
 public:
  Thread(EventLoop* loop, int listen_fd, BlockingPool* blocking)
      : loop_(loop),
        listen_fd_(listen_fd),
        blocking_(blocking),
        epoll_fd_(::epoll_create1(EPOLL_CLOEXEC)),
        wake_fd_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
    CREBITO_ASSERT(epoll_fd_ >= 0 && wake_fd_ >= 0);
    watch(listen_fd_, EPOLLIN | EPOLLEXCLUSIVE, &listen_tag_, EPOLL_CTL_ADD);
    watch(wake_fd_, EPOLLIN, &wake_tag_, EPOLL_CTL_ADD);
  }
  ~Thread() override {
    connections_.clear();  // Each closes its socket.
    ::close(wake_fd_);
    ::close(epoll_fd_);
  }

  void wake() {
    const uint64_t one = 1;
    [[maybe_unused]] const ssize_t written = ::write(wake_fd_, &one, sizeof one);
  }

  void run() {
    epoll_event events[limits::loop_events_max];
    int64_t next_sweep_ms = clocks::steady_ms() + limits::deadline_sweep_interval_ms;
    while (true) {
      if (loop_->stopping_ && !stopped_) begin_stop();
      if (stopped_ && connections_.empty() && offloaded_ == 0) return;
      int timeout_ms = -1;  // Nothing to sweep: wait for an event.
      if (!turn_.empty()) {
        timeout_ms = 0;  // A connection the last turn left with room for more answers.
      } else if (!connections_.empty() || stopped_) {
        timeout_ms = static_cast<int>(std::max<int64_t>(0, next_sweep_ms - clocks::steady_ms()));
      }
      const int n = ::epoll_wait(epoll_fd_, events, limits::loop_events_max, timeout_ms);
      if (n < 0 && errno != EINTR) CREBITO_ASSERT(false && "epoll_wait failed");
      for (int i = 0; i < n; ++i) {
        void* tag = events[i].data.ptr;
        if (tag == &listen_tag_) {
          accept_connections();
        } else if (tag == &wake_tag_) {
          take_wake_ups();
        } else {
          on_ready(static_cast<Client*>(tag), events[i].events);
        }
      }
      run_turn();
      const int64_t now = clocks::steady_ms();
      if (now >= next_sweep_ms) {
        sweep(now);
        next_sweep_ms = now + limits::deadline_sweep_interval_ms;
      }
    }
  }

  // RequestServer, for this thread's connections.
  Answered answer(std::string_view request, bool last, bool continue_sent, int fd,
                  std::string* out) override {
    return loop_->answer_request(request, last, continue_sent, fd, out);
  }
  bool answered_from_turn() override {
    return loop_->hooks_.answered_from_turn && loop_->hooks_.answered_from_turn();
  }
  bool hand_off(std::string_view request_line, Connection* connection) override {
    if (!loop_->is_blocking_ || blocking_ == nullptr || !loop_->is_blocking_(request_line)) {
      return false;
    }
    Client* client = static_cast<Client*>(connection);
    const bool queued = blocking_->submit([this, client] {
      client->serve_offloaded(this);
      give_back(client);
    });
    if (queued) ++offloaded_;
    return queued;
  }
  bool stopping() const override { return loop_->stopping_; }
  size_t requests_per_connection_max() const override { return loop_->keep_alive_max_count_; }

 private:
  // A connection and what the loop keeps for it. Its address is its epoll tag. Every Connection
  // this thread hands to anyone is a Client.
  struct Client final : Connection {
    using Connection::Connection;
    size_t index = 0;                                           // In connections_.
    bool in_turn = false;                                       // Queued in turn_.
    Connection::Interest watched = Connection::Interest::none;  // What epoll waits for.
  };

  static uint32_t epoll_events(Connection::Interest interest) {
    switch (interest) {
      case Connection::Interest::none:
        return 0;
      case Connection::Interest::read:
        return EPOLLIN;
      case Connection::Interest::write:
        return EPOLLOUT;
      case Connection::Interest::read_write:
        return EPOLLIN | EPOLLOUT;
    }
    return 0;
  }

  void watch(int fd, uint32_t events, void* tag, int op) {
    epoll_event event{};
    event.events = events;
    event.data.ptr = tag;
    const int rc = ::epoll_ctl(epoll_fd_, op, fd, &event);
    CREBITO_ASSERT(rc == 0 || op == EPOLL_CTL_DEL);
  }

  // After anything happened to `client`: forget it if it closed, else make epoll wait for what it
  // wants next. Not while it is in the turn's list.
  void settle(Client* client) {
    Connection& connection = *client;
    if (connection.closed()) return forget(client);
    const Connection::Interest wanted = connection.interest();
    if (wanted == client->watched) return;
    const int fd = connection.fd();
    if (wanted == Connection::Interest::none) {
      watch(fd, 0, nullptr, EPOLL_CTL_DEL);
    } else {
      const int op = client->watched == Connection::Interest::none ? EPOLL_CTL_ADD : EPOLL_CTL_MOD;
      watch(fd, epoll_events(wanted), client, op);
    }
    client->watched = wanted;
  }

  void accept_connections() {
    for (int i = 0; i < limits::accept_batch_max; ++i) {
      const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) return;  // EAGAIN (another thread took it), or a connection that went away.
      if (loop_->stopping_ || connections_.size() >= limits::connections_max) {
        ::close(fd);
        continue;
      }
      auto client = std::make_unique<Client>(fd, clocks::steady_ms());
      client->index = connections_.size();
      connections_.push_back(std::move(client));
      settle(connections_.back().get());
    }
  }

  // From a blocking thread: `client`'s request has been answered; the loop takes it back.
  void give_back(Client* client) {
    {
      std::lock_guard<std::mutex> lock(returned_mutex_);
      returned_.push_back(client);
    }
    wake();
  }

  void take_wake_ups() {
    uint64_t count;
    [[maybe_unused]] const ssize_t got = ::read(wake_fd_, &count, sizeof count);
    std::vector<Client*> returned;
    {
      std::lock_guard<std::mutex> lock(returned_mutex_);
      returned.swap(returned_);
    }
    for (Client* client : returned) {
      --offloaded_;
      client->resume(clocks::steady_ms());
      settle(client);
      add_to_turn(client);  // Sends its answer; serves what it pipelined after it.
    }
  }

  void on_ready(Client* client, uint32_t events) {
    if (client->state() == Connection::State::offloaded) return;
    const bool readable = (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) != 0;
    const bool writable = (events & EPOLLOUT) != 0;
    const bool wants_turn = client->on_ready(readable, writable, clocks::steady_ms());
    if (wants_turn) add_to_turn(client);
    if (!client->in_turn) settle(client);
  }

  void add_to_turn(Client* client) {
    if (client->in_turn) return;
    client->in_turn = true;
    turn_.push_back(client);
  }

  // One turn: every connection with new input serves its whole requests, then every answer of the
  // turn is sent, after the turn's writes are committed.
  void run_turn() {
    if (turn_.empty()) return;
    if (loop_->hooks_.begin_turn) loop_->hooks_.begin_turn();
    for (Client* client : turn_) client->serve(this, clocks::steady_ms());
    const bool committed = loop_->hooks_.end_turn ? loop_->hooks_.end_turn() : true;
    std::vector<Client*> turn;
    turn.swap(turn_);
    for (Client* client : turn) {
      client->end_turn(committed);
      client->in_turn = false;
    }
    for (Client* client : turn) {
      const bool again = client->after_turn(clocks::steady_ms());
      if (again) {
        add_to_turn(client);  // The next turn, on the next pass without waiting.
      } else {
        settle(client);
      }
    }
  }

  void forget(Client* client) {
    const size_t index = client->index;
    if (index + 1 != connections_.size()) {
      connections_[index] = std::move(connections_.back());
      connections_[index]->index = index;
    }
    connections_.pop_back();
  }

  void sweep(int64_t now) {
    for (size_t i = connections_.size(); i-- > 0;) {
      Client* client = connections_[i].get();
      Connection& connection = *client;
      if (connection.state() == Connection::State::offloaded || client->in_turn) continue;
      if (now >= connection.deadline_ms()) {
        connection.close();
        forget(client);
      }
    }
  }

  // Stop: no new connections; requests already here are answered with "Connection: close", the
  // other connections close once their answers are sent.
  void begin_stop() {
    stopped_ = true;
    watch(listen_fd_, 0, nullptr, EPOLL_CTL_DEL);
    for (size_t i = connections_.size(); i-- > 0;) {
      Client* client = connections_[i].get();
      const Connection::State state = client->state();
      if (state == Connection::State::offloaded || state == Connection::State::lingering ||
          state == Connection::State::closed) {
        continue;
      }
      client->receive();
      add_to_turn(client);
    }
    run_turn();
    for (size_t i = connections_.size(); i-- > 0;) {
      Client* client = connections_[i].get();
      if (client->in_turn) continue;  // Still serving; closes after its last answer.
      client->close_when_flushed();
      settle(client);
    }
  }

  EventLoop* const loop_;
  const int listen_fd_;
  BlockingPool* const blocking_;
  const int epoll_fd_;
  const int wake_fd_;
  char listen_tag_ = 0;
  char wake_tag_ = 0;
  std::vector<std::unique_ptr<Client>> connections_;
  std::vector<Client*> turn_;
  int offloaded_ = 0;
  bool stopped_ = false;
  std::mutex returned_mutex_;
  std::vector<Client*> returned_;  // Guarded by returned_mutex_.
};

// ---------------------------------------------------------------------------------------------

EventLoop::TurnHooks EventLoop::both_turn_hooks(TurnHooks first, TurnHooks second) {
  return {[first = first.begin_turn, second = second.begin_turn] {
            first();
            second();
          },
          [first = first.end_turn, second = second.end_turn] {
            const bool first_committed = first();
            const bool second_committed = second();  // Ended whatever the first said.
            return first_committed && second_committed;
          },
          [first = first.answered_from_turn, second = second.answered_from_turn] {
            const bool from_first = first();
            const bool from_second = second();  // Asked too: it clears its flag.
            return from_first || from_second;
          }};
}

EventLoop::EventLoop() = default;
EventLoop::~EventLoop() = default;

void EventLoop::serve(int listen_fd, int threads) {
  CREBITO_ASSERT(threads >= 1);
  const int flags = ::fcntl(listen_fd, F_GETFL);
  ::fcntl(listen_fd, F_SETFL, flags | O_NONBLOCK);
  std::unique_ptr<BlockingPool> blocking;
  if (is_blocking_) blocking = std::make_unique<BlockingPool>(limits::blocking_threads);
  std::vector<std::thread> running;
  {
    std::lock_guard<std::mutex> lock(threads_mutex_);
    for (int i = 0; i < threads; ++i) {
      threads_.push_back(std::make_unique<Thread>(this, listen_fd, blocking.get()));
    }
    for (int i = 1; i < threads; ++i) running.emplace_back([this, i] { threads_[i]->run(); });
  }
  threads_[0]->run();
  for (std::thread& t : running) t.join();
  blocking.reset();  // Every offloaded connection came back before its thread returned.
  std::lock_guard<std::mutex> lock(threads_mutex_);
  threads_.clear();
}

void EventLoop::request_stop() {
  stopping_ = true;
  std::lock_guard<std::mutex> lock(threads_mutex_);
  for (auto& thread : threads_) thread->wake();
}

}  // namespace http
