// Hostile clients: many idle connections, slowloris (headers a byte at a time), header floods and
// long pipelines, through haproxy and straight at an instance. Meanwhile a well-behaved client
// must keep getting answers within a bound, and the ledger stays exact.
//
// haproxy (mode tcp) passes every connection through to an instance, so through haproxy and
// straight at an instance the defence is the same: the event loop waits on every connection at
// once, so bad connections hold nothing: a good request is answered at once,
// and each bad connection is dropped at its deadline (limits::first_request_wait_ms for one that
// never starts a request, limits::request_read_ms_max for one whose request never completes).
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <cstdio>
#include <thread>

#include "crebito_limits.h"
#include "reliability/ledger_check.h"
#include "support/api.h"
#include "support/stack.h"

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// An answer through haproxy under attack: well below haproxy's own timeouts.
constexpr int64_t answer_through_haproxy_ms_bound = 1000;
// A bad connection is closed by the instance within its deadline plus one sweep of the loop's
// deadlines, plus scheduling slack.
constexpr int64_t drop_slack_ms = limits::deadline_sweep_interval_ms + 1000;
// How long the instances may take to accept the attack's connections: well within
// limits::first_request_wait_ms, after which they drop the idle ones.
constexpr auto accept_timeout = milliseconds(limits::first_request_wait_ms / 2);

// Connections that misbehave until stopped: idle ones, and slowloris ones that send a header
// byte every slow_byte_interval and never finish the request (the pause between bytes is the
// attack itself, not a wait). Closed when destroyed.
class Attack {
 public:
  static constexpr auto slow_byte_interval = milliseconds(200);

  Attack(std::function<int()> connect, int idle, int slow) {
    for (int i = 0; i < idle; ++i) fds_.push_back(connect());
    for (int i = 0; i < slow; ++i) slow_fds_.push_back(connect());
    slow_thread_ = std::thread([this] {
      const std::string head = "POST /clientes/1/transacoes HTTP/1.1\r\nHost: x\r\nX-Slow: ";
      for (size_t at = 0; !stopping_; ++at) {
        const char byte = at < head.size() ? head[at] : 'a';
        for (int fd : slow_fds_) {
          if (fd >= 0) ::send(fd, &byte, 1, MSG_NOSIGNAL);
        }
        std::this_thread::sleep_for(slow_byte_interval);
      }
    });
  }
  ~Attack() {
    stopping_ = true;
    slow_thread_.join();
    for (int fd : fds_) ::close(fd);
    for (int fd : slow_fds_) ::close(fd);
  }
  // How many of the connections the server has closed (a read sees the end of the stream).
  int closed_by_server() const {
    int n = 0;
    char byte;
    for (const std::vector<int>* fds : {&fds_, &slow_fds_}) {
      for (int fd : *fds) n += fd >= 0 && ::recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT) == 0;
    }
    return n;
  }
  int connected() const {
    int n = 0;
    for (int fd : fds_) n += fd >= 0;
    for (int fd : slow_fds_) n += fd >= 0;
    return n;
  }

 private:
  std::vector<int> fds_;
  std::vector<int> slow_fds_;
  std::atomic<bool> stopping_{false};
  std::thread slow_thread_;
};

// Open descriptors of both instances together.
int instance_descriptors(const Stack& stack) {
  return open_descriptors(stack.instance_pid(1)) + open_descriptors(stack.instance_pid(2));
}

// Descriptors counted before an attack that may be gone by the time it is counted again: a
// connection of the stack's readiness probes, or a health check of haproxy's.
constexpr int transient_descriptors_max = 4;

// Waits until the instances hold `connections` more descriptors than `before` (less the transient
// ones): the attack's connections have been accepted (through haproxy, each client connection has
// its own connection to an instance) and are held while the good client is served.
bool wait_accepted(const std::function<int()>& descriptors, int before, int connections) {
  return wait_until(
      [&] { return descriptors() >= before + connections - transient_descriptors_max; },
      accept_timeout);
}

struct Timed {
  int status = 0;
  int64_t ms = 0;
};

Timed timed_statement(httplib::Client& client, int account) {
  const auto started = Clock::now();
  const int status = get_statement(client, account).status;
  return {status, std::chrono::duration_cast<milliseconds>(Clock::now() - started).count()};
}

std::string flood_headers(size_t count) {
  std::string request = "GET /clientes/1/extrato HTTP/1.1\r\nHost: x\r\n";
  for (size_t i = 0; i < count; ++i) request += "X-Flood-" + std::to_string(i) + ": yes\r\n";
  return request + "\r\n";
}

}  // namespace

TEST_CASE("through haproxy, idle and slow clients and floods do not delay a good client",
          "[reliability][hostile]") {
  Stack stack;
  const int descriptors_before = instance_descriptors(stack);
  Attack attack([&stack] { return connect_tcp(stack.host(), stack.port()); }, 300, 50);
  REQUIRE(attack.connected() == 350);
  const bool accepted =
      wait_accepted([&stack] { return instance_descriptors(stack); }, descriptors_before, 350);
  INFO("instances' descriptors: " << descriptors_before << " before, "
                                  << instance_descriptors(stack) << " now");
  REQUIRE(accepted);

  // Floods and a long pipeline on their own connections, while a good client works.
  std::atomic<int> flood_5xx{0};
  std::thread flooder([&] {
    for (int i = 0; i < 20; ++i) {
      flood_5xx += raw_status(raw_exchange(stack.host(), stack.port(), flood_headers(2000))) >= 500;
      std::string pipeline;
      for (int k = 0; k < 100; ++k)
        pipeline += "GET /clientes/2/extrato HTTP/1.1\r\nHost: x\r\n\r\n";
      flood_5xx += raw_status(raw_exchange(stack.host(), stack.port(), pipeline, 500)) >= 500;
    }
  });

  std::vector<Timed> answers;
  std::vector<Sent> sent;
  auto client = stack.client();
  const auto until = Clock::now() + std::chrono::seconds(4);
  for (int i = 0; Clock::now() < until; ++i) {
    answers.push_back(timed_statement(*client, 1 + i % 5));
    Sent s;
    s.description = unique_description('h', 0, i);
    s.account = 1 + i % 5;
    s.amount_cents = 1 + i;
    const auto started = Clock::now();
    s.status = post_transaction(*client, s.account, s.amount_cents, "c", s.description).status;
    answers.push_back(
        {s.status, std::chrono::duration_cast<milliseconds>(Clock::now() - started).count()});
    sent.push_back(s);
  }
  flooder.join();

  int64_t slowest_ms = 0;
  size_t not_ok = 0;
  for (const Timed& t : answers) {
    slowest_ms = std::max(slowest_ms, t.ms);
    not_ok += t.status != 200;
  }
  std::printf(
      "hostile/haproxy: 300 idle + 50 slowloris connections, 20 header floods and 20 "
      "pipelines of 100: %zu good requests, %zu not 200, slowest %lld ms\n",
      answers.size(), not_ok, static_cast<long long>(slowest_ms));
  CHECK(not_ok == 0);
  CHECK(slowest_ms <= answer_through_haproxy_ms_bound);
  CHECK(flood_5xx == 0);

  Journal journal;
  journal.merge(sent);
  const LedgerCheck check = check_ledger(stack, journal);
  INFO(check.describe());
  CHECK(check.ok());
}

TEST_CASE("straight at an instance, idle and slow connections hold nothing and are dropped in time",
          "[reliability][hostile]") {
  Stack stack;
  for (const auto& [idle, slow] : {std::pair{300, 0}, std::pair{0, 50}}) {
    const pid_t pid = stack.instance_pid(1);
    const int descriptors_before = open_descriptors(pid);
    Attack attack([&stack] { return connect_unix(stack.socket_path(1)); }, idle, slow);
    REQUIRE(attack.connected() == idle + slow);
    const bool accepted =
        wait_accepted([pid] { return open_descriptors(pid); }, descriptors_before, idle + slow);
    INFO("instance's descriptors: " << descriptors_before << " before, " << open_descriptors(pid)
                                    << " now");
    REQUIRE(accepted);
    auto client = stack.instance_client(1);
    const Timed answer = timed_statement(*client, 1);
    // Every bad connection was still open while the good request was served.
    const int closed_before = attack.closed_by_server();
    std::printf(
        "hostile/direct: %d idle + %d slowloris connections open: a good request answered "
        "%d after %lld ms\n",
        idle, slow, answer.status, static_cast<long long>(answer.ms));
    CHECK(answer.status == 200);
    CHECK(answer.ms <= answer_through_haproxy_ms_bound);
    CHECK(closed_before == 0);
    // The other instance is unaffected meanwhile.
    CHECK(timed_statement(*stack.instance_client(2), 1).ms <= answer_through_haproxy_ms_bound);

    const int64_t deadline_ms =
        (idle > 0 ? limits::first_request_wait_ms : limits::request_read_ms_max) + drop_slack_ms;
    const auto started = Clock::now();
    int64_t waited_ms = 0;
    while (attack.closed_by_server() < idle + slow && waited_ms <= deadline_ms) {
      std::this_thread::sleep_for(milliseconds(20));  // A poll: the loop's condition is the fact.
      waited_ms =
          std::chrono::duration_cast<milliseconds>(Clock::now() - started).count() + answer.ms;
    }
    std::printf("hostile/direct: %d of %d bad connections dropped by the instance after %lld ms\n",
                attack.closed_by_server(), idle + slow, static_cast<long long>(waited_ms));
    CHECK(attack.closed_by_server() == idle + slow);
  }
}
