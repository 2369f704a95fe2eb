// http::Connection driven without epoll: a socketpair stands for the client, a real
// http::EventLoop's routes (cpp-httplib) answer, and the test plays the loop: it says when the
// socket is ready, runs the turns (committed or not) and the side thread. Each case checks the
// exact bytes the client reads and the state the connection reaches.
#include "http/connection.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cerrno>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "crebito_limits.h"
#include "http/event_loop.h"
#include "support/raw_http.h"

namespace {

using http::Connection;
using State = http::Connection::State;
using Interest = http::Connection::Interest;

constexpr int64_t accepted_at_ms = 1'000'000;  // The test's clock: any start will do.
constexpr int64_t keep_alive_timeout_ms = int64_t{limits::keep_alive_timeout_s} * 1000;
// Bodies larger than any socket buffer the slow-reader cases allow.
constexpr size_t big_body_bytes = 64 * 1024;
// The socket buffers of the slow-reader cases (the kernel doubles and rounds them).
constexpr int small_socket_buffer_bytes = 4096;

// A RequestServer over an EventLoop's routes, as a loop thread is: cpp-httplib answers; a turn
// depends on whether /turn was served since the last question; a request line containing
// `side_path` is handed off (the test runs the side thread).
class TestServer final : public http::RequestServer {
 public:
  TestServer() {
    routes.set_payload_max_length(limits::request_body_bytes_max);
    routes.set_keep_alive_max_count(limits::keep_alive_requests_max);
    routes.set_keep_alive_timeout(limits::keep_alive_timeout_s);
    routes.Get("/a", [](const httplib::Request&, httplib::Response& res) {
      res.set_content("a", "text/plain");
    });
    routes.Get("/b", [](const httplib::Request&, httplib::Response& res) {
      res.set_content("b", "text/plain");
    });
    routes.Get("/turn", [this](const httplib::Request&, httplib::Response& res) {
      used_turn = true;
      res.set_content("in the turn", "text/plain");
    });
    routes.Get("/side", [](const httplib::Request&, httplib::Response& res) {
      res.set_content("from the side", "text/plain");
    });
    routes.Get("/big", [](const httplib::Request&, httplib::Response& res) {
      res.set_content(std::string(big_body_bytes, 'x'), "text/plain");
    });
    routes.Post("/echo", [](const httplib::Request& req, httplib::Response& res) {
      res.set_content(req.body, "text/plain");
    });
  }

  Answered answer(std::string_view request, bool last, bool continue_sent, int fd,
                  std::string* out) override {
    return routes.answer_request(request, last, continue_sent, fd, out);
  }
  bool answered_from_turn() override {
    const bool depends = used_turn;
    used_turn = false;
    return depends;
  }
  bool hand_off(std::string_view request_line, Connection* connection) override {
    if (request_line.find("/side") == std::string_view::npos) return false;
    handed_off.push_back(connection);
    return true;
  }
  bool stopping() const override { return false; }
  size_t requests_per_connection_max() const override { return limits::keep_alive_requests_max; }

  http::EventLoop routes;
  bool used_turn = false;
  std::vector<Connection*> handed_off;
};

// One turn over `connections`, as the loop runs it.
void run_turn(TestServer* server, const std::vector<Connection*>& connections, int64_t now_ms,
              bool committed = true) {
  for (Connection* connection : connections) connection->serve(server, now_ms);
  for (Connection* connection : connections) connection->end_turn(committed);
  for (Connection* connection : connections) connection->after_turn(now_ms);
}

// A connected pair: the connection's end (non-blocking, owned by the Connection) and the client's.
struct Pair {
  int server_fd = -1;
  int client_fd = -1;
};
Pair socket_pair(int buffer_bytes = 0) {
  int fds[2];
  REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) == 0);
  REQUIRE(::fcntl(fds[0], F_SETFL, ::fcntl(fds[0], F_GETFL) | O_NONBLOCK) == 0);
  if (buffer_bytes > 0) {
    REQUIRE(::setsockopt(fds[0], SOL_SOCKET, SO_SNDBUF, &buffer_bytes, sizeof buffer_bytes) == 0);
    REQUIRE(::setsockopt(fds[1], SOL_SOCKET, SO_RCVBUF, &buffer_bytes, sizeof buffer_bytes) == 0);
  }
  return {fds[0], fds[1]};
}

void send_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    REQUIRE(n > 0);
    bytes.remove_prefix(static_cast<size_t>(n));
  }
}

// What the client can read now, at most `max_bytes`, without waiting.
std::string read_available(int fd, size_t max_bytes = SIZE_MAX) {
  std::string got;
  char buffer[16 * 1024];
  while (got.size() < max_bytes) {
    const ssize_t n =
        ::recv(fd, buffer, std::min(sizeof buffer, max_bytes - got.size()), MSG_DONTWAIT);
    if (n <= 0) break;
    got.append(buffer, static_cast<size_t>(n));
  }
  return got;
}

// The exact answer cpp-httplib gives for a 200 with `body` (text/plain), keeping the connection
// open or closing it.
std::string ok_answer(std::string_view body, bool closing = false) {
  std::string answer = "HTTP/1.1 200 OK\r\n";
  if (closing) answer += "Connection: close\r\n";
  answer += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  answer += "Content-Type: text/plain\r\n";
  if (!closing) {
    answer += "Keep-Alive: timeout=" + std::to_string(limits::keep_alive_timeout_s) +
              ", max=" + std::to_string(limits::keep_alive_requests_max) + "\r\n";
  }
  answer += "\r\n";
  answer += body;
  return answer;
}

bool is_open(int fd) { return ::fcntl(fd, F_GETFD) != -1 || errno != EBADF; }

// A connection under test, its client's end and the server that answers it.
struct ServedConnection {
  explicit ServedConnection(int buffer_bytes = 0)
      : pair(socket_pair(buffer_bytes)), connection(pair.server_fd, accepted_at_ms) {}
  ~ServedConnection() { ::close(pair.client_fd); }
  ServedConnection(const ServedConnection&) = delete;
  ServedConnection& operator=(const ServedConnection&) = delete;

  TestServer server;
  const Pair pair;
  Connection connection;
};

// ...with socket buffers small enough that an answer does not fit.
struct ServedWithSmallBuffers : ServedConnection {
  ServedWithSmallBuffers() : ServedConnection(small_socket_buffer_bytes) {}
};

}  // namespace

TEST_CASE_METHOD(ServedConnection,
                 "a connection: a request arriving a byte at a time is answered once whole",
                 "[http][connection]") {
  CHECK(connection.state() == State::fresh);
  CHECK(connection.interest() == Interest::read);
  CHECK(connection.deadline_ms() == accepted_at_ms + limits::first_request_wait_ms);

  const std::string request =
      raw_http::format("POST", "/echo", "", std::string_view("{\"valor\":1}"));
  int64_t now = accepted_at_ms;
  for (size_t i = 0; i < request.size(); ++i) {
    now += 1;
    send_all(pair.client_fd, request.substr(i, 1));
    REQUIRE(connection.on_ready(/*readable=*/true, /*writable=*/false, now));
    run_turn(&server, {&connection}, now);
    if (i + 1 < request.size()) {
      INFO("after byte " << i);
      REQUIRE(connection.state() == State::partial);
      // From the first byte on, the whole request has request_read_ms_max.
      REQUIRE(connection.deadline_ms() == accepted_at_ms + 1 + limits::request_read_ms_max);
      REQUIRE(connection.unread_bytes() == i + 1);
      REQUIRE(read_available(pair.client_fd).empty());
    }
  }
  CHECK(read_available(pair.client_fd) == ok_answer("{\"valor\":1}"));
  CHECK(connection.state() == State::idle);
  CHECK(connection.interest() == Interest::read);
  CHECK(connection.deadline_ms() == now + keep_alive_timeout_ms);
  CHECK(connection.unread_bytes() == 0);
  CHECK(connection.unsent_bytes() == 0);
  CHECK(connection.requests_served() == 1);
}

TEST_CASE_METHOD(ServedConnection,
                 "a connection: pipelined requests are served in one turn and answered in order",
                 "[http][connection]") {
  send_all(pair.client_fd, raw_http::format("GET", "/a") + raw_http::format("GET", "/turn") +
                               raw_http::format("GET", "/b"));
  REQUIRE(connection.on_ready(true, false, accepted_at_ms));

  // The turn: every request served, no answer sent before the turn ends.
  connection.serve(&server, accepted_at_ms);
  CHECK(connection.requests_served() == 3);
  CHECK(connection.unread_bytes() == 0);
  const std::string expected = ok_answer("a") + ok_answer("in the turn") + ok_answer("b");
  CHECK(connection.unsent_bytes() == expected.size());
  connection.end_turn(/*committed=*/true);
  CHECK(read_available(pair.client_fd).empty());
  connection.after_turn(accepted_at_ms);

  CHECK(read_available(pair.client_fd) == expected);
  CHECK(connection.state() == State::idle);
  CHECK(connection.interest() == Interest::read);
  CHECK(connection.unsent_bytes() == 0);
}

TEST_CASE_METHOD(
    ServedConnection,
    "a connection: a turn that fails turns only the answers that depended on it to 503",
    "[http][connection]") {
  send_all(pair.client_fd, raw_http::format("GET", "/a") + raw_http::format("GET", "/turn") +
                               raw_http::format("GET", "/b") +
                               raw_http::format("GET", "/turn", "Connection: close\r\n"));
  REQUIRE(connection.on_ready(true, false, accepted_at_ms));
  run_turn(&server, {&connection}, accepted_at_ms, /*committed=*/false);

  // In place: the 503s where the turn's answers were, the last one closing as its answer did.
  CHECK(read_available(pair.client_fd) == ok_answer("a") + std::string(http::unavailable_answer) +
                                              ok_answer("b") +
                                              std::string(http::unavailable_closing_answer));
  CHECK(connection.state() == State::closed);
  CHECK(connection.interest() == Interest::none);
  CHECK(connection.requests_served() == 4);
  char byte;
  CHECK(::recv(pair.client_fd, &byte, 1, MSG_DONTWAIT) == 0);  // The end of the stream.
}

TEST_CASE_METHOD(ServedConnection,
                 "a connection: answers after an offloaded request wait for it, in order",
                 "[http][connection]") {
  const std::string after_side = raw_http::format("GET", "/b");
  send_all(pair.client_fd,
           raw_http::format("GET", "/a") + raw_http::format("GET", "/side") + after_side);
  REQUIRE(connection.on_ready(true, false, accepted_at_ms));
  run_turn(&server, {&connection}, accepted_at_ms);

  // /a is answered; /side went to the side thread; /b waits behind it, unread by anyone. What
  // was answered before /side leaves with it: while offloaded the connection is not touched.
  REQUIRE(server.handed_off == std::vector<Connection*>{&connection});
  CHECK(connection.state() == State::offloaded);
  CHECK(connection.interest() == Interest::none);
  CHECK(connection.requests_served() == 1);
  CHECK(connection.unsent_bytes() == ok_answer("a").size());
  CHECK(read_available(pair.client_fd).empty());

  std::thread side([&] { connection.serve_offloaded(&server); });
  side.join();  // The loop's hand-back orders the two threads the same way.
  CHECK(read_available(pair.client_fd).empty());
  connection.resume(accepted_at_ms + 5);
  CHECK(connection.state() == State::idle);
  CHECK(connection.deadline_ms() == accepted_at_ms + 5 + keep_alive_timeout_ms);
  CHECK(connection.unread_bytes() == after_side.size());

  run_turn(&server, {&connection}, accepted_at_ms + 5);
  CHECK(read_available(pair.client_fd) ==
        ok_answer("a") + ok_answer("from the side") + ok_answer("b"));
  CHECK(connection.state() == State::idle);
  CHECK(connection.requests_served() == 3);
  CHECK(connection.unread_bytes() == 0);
}

TEST_CASE_METHOD(ServedWithSmallBuffers,
                 "a connection: a slow reader gets every answer, the output bounded meanwhile",
                 "[http][connection]") {
  const std::string big = ok_answer(std::string(big_body_bytes, 'x'));
  // Twice the output bound, and more than any socket buffer.
  const size_t requests = 2 * limits::connection_output_bytes_max / big.size() + 1;
  std::string pipelined;
  for (size_t i = 0; i < requests; ++i) pipelined += raw_http::format("GET", "/big");
  send_all(pair.client_fd, pipelined);
  REQUIRE(connection.on_ready(true, false, accepted_at_ms));

  // Served up to the bound; the rest waits, and nothing more is read meanwhile.
  connection.serve(&server, accepted_at_ms);
  const size_t served_first = connection.requests_served();
  CHECK(served_first == (limits::connection_output_bytes_max + big.size() - 1) / big.size());
  CHECK(connection.unsent_bytes() >= limits::connection_output_bytes_max);
  CHECK(connection.unsent_bytes() < limits::connection_output_bytes_max + big.size());
  CHECK(connection.unread_bytes() ==
        (requests - served_first) * raw_http::format("GET", "/big").size());
  CHECK(connection.interest() == Interest::write);
  connection.end_turn(/*committed=*/true);
  // What the socket takes goes; the client must read the rest within the write timeout.
  connection.after_turn(accepted_at_ms);
  CHECK(connection.state() == State::idle);
  CHECK(connection.unsent_bytes() > 0);
  CHECK(connection.deadline_ms() == accepted_at_ms + limits::write_timeout_ms);

  // The client reads a little at a time; each time the socket has room the connection sends on,
  // and serves more once its output is below the bound.
  std::string received;
  size_t most_unsent = connection.unsent_bytes();
  int rounds_at_the_bound = 0;  // Rounds the connection waited for the client with nothing read.
  int64_t all_sent_at_ms = 0;
  int64_t now = accepted_at_ms;
  for (int round = 0; received.size() < requests * big.size(); ++round) {
    INFO("round " << round << " received " << received.size() << " unsent "
                  << connection.unsent_bytes() << " unread " << connection.unread_bytes()
                  << " served " << connection.requests_served());
    REQUIRE(round < 10'000);
    received += read_available(pair.client_fd, small_socket_buffer_bytes);
    now += 1;
    if (connection.on_ready(/*readable=*/false, /*writable=*/true, now)) {
      const size_t served_before = connection.requests_served();
      run_turn(&server, {&connection}, now);
      // The client read enough for more answers, and not all of them fit in the socket: its
      // write timeout starts again.
      if (connection.requests_served() > served_before && connection.unsent_bytes() > 0) {
        REQUIRE(connection.deadline_ms() == now + limits::write_timeout_ms);
      }
    }
    most_unsent = std::max(most_unsent, connection.unsent_bytes());
    if (connection.unsent_bytes() == 0 && all_sent_at_ms == 0) all_sent_at_ms = now;
    if (connection.interest() == Interest::write) ++rounds_at_the_bound;
    REQUIRE(connection.state() != State::closed);
  }
  CHECK(received.size() == requests * big.size());
  std::string all_answers;
  for (size_t i = 0; i < requests; ++i) all_answers += big;
  CHECK(received == all_answers);
  CHECK(most_unsent < limits::connection_output_bytes_max + big.size());
  CHECK(rounds_at_the_bound > 0);
  CHECK(connection.requests_served() == requests);
  CHECK(connection.unsent_bytes() == 0);
  CHECK(connection.unread_bytes() == 0);
  CHECK(connection.state() == State::idle);
  CHECK(connection.interest() == Interest::read);
  // All sent: idle again until the keep-alive timeout, from the last send.
  CHECK(connection.deadline_ms() == all_sent_at_ms + keep_alive_timeout_ms);
}

TEST_CASE("a connection: a client that closes mid-answer is dropped, and no other connection",
          "[http][connection]") {
  TestServer server;
  const Pair leaving = socket_pair(small_socket_buffer_bytes);
  const Pair staying = socket_pair();
  Connection gone(leaving.server_fd, accepted_at_ms);
  Connection kept(staying.server_fd, accepted_at_ms);
  send_all(leaving.client_fd, raw_http::format("GET", "/big"));
  send_all(staying.client_fd, raw_http::format("GET", "/a"));
  REQUIRE(gone.on_ready(true, false, accepted_at_ms));
  REQUIRE(kept.on_ready(true, false, accepted_at_ms));
  run_turn(&server, {&gone, &kept}, accepted_at_ms);

  // The big answer did not fit: part of it waits for room.
  CHECK(gone.unsent_bytes() > 0);
  CHECK(gone.interest() == Interest::read_write);
  CHECK(gone.deadline_ms() == accepted_at_ms + limits::write_timeout_ms);
  CHECK(read_available(staying.client_fd) == ok_answer("a"));

  // The client reads a part and goes away; the next send fails, without a signal.
  CHECK_FALSE(read_available(leaving.client_fd, 100).empty());
  ::close(leaving.client_fd);
  CHECK_FALSE(gone.on_ready(/*readable=*/true, /*writable=*/true, accepted_at_ms + 1));
  CHECK(gone.state() == State::closed);
  CHECK(gone.interest() == Interest::none);
  CHECK(gone.fd() == -1);
  CHECK_FALSE(is_open(leaving.server_fd));
  CHECK(gone.unsent_bytes() == 0);  // Its buffers are released.
  CHECK(gone.unread_bytes() == 0);

  // The other connection goes on as before.
  send_all(staying.client_fd, raw_http::format("GET", "/b"));
  REQUIRE(kept.on_ready(true, false, accepted_at_ms + 2));
  run_turn(&server, {&kept}, accepted_at_ms + 2);
  CHECK(read_available(staying.client_fd) == ok_answer("b"));
  CHECK(kept.state() == State::idle);
  CHECK(kept.requests_served() == 2);
  ::close(staying.client_fd);
}
