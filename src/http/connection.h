// http::Connection is one client connection of the event loop (http/event_loop.h): the bytes that
// came in, the requests framed from them (http/request_frame.h), their answers in order, the bytes
// still to go out, and when to give up. It owns its socket and does its own recv/send/shutdown;
// the loop owns epoll, accepting, the turn across connections, the side threads and the sweep. The
// loop tells a connection when its socket is ready and asks what to wait for next (interest()) and
// whether it is done (closed()); nothing here knows epoll, so a test drives it over a socketpair.
//
// States (state()), and what moves a connection between them:
//
//   fresh      accepted, nothing served yet.          deadline: limits::first_request_wait_ms
//   partial    part of a request is buffered.         deadline: limits::request_read_ms_max from
//                                                     the turn that first saw it
//   idle       every whole request buffered is answered (or waits for output room, below).
//                                                     deadline: limits::keep_alive_timeout_s
//   offloaded  a request is served on a side thread; nothing else of the connection is touched
//              until resume(). No deadline.
//   lingering  an early answer (413, 411, 400) left a body unread: the answers are sent, writing
//              is shut down, and what the client still sends is read and dropped, up to
//              limits::close_linger_bytes_max.       deadline: limits::close_linger_ms
//   closed     the socket is closed; the loop forgets the connection.
//
//   fresh/idle/partial --serve()--> idle, partial, or offloaded (a request its server hands off)
//   offloaded --serve_offloaded() on the side thread, then resume()--> idle
//   any --flush() sends the last answer of one that closes--> lingering or closed
//   lingering --the client closes, or bytes or time run out--> closed
//   any --a socket error, or the client gone with nothing left to send--> closed
//
// Besides its state a connection may be waiting to write: a send came up short and the loop
// waits for room. The deadline is then limits::write_timeout_ms from the first short send after
// the turn that served the answers, and the state's own again, from then, once all is sent. Its
// output may also be full (limits::connection_output_bytes_max unsent): then it neither reads nor
// serves until the client reads, and the deadline is limits::write_timeout_ms from that moment,
// or from the last time the client read enough for more answers to be served. When the client
// has closed its side, what is buffered is served (a piece of a request as a last, malformed one)
// and the connection closes once the answers are sent.
//
// A turn, driven by the loop across its connections: serve() on each, then end_turn() on each
// with whether the turn's writes committed (if not, every answer that depended on the turn is
// replaced by 503 in its place, the others stay), then after_turn() on each, which sends.
//
// Thread-safety: none; every call on the loop thread, except serve_offloaded(), called once on a
// side thread between the hand-off (RequestServer::hand_off returned true) and resume(), with the
// hand-back ordering the two (the loop's mutex). While offloaded the side thread reads the input
// and writes only the offloaded answer; the loop thread touches neither.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace http {

// What replaces an answer that depended on a turn whose transaction did not commit; the second
// when the answer it replaces was the connection's last.
inline constexpr std::string_view unavailable_answer =
    "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
    "Content-Length: 53\r\n\r\n{\"error\":\"database unavailable, nothing was written\"}";
inline constexpr std::string_view unavailable_closing_answer =
    "HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Type: application/json\r\n"
    "Content-Length: 53\r\n\r\n{\"error\":\"database unavailable, nothing was written\"}";
static_assert(unavailable_answer.size() - unavailable_answer.find("\r\n\r\n") - 4 == 53);
static_assert(unavailable_closing_answer.size() - unavailable_closing_answer.find("\r\n\r\n") - 4 ==
              53);

class Connection;

// What serves a connection's requests: each of http::EventLoop's loop threads (cpp-httplib's
// processing, the turn hooks, the side threads), or a test.
class RequestServer {
 public:
  struct Answered {
    bool close = false;   // The connection closes after this answer.
    bool linger = false;  // ...and lingers first (see Connection's contract).
  };
  virtual ~RequestServer() = default;

  // Runs one whole request and appends its answer to *out. `last`: the answer must close the
  // connection. `continue_sent`: "100 Continue" was already sent for this request. `fd`: the
  // client's socket, for cpp-httplib's bookkeeping only (no I/O on it). Thread: the loop thread,
  // or a side thread for a request handed off.
  virtual Answered answer(std::string_view request, bool last, bool continue_sent, int fd,
                          std::string* out) = 0;
  // After each request answered in a turn, on the loop thread: whether its answer depends on the
  // turn's commit.
  virtual bool answered_from_turn() = 0;
  // Before a whole request is served on the loop thread: true when it runs on a side thread
  // instead and `connection` was handed off (it is offloaded until resume()); false to serve it
  // here and now.
  virtual bool hand_off(std::string_view request_line, Connection* connection) = 0;
  // Whether the server stops: every answer from now on closes its connection.
  virtual bool stopping() const = 0;
  // Requests one connection may carry; the one that reaches it closes the connection.
  virtual size_t requests_per_connection_max() const = 0;
};

class Connection {
 public:
  enum class State { fresh, idle, partial, offloaded, lingering, closed };
  // What the socket must be watched for before the connection can go on.
  enum class Interest { none, read, write, read_write };

  // Takes `fd` (a connected, non-blocking stream socket) as its own; accepted at `now_ms`.
  Connection(int fd, int64_t now_ms);
  ~Connection();  // Closes the socket if it is still open.
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  int fd() const { return fd_; }
  State state() const { return state_; }
  bool closed() const { return state_ == State::closed; }
  int64_t deadline_ms() const { return deadline_ms_; }
  Interest interest() const;
  size_t unsent_bytes() const { return out_.size() - out_begin_; }
  size_t unread_bytes() const { return in_.size() - in_begin_; }  // Buffered, not yet served.
  size_t requests_served() const { return served_; }

  // The socket is ready for what interest() asked (or reported an error or hang-up, as
  // `readable`). Sends what is pending when `writable`, then reads what came in when `readable`
  // (or drops it, when lingering). true when buffered bytes now wait to be served: the loop puts
  // the connection in its turn. Not while offloaded.
  bool on_ready(bool readable, bool writable, int64_t now_ms);

  // Reads what the socket has, up to limits::connection_input_bytes_max unread. Not while
  // offloaded or lingering.
  void receive();

  // In a turn: serves every whole request buffered, in order, appending each answer, until one
  // closes the connection, one is handed off, or the output is full. Nothing after a socket error.
  void serve(RequestServer* server, int64_t now_ms);
  // In a turn, after every serve(): `committed` is whether the turn's writes are durable; if not,
  // each answer of this turn that depended on them becomes 503.
  void end_turn(bool committed);
  // After end_turn(): sends, and closes when nothing more can come or the last answer went. true
  // when the send made room for requests that serve() left for a full output: the loop serves
  // them in a turn of their own, without waiting for the socket.
  bool after_turn(int64_t now_ms);

  // On the side thread, once per hand-off: serves the request handed off into an answer of its
  // own, which resume() appends.
  void serve_offloaded(RequestServer* server);
  // Back on the loop thread after serve_offloaded(): idle again, its answer pending. The loop
  // then puts it in a turn, which sends that answer and serves what was pipelined after it.
  void resume(int64_t now_ms);

  // The server stops: close now if nothing is left to send, else once it is sent.
  void close_when_flushed();

  // Closes the socket: state closed.
  void close();

 private:
  // Sends what is buffered; false when the connection closed (done, or a socket error).
  bool flush(int64_t now_ms);
  void discard_input();
  void serve_one(RequestServer* server, std::string_view request, bool last, bool in_turn);
  void settle_answer(const RequestServer::Answered& answered);
  void replace_dependent_answers();
  void compact_input();
  bool output_full() const;

  int fd_;
  State state_ = State::fresh;
  int64_t deadline_ms_;
  std::string in_;
  size_t in_begin_ = 0;
  std::string out_;
  size_t out_begin_ = 0;
  size_t served_ = 0;
  size_t lingered_bytes_ = 0;
  // Where in out_ each answer of this turn that depends on the turn's commit lies: [first, second)
  // offsets, in order.
  std::vector<std::pair<size_t, size_t>> turn_dependent_answers_;
  bool peer_closed_ = false;  // recv() returned 0: serve what is buffered, then close.
  bool close_after_flush_ = false;
  bool linger_after_flush_ = false;
  bool waiting_to_write_ = false;  // A send came up short and output is pending.
  bool output_was_full_ = false;   // serve() stopped at limits::connection_output_bytes_max.
  bool sent_continue_ = false;
  bool failed_ = false;  // A socket error: close without sending more.
  // The request handed off (offloaded): its length at in_begin_, and what serving it gave.
  size_t offloaded_length_ = 0;
  bool offloaded_last_ = false;
  std::string offloaded_answer_;
  RequestServer::Answered offloaded_answered_;
};

}  // namespace http
