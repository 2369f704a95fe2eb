#include "http/server.h"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <memory>
#include <string>
#include <vector>

#include "clock.h"
#include "crebito_limits.h"
#include "http/ledger/answers.h"
#include "metrics/registry.h"

namespace http {
namespace {

// Metrics, per thread that serves requests (a loop thread or a side thread): when the request
// being served arrived (set by the pre-routing handler; 0 for a request cpp-httplib refused before
// routing it, which is then counted with no latency), and, on a loop thread during a turn, the
// requests served in it, counted once the turn's commit says whether their answers stand.
struct TurnRequest {
  metrics::Route route;
  int status;
  int64_t started_ns;
  bool from_turn;  // Its answer depends on the turn's commit.
};
thread_local int64_t request_started_ns = 0;
thread_local bool in_turn = false;
thread_local std::vector<TurnRequest> turn_requests;

// cpp-httplib's logger: called once an answer is written into the connection's output buffer.
void count_request(const httplib::Request& req, const httplib::Response& res) {
  const int64_t now = clocks::steady_ns();
  const int64_t started = request_started_ns != 0 ? request_started_ns : now;
  request_started_ns = 0;
  const metrics::Route route = metrics::route_of(req.path);
  if (in_turn) {
    turn_requests.push_back({route, res.status, started, false});
    return;
  }
  metrics::observe_request(route, res.status, now - started);
}

// The turn hooks with the requests of each turn counted at its end (see server.h).
EventLoop::TurnHooks counting_turn_hooks(EventLoop::TurnHooks hooks) {
  return {
      [begin = hooks.begin_turn] {
        in_turn = true;
        turn_requests.clear();
        if (begin) begin();
      },
      [end = hooks.end_turn] {
        const bool committed = end ? end() : true;
        const int64_t now = clocks::steady_ns();
        for (const TurnRequest& request : turn_requests) {
          const bool replaced = request.from_turn && !committed;
          if (replaced) metrics::count(metrics::StoreEvent::answered_503);
          metrics::observe_request(request.route, replaced ? 503 : request.status,
                                   now - request.started_ns);
        }
        turn_requests.clear();
        in_turn = false;
        return committed;
      },
      [answered = hooks.answered_from_turn] {
        const bool from_turn = answered && answered();
        if (from_turn && !turn_requests.empty()) turn_requests.back().from_turn = true;
        return from_turn;
      },
  };
}

bool is_metrics_request(std::string_view request_line) {
  return request_line.starts_with("GET /metrics ") || request_line.starts_with("GET /metrics?");
}

bool has_body_length(const httplib::Request& req) {
  return req.has_header("Content-Length") || req.has_header("Transfer-Encoding");
}

// True when Content-Length announces more than we accept (or is not a number we can read).
bool body_too_large(const httplib::Request& req) {
  if (!req.has_header("Content-Length")) return false;
  const std::string value = req.get_header_value("Content-Length");
  if (value.empty() || value.size() > limits::content_length_digits_max ||
      value.find_first_not_of("0123456789") != std::string::npos) {
    return true;
  }
  return std::stoul(value) > limits::request_body_bytes_max;
}

// Answers before the body is read, and closes the connection: the unread body must not be parsed
// as the next request, and reading it could take as long as the client likes.
void refuse(httplib::Response& res, int status, const char* message) {
  res.status = status;
  res.set_header("Connection", "close");
  res.set_content(error_json(message), "application/json");
  EventLoop::close_after_response();
}

// "request body larger than 4096 bytes", from the limit itself (built with append: GCC 12 warns
// falsely, -Wrestrict, on a chain of operator+ with a temporary std::string).
std::string body_too_large_text() {
  std::string text = "request body larger than ";
  text += std::to_string(limits::request_body_bytes_max);
  text += " bytes";
  return text;
}
const std::string body_too_large_reason = body_too_large_text();

const char* status_reason(int status) {
  switch (status) {
    case 400:
      return "bad request";
    case 404:
      return "not found";
    case 405:
      return "method not allowed";
    case 413:
      return body_too_large_reason.c_str();
    case 414:
      return "request URI too long";
    default:
      return "error";
  }
}

// The policies Server's constructor installs, one each. A pre-routing policy answers (true) or
// lets the request go on (false); it runs after the headers, before the body is read.

// Drain, before routing: /health and /ready answer 503, so that the load balancer takes this
// instance out of rotation; every other route is served as before.
bool answer_health_while_draining(bool draining, const httplib::Request& req,
                                  httplib::Response& res) {
  if (!draining || (req.path != "/health" && req.path != "/ready")) return false;
  res.status = 503;
  res.set_content(error_json("draining: this instance is stopping"), "application/json");
  return true;
}

// Readiness: GET /ready is the load balancer's check that this instance takes connections. Not the
// database's health: the instances share one file, so a storage fault is every instance's, and an
// instance answers 503 itself for what it cannot do (haproxy in mode tcp has no answer of its own
// to give).
bool answer_readiness(const httplib::Request& req, httplib::Response& res) {
  if (req.path != "/ready" || req.method != "GET") return false;
  res.status = 200;
  res.set_content(R"({"status":"ready"})", "application/json");
  return true;
}

// Body length: a POST without Content-Length (411) would be read until the client closes; an
// oversized one (413) would be read just to be thrown away. Both are refused before the body.
bool refuse_body_length(const httplib::Request& req, httplib::Response& res) {
  if (req.method == "POST" && !has_body_length(req)) {
    refuse(res, 411, "Content-Length required");
    return true;
  }
  if (body_too_large(req)) {
    refuse(res, 413, status_reason(413));
    return true;
  }
  return false;
}

// cpp-httplib's pre-routing handler: the drain, readiness and body-length policies, in that order.
class BeforeRouting {
 public:
  BeforeRouting(const std::atomic<bool>* draining, const bool* metrics)
      : draining_(draining), metrics_(metrics) {}
  httplib::Server::HandlerResponse operator()(const httplib::Request& req,
                                              httplib::Response& res) const {
    if (*metrics_) request_started_ns = clocks::steady_ns();  // The latency counts from here.
    const bool answered = answer_health_while_draining(*draining_, req, res) ||
                          answer_readiness(req, res) || refuse_body_length(req, res);
    return answered ? httplib::Server::HandlerResponse::Handled
                    : httplib::Server::HandlerResponse::Unhandled;
  }

 private:
  const std::atomic<bool>* draining_;
  const bool* metrics_;  // Server::metrics_, set before the server runs.
};

// Drain, after routing: every answer closes its connection. haproxy (mode tcp) keeps a client's
// connection on one instance, so the client must reconnect to be sent to the other one before
// this one stops. Health checks already see 503.
class CloseWhileDraining {
 public:
  explicit CloseWhileDraining(const std::atomic<bool>* draining) : draining_(draining) {}
  void operator()(const httplib::Request&, httplib::Response& res) const {
    if (!*draining_) return;
    res.set_header("Connection", "close");
    EventLoop::close_after_response(/*linger=*/false);
  }

 private:
  const std::atomic<bool>* draining_;
};

// Errors cpp-httplib produces itself (404 for unknown routes, 400, 413, 414) get a JSON body too.
// After a 400 the rest of the stream is not a request we can trust: close.
void answer_error(const httplib::Request&, httplib::Response& res) {
  if (res.body.empty()) {
    res.set_content(error_json(status_reason(res.status)), "application/json");
  }
  if (res.status == 400) {
    res.set_header("Connection", "close");
    EventLoop::close_after_response();
  }
}

// A handler that throws: 500 with a JSON body, and one line on stderr naming the request.
void answer_exception(const httplib::Request& req, httplib::Response& res,
                      std::exception_ptr exception) {
  std::string what = "unknown exception";
  try {
    std::rethrow_exception(exception);
  } catch (const std::exception& e) {
    what = e.what();
  } catch (...) {
  }
  std::fprintf(stderr, "crebito: %s %s raised: %s\n", req.method.c_str(), req.path.c_str(),
               what.c_str());
  res.status = 500;
  res.set_content(error_json("internal error"), "application/json");
}

}  // namespace

std::string ListenAddress::describe() const {
  return is_unix_socket ? "unix:" + path : host + ":" + std::to_string(port);
}

Server::Server(const RouteInstaller& install, ListenAddress address, int threads)
    : address_(std::move(address)), threads_(threads) {
  if (address_.is_unix_socket) unix_socket_ = std::make_unique<UnixSocket>(address_.path);
  server_.set_payload_max_length(limits::request_body_bytes_max);
  server_.set_keep_alive_max_count(limits::keep_alive_requests_max);
  server_.set_keep_alive_timeout(limits::keep_alive_timeout_s);  // Announced in Keep-Alive.

  server_.set_pre_routing_handler(BeforeRouting(&draining_, &metrics_));
  server_.set_post_routing_handler(CloseWhileDraining(&draining_));
  server_.set_error_handler(answer_error);
  server_.set_exception_handler(answer_exception);
  install(&server_);
}

int Server::open_tcp_listener(std::string* error) const {
  auto fail = [&](int fd, const std::string& what) {
    *error = "cannot listen on " + address_.describe() + ": " + what + ": " + std::strerror(errno);
    if (fd >= 0) ::close(fd);
    return -1;
  };
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const std::string port = std::to_string(address_.port);
  const char* host =
      address_.host.empty() || address_.host == "0.0.0.0" ? nullptr : address_.host.c_str();
  if (const int rc = ::getaddrinfo(host, port.c_str(), &hints, &found); rc != 0) {
    *error = "cannot listen on " + address_.describe() + ": " + ::gai_strerror(rc);
    return -1;
  }
  std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> addresses(found, ::freeaddrinfo);
  const int fd = ::socket(found->ai_family, found->ai_socktype | SOCK_CLOEXEC, found->ai_protocol);
  if (fd < 0) return fail(fd, "socket");
  const int yes = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  // Without TCP_NODELAY a small answer can wait for the client's delayed ACK (~40 ms); accepted
  // sockets inherit it from the listening one.
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &yes, sizeof yes);
  if (::bind(fd, found->ai_addr, found->ai_addrlen) != 0) return fail(fd, "bind");
  if (::listen(fd, limits::listen_backlog) != 0) return fail(fd, "listen");
  return fd;
}

void Server::enable_metrics(Gauges gauges) {
  metrics_ = true;
  gauges_ = std::move(gauges);
  server_.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    metrics::Exposition out;
    metrics::write_registry(&out);
    if (gauges_) gauges_(&out);
    res.status = 200;
    res.set_content(out.text(), metrics::exposition_content_type);
  });
}

bool Server::run(std::string* error) {
  if (metrics_) {
    server_.set_logger(count_request);
    if (turn_hooks_.begin_turn || turn_hooks_.end_turn || turn_hooks_.answered_from_turn) {
      server_.set_turn_hooks(counting_turn_hooks(turn_hooks_));
    }
    if (gauges_) {
      server_.set_blocking_route([is_blocking = is_blocking_](std::string_view request_line) {
        return is_metrics_request(request_line) || (is_blocking && is_blocking(request_line));
      });
    } else {
      server_.set_blocking_route(is_blocking_);
    }
  } else {
    server_.set_turn_hooks(turn_hooks_);
    server_.set_blocking_route(is_blocking_);
  }
  int listener;
  if (address_.is_unix_socket) {
    // Refused when another process serves the path; given up, with nothing to serve, on a stop.
    if (!unix_socket_->claim(error)) return stop_requested_ || draining_;
    listener = unix_socket_->bind_and_listen(error);
  } else {
    listener = open_tcp_listener(error);
  }
  if (listener < 0) return false;
  std::fprintf(stderr, "crebito: listening on %s\n", address_.describe().c_str());
  server_.serve(listener, threads_);
  ::close(listener);
  if (unix_socket_) unix_socket_->release();
  return true;
}

void Server::begin_drain() {
  draining_ = true;
  if (unix_socket_) unix_socket_->leave();
}

void Server::stop() {
  stop_requested_ = true;
  if (unix_socket_) unix_socket_->leave();
  server_.request_stop();
}

}  // namespace http
