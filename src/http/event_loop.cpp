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
#include "http/request_frame.h"

namespace http {
namespace {

// Set by close_after_response() on the thread that serves the request; read back by that thread
// right after process_request() returns.
thread_local bool close_requested = false;
thread_local bool linger_requested = false;

constexpr std::string_view continue_answer = "HTTP/1.1 100 Continue\r\n\r\n";
// What replaces an answer that depended on a turn whose transaction did not commit; the second
// when the answer it replaces was the connection's last.
constexpr std::string_view unavailable_answer =
    "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
    "Content-Length: 53\r\n\r\n{\"error\":\"database unavailable, nothing was written\"}";
constexpr std::string_view unavailable_closing_answer =
    "HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Type: application/json\r\n"
    "Content-Length: 53\r\n\r\n{\"error\":\"database unavailable, nothing was written\"}";
static_assert(unavailable_answer.size() - unavailable_answer.find("\r\n\r\n") - 4 == 53);
static_assert(unavailable_closing_answer.size() - unavailable_closing_answer.find("\r\n\r\n") - 4 ==
              53);

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

// One client connection of a loop thread.
struct Connection {
  enum class State { fresh, idle, partial, offloaded, lingering };
  int fd = -1;
  size_t index = 0;  // In its thread's connections_.
  State state = State::fresh;
  int64_t deadline_ms = 0;
  std::string in;
  size_t in_begin = 0;
  std::string out;
  size_t out_begin = 0;
  size_t served = 0;
  size_t lingered_bytes = 0;
  // Where in `out` each answer of this turn that depends on the turn's commit lies: [first,
  // second) offsets, in order.
  std::vector<std::pair<size_t, size_t>> turn_dependent_answers;
  bool in_turn = false;      // Queued in this turn's list.
  bool peer_closed = false;  // recv() returned 0: serve what is buffered, then close.
  bool close_after_flush = false;
  bool linger_after_flush = false;
  bool watching_out = false;
  bool sent_continue = false;
  bool failed = false;  // A socket error: close without sending more.
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

class EventLoop::Thread {
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
  ~Thread() {
    for (auto& connection : connections_) ::close(connection->fd);
    ::close(wake_fd_);
    ::close(epoll_fd_);
  }

  void wake() {
    const uint64_t one = 1;
    [[maybe_unused]] const ssize_t written = ::write(wake_fd_, &one, sizeof one);
  }

  // From a blocking thread: `connection`'s request has been answered; the loop takes it back.
  void give_back(Connection* connection) {
    {
      std::lock_guard<std::mutex> lock(returned_mutex_);
      returned_.push_back(connection);
    }
    wake();
  }

  void run() {
    epoll_event events[limits::loop_events_max];
    int64_t next_sweep_ms = clocks::steady_ms() + limits::deadline_sweep_interval_ms;
    while (true) {
      if (loop_->stopping_ && !stopped_) begin_stop();
      if (stopped_ && connections_.empty() && offloaded_ == 0) return;
      const int timeout_ms =
          connections_.empty() && !stopped_
              ? -1
              : static_cast<int>(std::max<int64_t>(0, next_sweep_ms - clocks::steady_ms()));
      const int n = ::epoll_wait(epoll_fd_, events, limits::loop_events_max, timeout_ms);
      if (n < 0 && errno != EINTR) CREBITO_ASSERT(false && "epoll_wait failed");
      for (int i = 0; i < n; ++i) {
        void* tag = events[i].data.ptr;
        if (tag == &listen_tag_) {
          accept_connections();
        } else if (tag == &wake_tag_) {
          take_wake_ups();
        } else {
          on_ready(static_cast<Connection*>(tag), events[i].events);
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

 private:
  void watch(int fd, uint32_t events, void* tag, int op) {
    epoll_event event{};
    event.events = events;
    event.data.ptr = tag;
    const int rc = ::epoll_ctl(epoll_fd_, op, fd, &event);
    CREBITO_ASSERT(rc == 0 || op == EPOLL_CTL_DEL);
  }

  void accept_connections() {
    for (int i = 0; i < limits::accept_batch_max; ++i) {
      const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) return;  // EAGAIN (another thread took it), or a connection that went away.
      if (loop_->stopping_ || open_connections() >= limits::connections_max) {
        ::close(fd);
        continue;
      }
      auto connection = std::make_unique<Connection>();
      connection->fd = fd;
      connection->index = connections_.size();
      connection->deadline_ms = clocks::steady_ms() + limits::first_request_wait_ms;
      watch(fd, EPOLLIN, connection.get(), EPOLL_CTL_ADD);
      connections_.push_back(std::move(connection));
    }
  }

  size_t open_connections() const { return connections_.size(); }

  void take_wake_ups() {
    uint64_t count;
    [[maybe_unused]] const ssize_t got = ::read(wake_fd_, &count, sizeof count);
    std::vector<Connection*> returned;
    {
      std::lock_guard<std::mutex> lock(returned_mutex_);
      returned.swap(returned_);
    }
    for (Connection* connection : returned) {
      --offloaded_;
      connection->state = Connection::State::idle;
      connection->deadline_ms = clocks::steady_ms() + limits::keep_alive_timeout_s * 1000;
      watch(connection->fd, EPOLLIN, connection, EPOLL_CTL_ADD);
      connection->watching_out = false;
      add_to_turn(connection);  // Sends its answer; serves what it pipelined after it.
    }
  }

  void on_ready(Connection* connection, uint32_t events) {
    if (connection->state == Connection::State::offloaded) return;
    if ((events & EPOLLOUT) != 0 && !send_output(connection)) return;
    if ((events & (EPOLLIN | EPOLLHUP | EPOLLERR)) == 0) return;
    if (connection->peer_closed) {
      if (connection->out.size() == connection->out_begin) close(connection);
      return;  // Nothing more will come; what is left to send goes on EPOLLOUT.
    }
    if (connection->state == Connection::State::lingering) return discard_input(connection);
    receive(connection);
    add_to_turn(connection);
  }

  void add_to_turn(Connection* connection) {
    if (connection->in_turn) return;
    connection->in_turn = true;
    turn_.push_back(connection);
  }

  // Reads what the socket has, up to limits::connection_input_bytes_max unread.
  void receive(Connection* connection) {
    char buffer[limits::connection_input_bytes_max];
    while (connection->in.size() - connection->in_begin < limits::connection_input_bytes_max) {
      const size_t room =
          limits::connection_input_bytes_max - (connection->in.size() - connection->in_begin);
      const ssize_t n = ::recv(connection->fd, buffer, room, MSG_DONTWAIT);
      if (n > 0) {
        connection->in.append(buffer, static_cast<size_t>(n));
        if (static_cast<size_t>(n) < room) return;
        continue;
      }
      if (n == 0) {
        connection->peer_closed = true;
        return;
      }
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) connection->failed = true;
      return;
    }
  }

  // One turn: every connection with new input serves its whole requests, then every answer of the
  // turn is sent, after the turn's writes are committed.
  void run_turn() {
    if (turn_.empty()) return;
    if (loop_->hooks_.begin_turn) loop_->hooks_.begin_turn();
    for (Connection* connection : turn_) {
      if (!connection->failed) serve_buffered(connection);
    }
    const bool committed = loop_->hooks_.end_turn ? loop_->hooks_.end_turn() : true;
    for (Connection* connection : turn_) {
      if (!committed) replace_dependent_answers(connection);
      connection->turn_dependent_answers.clear();
      connection->in_turn = false;
    }
    std::vector<Connection*> turn;
    turn.swap(turn_);
    for (Connection* connection : turn) finish_turn(connection);
  }

  // The turn's transaction did not commit: each answer that depended on it becomes a 503, in its
  // place. The answers around it stay as they are: a request served after the transaction was lost
  // (a posting that met the failure itself, or one that committed on its own after it) already
  // says what happened to it, and a client that retries every 503 must not repeat a write that
  // was made.
  static void replace_dependent_answers(Connection* connection) {
    const auto& spans = connection->turn_dependent_answers;
    if (spans.empty()) return;
    std::string& out = connection->out;
    std::string rebuilt = out.substr(0, spans.front().first);
    size_t kept_from = spans.front().first;
    for (const auto& [begin, end] : spans) {
      CREBITO_ASSERT(begin >= kept_from && end >= begin && end <= out.size());
      rebuilt.append(out, kept_from, begin - kept_from);
      const bool last = end == out.size() && connection->close_after_flush;
      rebuilt.append(last ? unavailable_closing_answer : unavailable_answer);
      kept_from = end;
    }
    rebuilt.append(out, kept_from, std::string::npos);
    out.swap(rebuilt);
  }

  // After a turn: send, then close or wait for more.
  void finish_turn(Connection* connection) {
    if (connection->state == Connection::State::offloaded) return;
    if (connection->failed) return close(connection);
    if (!send_output(connection)) return;
    if (!connection->peer_closed || connection->state == Connection::State::lingering) return;
    if (connection->out.size() == connection->out_begin) return close(connection);
    // The client sent its last byte but still reads: wait for room to write only, since a socket
    // at its end of stream stays readable and would wake the loop for nothing.
    watch(connection->fd, EPOLLOUT, connection, EPOLL_CTL_MOD);
    connection->watching_out = true;
  }

  // Serves every whole request buffered on `connection`, in order, appending the answers.
  void serve_buffered(Connection* connection) {
    while (!connection->close_after_flush && connection->state != Connection::State::offloaded) {
      const std::string_view unread = std::string_view(connection->in).substr(connection->in_begin);
      if (unread.empty()) break;
      const RequestFrame frame = frame_request(unread);
      if (frame.status == RequestFrame::Status::incomplete && !connection->peer_closed) {
        if (frame.expects_continue && !connection->sent_continue) {
          connection->out.append(continue_answer);
          connection->sent_continue = true;
        }
        if (connection->state != Connection::State::partial) {
          connection->state = Connection::State::partial;
          connection->deadline_ms = clocks::steady_ms() + limits::request_read_ms_max;
        }
        break;
      }
      const bool whole = frame.status == RequestFrame::Status::complete;
      if (whole && loop_->is_blocking_ && blocking_ != nullptr &&
          loop_->is_blocking_(frame.request_line) && offload(connection, frame.length)) {
        return;
      }
      const size_t length = whole ? frame.length : unread.size();
      const bool last =
          !whole || connection->served + 1 >= loop_->keep_alive_max_count_ || loop_->stopping_;
      serve_one(connection, unread.substr(0, length), last, /*in_turn=*/true);
      connection->in_begin += length;
    }
    compact_input(connection);
    if (connection->state != Connection::State::partial &&
        connection->state != Connection::State::offloaded) {
      connection->state = Connection::State::idle;
      connection->deadline_ms = clocks::steady_ms() + limits::keep_alive_timeout_s * 1000;
    }
  }

  // Runs one whole request through cpp-httplib, answer appended to connection->out. Thread: the
  // loop thread, or a blocking thread while the connection is offloaded.
  void serve_one(Connection* connection, std::string_view request, bool last, bool in_turn) {
    const size_t answer_begin = connection->out.size();
    BufferStream stream(request, &connection->out, connection->fd);
    close_requested = false;
    linger_requested = false;
    bool connection_closed = false;
    const bool sent_continue = connection->sent_continue;
    const bool ok = loop_->process_request(
        stream, last, connection_closed, [sent_continue](httplib::Request& req) {
          if (sent_continue) req.headers.erase("Expect");  // Already answered 100 Continue.
        });
    connection->sent_continue = false;
    ++connection->served;
    if (connection->state == Connection::State::partial) {
      connection->state = Connection::State::idle;
    }
    if (in_turn && loop_->hooks_.answered_from_turn && loop_->hooks_.answered_from_turn()) {
      connection->turn_dependent_answers.push_back({answer_begin, connection->out.size()});
    }
    if (!ok || connection_closed || last || close_requested) {
      connection->close_after_flush = true;
      connection->linger_after_flush = close_requested && linger_requested;
    }
  }

  bool offload(Connection* connection, size_t length) {
    connection->state = Connection::State::offloaded;
    watch(connection->fd, 0, nullptr, EPOLL_CTL_DEL);
    ++offloaded_;
    const bool queued = blocking_->submit([this, connection, length] {
      const std::string_view request =
          std::string_view(connection->in).substr(connection->in_begin, length);
      serve_one(connection, request, loop_->stopping_, /*in_turn=*/false);
      connection->in_begin += length;
      give_back(connection);
    });
    if (queued) return true;
    --offloaded_;
    connection->state = Connection::State::idle;
    watch(connection->fd, EPOLLIN, connection, EPOLL_CTL_ADD);
    return false;
  }

  void compact_input(Connection* connection) {
    if (connection->in_begin == connection->in.size()) {
      connection->in.clear();
      connection->in_begin = 0;
    } else if (connection->in_begin > 0) {
      connection->in.erase(0, connection->in_begin);
      connection->in_begin = 0;
    }
  }

  // Sends what is buffered. false when the connection was closed (done or failed).
  bool send_output(Connection* connection) {
    while (connection->out_begin < connection->out.size()) {
      const ssize_t n =
          ::send(connection->fd, connection->out.data() + connection->out_begin,
                 connection->out.size() - connection->out_begin, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n > 0) {
        connection->out_begin += static_cast<size_t>(n);
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        if (!connection->watching_out) {
          watch(connection->fd, EPOLLIN | EPOLLOUT, connection, EPOLL_CTL_MOD);
          connection->watching_out = true;
          connection->deadline_ms = clocks::steady_ms() + limits::write_timeout_ms;
        }
        return true;
      }
      close(connection);
      return false;
    }
    connection->out.clear();
    connection->out_begin = 0;
    if (connection->watching_out) {
      watch(connection->fd, EPOLLIN, connection, EPOLL_CTL_MOD);
      connection->watching_out = false;
    }
    if (connection->linger_after_flush) {
      connection->linger_after_flush = false;
      connection->close_after_flush = false;
      ::shutdown(connection->fd, SHUT_WR);
      connection->state = Connection::State::lingering;
      connection->deadline_ms = clocks::steady_ms() + limits::close_linger_ms;
      return true;
    }
    if (connection->close_after_flush) {
      close(connection);
      return false;
    }
    return true;
  }

  // A lingering connection: discard what the client still sends until it closes, bounded.
  void discard_input(Connection* connection) {
    char sink[limits::connection_input_bytes_max];
    while (true) {
      const ssize_t n = ::recv(connection->fd, sink, sizeof sink, MSG_DONTWAIT);
      if (n > 0) {
        connection->lingered_bytes += static_cast<size_t>(n);
        if (connection->lingered_bytes >= limits::close_linger_bytes_max) break;
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
      break;  // The client closed too, or an error.
    }
    close(connection);
  }

  void close(Connection* connection) {
    ::close(connection->fd);  // Also removes it from the epoll set.
    const size_t index = connection->index;
    if (index + 1 != connections_.size()) {
      connections_[index] = std::move(connections_.back());
      connections_[index]->index = index;
    }
    connections_.pop_back();
  }

  void sweep(int64_t now) {
    for (size_t i = connections_.size(); i-- > 0;) {
      Connection* connection = connections_[i].get();
      if (connection->state == Connection::State::offloaded || connection->in_turn) continue;
      if (now >= connection->deadline_ms) close(connection);
    }
  }

  // Stop: no new connections; requests already here are answered with "Connection: close", the
  // other connections close once their answers are sent.
  void begin_stop() {
    stopped_ = true;
    watch(listen_fd_, 0, nullptr, EPOLL_CTL_DEL);
    for (size_t i = connections_.size(); i-- > 0;) {
      Connection* connection = connections_[i].get();
      if (connection->state == Connection::State::offloaded) continue;
      if (connection->state != Connection::State::lingering) {
        receive(connection);
        add_to_turn(connection);
      }
    }
    run_turn();
    for (size_t i = connections_.size(); i-- > 0;) {
      Connection* connection = connections_[i].get();
      if (connection->state == Connection::State::offloaded) continue;
      if (connection->out_begin == connection->out.size() &&
          connection->state != Connection::State::lingering) {
        close(connection);
      } else {
        connection->close_after_flush = true;
      }
    }
  }

  EventLoop* const loop_;
  const int listen_fd_;
  BlockingPool* const blocking_;
  const int epoll_fd_;
  const int wake_fd_;
  char listen_tag_ = 0;
  char wake_tag_ = 0;
  std::vector<std::unique_ptr<Connection>> connections_;
  std::vector<Connection*> turn_;
  int offloaded_ = 0;
  bool stopped_ = false;
  std::mutex returned_mutex_;
  std::vector<Connection*> returned_;  // Guarded by returned_mutex_.
};

// ---------------------------------------------------------------------------------------------

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
