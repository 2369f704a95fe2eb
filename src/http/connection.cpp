#include "http/connection.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "check.h"
#include "crebito_limits.h"
#include "http/request_frame.h"

namespace http {
namespace {

constexpr std::string_view continue_answer = "HTTP/1.1 100 Continue\r\n\r\n";
constexpr int64_t keep_alive_timeout_ms = int64_t{limits::keep_alive_timeout_s} * 1000;

}  // namespace

Connection::Connection(int fd, int64_t now_ms)
    : fd_(fd), deadline_ms_(now_ms + limits::first_request_wait_ms) {
  CREBITO_ASSERT(fd >= 0);
}

Connection::~Connection() {
  if (fd_ >= 0) ::close(fd_);
}

Connection::Interest Connection::interest() const {
  switch (state_) {
    case State::closed:
    case State::offloaded:
      return Interest::none;
    case State::lingering:
      return Interest::read;
    default:
      break;
  }
  // The client sent its last byte but still reads: wait for room to write only, since a socket at
  // its end of stream stays readable and would wake the loop for nothing.
  if (peer_closed_) return unsent_bytes() > 0 ? Interest::write : Interest::read;
  if (output_full()) return Interest::write;
  return waiting_to_write_ ? Interest::read_write : Interest::read;
}

bool Connection::output_full() const {
  return unsent_bytes() >= limits::connection_output_bytes_max;
}

bool Connection::on_ready(bool readable, bool writable, int64_t now_ms) {
  if (state_ == State::offloaded || state_ == State::closed) return false;
  if (writable && !flush(now_ms)) return false;
  // serve() stopped at a full output with requests left; now there is room for them.
  const bool room_again = output_was_full_ && !output_full();
  if (!readable) return room_again;
  if (peer_closed_) {
    if (unsent_bytes() == 0 && !room_again) close();
    return room_again;  // Nothing more will come; what is left to send goes on writable.
  }
  if (state_ == State::lingering) {
    discard_input();
    return false;
  }
  if (output_full()) {
    // Not reading until the client reads: an error or a hang-up shows in the send instead.
    if (!writable) flush(now_ms);
    return false;
  }
  receive();
  return true;
}

void Connection::receive() {
  CREBITO_ASSERT(state_ != State::offloaded && state_ != State::closed);
  char buffer[limits::connection_input_bytes_max];
  while (unread_bytes() < limits::connection_input_bytes_max) {
    const size_t room = limits::connection_input_bytes_max - unread_bytes();
    const ssize_t n = ::recv(fd_, buffer, room, MSG_DONTWAIT);
    if (n > 0) {
      in_.append(buffer, static_cast<size_t>(n));
      if (static_cast<size_t>(n) < room) return;
      continue;
    }
    if (n == 0) {
      peer_closed_ = true;
      return;
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) failed_ = true;
    return;
  }
}

void Connection::serve(RequestServer* server, int64_t now_ms) {
  if (failed_ || state_ == State::closed || state_ == State::offloaded ||
      state_ == State::lingering) {
    return;
  }
  bool stopped_at_full_output = false;
  const size_t served_before = served_;
  while (!close_after_flush_) {
    const std::string_view unread = std::string_view(in_).substr(in_begin_);
    if (unread.empty()) break;
    if (output_full()) {
      stopped_at_full_output = true;
      break;
    }
    const RequestFrame frame = frame_request(unread);
    if (frame.status == RequestFrame::Status::incomplete && !peer_closed_) {
      if (frame.expects_continue && !sent_continue_) {
        out_.append(continue_answer);
        sent_continue_ = true;
      }
      if (state_ != State::partial) {
        state_ = State::partial;
        deadline_ms_ = now_ms + limits::request_read_ms_max;
      }
      break;
    }
    const bool whole = frame.status == RequestFrame::Status::complete;
    if (whole) {
      // Set before the hand-off: the side thread may start on it at once.
      offloaded_length_ = frame.length;
      if (server->hand_off(frame.request_line, this)) {
        state_ = State::offloaded;
        return;
      }
      offloaded_length_ = 0;
    }
    // A piece of a request the client will not finish goes to cpp-httplib as the last one: it
    // answers 400 for it.
    const size_t length = whole ? frame.length : unread.size();
    const bool last =
        !whole || served_ + 1 >= server->requests_per_connection_max() || server->stopping();
    serve_one(server, unread.substr(0, length), last, /*in_turn=*/true);
    in_begin_ += length;
  }
  compact_input();
  if (stopped_at_full_output) {
    // The client must read within the write timeout from here, or the connection closes; each
    // time it has read enough for more answers to be served, the timeout starts again.
    if (!output_was_full_ || served_ > served_before) {
      deadline_ms_ = now_ms + limits::write_timeout_ms;
    }
    output_was_full_ = true;
    if (state_ == State::fresh) state_ = State::idle;
    return;
  }
  output_was_full_ = false;
  if (state_ != State::partial) {
    state_ = State::idle;
    deadline_ms_ = now_ms + keep_alive_timeout_ms;
    // Answers of this turn still to send: a short send after it starts the write timeout, which
    // the keep-alive deadline must not stand in for.
    waiting_to_write_ = false;
  }
}

void Connection::serve_one(RequestServer* server, std::string_view request, bool last,
                           bool in_turn) {
  const size_t answer_begin = out_.size();
  const RequestServer::Answered answered =
      server->answer(request, last, sent_continue_, fd_, &out_);
  sent_continue_ = false;
  ++served_;
  if (state_ == State::partial) state_ = State::idle;
  if (in_turn && server->answered_from_turn()) {
    turn_dependent_answers_.push_back({answer_begin, out_.size()});
  }
  settle_answer({answered.close || last, answered.linger});
}

void Connection::settle_answer(const RequestServer::Answered& answered) {
  if (!answered.close) return;
  close_after_flush_ = true;
  linger_after_flush_ = answered.linger;
}

void Connection::end_turn(bool committed) {
  if (!committed) replace_dependent_answers();
  turn_dependent_answers_.clear();
}

// The turn's transaction did not commit: each answer that depended on it becomes a 503, in its
// place. The answers around it stay as they are: a request served after the transaction was lost
// (a posting that met the failure itself, or one that committed on its own after it) already says
// what happened to it, and a client that retries every 503 must not repeat a write that was made.
void Connection::replace_dependent_answers() {
  const auto& spans = turn_dependent_answers_;
  if (spans.empty()) return;
  std::string rebuilt = out_.substr(0, spans.front().first);
  size_t kept_from = spans.front().first;
  for (const auto& [begin, end] : spans) {
    CREBITO_ASSERT(begin >= kept_from && end >= begin && end <= out_.size());
    rebuilt.append(out_, kept_from, begin - kept_from);
    const bool last = end == out_.size() && close_after_flush_;
    rebuilt.append(last ? unavailable_closing_answer : unavailable_answer);
    kept_from = end;
  }
  rebuilt.append(out_, kept_from, std::string::npos);
  out_.swap(rebuilt);
}

bool Connection::after_turn(int64_t now_ms) {
  if (state_ == State::offloaded || state_ == State::closed) return false;
  if (failed_) {
    close();
    return false;
  }
  if (!flush(now_ms)) return false;
  const bool room_again = output_was_full_ && !output_full();
  if (peer_closed_ && state_ != State::lingering && unsent_bytes() == 0 && !room_again) {
    close();
    return false;
  }
  return room_again;
}

bool Connection::flush(int64_t now_ms) {
  while (out_begin_ < out_.size()) {
    const ssize_t n = ::send(fd_, out_.data() + out_begin_, out_.size() - out_begin_,
                             MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      out_begin_ += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (!waiting_to_write_) {
        waiting_to_write_ = true;
        deadline_ms_ = now_ms + limits::write_timeout_ms;
      }
      // What was sent is dropped once it is half the buffer (never within a turn: the turn's
      // answers are located by offset until end_turn()).
      if (out_begin_ >= out_.size() / 2) {
        CREBITO_ASSERT(turn_dependent_answers_.empty());
        out_.erase(0, out_begin_);
        out_begin_ = 0;
      }
      return true;
    }
    close();
    return false;
  }
  out_.clear();
  out_begin_ = 0;
  const bool waited = waiting_to_write_;
  waiting_to_write_ = false;
  if (linger_after_flush_) {
    linger_after_flush_ = false;
    close_after_flush_ = false;
    ::shutdown(fd_, SHUT_WR);
    state_ = State::lingering;
    deadline_ms_ = now_ms + limits::close_linger_ms;
    return true;
  }
  if (close_after_flush_) {
    close();
    return false;
  }
  // Everything went after a wait: the deadline is the state's again, from now.
  if (waited && state_ == State::idle) deadline_ms_ = now_ms + keep_alive_timeout_ms;
  if (waited && state_ == State::partial) deadline_ms_ = now_ms + limits::request_read_ms_max;
  return true;
}

// A lingering connection: discard what the client still sends until it closes, bounded.
void Connection::discard_input() {
  char sink[limits::connection_input_bytes_max];
  while (true) {
    const ssize_t n = ::recv(fd_, sink, sizeof sink, MSG_DONTWAIT);
    if (n > 0) {
      lingered_bytes_ += static_cast<size_t>(n);
      if (lingered_bytes_ >= limits::close_linger_bytes_max) break;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    break;  // The client closed too, or an error.
  }
  close();
}

void Connection::serve_offloaded(RequestServer* server) {
  const std::string_view request = std::string_view(in_).substr(in_begin_, offloaded_length_);
  offloaded_last_ = server->stopping();
  offloaded_answer_.clear();
  offloaded_answered_ =
      server->answer(request, offloaded_last_, sent_continue_, fd_, &offloaded_answer_);
}

void Connection::resume(int64_t now_ms) {
  CREBITO_ASSERT(state_ == State::offloaded);
  in_begin_ += offloaded_length_;
  offloaded_length_ = 0;
  out_.append(offloaded_answer_);
  offloaded_answer_.clear();
  sent_continue_ = false;
  ++served_;
  settle_answer({offloaded_answered_.close || offloaded_last_, offloaded_answered_.linger});
  state_ = State::idle;
  deadline_ms_ = now_ms + keep_alive_timeout_ms;
  waiting_to_write_ = false;  // A short send from here on starts the write timeout afresh.
}

void Connection::close_when_flushed() {
  if (state_ == State::offloaded || state_ == State::closed) return;
  if (unsent_bytes() == 0 && state_ != State::lingering) {
    close();
  } else {
    close_after_flush_ = true;
  }
}

void Connection::compact_input() {
  if (in_begin_ == in_.size()) {
    in_.clear();
    in_begin_ = 0;
  } else if (in_begin_ > 0) {
    in_.erase(0, in_begin_);
    in_begin_ = 0;
  }
}

void Connection::close() {
  if (state_ == State::closed) return;
  ::close(fd_);  // Also removes it from an epoll set.
  fd_ = -1;
  state_ = State::closed;
  // What it held goes now, not when the loop gets to forget it.
  std::string().swap(in_);
  std::string().swap(out_);
  in_begin_ = 0;
  out_begin_ = 0;
  turn_dependent_answers_.clear();
}

}  // namespace http
