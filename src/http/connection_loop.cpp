#include "http/connection_loop.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>

#include "check.h"
#include "crebito_limits.h"

namespace http {
namespace {

// Waits up to timeout_ms for `events` on fd; retries on EINTR.
bool poll_one(int fd, short events, int timeout_ms) {
  pollfd waiting{fd, events, 0};
  while (true) {
    const int n = ::poll(&waiting, 1, timeout_ms);
    if (n >= 0) return n > 0 && (waiting.revents & (events | POLLHUP | POLLERR)) != 0;
    if (errno != EINTR) return false;
  }
}

// httplib::Stream over a connected socket.
// - Reads are buffered (cpp-httplib reads request lines one byte at a time) and try the socket
//   before polling it: after wait_for_request() the data is usually already there.
// - Writes are buffered until flush(): cpp-httplib writes the headers and the body separately, and
//   two sends mean two packets and two wake-ups of the reader (haproxy). Anything buffered is
//   flushed before the next read, so an interim answer (100 Continue) is never held back.
// - It reports no peer or local address: nothing in crebito uses them, and it saves two system
//   calls per request.
class SocketStream final : public httplib::Stream {
 public:
  SocketStream(int fd, int read_timeout_ms, int write_timeout_ms)
      : fd_(fd), read_timeout_ms_(read_timeout_ms), write_timeout_ms_(write_timeout_ms) {}

  bool is_readable() const override {
    return has_buffered_data() || poll_one(fd_, POLLIN, wait_ms());
  }

  // Starts the clock of limits::request_read_ms_max for the request about to be read.
  void start_request() {
    request_deadline_ =
        std::chrono::steady_clock::now() + std::chrono::milliseconds(limits::request_read_ms_max);
  }
  bool is_writable() const override { return poll_one(fd_, POLLOUT, write_timeout_ms_); }

  ssize_t read(char* ptr, size_t size) override {
    if (!flush()) return -1;
    if (!has_buffered_data()) {
      if (size >= sizeof in_) return receive(ptr, size);  // Large read: no copy.
      const ssize_t n = receive(in_, sizeof in_);
      if (n <= 0) return n;
      in_begin_ = 0;
      in_end_ = static_cast<size_t>(n);
    }
    const size_t count = std::min(size, in_end_ - in_begin_);
    std::memcpy(ptr, in_ + in_begin_, count);
    in_begin_ += count;
    return static_cast<ssize_t>(count);
  }

  ssize_t write(const char* ptr, size_t size) override {
    if (out_size_ + size > sizeof out_ && !flush()) return -1;
    if (size > sizeof out_) return send_all(ptr, size) ? static_cast<ssize_t>(size) : -1;
    std::memcpy(out_ + out_size_, ptr, size);
    out_size_ += size;
    return static_cast<ssize_t>(size);
  }

  // Sends what write() buffered. false if the connection failed.
  bool flush() {
    if (out_size_ == 0) return true;
    const bool sent = send_all(out_, out_size_);
    out_size_ = 0;
    return sent;
  }

  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    ip.clear();
    port = 0;
  }
  void get_local_ip_and_port(std::string& ip, int& port) const override {
    ip.clear();
    port = 0;
  }
  socket_t socket() const override { return fd_; }

  bool has_buffered_data() const { return in_begin_ < in_end_; }

 private:
  // One recv, waiting at most read_timeout_ms for data to arrive.
  ssize_t receive(char* ptr, size_t size) {
    while (true) {
      const ssize_t n = ::recv(fd_, ptr, size, MSG_DONTWAIT);
      if (n >= 0) return n;
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) return -1;
      if (!poll_one(fd_, POLLIN, wait_ms())) return -1;
    }
  }

  // How long the next wait for request bytes may take: read_timeout_ms, and no longer than the
  // request's deadline, so a client sending a byte at a time (slowloris) cannot hold a worker.
  int wait_ms() const {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        request_deadline_ - std::chrono::steady_clock::now());
    return static_cast<int>(std::clamp<int64_t>(left.count(), 0, read_timeout_ms_));
  }

  // cpp-httplib sets SO_SNDTIMEO on accepted sockets, so a stuck client cannot block us forever.
  bool send_all(const char* ptr, size_t size) {
    while (size > 0) {
      const ssize_t n = ::send(fd_, ptr, size, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      ptr += n;
      size -= static_cast<size_t>(n);
    }
    return true;
  }

  const int fd_;
  const int read_timeout_ms_;
  const int write_timeout_ms_;
  char in_[limits::connection_read_buffer_bytes];
  size_t in_begin_ = 0;
  size_t in_end_ = 0;
  char out_[limits::connection_write_buffer_bytes];
  size_t out_size_ = 0;
  std::chrono::steady_clock::time_point request_deadline_ = std::chrono::steady_clock::now();
};

// Closes gracefully after an early answer: see limits::close_linger_ms.
void linger_and_discard(int fd) {
  ::shutdown(fd, SHUT_WR);
  char sink[limits::connection_read_buffer_bytes];
  size_t discarded = 0;
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(limits::close_linger_ms);
  while (discarded < limits::close_linger_bytes_max) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0 || !poll_one(fd, POLLIN, static_cast<int>(left.count()))) return;
    const ssize_t n = ::recv(fd, sink, sizeof sink, 0);
    if (n <= 0) return;  // The client has closed too (or an error): done.
    discarded += static_cast<size_t>(n);
  }
}

// Set by close_after_response() on the thread that serves the connection; one connection is served
// by one thread at a time, so the flag cannot leak between connections.
thread_local bool close_requested = false;

}  // namespace

void ConnectionLoop::close_after_response() { close_requested = true; }

ConnectionLoop::ConnectionLoop() : stop_fd_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
  CREBITO_ASSERT(stop_fd_ >= 0);
}

ConnectionLoop::~ConnectionLoop() { ::close(stop_fd_); }

void ConnectionLoop::request_stop() {
  stopping_ = true;
  // The eventfd stays readable from now on, so every present and future poll sees it.
  const uint64_t one = 1;
  [[maybe_unused]] const ssize_t written = ::write(stop_fd_, &one, sizeof one);
}

bool ConnectionLoop::wait_for_request(socket_t sock, bool first) const {
  if (stopping_) return poll_one(sock, POLLIN, 0);
  pollfd waiting[2] = {{sock, POLLIN, 0}, {stop_fd_, POLLIN, 0}};
  // A new connection that sends nothing holds a worker only briefly; haproxy opens a connection
  // to send a request at once, and only then keeps it idle for reuse.
  const int timeout_ms =
      first ? limits::first_request_wait_ms : limits::keep_alive_timeout_s * 1000;
  while (true) {
    const int n = ::poll(waiting, 2, timeout_ms);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;                  // Keep-alive timeout, or an error.
    if (waiting[0].revents != 0) return true;  // Data, or a hang-up that the read will see.
    return poll_one(sock, POLLIN, 0);  // Stopping: serve only a request that is already here.
  }
}

bool ConnectionLoop::process_and_close_socket(socket_t sock) {
  const int read_timeout_ms =
      static_cast<int>(read_timeout_sec_ * 1000 + read_timeout_usec_ / 1000);
  const int write_timeout_ms =
      static_cast<int>(write_timeout_sec_ * 1000 + write_timeout_usec_ / 1000);
  SocketStream stream(sock, read_timeout_ms, write_timeout_ms);
  bool ok = true;
  for (size_t served = 0; served < keep_alive_max_count_; ++served) {
    // A pipelined request may already sit in our buffer, where poll() cannot see it.
    if (!stream.has_buffered_data() && !wait_for_request(sock, served == 0)) break;
    stream.start_request();
    const bool last = served + 1 == keep_alive_max_count_ || stopping_;
    bool connection_closed = false;
    close_requested = false;
    ok = process_request(stream, last, connection_closed, nullptr) && stream.flush();
    if (!ok || connection_closed || last || close_requested) break;
  }
  if (close_requested) linger_and_discard(sock);
  ::shutdown(sock, SHUT_RDWR);
  ::close(sock);
  return ok;
}

}  // namespace http
