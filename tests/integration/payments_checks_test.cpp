// The 2025 test's consistency check, made far more often than the official one: two processor-sim
// processes switched through the final's kinds of stage (delays 0, 20, 100, 1,000, 2,000 and
// 5,000 ms, failures on and off, each switch made while calls are in flight) under a steady flow
// of payments, and every 75 ms the check k6 makes every 10 s: our GET /payments-summary and each
// processor's own summary, asked at once, over [now - 15 s, now - offset] with the preview's
// 1.5 s and the final's 2 s offsets in turn. Every check must agree (docs/PAYMENTS.md, "The
// summary at a check"), but for at most one that falls on case 4 there: calls sent in the moment
// before a processor's slowness shows, inserted by it a millisecond before their answers reach
// us; a check asked inside that millisecond differs, and no rule on our side can close it (1 of
// 1,379 in 4 runs of 1,375+ checks, none in the others). Ctest label `load` (about 2 minutes).
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <future>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "clock.h"
#include "support/api.h"
#include "support/processor_sim.h"
#include "support/stack.h"
#include "support/temp_dir.h"

namespace {

using namespace std::chrono_literals;

// The flow of payments (the final averages about 300 per second over its 300 s) and the checks.
constexpr int payments_per_second = 250;
constexpr int sender_threads = 10;
constexpr auto stage_length = 7s;
constexpr auto check_interval = 75ms;
constexpr int64_t window_length_ms = 15'000;
constexpr int64_t offsets_ms[] = {1'500, 2'000};
// Checks that may differ in one run: case 4's residual (above). Any more is a broken rule.
constexpr int differing_checks_max = 1;

struct Stage {
  int default_delay_ms;
  bool default_failing;
  int fallback_delay_ms;
  bool fallback_failing;
};

// The final's stages (docs/CHALLENGES.md §3) and the switches that tell rules apart: a failing
// slow processor that stops failing while its calls wait (the recorded calls then end long after
// their requestedAt), a slow processor that does not fail, and both slow at once.
constexpr Stage stages[] = {
    {0, false, 0, false},       {1000, false, 0, false},    {20, false, 20, false},
    {2000, true, 1000, false},  {5000, true, 5, false},     {0, false, 5, true},
    {100, false, 5, false},     {2000, false, 0, false},    {20, false, 2000, false},
    {5000, false, 100, false},  {2000, true, 1000, false},  {20, false, 20, false},
    {1000, false, 2000, false}, {5000, false, 5000, false}, {0, false, 0, false},
};

std::string new_uuid(std::mt19937_64& random) {
  static const char* hex = "0123456789abcdef";
  std::string id(36, '-');
  for (size_t i = 0; i < id.size(); ++i) {
    if (i == 14) {
      id[i] = '4';
    } else if (i != 8 && i != 13 && i != 18 && i != 23) {
      id[i] = hex[random() % 16];
    }
  }
  return id;
}

struct Totals {
  int64_t ours_default = -1, ours_fallback = -1;
  int64_t theirs_default = -1, theirs_fallback = -1;
};

// One check as k6 makes it: the three summaries asked at once.
Totals check(const Stack& stack, const ProcessorSim& default_sim, const ProcessorSim& fallback_sim,
             const std::string& from, const std::string& to) {
  auto ours = std::async(std::launch::async, [&] {
    auto client = stack.client();
    return to_answer(client->Get(("/payments-summary?from=" + from + "&to=" + to).c_str()));
  });
  auto theirs_default =
      std::async(std::launch::async, [&] { return default_sim.summary(from, to); });
  auto theirs_fallback =
      std::async(std::launch::async, [&] { return fallback_sim.summary(from, to); });
  Totals t;
  const Answer answer = ours.get();
  if (answer.status == 200) {
    t.ours_default = answer.body["default"]["totalRequests"].get<int64_t>();
    t.ours_fallback = answer.body["fallback"]["totalRequests"].get<int64_t>();
  }
  const ProcessorSim::Summary d = theirs_default.get();
  const ProcessorSim::Summary f = theirs_fallback.get();
  if (d.status == 200) t.theirs_default = d.requests;
  if (f.status == 200) t.theirs_fallback = f.requests;
  return t;
}

}  // namespace

TEST_CASE("every consistency check agrees through the final's stages, checked every 75 ms",
          "[load][payments]") {
  ProcessorPair processors;
  Stack stack(Stack::Options{"", processors.urls_env(), "payments"});
  std::atomic<bool> stop{false};
  std::atomic<int64_t> accepted{0};

  std::vector<std::thread> senders;
  for (int s = 0; s < sender_threads; ++s) {
    senders.emplace_back([&, s] {
      std::mt19937_64 random(1000 + s);
      auto client = stack.client();
      const auto period =
          std::chrono::microseconds(1'000'000 * sender_threads / payments_per_second);
      auto next = std::chrono::steady_clock::now() + period * s / sender_threads;
      while (!stop.load()) {
        std::this_thread::sleep_until(next);
        next += period;
        const std::string body =
            R"({"correlationId":")" + new_uuid(random) + R"(","amount":20.05})";
        const httplib::Result result = client->Post("/payments", body, "application/json");
        if (result && result->status == 202) accepted.fetch_add(1);
      }
    });
  }

  int checks = 0;
  int differing = 0;
  int64_t differing_payments = 0;
  std::vector<std::string> first_differences;
  std::thread checker([&] {
    auto next = std::chrono::steady_clock::now() + 2s;
    while (!stop.load()) {
      std::this_thread::sleep_until(next);
      next += check_interval;
      const int64_t now = clocks::wall_ms();
      const int64_t offset = offsets_ms[checks % 2];
      const std::string from = clocks::format_iso(now - window_length_ms, clocks::Precision::ms);
      const std::string to = clocks::format_iso(now - offset, clocks::Precision::ms);
      const Totals t = check(stack, processors.default_sim, processors.fallback_sim, from, to);
      ++checks;
      const int64_t off = std::abs(t.ours_default - t.theirs_default) +
                          std::abs(t.ours_fallback - t.theirs_fallback);
      if (off != 0) {
        ++differing;
        differing_payments += off;
        if (first_differences.size() < 20) {
          first_differences.push_back(
              "[" + from + ", " + to + "]: ours " + std::to_string(t.ours_default) + "/" +
              std::to_string(t.ours_fallback) + ", processors' " +
              std::to_string(t.theirs_default) + "/" + std::to_string(t.theirs_fallback));
        }
      }
    }
  });

  std::string switches;  // When each stage began, to place a difference.
  for (const Stage& stage : stages) {
    switches += ' ';
    switches += clocks::format_iso(clocks::wall_ms(), clocks::Precision::ms).substr(17, 6);
    REQUIRE(processors.default_sim.set_delay(stage.default_delay_ms));
    REQUIRE(processors.default_sim.set_failure(stage.default_failing));
    REQUIRE(processors.fallback_sim.set_delay(stage.fallback_delay_ms));
    REQUIRE(processors.fallback_sim.set_failure(stage.fallback_failing));
    std::this_thread::sleep_for(stage_length);
  }
  stop.store(true);
  for (std::thread& sender : senders) sender.join();
  checker.join();

  // Everything accepted is forwarded: nothing left behind once the processors are fast again.
  nlohmann::json report;
  REQUIRE(wait_until(
      [&] {
        report = to_answer(stack.client()->Get("/payments-consistency")).body;
        return report.is_object() && report["unsettled"] == 0;
      },
      60s, 100ms));
  const ProcessorSim::Summary all_default = processors.default_sim.summary();
  const ProcessorSim::Summary all_fallback = processors.fallback_sim.summary();
  const Answer ours = to_answer(stack.client()->Get("/payments-summary"));

  std::printf(
      "consistency checks: %d, differing: %d (%lld payments); accepted %lld, default %lld, "
      "fallback %lld\n",
      checks, differing, static_cast<long long>(differing_payments),
      static_cast<long long>(accepted.load()), static_cast<long long>(all_default.requests),
      static_cast<long long>(all_fallback.requests));
  std::printf("stages began at (s.ms):%s\n", switches.c_str());
  for (const std::string& difference : first_differences) std::printf("  %s\n", difference.c_str());
  std::fflush(stdout);

  CHECK(report["accepted"] == accepted.load());
  CHECK(all_default.requests + all_fallback.requests == accepted.load());
  CHECK(ours.body["default"]["totalRequests"] == all_default.requests);
  CHECK(ours.body["fallback"]["totalRequests"] == all_fallback.requests);
  CHECK(checks >= 1000);
  INFO(differing << " of " << checks << " checks differed");
  if (differing > 0) WARN(differing << " check(s) differed: case 4 of docs/PAYMENTS.md?");
  CHECK(differing <= differing_checks_max);
}
