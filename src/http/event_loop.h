// http::EventLoop is cpp-httplib's Server driven by epoll instead of a thread per connection.
//
// cpp-httplib (Debian's 0.11.4) gives every open connection a pool thread that blocks on it. Under
// load each request then costs two thread wake-ups in the instance (a context switch in, one out),
// on a core that haproxy and the other instance share. Here a few loop threads each wait on all of
// their connections in one epoll_wait, and every wake-up serves every request that is ready:
//
//   1. Read what every ready connection has (non-blocking).
//   2. Turn: begin_turn(), then each of those connections serves its complete requests, in order
//      (http/connection.h: framing, cpp-httplib's own parsing, routing and response writing over a
//      Stream on the buffer, through answer_request()), the answers appended to its output. Then
//      end_turn().
//   3. Send every output buffer (one send per connection; EPOLLOUT only when a send is short).
//
// The loop owns epoll, accepting, the turn across connections, the hand-off to side threads, the
// deadline sweep and the stop; each connection's state, buffers and deadlines are its own
// http::Connection, which says what it waits for next.
//
// The turn hooks let the store commit every write of a turn in one transaction before any of its
// answers leaves (a group commit without thread hand-offs): answers are only sent after
// end_turn() returns. When end_turn() returns false (the turn's writes did not commit), the answer
// of every request that depended on the turn's transaction (TurnHooks::answered_from_turn) is
// replaced with 503 in its place; the other answers of the turn stay, so a pipelined request served
// after the transaction was lost (and committed on its own) keeps its own answer.
//
// A request whose handler may block for long (blocking_route) runs on a side thread instead, so
// it holds up no other connection; its connection leaves the loop until that request is answered.
//
// The deadlines of a connection (first request, whole request, keep-alive, write, linger) and its
// output bound are in http/connection.h.
//
// Thread-safety: serve() blocks its caller; request_stop() and close_after_response() are safe as
// documented on each.
#pragma once

#include <httplib.h>

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string_view>
#include <vector>

#include "http/connection.h"

namespace http {

class EventLoop : public httplib::Server {
 public:
  // Called on a loop thread around each turn (see above): the names the ledger and its store use
  // for the same calls (ledger::Ledger, store::LedgerStore). end_turn() returns false when the
  // writes of the turn could not be made durable. answered_from_turn() is asked after each
  // request: whether its answer depends on end_turn() (then, when end_turn() returns false, that
  // answer alone is replaced with 503).
  struct TurnHooks {
    std::function<void()> begin_turn;
    std::function<bool()> end_turn;
    std::function<bool()> answered_from_turn;
  };

  EventLoop();
  ~EventLoop() override;
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // Both before serve().
  void set_turn_hooks(TurnHooks hooks) { hooks_ = std::move(hooks); }
  // The hooks of two stores served by one loop (both faces on one instance): each call goes to
  // both, answered_from_turn() to both every time (each clears its own flag). end_turn() is true
  // when both are: exact only because such stores keep at most one turn transaction per wake-up
  // between them (SQLite: store/sqlite/writer_lock.h, Turns), so that a false one names the
  // requests answered from that transaction and no other.
  static TurnHooks both_turn_hooks(TurnHooks first, TurnHooks second);
  // `is_blocking` sees a request's first line (e.g. "GET /payments-summary?from=... HTTP/1.1").
  void set_blocking_route(std::function<bool(std::string_view request_line)> is_blocking) {
    is_blocking_ = std::move(is_blocking);
  }

  // Serves connections accepted on listen_fd (bound and listening; made non-blocking here) with
  // `threads` loop threads, until request_stop(). Returns when every thread has finished: the
  // requests already received are answered ("Connection: close"), idle connections closed.
  // REQUIRES: threads >= 1; called once.
  void serve(int listen_fd, int threads);

  // Safe from any thread, any number of times, before or during serve().
  void request_stop();

  // From a handler, on the thread serving the request: the connection closes after this answer.
  // `linger`: the rest of the stream cannot be trusted to start a new request (an early answer
  // that left a body unread), so what the client still sends is read and dropped for a while
  // before closing, and it reads the answer instead of a reset.
  static void close_after_response(bool linger = true);

  // Runs one whole request through cpp-httplib's parsing, routing and answer writing, appending
  // the answer to *out: what each loop thread does for a connection's RequestServer::answer
  // (http/connection.h), and what a test of a connection serves with. Thread: any; the handler
  // runs on it.
  RequestServer::Answered answer_request(std::string_view request, bool last, bool continue_sent,
                                         int fd, std::string* out);

 private:
  class Thread;
  friend class Thread;

  TurnHooks hooks_;
  std::function<bool(std::string_view)> is_blocking_;
  std::atomic<bool> stopping_{false};
  std::mutex threads_mutex_;
  std::vector<std::unique_ptr<Thread>> threads_;  // Guarded by threads_mutex_.
};

}  // namespace http
