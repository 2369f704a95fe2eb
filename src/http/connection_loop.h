// http::ConnectionLoop is cpp-httplib's Server with crebito's own per-connection loop.
//
// cpp-httplib 0.11.4 (Debian's build) serves each connection on one pool thread and, between
// keep-alive requests, polls the socket every 10 ms with a 1 ms blind sleep: a request arriving
// on an idle connection may wait up to 1 ms, every idle connection wakes ~90 times a second, and
// a stop is only noticed when the keep-alive timeout ends (seconds, with haproxy holding idle
// connections). This loop instead blocks in one poll() on the socket and a stop eventfd:
//   - a request is read the moment it arrives;
//   - request_stop() wakes every idle connection at once; a connection whose next request is
//     already in the socket is still answered (with "Connection: close"), the others are closed;
//   - a request being processed when the stop comes is always answered.
// Request parsing, routing and responses stay cpp-httplib's (process_request).
//
// Thread-safe as httplib::Server is; request_stop() may be called from any thread.
#pragma once

#include <httplib.h>

#include <atomic>

namespace http {

class ConnectionLoop : public httplib::Server {
 public:
  ConnectionLoop();
  ~ConnectionLoop() override;

  // Makes every connection finish its current request (if any) and close. Then stop() (or a
  // preceding one) ends the accept loop and listen_after_bind() returns once workers are done.
  void request_stop();

  // Called from a handler (on the thread serving the request): the connection closes after this
  // response, e.g. when the rest of the stream cannot be trusted to start a new request.
  static void close_after_response();

 private:
  bool process_and_close_socket(socket_t sock) override;
  // Blocks until the socket has data, the stop eventfd fires, or the keep-alive timeout passes.
  // Returns true when a request is waiting to be read.
  // The first request of a connection waits limits::first_request_wait_ms at most.
  bool wait_for_request(socket_t sock, bool first) const;

  const int stop_fd_;
  std::atomic<bool> stopping_{false};
};

}  // namespace http
