// Failover under load, counted: crebito on simulated hosts (scripts/ha, tests/support/ha_cluster.h:
// pg_auto_failover's monitor, a primary and a synchronous standby, four instances on two hosts
// reaching PostgreSQL over TCP with TLS, haproxy in front). Client threads post credits and debits
// through haproxy while another reads statements, and the test fails the primary, one scenario
// after another, each time on the primary of the moment:
//   - kill: kill -9 of the primary's postmaster and of its pg_autoctl (a crashed machine);
//     CREBITO_HA_KILLS times in a row (default 5), each once the former primary has rejoined as a
//     standby;
//   - cut: the primary's host loses its network (link down) while clients keep writing, then gets
//     it back;
//   - host: kill -9 of one crebito host's instances at the same moment as the primary's.
// Every scenario waits for pg_auto_failover to promote the standby, for postings to succeed again,
// for the old primary to rejoin as a standby; then the load stops and, on the new primary:
//   - every posting answered 200 is there exactly once with its account, amount and kind (all
//     scenarios' postings so far, not only this one's);
//   - none answered 422 or 503 is there; each answered 504 or not at all (an instance killed) is
//     counted and resolved against the table: written or not;
//   - no description is there twice, no row is one the test did not send;
//   - the audit (load-test/audit.sql) holds for every account;
//   - the standby holds the same rows once it has replayed them;
//   - cut: no posting sent after the cut was answered 200 before the standby was promoted (the
//     cut-off primary acknowledged nothing: with a synchronous standby it cannot commit alone).
// Every instance's GET /metrics (docs/METRICS.md) is scraped through its own socket before the
// load, right after the promotion and after the load; in the kill scenarios (the instances run
// throughout) the counters must have moved as the failover did: every instance reopened a session
// on the new primary (kind failover), sessions were lost, and the postings the instances counted
// by status (200, 503, 504) are the ones the clients saw (those left unanswered either way).
// Per scenario it prints the longest time without a successful posting and the 503s and 504s.
#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <set>
#include <thread>

#include "reliability/crash_cycle.h"
#include "reliability/ledger_check.h"
#include "reliability/load.h"
#include "support/api.h"
#include "support/audit.h"
#include "support/ha_cluster.h"
#include "support/metrics_scrape.h"

namespace {

using std::chrono::seconds;

constexpr int instances = 4;  // api01, api03 on h1; api02, api04 on h2.
constexpr int load_threads = 6;
constexpr int kills_default = 5;
constexpr const char* kills_variable = "CREBITO_HA_KILLS";
constexpr int healthy_timeout_s = 180;  // The old primary rejoined (pg_rewind or a base backup).
constexpr auto promotion_timeout = seconds(60);
constexpr auto successes_timeout = seconds(60);
constexpr int64_t successes_before_fault = 200;
constexpr int64_t successes_after_failover = 100;
constexpr auto standby_replay_timeout = seconds(30);
constexpr const char* killed_host = "h1";
// The posting scripts/ha makes to see the cluster serve, before the test sends any.
constexpr const char* ready_description = "ha-ready";

std::string other(const std::string& node) { return node == "db1" ? "db2" : "db1"; }

constexpr const char* transactions_route = "/clientes/:id/transacoes";
constexpr auto scrape_timeout = seconds(30);

// Every instance's GET /metrics through its own socket; an empty text for one that did not answer.
std::vector<std::string> scrape_instances(const HaCluster& cluster) {
  std::vector<std::string> scrapes;
  for (int i = 1; i <= instances; ++i) {
    httplib::Client client(cluster.instance_socket(i));
    client.set_address_family(AF_UNIX);
    client.set_read_timeout(scrape_timeout);
    scrapes.push_back(scrape_metrics(client));
  }
  return scrapes;
}

// How much a series moved on instance i (0-based) between two scrapes.
double moved(const std::vector<std::string>& before, const std::vector<std::string>& after,
             size_t i, const std::string& series) {
  return metric_value(after[i], series) - metric_value(before[i], series);
}

double moved_in_all(const std::vector<std::string>& before, const std::vector<std::string>& after,
                    const std::string& series) {
  double sum = 0;
  for (size_t i = 0; i < after.size(); ++i) sum += moved(before, after, i, series);
  return sum;
}

// GET /clientes/{id}/extrato through haproxy while the postings run: the official mix's reads.
class StatementReader {
 public:
  explicit StatementReader(int port)
      : thread_([this, port] {
          httplib::Client client("127.0.0.1", port);
          client.set_keep_alive(true);
          client.set_read_timeout(seconds(10));
          for (int i = 0; !stopping_; ++i) {
            const int status = get_statement(client, 1 + i % 5).status;
            (status == 200 ? ok_ : failed_)++;
          }
        }) {}
  ~StatementReader() { stop(); }
  void stop() {
    stopping_ = true;
    if (thread_.joinable()) thread_.join();
  }
  int64_t ok() const { return ok_; }
  int64_t failed() const { return failed_; }

 private:
  std::atomic<bool> stopping_{false};
  std::atomic<int64_t> ok_{0}, failed_{0};
  std::thread thread_;
};

struct Scenario {
  std::string name;
  std::string old_primary, new_primary;
  int64_t window_ms = 0;     // The longest time between two successful postings (200 or 422).
  int64_t promotion_ms = 0;  // From the fault until the monitor had the standby as primary.
  size_t sent = 0, n200 = 0, n503 = 0, n504 = 0, unanswered = 0;
  size_t unknown_written = 0;         // 504 or unanswered, and in the table.
  size_t acknowledged_checked = 0;    // Every 200 so far, checked on the new primary.
  size_t lost = 0;                    // ...of which missing or different: must be 0.
  size_t acknowledged_while_cut = 0;  // cut: 200s sent after the cut, answered before promotion.
};

PostedRows rows_on(const HaCluster& cluster, const std::string& node) {
  return posted_rows(cluster.query(node, posted_rows_sql));
}

int64_t longest_gap_ms(const std::vector<Sent>& sent) {
  std::vector<Clock::time_point> times;
  for (const Sent& s : sent) {
    if (s.status == 200 || s.status == 422) times.push_back(s.answered);
  }
  std::sort(times.begin(), times.end());
  int64_t longest = 0;
  for (size_t i = 1; i < times.size(); ++i) {
    longest = std::max<int64_t>(
        longest, std::chrono::duration_cast<milliseconds>(times[i] - times[i - 1]).count());
  }
  return longest;
}

// The kill scenarios' metrics check (see the top of this file); problems are appended.
void check_metrics(const std::string& where, const std::vector<std::string>& before,
                   const std::vector<std::string>& during, const std::vector<std::string>& after,
                   const Scenario& scenario, std::vector<std::string>* problems) {
  for (size_t i = 0; i < after.size(); ++i) {
    const std::string instance = "api0" + std::to_string(i + 1);
    if (before[i].empty() || during[i].empty() || after[i].empty()) {
      problems->push_back(where + instance + " did not answer GET /metrics");
      return;
    }
    if (moved(before, after, i, "crebito_store_events_total{kind=\"failover\"}") < 1) {
      problems->push_back(where + instance + " counted no session reopened on the new primary");
    }
  }
  if (moved_in_all(before, after, "crebito_store_events_total{kind=\"lost_session\"}") < 1) {
    problems->push_back(where + "no instance counted a lost session");
  }
  const std::pair<int, size_t> seen[] = {
      {200, scenario.n200}, {503, scenario.n503}, {504, scenario.n504}};
  for (const auto& [status, clients_saw] : seen) {
    const double counted = moved_in_all(before, after, requests_series(transactions_route, status));
    if (counted < static_cast<double>(clients_saw) ||
        counted > static_cast<double>(clients_saw + scenario.unanswered)) {
      problems->push_back(where + "the instances counted " + std::to_string(counted) +
                          " postings answered " + std::to_string(status) + ", the clients saw " +
                          std::to_string(clients_saw) + " (and " +
                          std::to_string(scenario.unanswered) + " unanswered)");
    }
  }
  const double answered_504 =
      moved_in_all(before, after, "crebito_store_events_total{kind=\"answered_504\"}");
  if (answered_504 != moved_in_all(before, after, requests_series(transactions_route, 504))) {
    problems->push_back(where + "answered_504 events differ from the postings answered 504");
  }
  if (moved_in_all(before, after, "crebito_store_events_total{kind=\"answered_503\"}") <
      moved_in_all(before, after, requests_series(transactions_route, 503))) {
    problems->push_back(where + "fewer answered_503 events than postings answered 503");
  }
}

}  // namespace

TEST_CASE("failover under load on simulated hosts loses no acknowledged posting",
          "[reliability][ha]") {
  const char* kills_text = std::getenv(kills_variable);
  const int kills = kills_text != nullptr ? std::atoi(kills_text) : kills_default;
  REQUIRE(kills >= 1);
  const auto test_started = Clock::now();
  HaCluster cluster(instances);
  std::string primary = cluster.wait_healthy(healthy_timeout_s);
  REQUIRE((primary == "db1" || primary == "db2"));
  std::printf("ha failover: cluster up in %lld ms; store %s\n",
              static_cast<long long>(elapsed_ms(test_started)), cluster.uri().c_str());

  std::vector<std::string> plan;
  for (int i = 0; i < kills; ++i) plan.push_back("kill");
  plan.push_back("cut");
  plan.push_back("host");

  Journal all;  // Every scenario's postings, checked again after each failover.
  std::vector<Scenario> scenarios;
  std::vector<std::string> problems;
  StatementReader reader(cluster.port());
  for (size_t index = 0; index < plan.size(); ++index) {
    Scenario scenario;
    scenario.name = plan[index];
    if (plan[index] == "kill") scenario.name.append(" ").append(std::to_string(index + 1));
    scenario.old_primary = primary;
    const std::string standby = other(primary);
    const std::vector<std::string> metrics_before = scrape_instances(cluster);
    Load load(
        [&cluster] {
          auto client = std::make_unique<httplib::Client>("127.0.0.1", cluster.port());
          client->set_keep_alive(true);
          client->set_tcp_nodelay(true);
          client->set_read_timeout(seconds(15));
          return client;
        },
        load_threads, static_cast<char>('a' + index));
    if (!load.wait_for_successes(successes_before_fault, successes_timeout)) {
      problems.push_back(scenario.name + ": the load did not get going");
    }

    const auto fault = Clock::now();
    if (plan[index] == "kill") {
      cluster.kill_node(primary);
    } else if (plan[index] == "cut") {
      cluster.cut(primary);
    } else {
      cluster.kill_node(primary);
      cluster.kill_host(killed_host);
    }
    const bool promoted =
        wait_until([&] { return cluster.primary() == standby; },
                   std::chrono::duration_cast<milliseconds>(promotion_timeout), milliseconds(100));
    const auto promotion = Clock::now();
    scenario.promotion_ms = elapsed_ms(fault);
    const std::vector<std::string> metrics_during = scrape_instances(cluster);
    if (!promoted) {
      problems.push_back(scenario.name + ": " + standby + " not promoted within " +
                         std::to_string(promotion_timeout.count()) + " s; " + cluster.states());
    }
    if (!load.wait_for_successes(successes_after_failover, successes_timeout)) {
      problems.push_back(scenario.name + ": postings did not succeed again after the failover");
    }
    PostedRows cut_off_rows;  // cut: the old primary's rows before it rejoins.
    bool cut_off_readable = false;
    if (plan[index] == "cut") {
      try {
        cut_off_rows = rows_on(cluster, primary);  // Through its unix socket, if it still runs.
        cut_off_readable = true;
      } catch (const std::exception&) {
        // pg_autoctl stopped it on its own (demoted, as an isolated primary does).
      }
      cluster.heal(primary);
    } else {
      cluster.start_node(primary);
      if (plan[index] == "host") cluster.start_host(killed_host);
    }
    try {
      primary = cluster.wait_healthy(healthy_timeout_s);
    } catch (const std::exception& error) {
      problems.push_back(scenario.name + ": " + error.what());
      primary = cluster.primary();
    }
    if (!load.wait_for_successes(successes_after_failover, successes_timeout)) {
      problems.push_back(scenario.name + ": postings did not succeed after the rejoin");
    }
    Journal journal = load.stop();
    const std::vector<std::string> metrics_after = scrape_instances(cluster);
    scenario.new_primary = primary;
    scenario.window_ms = longest_gap_ms(journal.sent);
    scenario.sent = journal.sent.size();
    scenario.n200 = journal.count_status(200);
    scenario.n503 = journal.count_status(503);
    scenario.n504 = journal.count_status(504);
    scenario.unanswered = journal.count_status(0);
    std::vector<Sent> cut_window;  // cut: sent after the cut, answered 200 before the promotion.
    if (plan[index] == "cut") {
      for (const Sent& s : journal.sent) {
        if (s.status == 200 && s.started > fault && s.answered < promotion) cut_window.push_back(s);
      }
    }
    all.merge(std::move(journal.sent));

    // The check, on the primary of now, for every posting of every scenario so far.
    const PostedRows rows = rows_on(cluster, primary);
    const LedgerCheck check = compare_postings(all, rows, {ready_description});
    scenario.acknowledged_checked = check.acknowledged;
    scenario.unknown_written = check.unanswered_committed;
    scenario.lost = check.acknowledged_missing + check.acknowledged_mismatch;
    // The cut-off primary acknowledged nothing: a 200 sent after the cut and answered before the
    // test saw the promotion came from the new primary (it is there), and whatever the old one
    // still holds that the new one does not was never answered 200.
    for (const Sent& s : cut_window)
      scenario.acknowledged_while_cut += rows.count(s.description) == 0;
    size_t cut_off_only = 0;
    for (const auto& [description, row] : cut_off_rows) {
      if (rows.count(description) != 0) continue;
      ++cut_off_only;
      for (const Sent& s : all.sent) {
        scenario.acknowledged_while_cut += s.description == description && s.status == 200;
      }
    }
    if (plan[index] == "cut") {
      std::printf(
          "ha failover: cut: %zu postings sent after the cut answered 200 before the test "
          "saw the promotion, all from the new primary unless counted below; the old "
          "primary %s\n",
          cut_window.size(),
          cut_off_readable
              ? ("still ran: " + std::to_string(cut_off_only) +
                 " rows there not on the new primary (none may be a 200)")
                    .c_str()
              : "had been stopped by its pg_autoctl (demoted) before the cable came back");
    }
    const auto audit = cluster.query(primary, audit_failures_sql);
    // The standby has every row too, once it has replayed what it has flushed.
    const std::string standby_now = other(primary);
    const bool standby_same = wait_until(
        [&] {
          const auto counted = cluster.query(standby_now, "SELECT count(*) FROM transactions");
          return !counted.empty() && std::stoull(counted[0].at(0)) == rows.size();
        },
        std::chrono::duration_cast<milliseconds>(standby_replay_timeout), milliseconds(200));

    std::printf(
        "ha failover: %-7s %s -> %s: promoted after %lld ms, longest without a successful "
        "posting %lld ms; %zu postings: %zu answered 200, %zu 503, %zu 504, %zu unanswered "
        "(%zu of the 504/unanswered written); %zu acknowledged so far checked on %s, %zu lost; "
        "%zu acknowledged by the cut-off primary\n",
        scenario.name.c_str(), scenario.old_primary.c_str(), scenario.new_primary.c_str(),
        static_cast<long long>(scenario.promotion_ms), static_cast<long long>(scenario.window_ms),
        scenario.sent, scenario.n200, scenario.n503, scenario.n504, scenario.unanswered,
        scenario.unknown_written, scenario.acknowledged_checked, primary.c_str(), scenario.lost,
        scenario.acknowledged_while_cut);
    std::string failovers;
    for (size_t i = 0; i < metrics_after.size(); ++i) {
      if (i > 0) failovers += ',';
      failovers += std::to_string(static_cast<long long>(moved(
          metrics_before, metrics_after, i, "crebito_store_events_total{kind=\"failover\"}")));
    }
    std::printf(
        "ha failover: %-7s metrics: sessions reopened on the new primary per instance %s, lost "
        "sessions %.0f, postings counted 200/503/504: %.0f/%.0f/%.0f%s\n",
        scenario.name.c_str(), failovers.c_str(),
        moved_in_all(metrics_before, metrics_after,
                     "crebito_store_events_total{kind=\"lost_session\"}"),
        moved_in_all(metrics_before, metrics_after, requests_series(transactions_route, 200)),
        moved_in_all(metrics_before, metrics_after, requests_series(transactions_route, 503)),
        moved_in_all(metrics_before, metrics_after, requests_series(transactions_route, 504)),
        plan[index] == "host" ? " (the restarted instances counted from 0 again)" : "");
    std::fflush(stdout);
    const std::string where = scenario.name + ": ";
    if (plan[index] == "kill") {
      check_metrics(where, metrics_before, metrics_during, metrics_after, scenario, &problems);
    }
    if (check.acknowledged_missing != 0) {
      problems.push_back(where + std::to_string(check.acknowledged_missing) +
                         " acknowledged missing");
    }
    if (check.acknowledged_mismatch != 0) {
      problems.push_back(where + std::to_string(check.acknowledged_mismatch) + " mismatched");
    }
    if (check.refused_present != 0) problems.push_back(where + "422 written");
    if (check.unavailable_present != 0) {
      problems.push_back(where + std::to_string(check.unavailable_present) +
                         " answered 503 but written");
    }
    if (check.duplicated != 0) {
      problems.push_back(where + std::to_string(check.duplicated) + " duplicated");
    }
    if (check.unknown_rows != 0) {
      problems.push_back(where + std::to_string(check.unknown_rows) + " unknown rows");
    }
    if (!audit.empty())
      problems.push_back(where + std::to_string(audit.size()) + " accounts fail the audit");
    if (!standby_same) problems.push_back(where + "the standby does not hold the primary's rows");
    if (scenario.acknowledged_while_cut != 0) {
      problems.push_back(where + "postings acknowledged while the primary was cut off");
    }
    if (scenario.new_primary == scenario.old_primary) {
      problems.push_back(where + "no failover: " + scenario.new_primary + " is still primary");
    }
    scenarios.push_back(scenario);
  }
  reader.stop();
  std::printf(
      "ha failover: statements read meanwhile: %lld answered 200, %lld not; test took %lld ms\n",
      static_cast<long long>(reader.ok()), static_cast<long long>(reader.failed()),
      static_cast<long long>(elapsed_ms(test_started)));

  for (const std::string& problem : problems) FAIL_CHECK(problem);
  CHECK(scenarios.size() == plan.size());
  CHECK(all.count_status(200) > 1000);
}
