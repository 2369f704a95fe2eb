#include "event_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cstring>

#include "clock.h"

namespace processor_sim {
namespace {

constexpr int epoll_events_max = 512;
constexpr size_t read_chunk_bytes = 16 * 1024;
// Bytes buffered from a connection whose request is still being answered (pipelined requests)
// before it is no longer read from; enough for one whole request of the largest kind.
constexpr size_t input_buffered_bytes_max = head_bytes_max + body_bytes_max;
constexpr std::string_view continue_line = "HTTP/1.1 100 Continue\r\n\r\n";

std::string errno_text(const char* what) { return std::string(what) + ": " + std::strerror(errno); }

}  // namespace

bool Timers::later(const Entry& a, const Entry& b) {
  return a.due_ms != b.due_ms ? a.due_ms > b.due_ms : a.sequence > b.sequence;
}

void Timers::after(int64_t delay_ms, std::function<void()> task) {
  entries_.push_back(
      {clocks::steady_ms() + std::max<int64_t>(delay_ms, 0), next_sequence_++, std::move(task)});
  std::push_heap(entries_.begin(), entries_.end(), later);
}

int64_t Timers::run_due(size_t max) {
  for (size_t ran = 0; !entries_.empty(); ++ran) {
    const int64_t wait_ms = entries_.front().due_ms - clocks::steady_ms();
    if (wait_ms > 0) return wait_ms;
    if (ran == max) return 0;
    std::pop_heap(entries_.begin(), entries_.end(), later);
    std::function<void()> task = std::move(entries_.back().task);
    entries_.pop_back();
    task();  // May add timers: the heap is consistent here.
  }
  return -1;
}

struct EventServer::Connection {
  int fd = -1;
  uint64_t serial = 0;  // Tells this connection from a later one on the same fd.
  std::string in;       // Bytes read and not yet parsed into a request.
  std::string out;      // Bytes to write; out_sent of them are written.
  size_t out_sent = 0;
  uint32_t watched = 0;        // The epoll events asked for.
  bool busy = false;           // A request is with the handler, not yet answered.
  bool keep_alive = true;      // Of the request being answered.
  bool close_after = false;    // Close once `out` is written.
  bool continue_sent = false;  // "100 Continue" went out for the request being read.
  int64_t last_active_ms = 0;
  int64_t request_started_ms = 0;  // First byte of a request still being read; 0 when none.
  int64_t write_blocked_ms = 0;    // Since when `out` waits for the peer; 0 when it does not.
};

EventServer::EventServer(Settings settings) : settings_(std::move(settings)) {}

EventServer::~EventServer() {
  for (auto& c : by_fd_) {
    if (c) ::close(c->fd);
  }
  if (listen_fd_ >= 0) ::close(listen_fd_);
  if (signal_fd_ >= 0) ::close(signal_fd_);
  if (epoll_fd_ >= 0) ::close(epoll_fd_);
}

std::optional<std::string> EventServer::listen() {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const std::string port = std::to_string(settings_.port);
  const int rc = ::getaddrinfo(settings_.host.c_str(), port.c_str(), &hints, &found);
  if (rc != 0) return std::string("resolve ") + settings_.host + ": " + gai_strerror(rc);
  std::optional<std::string> error;
  for (addrinfo* a = found; a != nullptr; a = a->ai_next) {
    const int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      error = errno_text("socket");
      continue;
    }
    const int yes = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    if (::bind(fd, a->ai_addr, a->ai_addrlen) != 0 || ::listen(fd, listen_backlog) != 0) {
      error = errno_text("bind/listen");
      ::close(fd);
      continue;
    }
    listen_fd_ = fd;
    error.reset();
    break;
  }
  ::freeaddrinfo(found);
  if (listen_fd_ < 0 && !error) error = "no address to listen on";
  return error;
}

std::optional<std::string> EventServer::run(Handler handler) {
  handler_ = std::move(handler);
  epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd_ < 0) return errno_text("epoll_create1");
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  signal_fd_ = ::signalfd(-1, &signals, SFD_NONBLOCK | SFD_CLOEXEC);
  if (signal_fd_ < 0) return errno_text("signalfd");
  for (const int fd : {listen_fd_, signal_fd_}) {
    epoll_event event{};
    event.events = EPOLLIN;
    event.data.fd = fd;
    if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &event) != 0) return errno_text("epoll_ctl");
  }
  std::function<void()> sweep_again = [this, &sweep_again] {
    sweep();
    timers_.after(sweep_interval_ms, sweep_again);
  };
  timers_.after(sweep_interval_ms, sweep_again);

  epoll_event events[epoll_events_max];
  for (;;) {
    const int64_t timer_wait_ms = timers_.run_due(timers_per_turn_max);
    close_pending();
    int64_t wait_ms = timer_wait_ms < 0 ? INT_MAX : timer_wait_ms;
    if (stopping_) {
      const int64_t left_ms = stop_deadline_ms_ - clocks::steady_ms();
      if (busy_connections_ == 0 || left_ms <= 0) break;
      wait_ms = std::min(wait_ms, left_ms);
    }
    const int ready = ::epoll_wait(epoll_fd_, events, epoll_events_max, static_cast<int>(wait_ms));
    if (ready < 0) {
      if (errno == EINTR) continue;
      return errno_text("epoll_wait");
    }
    for (int i = 0; i < ready; ++i) {
      const int fd = events[i].data.fd;
      if (fd == listen_fd_) {
        accept_all();
      } else if (fd == signal_fd_) {
        signalfd_siginfo info;
        while (::read(signal_fd_, &info, sizeof info) == sizeof info) {
        }
        if (!stopping_) begin_stop();
      } else {
        on_event(fd, events[i].events);
      }
      close_pending();
    }
  }
  return std::nullopt;
}

void EventServer::accept_all() {
  for (;;) {
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno == EMFILE || errno == ENFILE) {
        // Out of descriptors (connections_max leaves room, so something else holds them): stop
        // asking until a connection closes, rather than spin on a listener that stays readable.
        ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, listen_fd_, nullptr);
        listener_paused_ = true;
      }
      return;  // EAGAIN: accepted them all.
    }
    if (open_connections_ >= static_cast<size_t>(settings_.connections_max)) {
      ::close(fd);  // Over the bound: the client sees the connection closed at once.
      continue;
    }
    const int yes = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &yes, sizeof yes);
    if (static_cast<size_t>(fd) >= by_fd_.size()) by_fd_.resize(static_cast<size_t>(fd) + 1);
    auto c = std::make_unique<Connection>();
    c->fd = fd;
    c->serial = next_serial_++;
    c->last_active_ms = clocks::steady_ms();
    epoll_event event{};
    event.events = EPOLLIN;
    event.data.fd = fd;
    if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &event) != 0) {
      ::close(fd);
      continue;
    }
    c->watched = EPOLLIN;
    by_fd_[static_cast<size_t>(fd)] = std::move(c);
    ++open_connections_;
  }
}

void EventServer::on_event(int fd, uint32_t events) {
  if (static_cast<size_t>(fd) >= by_fd_.size() || !by_fd_[static_cast<size_t>(fd)]) return;
  Connection& c = *by_fd_[static_cast<size_t>(fd)];
  if (events & (EPOLLERR | EPOLLHUP)) {
    to_close_.emplace_back(fd, c.serial);
    return;
  }
  if (events & EPOLLOUT) flush(c);
  if (events & EPOLLIN) {
    read_from(c);
    dispatch(c);
  }
}

void EventServer::read_from(Connection& c) {
  char chunk[read_chunk_bytes];
  while (c.in.size() < input_buffered_bytes_max) {
    const ssize_t n = ::recv(c.fd, chunk, sizeof chunk, 0);
    if (n > 0) {
      if (c.in.empty()) c.request_started_ms = clocks::steady_ms();
      c.in.append(chunk, static_cast<size_t>(n));
      c.last_active_ms = clocks::steady_ms();
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    // The peer closed (n == 0) or the connection broke. A payment being answered is still
    // recorded (its answer is dropped), as the real processor does.
    to_close_.emplace_back(c.fd, c.serial);
    return;
  }
  // Full: read no more until the buffered request is answered.
  watch(c, false, c.out_sent < c.out.size());
}

void EventServer::dispatch(Connection& c) {
  if (c.busy || c.close_after || c.out_sent < c.out.size() || c.in.empty()) return;
  if (stopping_) {
    c.close_after = true;  // A request that came after the stop: closed unanswered, as refused.
    to_close_.emplace_back(c.fd, c.serial);
    return;
  }
  Request request;
  const ParseResult parsed = parse_request(c.in, &request);
  if (parsed.state == ParseResult::State::incomplete) {
    if (parsed.expects_continue && !c.continue_sent) {
      c.continue_sent = true;
      queue_output(c, std::string(continue_line));
    }
    return;
  }
  if (parsed.state == ParseResult::State::invalid) {
    c.in.clear();
    Response refused;
    refused.status = parsed.error_status;
    c.close_after = true;
    queue_output(c, serialize_response(refused, true));
    return;
  }
  c.in.erase(0, parsed.consumed);
  c.request_started_ms = c.in.empty() ? 0 : clocks::steady_ms();
  c.busy = true;
  c.keep_alive = request.keep_alive;
  c.continue_sent = false;
  ++busy_connections_;
  const int fd = c.fd;
  const uint64_t serial = c.serial;
  // May answer at once (respond() runs inside) or later from a timer.
  handler_(request,
           [this, fd, serial](Response response) { respond(fd, serial, std::move(response)); });
}

void EventServer::respond(int fd, uint64_t serial, Response response) {
  if (static_cast<size_t>(fd) >= by_fd_.size()) return;
  Connection* c = by_fd_[static_cast<size_t>(fd)].get();
  if (c == nullptr || c->serial != serial || !c->busy) return;  // Gone: the answer is dropped.
  c->busy = false;
  --busy_connections_;
  const bool close = !c->keep_alive || stopping_;
  c->close_after = close;
  c->last_active_ms = clocks::steady_ms();
  queue_output(*c, serialize_response(response, close));
}

void EventServer::queue_output(Connection& c, std::string bytes) {
  if (c.out_sent == c.out.size()) {
    c.out = std::move(bytes);
    c.out_sent = 0;
  } else {
    c.out += bytes;
  }
  flush(c);
}

void EventServer::flush(Connection& c) {
  while (c.out_sent < c.out.size()) {
    const ssize_t n =
        ::send(c.fd, c.out.data() + c.out_sent, c.out.size() - c.out_sent, MSG_NOSIGNAL);
    if (n > 0) {
      c.out_sent += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (c.write_blocked_ms == 0) c.write_blocked_ms = clocks::steady_ms();
      watch(c, false, true);
      return;
    }
    to_close_.emplace_back(c.fd, c.serial);
    return;
  }
  c.out.clear();
  c.out_sent = 0;
  c.write_blocked_ms = 0;
  c.last_active_ms = clocks::steady_ms();
  if (c.close_after) {
    to_close_.emplace_back(c.fd, c.serial);
    return;
  }
  watch(c, c.in.size() < input_buffered_bytes_max, false);
  if (!c.busy && !c.in.empty()) to_dispatch_.emplace_back(c.fd, c.serial);
}

void EventServer::watch(Connection& c, bool readable, bool writable) {
  const uint32_t wanted = (readable ? EPOLLIN : 0u) | (writable ? EPOLLOUT : 0u);
  if (wanted == c.watched) return;
  epoll_event event{};
  event.events = wanted;
  event.data.fd = c.fd;
  if (::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, c.fd, &event) != 0) {
    to_close_.emplace_back(c.fd, c.serial);
    return;
  }
  c.watched = wanted;
}

EventServer::Connection* EventServer::find(int fd, uint64_t serial) {
  if (static_cast<size_t>(fd) >= by_fd_.size()) return nullptr;
  Connection* c = by_fd_[static_cast<size_t>(fd)].get();
  return c != nullptr && c->serial == serial ? c : nullptr;
}

void EventServer::close_pending() {
  // Answers given while dispatching may let further buffered requests be dispatched, and those may
  // close connections: repeat until both lists are empty.
  while (!to_dispatch_.empty() || !to_close_.empty()) {
    std::vector<std::pair<int, uint64_t>> dispatching;
    dispatching.swap(to_dispatch_);
    for (const auto& [fd, serial] : dispatching) {
      if (Connection* c = find(fd, serial)) dispatch(*c);
    }
    std::vector<std::pair<int, uint64_t>> closing;
    closing.swap(to_close_);
    for (const auto& [fd, serial] : closing) {
      Connection* c = find(fd, serial);
      if (c == nullptr) continue;
      if (c->busy) --busy_connections_;
      ::close(fd);  // Also leaves the epoll set.
      by_fd_[static_cast<size_t>(fd)].reset();
      --open_connections_;
      if (listener_paused_ && !stopping_) {
        epoll_event event{};
        event.events = EPOLLIN;
        event.data.fd = listen_fd_;
        if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, listen_fd_, &event) == 0) {
          listener_paused_ = false;
        }
      }
    }
  }
}

void EventServer::sweep() {
  const int64_t now = clocks::steady_ms();
  for (const auto& owned : by_fd_) {
    if (!owned) continue;
    Connection& c = *owned;
    if (c.write_blocked_ms != 0 && now - c.write_blocked_ms > write_stall_ms) {
      to_close_.emplace_back(c.fd, c.serial);
    } else if (c.busy || c.close_after) {
      continue;  // The handler answers; a delay is the processor's to keep.
    } else if (c.request_started_ms != 0 && now - c.request_started_ms > request_read_ms) {
      c.in.clear();
      c.close_after = true;
      Response timed_out;
      timed_out.status = 408;
      queue_output(c, serialize_response(timed_out, true));
    } else if (c.in.empty() && c.out.empty() && now - c.last_active_ms > keep_alive_idle_ms) {
      to_close_.emplace_back(c.fd, c.serial);
    }
  }
}

void EventServer::begin_stop() {
  stopping_ = true;
  stop_deadline_ms_ = clocks::steady_ms() + stop_grace_ms;
  if (!listener_paused_) ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, listen_fd_, nullptr);
  ::close(listen_fd_);
  listen_fd_ = -1;
  listener_paused_ = false;
  for (const auto& owned : by_fd_) {
    if (owned && !owned->busy) to_close_.emplace_back(owned->fd, owned->serial);
  }
}

}  // namespace processor_sim
