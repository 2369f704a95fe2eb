// http::Server serves routes on one TCP address or unix socket: cpp-httplib parses, routes and
// writes answers, driven by crebito's event loop (http/event_loop.h) with a fixed number of loop
// threads; TCP_NODELAY, a body size cap, deadlines for slow clients, long keep-alive (every limit
// from crebito_limits.h).
//
// run() blocks until stop() is called from another thread; stop() stops accepting, answers the
// requests already received, and makes run() return once the loop threads have exited.
//
// With enable_metrics(), GET /metrics answers the instance's metrics (metrics/registry.h) in
// Prometheus's text format, and each request is counted when its answer is queued: its route
// pattern, its status and its latency, from when cpp-httplib has parsed its headers (right after
// the loop framed it whole) to when its answer is queued for sending; for a request of a turn, that
// is after the turn's commit, and an answer the failed commit replaced counts as the 503 it became.
// The hooks sit around cpp-httplib's routing (pre-routing handler, logger) and the turn hooks, so
// the event loop knows nothing of them; they take no lock.
//
// On a unix socket the path is claimed first (http/unix_socket.h): run() fails, removing nothing,
// when another process serves it; a drain or a stop lets a successor claim it; at exit the path is
// removed only if it is still this server's socket.
#pragma once

#include <httplib.h>

#include <atomic>
#include <functional>
#include <memory>
#include <string>

#include "http/event_loop.h"
#include "http/unix_socket.h"
#include "metrics/exposition.h"

namespace http {

struct ListenAddress {
  bool is_unix_socket = false;
  std::string host;  // TCP
  int port = 0;      // TCP
  std::string path;  // unix socket
  std::string describe() const;
};

class Server {
 public:
  // Adds the routes to the underlying cpp-httplib server (e.g. http::install_routes for the
  // ledger); called once, from the constructor.
  using RouteInstaller = std::function<void(httplib::Server*)>;

  Server(const RouteInstaller& install, ListenAddress address, int threads);

  // Binds and serves until stop(). false and *error if the address cannot be bound.
  bool run(std::string* error);

  // Safe from any thread, any number of times, also before run().
  void stop();

  // Before run(): hooks around each turn of a loop thread, and the requests that run on a side
  // thread because they may block (see http/event_loop.h).
  void set_turn_hooks(EventLoop::TurnHooks hooks) { turn_hooks_ = std::move(hooks); }
  void set_blocking_route(std::function<bool(std::string_view request_line)> is_blocking) {
    is_blocking_ = std::move(is_blocking);
  }

  // Before run(): counts every request and serves GET /metrics (see above). `gauges`, if set,
  // appends families read at scrape time (it may query the store: a scrape then runs on a side
  // thread, as a blocking route does).
  using Gauges = std::function<void(metrics::Exposition*)>;
  void enable_metrics(Gauges gauges);

  // From now on /health answers 503, so that the load balancer takes this instance out of
  // rotation; every other route is served as before. Safe from any thread.
  void begin_drain();

 private:
  // A bound, listening TCP socket for address_; -1 and *error on failure.
  int open_tcp_listener(std::string* error) const;

  ListenAddress address_;
  const int threads_;
  EventLoop::TurnHooks turn_hooks_;
  std::function<bool(std::string_view)> is_blocking_;
  bool metrics_ = false;
  Gauges gauges_;
  std::unique_ptr<UnixSocket> unix_socket_;  // Set when address_ is a unix socket.
  EventLoop server_;
  std::atomic<bool> stop_requested_{false};
  std::atomic<bool> draining_{false};
};

}  // namespace http
