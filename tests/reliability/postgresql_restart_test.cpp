// PostgreSQL itself fails under load: the cluster is stopped like a power cut (pg_ctl stop -m
// immediate: no checkpoint, every connection cut) while client threads write through haproxy, kept
// down for a while, and started again on the same data, several times. Meanwhile:
//   - every request sent and answered while the cluster was down is answered 503 (never a 200 the
//     store could not have kept, never a 5xx of another kind, never a dropped connection);
//   - after each start the instances serve again by themselves: nobody restarts them;
//   - afterwards every acknowledged transaction is in the database exactly once, refused and 503
//     ones are absent, the audit holds and every instance's statement agrees (ledger_check.h).
// The figures (503s while down, the time from the start until the first 200) are printed.
//
// CREBITO_PG_RESTART_SEED=N repeats a run's timings; the seed is printed with the figures.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdio>
#include <random>
#include <thread>

#include "reliability/crash_cycle.h"
#include "reliability/ledger_check.h"
#include "reliability/load.h"
#include "support/pg_cluster.h"
#include "support/stack.h"

namespace {

constexpr int load_threads = 6;
constexpr int restarts = 4;
// The instances must be serving again (the load's successful answers growing) this soon after the
// cluster accepts connections again: a connection of the pool is re-opened at its next use.
constexpr auto recovery_timeout = std::chrono::seconds(10);
constexpr int64_t answers_to_recover = 50;
constexpr int64_t answers_after_recovery = 200;

struct Outage {
  Clock::time_point stopped;     // pg_ctl stop -m immediate has returned: the server is gone.
  Clock::time_point restarting;  // The start begins: from here on requests may succeed again.
};

}  // namespace

TEST_CASE("PostgreSQL stopped immediately under load: 503 while down, recovery, nothing lost",
          "[reliability][postgresql][pg_restart]") {
  const unsigned seed = seed_from_env("CREBITO_PG_RESTART_SEED");
  std::mt19937 random(seed);
  Stack stack(Stack::Options{.store = "postgresql"});
  PgCluster& cluster = stack.pg_cluster();
  Load load([&stack] { return stack.client(); }, load_threads, 'p');
  std::vector<Outage> outages;
  std::vector<std::string> problems;
  int64_t recovery_ms_max = 0;

  REQUIRE(load.wait_for_successes(answers_after_recovery, recovery_timeout));
  for (int i = 0; i < restarts; ++i) {
    // The load runs for a random while before each stop (the scenario's pace).
    std::this_thread::sleep_for(milliseconds(200 + random() % 600));
    Outage outage;
    cluster.stop_immediate();
    outage.stopped = Clock::now();
    // Down for a random while: the instances answer on their own meanwhile.
    std::this_thread::sleep_for(milliseconds(300 + random() % 1200));
    outage.restarting = Clock::now();
    cluster.start_again();
    const auto started = Clock::now();
    if (load.wait_for_successes(answers_to_recover, recovery_timeout)) {
      recovery_ms_max = std::max(recovery_ms_max, elapsed_ms(started));
    } else {
      problems.push_back("restart " + std::to_string(i) + ": no " +
                         std::to_string(answers_to_recover) + " successful answers within " +
                         std::to_string(recovery_timeout.count()) + " s of the start");
    }
    outages.push_back(outage);
  }
  const bool recovered = load.wait_for_successes(answers_after_recovery, recovery_timeout);
  const Journal journal = load.stop();

  // Requests sent and answered entirely while the server was down.
  size_t while_down = 0, while_down_503 = 0;
  for (const Sent& s : journal.sent) {
    for (const Outage& outage : outages) {
      if (s.started >= outage.stopped && s.answered <= outage.restarting) {
        ++while_down;
        if (s.status == 503) {
          ++while_down_503;
        } else if (problems.size() < 10) {
          problems.push_back("a request sent and answered while PostgreSQL was down got " +
                             std::to_string(s.status) + ", not 503");
        }
      }
    }
  }

  const LedgerCheck check = check_ledger(stack, journal);
  std::printf(
      "pg restart: seed %u, %d immediate stops; %zu requests: %zu answered 200, %zu 422, %zu "
      "503, %zu failed otherwise; while down: %zu requests, %zu answered 503; first %lld "
      "successes after a start within max %lld ms\npg restart: %s\n",
      seed, restarts, journal.sent.size(), journal.count_status(200), journal.count_status(422),
      journal.count_status(503), journal.count_failed() - journal.count_status(503), while_down,
      while_down_503, static_cast<long long>(answers_to_recover),
      static_cast<long long>(recovery_ms_max), check.describe().c_str());

  for (const std::string& problem : problems) FAIL_CHECK(problem);
  CHECK(recovered);
  CHECK(while_down > 0);  // The load did reach the instances while the server was down.
  CHECK(while_down_503 == while_down);
  INFO(check.describe());
  CHECK(check.ok());
  CHECK(check.acknowledged > 500);
}
