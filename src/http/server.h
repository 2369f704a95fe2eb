// http::Server serves routes on one TCP address or unix socket with cpp-httplib, configured
// explicitly (every limit from crebito_limits.h): a fixed pool of worker threads,
// TCP_NODELAY, body size cap, socket timeouts, long keep-alive.
//
// run() blocks until stop() is called from another thread; stop() stops accepting, lets in-flight
// requests finish, and makes run() return once the workers have exited.
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

#include "http/connection_loop.h"
#include "http/unix_socket.h"

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

  // Safe from any thread, any number of times. cpp-httplib ignores a stop that comes while the
  // accept loop is starting, so a caller that must not miss one repeats it until run() returns.
  void stop();

  // From now on /health answers 503, so that the load balancer takes this instance out of
  // rotation; every other route is served as before. Safe from any thread.
  void begin_drain();

 private:
  ListenAddress address_;
  std::unique_ptr<UnixSocket> unix_socket_;  // Set when address_ is a unix socket.
  ConnectionLoop server_;
  std::atomic<bool> stop_requested_{false};
  std::atomic<bool> draining_{false};
};

}  // namespace http
