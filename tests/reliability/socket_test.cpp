// Who owns an instance's unix socket (src/http/unix_socket.h): an instance never takes over, and
// never removes, a socket that another process serves.
//   - A successor started while an instance drains after SIGTERM gets the path once the draining
//     instance has gone, and keeps it: the leaving instance does not remove its successor's socket.
//   - A second instance started on a live path refuses to start (exit status not 0, a message
//     naming the path); the first one keeps answering.
//   - A socket file left by a kill -9 does not stop a restart.
//   - Two instances racing for one stale path: exactly one serves it, the other refuses.
// Each case is checked on the path itself and through haproxy, with the other instance stopped so
// that haproxy can only reach the path under test. The payments face is served by the same process
// and the same http::Server, so these cases cover it too.
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>

#include "support/stack.h"

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// The drain of the instance that is replaced while it drains; long enough to start its successor
// inside it.
constexpr int drain_ms = 2000;
// How long an instance may take to answer on its path, or to refuse: it opens the database first.
constexpr auto answer_timeout = std::chrono::seconds(10);
// How long haproxy may take to send to an instance again: checks every 1 s, up after 1 success.
constexpr auto haproxy_timeout = std::chrono::seconds(10);
constexpr auto poll_interval = milliseconds(50);
// Requests sent through haproxy once it answers: each must be 200.
constexpr int requests_through_haproxy = 20;

std::string read_file(const std::string& path) {
  std::ifstream file(path);
  return std::string((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
}

bool is_socket_file(const std::string& path) {
  struct stat status {};
  return ::lstat(path.c_str(), &status) == 0 && S_ISSOCK(status.st_mode);
}

ino_t inode_of(const std::string& path) {
  struct stat status {};
  return ::lstat(path.c_str(), &status) == 0 ? status.st_ino : 0;
}

// GET /health on the unix socket; 0 when nothing answers.
int health_status(const std::string& path) {
  return raw_status(raw_exchange_unix(path, "GET /health HTTP/1.0\r\n\r\n", 1000));
}

// Waits until /health on path answers `status`.
bool wait_for_health(const std::string& path, int status, Clock::duration timeout) {
  const auto deadline = Clock::now() + timeout;
  while (health_status(path) != status) {
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(poll_interval);
  }
  return true;
}

// Stops instance 2, then checks that haproxy answers through instance 1's path: waits for its
// first 200, then requires requests_through_haproxy more.
bool answers_through_haproxy_via_instance_1(Stack& stack) {
  stack.stop_instance(2, SIGTERM);
  auto client = stack.client();
  const auto deadline = Clock::now() + haproxy_timeout;
  while (true) {
    const httplib::Result result = client->Get("/clientes/1/extrato");
    if (result && result->status == 200) break;
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(poll_interval);
  }
  for (int i = 0; i < requests_through_haproxy; ++i) {
    const httplib::Result result = client->Get("/clientes/1/extrato");
    if (!result || result->status != 200) return false;
  }
  return true;
}

// A process the test started (start_extra_instance): stopped by its pid when the test ends, unless
// it exited or was handed to the Stack.
class ExtraInstance {
 public:
  ExtraInstance(const Stack& stack, int instance, const std::string& name)
      : pid_(stack.start_extra_instance(instance, name)), log_(stack.log_path(name)) {}
  ~ExtraInstance() {
    if (pid_ > 0) stop_process(pid_, SIGKILL);
  }
  ExtraInstance(const ExtraInstance&) = delete;
  ExtraInstance& operator=(const ExtraInstance&) = delete;

  pid_t pid() const { return pid_; }
  std::string log() const { return read_file(log_); }
  // True once it has exited (then *status is its wait status); reaps it.
  bool exited(int* status) {
    if (pid_ <= 0) return true;
    if (!wait_for_exit(pid_, milliseconds(0), status)) return false;
    pid_ = -1;
    return true;
  }
  bool wait_exit(Clock::duration timeout, int* status) {
    const auto deadline = Clock::now() + timeout;
    while (!exited(status)) {
      if (Clock::now() >= deadline) return false;
      std::this_thread::sleep_for(poll_interval);
    }
    return true;
  }
  void hand_to(Stack& stack, int instance) {
    stack.adopt_instance(instance, pid_);
    pid_ = -1;
  }

 private:
  pid_t pid_;
  std::string log_;
};

bool refused(int status) { return WIFEXITED(status) && WEXITSTATUS(status) != 0; }

}  // namespace

TEST_CASE("a successor started while an instance drains keeps the socket after the drain ends",
          "[reliability][socket]") {
  Stack stack(Stack::Options{"", {"CREBITO_DRAIN_MS=" + std::to_string(drain_ms)}});
  const std::string path = stack.socket_path(1);
  int first_status = -1;
  std::thread first_stop([&] { first_status = stack.stop_instance(1, SIGTERM); });
  // The successor starts only once the first instance is seen draining (health 503).
  const bool seen_draining = wait_for_health(path, 503, answer_timeout);
  ExtraInstance successor(stack, 1, "api01-successor");
  first_stop.join();
  REQUIRE(seen_draining);
  CHECK((WIFEXITED(first_status) && WEXITSTATUS(first_status) == 0));

  const bool answered = wait_for_health(path, 200, answer_timeout);
  INFO("successor's log:\n" << successor.log());
  CHECK(answered);
  int status = 0;
  REQUIRE_FALSE(successor.exited(&status));
  successor.hand_to(stack, 1);
  CHECK(answers_through_haproxy_via_instance_1(stack));
  CHECK(is_socket_file(path));
}

TEST_CASE("a second instance on a live socket refuses to start, and the first keeps answering",
          "[reliability][socket]") {
  Stack stack;
  const std::string path = stack.socket_path(1);
  const ino_t first_socket = inode_of(path);
  ExtraInstance second(stack, 1, "api01-second");
  int status = 0;
  const bool exited = second.wait_exit(answer_timeout, &status);
  INFO("second instance's log:\n" << second.log());
  CHECK(exited);
  CHECK(refused(status));
  CHECK(second.log().find(path) != std::string::npos);
  CHECK(inode_of(path) == first_socket);  // Still the first instance's socket,
  CHECK(health_status(path) == 200);      // and it answers.
  CHECK(answers_through_haproxy_via_instance_1(stack));
}

TEST_CASE("a socket file left by kill -9 does not stop a restart", "[reliability][socket]") {
  Stack stack;
  const std::string path = stack.socket_path(1);
  stack.stop_instance(1, SIGKILL);
  REQUIRE(is_socket_file(path));  // Nobody removed it.
  stack.restart_instance(1);
  CHECK(health_status(path) == 200);
  CHECK(answers_through_haproxy_via_instance_1(stack));
}

TEST_CASE("two instances racing for one stale socket: exactly one serves it",
          "[reliability][socket]") {
  Stack stack;
  const std::string path = stack.socket_path(1);
  stack.stop_instance(1, SIGKILL);
  REQUIRE(is_socket_file(path));
  ExtraInstance racers[2] = {{stack, 1, "api01-racer-1"}, {stack, 1, "api01-racer-2"}};

  // The loser refuses; the winner keeps running.
  int loser = -1;
  int status = 0;
  const auto deadline = Clock::now() + answer_timeout;
  while (loser < 0 && Clock::now() < deadline) {
    for (int i = 0; i < 2 && loser < 0; ++i) {
      if (racers[i].exited(&status)) loser = i;
    }
    std::this_thread::sleep_for(poll_interval);
  }
  INFO("racer 1's log:\n" << racers[0].log() << "\nracer 2's log:\n" << racers[1].log());
  REQUIRE(loser >= 0);
  CHECK(refused(status));
  CHECK(racers[loser].log().find(path) != std::string::npos);
  ExtraInstance& winner = racers[1 - loser];
  const bool answered = wait_for_health(path, 200, answer_timeout);
  INFO("winner's log:\n" << winner.log());
  CHECK(answered);
  REQUIRE_FALSE(winner.exited(&status));
  winner.hand_to(stack, 1);
  CHECK(answers_through_haproxy_via_instance_1(stack));
}
