// http::EventLoop served on a loopback port and driven with raw bytes: the answers of a turn that
// does not commit, a client that reads late past the output bound, the planted race that
// scripts/test-sanitizers expects ThreadSanitizer to report, and two stores' turn hooks joined.
#include "http/event_loop.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <stdexcept>
#include <string>
#include <thread>

#include "support/raw_http.h"

namespace {

constexpr int exchange_timeout_ms = 5000;

// `loop` serving on a fresh listening socket on 127.0.0.1, with `threads` loop threads, until the
// ServedLoop is destroyed.
class ServedLoop {
 public:
  explicit ServedLoop(http::EventLoop* loop, int threads = 1) : loop_(loop) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    if (listen_fd_ < 0 || ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&address), length) != 0 ||
        ::listen(listen_fd_, SOMAXCONN) != 0 ||
        ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
      throw std::runtime_error("cannot listen on 127.0.0.1");
    }
    port_ = ntohs(address.sin_port);
    serving_ = std::thread([this, threads] { loop_->serve(listen_fd_, threads); });
  }
  ~ServedLoop() {
    loop_->request_stop();
    serving_.join();
    ::close(listen_fd_);
  }
  ServedLoop(const ServedLoop&) = delete;
  ServedLoop& operator=(const ServedLoop&) = delete;

  int port() const { return port_; }

 private:
  http::EventLoop* const loop_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::thread serving_;
};

// Sends `bytes` on a fresh connection and reads `count` answers.
std::vector<raw_http::Answer> exchange(int port, const std::string& bytes, size_t count) {
  const int fd = raw_http::connect_to(port, exchange_timeout_ms);
  REQUIRE(fd >= 0);
  std::vector<raw_http::Answer> answers =
      raw_http::exchange_many(fd, bytes, count, exchange_timeout_ms);
  ::close(fd);
  return answers;
}

// A handler that races on purpose: it and a thread it starts both increment a plain int with
// nothing ordering the two. noinline, so that a report names it.
int planted_race_counter = 0;
[[gnu::noinline]] void planted_race_in_handler() {
  std::thread other([] { ++planted_race_counter; });
  ++planted_race_counter;
  other.join();
}

}  // namespace

TEST_CASE("a turn that does not commit replaces only the answers that depended on it",
          "[http][event_loop]") {
  http::EventLoop loop;
  bool used_turn = false;  // Loop thread only: the handlers and hooks run there.
  bool commits = true;
  loop.Get("/turn", [&](const httplib::Request&, httplib::Response& res) {
    used_turn = true;
    res.set_content("in the turn", "text/plain");
  });
  loop.Get("/alone", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("alone", "text/plain");
  });
  loop.set_turn_hooks({[] {}, [&] { return commits; },
                       [&] {
                         const bool depends = used_turn;
                         used_turn = false;
                         return depends;
                       }});
  const std::string requests =
      raw_http::format("GET", "/alone") + raw_http::format("GET", "/turn") +
      raw_http::format("GET", "/alone") + raw_http::format("GET", "/turn", "Connection: close\r\n");

  SECTION("committed: every answer as the handler gave it") {
    ServedLoop served(&loop);
    const std::vector<raw_http::Answer> answers = exchange(served.port(), requests, 4);
    REQUIRE(answers.size() == 4);
    CHECK(answers[1].body == "in the turn");
    CHECK(answers[3].body == "in the turn");
    for (const raw_http::Answer& answer : answers) CHECK(answer.status == 200);
  }
  SECTION("not committed: 503 in place of each answer that depended on the turn, alone") {
    commits = false;
    ServedLoop served(&loop);
    const std::vector<raw_http::Answer> answers = exchange(served.port(), requests, 4);
    REQUIRE(answers.size() == 4);
    CHECK(answers[0].status == 200);
    CHECK(answers[0].body == "alone");
    CHECK(answers[1].status == 503);
    CHECK_FALSE(answers[1].header("Connection").has_value());  // More answers follow.
    CHECK(answers[2].status == 200);
    CHECK(answers[2].body == "alone");
    CHECK(answers[3].status == 503);
    CHECK(answers[3].header("Connection") == "close");  // The last: the client asked to close.
  }
}

TEST_CASE(
    "a client that pipelines past the output bound and reads late gets every answer, in order",
    "[http][event_loop]") {
  constexpr size_t body_bytes = 64 * 1024;
  // Many times limits::connection_output_bytes_max, and more than loopback's socket buffers.
  constexpr size_t requests = 96;
  http::EventLoop loop;
  loop.set_keep_alive_max_count(requests);
  loop.Get(R"(/big/(\d+))", [](const httplib::Request& req, httplib::Response& res) {
    std::string body = req.matches[1].str() + ":";
    body.resize(body_bytes, 'x');
    res.set_content(body, "text/plain");
  });
  ServedLoop served(&loop);
  const int fd = raw_http::connect_to(served.port(), exchange_timeout_ms);
  REQUIRE(fd >= 0);
  std::string pipelined;
  for (size_t i = 0; i < requests; ++i)
    pipelined += raw_http::format("GET", "/big/" + std::to_string(i));
  REQUIRE(::send(fd, pipelined.data(), pipelined.size(), MSG_NOSIGNAL) ==
          static_cast<ssize_t>(pipelined.size()));
  // Not reading for a while: the connection fills what the sockets hold and stops at its bound.
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  const std::vector<raw_http::Answer> answers =
      raw_http::exchange_many(fd, "", requests, exchange_timeout_ms);
  ::close(fd);
  REQUIRE(answers.size() == requests);
  for (size_t i = 0; i < requests; ++i) {
    INFO("answer " << i);
    CHECK(answers[i].status == 200);
    CHECK(answers[i].body.size() == body_bytes);
    CHECK(answers[i].body.compare(0, std::to_string(i).size() + 1, std::to_string(i) + ":") == 0);
  }
}

// Hidden from ctest ([.]): scripts/test-sanitizers runs it alone under ThreadSanitizer and fails
// unless TSan reports this race. A race reached from a request runs under cpp-httplib's
// process_request (an uninstrumented Debian library); the test shows that the suppressions let
// such a race through.
TEST_CASE("planted race: a handler that races on purpose", "[.][planted_race]") {
  http::EventLoop loop;
  loop.Get("/race", [](const httplib::Request&, httplib::Response& res) {
    planted_race_in_handler();
    res.set_content("raced", "text/plain");
  });
  ServedLoop served(&loop);
  const std::vector<raw_http::Answer> answers =
      exchange(served.port(), raw_http::format("GET", "/race", "Connection: close\r\n"), 1);
  REQUIRE(answers.size() == 1);
  CHECK(answers[0].status == 200);
}

TEST_CASE("both stores' turn hooks: each begun and ended, each asked after every request",
          "[http][event_loop][turn]") {
  // Two stores' hooks as both faces' are joined on one instance: the ledger's turn committed, the
  // payments store's turn lost.
  struct Store {
    bool committed = true;
    bool from_turn = false;
    int begun = 0, ended = 0;
    http::EventLoop::TurnHooks hooks() {
      return {[this] { ++begun; }, [this] { return ++ended, committed; },
              [this] {
                const bool answered = from_turn;
                from_turn = false;
                return answered;
              }};
    }
  };
  Store ledger, payments;
  payments.committed = false;
  const http::EventLoop::TurnHooks both =
      http::EventLoop::both_turn_hooks(ledger.hooks(), payments.hooks());
  both.begin_turn();
  CHECK((ledger.begun == 1 && payments.begun == 1));
  payments.from_turn = true;
  CHECK(both.answered_from_turn());
  ledger.from_turn = true;
  payments.from_turn = true;
  CHECK(both.answered_from_turn());
  CHECK_FALSE(payments.from_turn);  // Asked, and so cleared, even though the first said true.
  CHECK_FALSE(both.answered_from_turn());
  CHECK_FALSE(both.end_turn());  // One did not commit.
  CHECK((ledger.ended == 1 && payments.ended == 1));
  payments.committed = true;
  both.begin_turn();
  CHECK(both.end_turn());
}
