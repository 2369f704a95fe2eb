// processor-sim under a client that opens connections without bound: 4,000 kept-alive
// connections, each with a payment waiting in a 2000 ms delay, while admin calls and health polls
// (each on a fresh connection, with k6's 1.5 s timeout) must keep answering within milliseconds.
// Prints the figures (latency percentiles, RSS); asserts generous bounds.
#include <sys/epoll.h>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "support/processor_sim.h"
#include "support/raw_http.h"
#include "support/temp_dir.h"

namespace {

using Clock = std::chrono::steady_clock;

constexpr int connections_held = 4000;
constexpr int delay_ms = 2000;
constexpr int rounds = 2;
// Every connection's payment is in its delay at once: permits for all of them.
constexpr int permits = connections_held;
// Health answers once per window; probes come further apart, so each finds a free permit.
constexpr int health_window_ms = 100;
constexpr int probe_interval_ms = 25;
constexpr int probes_per_health = 6;    // Every 150 ms a health poll, admin calls between.
constexpr int probe_timeout_ms = 1500;  // k6's timeout.
// The bound each admin or health answer must meet (the figures are far below it when it works).
constexpr int probe_bound_ms = 300;
constexpr int connect_timeout_ms = 10'000;
constexpr int answers_wait_ms = delay_ms + 5000;  // After the last payment was sent.
// Probing stops this long before the delay ends, so that it measures the held state.
constexpr int probe_stop_before_end_ms = 150;

struct Percentiles {
  double p50 = 0, p99 = 0, max = 0;
  size_t count = 0;
};

Percentiles percentiles(std::vector<double> values) {
  Percentiles p;
  p.count = values.size();
  if (values.empty()) return p;
  std::sort(values.begin(), values.end());
  p.p50 = values[values.size() / 2];
  p.p99 = values[std::min(values.size() - 1, values.size() * 99 / 100)];
  p.max = values.back();
  return p;
}

long rss_kib(pid_t pid, const char* field) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind(field, 0) == 0) return std::stol(line.substr(std::string(field).size()));
  }
  return -1;
}

void raise_open_files(rlim_t wanted) {
  rlimit limit{};
  ::getrlimit(RLIMIT_NOFILE, &limit);
  if (limit.rlim_cur < wanted) {
    limit.rlim_cur = std::min(wanted, limit.rlim_max);
    ::setrlimit(RLIMIT_NOFILE, &limit);
  }
}

// Opens `count` connections to the port at once (non-blocking connects); the ones that connected.
std::vector<int> open_connections(int port, int count) {
  const int epoll_fd = ::epoll_create1(EPOLL_CLOEXEC);
  std::vector<int> pending;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  for (int i = 0; i < count; ++i) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) break;
    const int yes = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &yes, sizeof yes);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 &&
        errno != EINPROGRESS) {
      ::close(fd);
      continue;
    }
    epoll_event event{};
    event.events = EPOLLOUT;
    event.data.fd = fd;
    ::epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &event);
    pending.push_back(fd);
  }
  std::vector<int> connected;
  size_t settled = 0;
  const auto deadline = Clock::now() + std::chrono::milliseconds(connect_timeout_ms);
  std::vector<epoll_event> events(1024);
  while (settled < pending.size() && Clock::now() < deadline) {
    const int n = ::epoll_wait(epoll_fd, events.data(), static_cast<int>(events.size()), 100);
    for (int i = 0; i < n; ++i) {
      const int fd = events[i].data.fd;
      int error = 0;
      socklen_t length = sizeof error;
      ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length);
      ::epoll_ctl(epoll_fd, EPOLL_CTL_DEL, fd, nullptr);
      ++settled;
      if (error == 0) {
        connected.push_back(fd);
      } else {
        ::close(fd);
      }
    }
  }
  ::close(epoll_fd);
  // Sockets still connecting at the deadline stay open: they count as not connected but are
  // closed at the end with the others.
  return connected;
}

struct RoundResult {
  int answered_200 = 0;
  int other_status = 0;
  int unanswered = 0;
  std::vector<double> answer_ms;  // From each payment sent to its answer.
};

// Sends one payment on every connection, then collects the answers.
RoundResult run_round(const std::vector<int>& fds, int round) {
  std::string requested_at = "2025-07-15T12:00:00.000Z";
  std::vector<Clock::time_point> sent_at(fds.size());
  for (size_t i = 0; i < fds.size(); ++i) {
    const std::string body = R"({"correlationId":"load-)" + std::to_string(round) + "-" +
                             std::to_string(i) + R"(","amount":20.05,"requestedAt":")" +
                             requested_at + R"("})";
    const std::string bytes = raw_http::format(
        "POST", "/payments", "Content-Type: application/json\r\n", std::string_view(body));
    sent_at[i] = Clock::now();
    ::send(fds[i], bytes.data(), bytes.size(), MSG_NOSIGNAL);  // A few hundred bytes: whole.
  }
  const auto sent = Clock::now();
  const int epoll_fd = ::epoll_create1(EPOLL_CLOEXEC);
  std::vector<std::string> buffers(fds.size());
  for (size_t i = 0; i < fds.size(); ++i) {
    epoll_event event{};
    event.events = EPOLLIN;
    event.data.u64 = i;
    ::epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fds[i], &event);
  }
  RoundResult result;
  size_t done = 0;
  std::vector<epoll_event> events(1024);
  char chunk[4096];
  while (done < fds.size() && Clock::now() < sent + std::chrono::milliseconds(answers_wait_ms)) {
    const int n = ::epoll_wait(epoll_fd, events.data(), static_cast<int>(events.size()), 100);
    for (int e = 0; e < n; ++e) {
      const size_t i = events[e].data.u64;
      const ssize_t got = ::recv(fds[i], chunk, sizeof chunk, MSG_DONTWAIT);
      raw_http::Answer answer;
      if (got > 0) buffers[i].append(chunk, static_cast<size_t>(got));
      const bool whole = got > 0 && raw_http::parse_answer(buffers[i], &answer) != 0;
      if (!whole && got > 0) continue;
      ::epoll_ctl(epoll_fd, EPOLL_CTL_DEL, fds[i], nullptr);
      ++done;
      buffers[i].clear();
      if (!whole) {
        ++result.unanswered;  // Closed or reset.
        continue;
      }
      if (answer.status == 200) {
        ++result.answered_200;
      } else {
        ++result.other_status;
      }
      result.answer_ms.push_back(
          std::chrono::duration<double, std::milli>(Clock::now() - sent_at[i]).count());
    }
  }
  result.unanswered += static_cast<int>(fds.size() - done);
  ::close(epoll_fd);
  return result;
}

struct Probe {
  bool health = false;
  int status = 0;
  double ms = 0;
  double started_ms = 0;  // After the round began (its payments are sent in the first ms).
};

// Admin calls (every kind k6 and crebito's tests make) and health polls on fresh connections,
// one every probe_interval_ms until `until`.
std::vector<Probe> probe_until(int port, Clock::time_point until) {
  const auto round_start = Clock::now();
  const std::string token = "X-Rinha-Token: 123\r\n";
  const std::string json = "Content-Type: application/json\r\n";
  const std::string admin[] = {
      raw_http::format("GET", "/admin/payments-summary", token),
      raw_http::format("PUT", "/admin/configurations/delay", token + json,
                       std::string_view(R"({"delay":2000})")),
      raw_http::format("GET",
                       "/admin/payments-summary?from=2025-07-15T11:59:00.000Z&to=2025-07-15T"
                       "12:01:00.000Z",
                       token),
      raw_http::format("PUT", "/admin/configurations/failure", token + json,
                       std::string_view(R"({"failure":false})")),
      raw_http::format("PUT", "/admin/configurations/token", token + json,
                       std::string_view(R"({"token":"123"})")),
      raw_http::format("POST", "/admin/purge-payments", token),  // No body, no Content-Length.
  };
  const std::string health = raw_http::format("GET", "/payments/service-health");
  std::vector<Probe> probes;
  auto next = Clock::now();
  for (int tick = 0; Clock::now() < until; ++tick) {
    Probe probe;
    probe.health = tick % probes_per_health == 0;
    const std::string& bytes = probe.health ? health : admin[tick % std::size(admin)];
    const auto start = Clock::now();
    probe.status = raw_http::request(port, bytes, probe_timeout_ms).status;
    probe.ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
    probe.started_ms = std::chrono::duration<double, std::milli>(start - round_start).count();
    probes.push_back(probe);
    next += std::chrono::milliseconds(probe_interval_ms);
    std::this_thread::sleep_until(next);
  }
  return probes;
}

}  // namespace

TEST_CASE("processor-sim holds 4,000 connections in a 2000 ms delay, admin and health answer",
          "[load]") {
  raise_open_files(connections_held + 1024);
  TempDir logs;
  ProcessorSim sim{"0.07",
                   logs.file("processor.log"),
                   {"--permits", std::to_string(permits), "--health-window-ms",
                    std::to_string(health_window_ms)}};
  // Through cpp-httplib's client, before this process holds thousands of descriptors (it uses
  // select(), which stops at 1024).
  REQUIRE(sim.set_delay(delay_ms));

  const std::vector<int> fds = open_connections(sim.port(), connections_held);
  std::vector<Probe> probes;
  std::vector<RoundResult> results;
  long rss_held_kib = -1;
  for (int round = 0; round < rounds; ++round) {
    std::vector<Probe> round_probes;
    const auto probe_end = Clock::now() + std::chrono::milliseconds(delay_ms) -
                           std::chrono::milliseconds(probe_stop_before_end_ms);
    std::thread prober([&] { round_probes = probe_until(sim.port(), probe_end); });
    std::thread sampler([&] {
      std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms / 2));
      rss_held_kib = std::max(rss_held_kib, rss_kib(sim.pid(), "VmRSS:"));
    });
    results.push_back(run_round(fds, round));
    prober.join();
    sampler.join();
    probes.insert(probes.end(), round_probes.begin(), round_probes.end());
  }
  const long rss_peak_kib = rss_kib(sim.pid(), "VmHWM:");
  for (const int fd : fds) ::close(fd);

  std::vector<double> admin_ms, health_ms, answer_ms;
  int probes_failed = 0;
  for (const Probe& p : probes) {
    (p.health ? health_ms : admin_ms).push_back(p.ms);
    const bool expected = p.health ? p.status == 200 : p.status == 200 || p.status == 204;
    if (!expected) ++probes_failed;
  }
  for (const RoundResult& r : results) {
    answer_ms.insert(answer_ms.end(), r.answer_ms.begin(), r.answer_ms.end());
  }
  const Percentiles admin = percentiles(admin_ms);
  const Percentiles health = percentiles(health_ms);
  const Percentiles answers = percentiles(answer_ms);
  std::printf("processor-sim load: %zu of %d connections held, delay %d ms, %d rounds\n",
              fds.size(), connections_held, delay_ms, rounds);
  for (size_t r = 0; r < results.size(); ++r) {
    std::printf("  round %zu: payments 200 %d, other status %d, unanswered %d\n", r,
                results[r].answered_200, results[r].other_status, results[r].unanswered);
  }
  const double answers_min =
      answer_ms.empty() ? 0 : *std::min_element(answer_ms.begin(), answer_ms.end());
  std::printf("  payment answers after their request: min %.1f ms, p50 %.1f ms, max %.1f ms\n",
              answers_min, answers.p50, answers.max);
  std::printf("  admin  (%zu calls): p50 %.2f ms, p99 %.2f ms, max %.2f ms\n", admin.count,
              admin.p50, admin.p99, admin.max);
  std::printf("  health (%zu calls): p50 %.2f ms, p99 %.2f ms, max %.2f ms\n", health.count,
              health.p50, health.p99, health.max);
  const auto slowest = std::max_element(probes.begin(), probes.end(),
                                        [](const Probe& a, const Probe& b) { return a.ms < b.ms; });
  if (slowest != probes.end()) {
    std::printf("  slowest admin/health call: %.2f ms, started %.0f ms into its round\n",
                slowest->ms, slowest->started_ms);
  }
  std::printf("  admin/health calls without the expected answer within %d ms: %d\n",
              probe_timeout_ms, probes_failed);
  std::printf("  processor-sim RSS while held: %ld KiB, peak %ld KiB\n", rss_held_kib,
              rss_peak_kib);
  std::fflush(stdout);

  CHECK(fds.size() == static_cast<size_t>(connections_held));
  for (const RoundResult& r : results) {
    CHECK(r.answered_200 == connections_held);
  }
  // Every payment waited its delay (the simulator's clock counts whole milliseconds).
  CHECK(answers_min >= delay_ms - 1);
  CHECK(probes_failed == 0);
  CHECK(admin.count > 0);
  CHECK(health.count > 0);
  CHECK(admin.max < probe_bound_ms);
  CHECK(health.max < probe_bound_ms);
}
