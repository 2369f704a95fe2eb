#include "http/server.h"

#include <sys/socket.h>

#include <chrono>
#include <cstdio>

#include "crebito_limits.h"
#include "http/answers.h"

namespace http {
namespace {

constexpr int unix_socket_ignored_port = 80;  // cpp-httplib wants a port even for AF_UNIX.
bool has_body_length(const httplib::Request& req) {
  return req.has_header("Content-Length") || req.has_header("Transfer-Encoding");
}

// True when Content-Length announces more than we accept (or is not a number we can read).
bool body_too_large(const httplib::Request& req) {
  if (!req.has_header("Content-Length")) return false;
  const std::string value = req.get_header_value("Content-Length");
  if (value.empty() || value.size() > 9 ||
      value.find_first_not_of("0123456789") != std::string::npos) {
    return true;
  }
  return std::stoul(value) > limits::request_body_bytes_max;
}

// Answers before the body is read, and closes the connection: the unread body must not be parsed
// as the next request, and reading it could take as long as the client likes.
httplib::Server::HandlerResponse refuse(httplib::Response& res, int status, const char* message) {
  res.status = status;
  res.set_header("Connection", "close");
  res.set_content(error_json(message), "application/json");
  ConnectionLoop::close_after_response();
  return httplib::Server::HandlerResponse::Handled;
}

const char* status_reason(int status) {
  switch (status) {
    case 400:
      return "bad request";
    case 404:
      return "not found";
    case 405:
      return "method not allowed";
    case 413:
      return "request body larger than 4096 bytes";
    case 414:
      return "request URI too long";
    default:
      return "error";
  }
}

}  // namespace

std::string ListenAddress::describe() const {
  return is_unix_socket ? "unix:" + path : host + ":" + std::to_string(port);
}

Server::Server(const RouteInstaller& install, ListenAddress address, int threads)
    : address_(std::move(address)) {
  if (address_.is_unix_socket) unix_socket_ = std::make_unique<UnixSocket>(address_.path);
  server_.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  // Without TCP_NODELAY, Nagle holds the body (sent apart from the headers) until the client's
  // delayed ACK: ~40 ms per keep-alive request.
  server_.set_tcp_nodelay(true);
  server_.set_payload_max_length(limits::request_body_bytes_max);
  server_.set_read_timeout(std::chrono::milliseconds(limits::read_timeout_ms));
  server_.set_write_timeout(std::chrono::milliseconds(limits::write_timeout_ms));
  server_.set_keep_alive_timeout(limits::keep_alive_timeout_s);
  server_.set_keep_alive_max_count(limits::keep_alive_requests_max);

  // Runs after the headers, before the body is read. A POST without Content-Length would be read
  // until the client closes; an oversized one would be read just to be thrown away.
  server_.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    if (draining_ && req.path == "/health") {
      res.status = 503;
      res.set_content(error_json("draining: this instance is stopping"), "application/json");
      return httplib::Server::HandlerResponse::Handled;
    }
    if (req.method == "POST" && !has_body_length(req)) {
      return refuse(res, 411, "Content-Length required");
    }
    if (body_too_large(req)) return refuse(res, 413, status_reason(413));
    return httplib::Server::HandlerResponse::Unhandled;
  });
  // Errors cpp-httplib produces itself (404 for unknown routes, 400, 413, 414) get a JSON body too.
  // After a 400 the rest of the stream is not a request we can trust: close.
  server_.set_error_handler([](const httplib::Request&, httplib::Response& res) {
    if (res.body.empty()) {
      res.set_content(error_json(status_reason(res.status)), "application/json");
    }
    if (res.status == 400) {
      res.set_header("Connection", "close");
      ConnectionLoop::close_after_response();
    }
  });
  server_.set_exception_handler(
      [](const httplib::Request& req, httplib::Response& res, std::exception_ptr exception) {
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
      });
  install(&server_);
}

bool Server::run(std::string* error) {
  bool bound;
  std::string socket_error;
  if (address_.is_unix_socket) {
    // Refused when another process serves the path; given up, with nothing to serve, on a stop.
    if (!unix_socket_->claim(error)) return stop_requested_ || draining_;
    server_.set_address_family(AF_UNIX);
    bound = server_.bind_to_port(address_.path, unix_socket_ignored_port) &&
            unix_socket_->adopt_bound(&socket_error);
  } else {
    bound = server_.bind_to_port(address_.host, address_.port);
  }
  if (!bound) {
    *error = "cannot listen on " + address_.describe() +
             (socket_error.empty() ? "" : ": " + socket_error);
    return false;
  }
  std::fprintf(stderr, "crebito: listening on %s\n", address_.describe().c_str());
  if (stop_requested_) return true;
  server_.listen_after_bind();
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
  server_.stop();
}

}  // namespace http
