// processor_sim::EventServer is processor-sim's HTTP/1.1 server: one thread, one epoll set, every
// connection non-blocking, no thread or stack per connection. A handler gets each parsed request
// with a Reply it may call at once or later (from a timer: a delayed payment answer is a timer
// entry, not a sleeping thread), so thousands of kept-alive connections, each waiting on a delay,
// cost a few KiB each and never hold up another connection's request.
//
// Per connection, requests are answered in order: the next pipelined request is parsed only after
// the current one is answered. A Reply whose connection has closed meanwhile is dropped.
// Bounds (named below): open connections, head and body size (http_message.h), how long a request
// may take to arrive, how long an idle kept-alive connection stays open, and how long a stop waits
// for answers that are due.
//
// Not thread-safe: the handler, Replies and Timers run on the thread inside run() only.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "http_message.h"

namespace processor_sim {

// An idle kept-alive connection closes after this long (the real processor's Kestrel uses 130 s;
// clients keep theirs shorter).
constexpr int64_t keep_alive_idle_ms = 60'000;
// A request whose first byte has arrived must be whole within this long, else 408 and close.
constexpr int64_t request_read_ms = 10'000;
// An answer the peer does not read for this long closes the connection.
constexpr int64_t write_stall_ms = 10'000;
// On SIGTERM/SIGINT: stop accepting, close idle connections, and answer requests whose answer is
// due within this long (a payment in its delay); then exit.
constexpr int64_t stop_grace_ms = 2'500;
// How often idle, slow and stalled connections are looked for.
constexpr int64_t sweep_interval_ms = 500;
// Timers run per turn of the loop before sockets are polled again, so that thousands of answers
// falling due together do not hold up an admin call for the whole batch.
constexpr size_t timers_per_turn_max = 256;
constexpr int listen_backlog = 4096;

// Tasks to run at a time; run by the server's loop. Not thread-safe.
class Timers {
 public:
  void after(int64_t delay_ms, std::function<void()> task);
  // Runs at most `max` tasks that are due; returns how many ms until the next one is due (0: some
  // are due now, -1: none left).
  int64_t run_due(size_t max);
  size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    int64_t due_ms;
    uint64_t sequence;  // Ties run in the order they were added.
    std::function<void()> task;
  };
  static bool later(const Entry& a, const Entry& b);
  std::vector<Entry> entries_;  // A min-heap on (due_ms, sequence).
  uint64_t next_sequence_ = 0;
};

using Reply = std::function<void(Response)>;
using Handler = std::function<void(const Request&, Reply)>;

class EventServer {
 public:
  struct Settings {
    std::string host;
    int port = 0;
    int connections_max = 0;
  };

  explicit EventServer(Settings settings);
  ~EventServer();
  EventServer(const EventServer&) = delete;
  EventServer& operator=(const EventServer&) = delete;

  Timers& timers() { return timers_; }

  // Binds and listens; the error text when that fails.
  std::optional<std::string> listen();
  // Serves until SIGTERM or SIGINT (which the caller must have blocked in every thread), then
  // winds down as stop_grace_ms says. Returns the error text when the loop could not run.
  std::optional<std::string> run(Handler handler);

 private:
  struct Connection;
  void accept_all();
  void on_event(int fd, uint32_t events);
  void read_from(Connection& c);
  void dispatch(Connection& c);
  void respond(int fd, uint64_t serial, Response response);
  void queue_output(Connection& c, std::string bytes);
  void flush(Connection& c);
  void watch(Connection& c, bool readable, bool writable);
  Connection* find(int fd, uint64_t serial);
  // Dispatches buffered requests and closes finished connections, as the two lists below ask.
  void close_pending();
  void sweep();
  void begin_stop();

  const Settings settings_;
  Handler handler_;
  Timers timers_;
  int listen_fd_ = -1;
  int epoll_fd_ = -1;
  int signal_fd_ = -1;
  bool listener_paused_ = false;  // Out of descriptors: not accepting until a connection closes.
  bool stopping_ = false;
  int64_t stop_deadline_ms_ = 0;
  uint64_t next_serial_ = 1;
  size_t open_connections_ = 0;
  size_t busy_connections_ = 0;  // Connections whose request is with the handler.
  std::vector<std::unique_ptr<Connection>> by_fd_;  // Indexed by fd.
  // (fd, serial) of connections with a request buffered behind an answer just written.
  std::vector<std::pair<int, uint64_t>> to_dispatch_;
  // (fd, serial) of connections done; closed by the loop, never in the middle of a call.
  std::vector<std::pair<int, uint64_t>> to_close_;
};

}  // namespace processor_sim
