// Crashes while payments are accepted and forwarded: kill -9 of instance 1, instance 2 or both at
// random moments, many times (crash_cycle.h), while client threads POST /payments through haproxy
// and both instances forward them to two processor-sim processes; during some cycles a processor
// fails, is slow, or is slower than our timeout, so that payments are retried and pinned while
// instances die. Then the load stops, the faults end, and once the queue is empty:
//   - every payment answered 202 was recorded by exactly one processor, with the amount sent
//     (a processor never records a correlationId twice: a repeat is its 422);
//   - no correlationId is recorded on both processors, and every recorded one is one the test
//     sent; one answered 503 (nothing written) is recorded nowhere; one that got no answer (or a
//     502: the instance died with it) may or may not have been accepted, and is counted;
//   - the database holds exactly the recorded payments, each settled for the processor that
//     holds it with the requestedAt that processor holds;
//   - GET /payments-summary equals the processors' own summaries, per processor, over everything
//     and over random windows of the run.
// On either store: the table is read through Stack::query, so CREBITO_TEST_STORE=postgresql runs
// the same test with the instances sharing a PostgreSQL cluster.
//
// CREBITO_PAYMENTS_CRASH_SEED=N repeats a run's timings; the seed is printed with the figures.
#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdio>
#include <random>
#include <thread>
#include <unordered_map>

#include "clock.h"
#include "reliability/crash_cycle.h"
#include "support/api.h"
#include "support/processor_sim.h"
#include "support/stack.h"
#include "support/temp_dir.h"

namespace {

constexpr int load_threads = 4;
constexpr CrashPhase crash_phase = {20, std::chrono::seconds(40)};
// The load offers at most this many payments per second, a steady rate whatever the machine
// (below what two instances forward here, about 2,300/s, so the queue grows only while processors
// fail or instances are down), and at most payments_max in all, a bound the phase budget reaches
// first.
constexpr int payments_per_second_max = 1500;
constexpr int64_t payments_max = 80'000;
constexpr auto pause_after_failure = milliseconds(20);
// The queue grows while processors fail or instances are down (measured: at most 7,600 unsettled
// at the end of a cycle); what is left when the load stops settled within 3 s.
constexpr auto settle_timeout = std::chrono::seconds(45);
constexpr auto settle_poll_interval = milliseconds(50);
// A short call timeout keeps a dead worker's lease short (timeout + connect + margin = 4 s): its
// payments are taken again within seconds of the crash.
constexpr int processor_timeout_ms = 1000;
constexpr int payment_workers = 16;
// Slower than processor_timeout_ms: every call's outcome is unknown, yet the processor records it.
constexpr int slower_than_timeout_ms = 1500;
// Slower than what default is preferred below (limits::default_preferred_below_ms).
constexpr int slow_ms = 300;
constexpr int summary_windows = 3;
// After the last cycle, the load must get this many more 202s within the timeout.
constexpr int64_t accepted_after_recovery = 200;
constexpr auto recovery_timeout = std::chrono::seconds(10);

struct Processors : ProcessorPair {
  std::vector<std::string> env() const {
    return urls_env({"CREBITO_PROCESSOR_TIMEOUT_MS=" + std::to_string(processor_timeout_ms),
                     "CREBITO_PAYMENT_WORKERS=" + std::to_string(payment_workers)});
  }
};

// What the processors do during one cycle.
enum class Fault {
  none,
  default_failing,         // 500s: payments move to the fallback, failed calls are retried.
  default_beyond_timeout,  // Unknown outcomes: payments pinned to default until it answers.
  default_slow,            // Answers, but slowly enough that the fallback is preferred.
  fallback_failing,
  both_failing,  // Nothing can be forwarded: the queue grows and drains afterwards.
};
constexpr int fault_kinds = 6;

const char* fault_name(Fault fault) {
  static constexpr const char* names[fault_kinds] = {
      "none",         "default failing",  "default slower than the timeout",
      "default slow", "fallback failing", "both failing"};
  return names[static_cast<int>(fault)];
}

// Sets both processors to what `fault` says; false if a processor refused.
bool apply(const Processors& processors, Fault fault) {
  const int default_delay = fault == Fault::default_beyond_timeout ? slower_than_timeout_ms
                            : fault == Fault::default_slow         ? slow_ms
                                                                   : 0;
  const bool default_failing = fault == Fault::default_failing || fault == Fault::both_failing;
  const bool fallback_failing = fault == Fault::fallback_failing || fault == Fault::both_failing;
  return processors.default_sim.set_delay(default_delay) &&
         processors.default_sim.set_failure(default_failing) &&
         processors.fallback_sim.set_delay(0) &&
         processors.fallback_sim.set_failure(fallback_failing);
}

struct Posted {
  std::string correlation_id;
  int64_t amount_cents = 0;
  int status = 0;  // 0: no answer (connection cut, timeout).
};

// `threads` threads, each with its own keep-alive client to haproxy, POST payments with unique
// correlationIds and random amounts at payments_per_second_max in all (or as fast as answers come
// when that is slower; pause_after_failure after one that was not accepted), at most payments_max
// in all, and record every answer until stop().
class PaymentLoad {
 public:
  PaymentLoad(const Stack& stack, int threads, unsigned seed)
      : stack_(stack), threads_count_(threads), posted_(threads) {
    for (int t = 0; t < threads; ++t) threads_.emplace_back(&PaymentLoad::run, this, t, seed);
  }
  ~PaymentLoad() {
    if (!threads_.empty()) stop();
  }
  PaymentLoad(const PaymentLoad&) = delete;
  PaymentLoad& operator=(const PaymentLoad&) = delete;

  // Requests answered with anything but 202 so far, and answered 202. Thread-safe.
  int64_t failed() const { return failed_; }
  int64_t accepted() const { return accepted_; }

  // Stops the threads after their current request and returns everything they sent.
  std::vector<Posted> stop() {
    stopping_ = true;
    for (std::thread& thread : threads_) thread.join();
    threads_.clear();
    std::vector<Posted> all;
    for (std::vector<Posted>& posted : posted_) {
      all.insert(all.end(), std::make_move_iterator(posted.begin()),
                 std::make_move_iterator(posted.end()));
    }
    return all;
  }

 private:
  void run(int thread, unsigned seed) {
    std::mt19937 random(seed + static_cast<unsigned>(thread) * 7919u);
    std::unique_ptr<httplib::Client> client = stack_.client();
    std::vector<Posted>& posted = posted_[static_cast<size_t>(thread)];
    const auto interval =
        std::chrono::microseconds(1'000'000 * threads_count_ / payments_per_second_max);
    auto next = Clock::now();
    for (uint64_t sequence = 0; !stopping_ && sent_++ < payments_max; ++sequence) {
      // A thread that fell behind does not catch up in a burst.
      std::this_thread::sleep_until(next);
      next = std::max(next + interval, Clock::now());
      char id[40];
      std::snprintf(id, sizeof id, "%08x-0000-4000-8000-%012llx", static_cast<unsigned>(thread),
                    static_cast<unsigned long long>(sequence));
      Posted p{id, 1 + static_cast<int64_t>(random() % 100'000), 0};
      const std::string body = R"({"correlationId":")" + p.correlation_id + R"(","amount":)" +
                               std::to_string(p.amount_cents / 100) + "." +
                               std::to_string(p.amount_cents % 100 / 10) +
                               std::to_string(p.amount_cents % 10) + "}";
      const httplib::Result result = client->Post("/payments", body, "application/json");
      p.status = result ? result->status : 0;
      ++(p.status == 202 ? accepted_ : failed_);
      posted.push_back(std::move(p));
      // While both instances are down haproxy answers 503 at once; a client waits a moment
      // rather than spend the request budget on answers that reach no instance (a pause of the
      // load's own pace, like sleep_until above, not a wait for a state).
      if (posted.back().status != 202) std::this_thread::sleep_for(pause_after_failure);
    }
  }

  const Stack& stack_;
  const int threads_count_;
  std::atomic<bool> stopping_{false};
  std::atomic<int64_t> sent_{0};
  std::atomic<int64_t> failed_{0};
  std::atomic<int64_t> accepted_{0};
  std::vector<std::vector<Posted>> posted_;  // One per thread, written by that thread only.
  std::vector<std::thread> threads_;
};

nlohmann::json consistency(const Stack& stack) {
  return to_answer(stack.client()->Get("/payments-consistency")).body;
}

int64_t count_of(const nlohmann::json& report, const char* field) {
  return report.is_object() && report.contains(field) && report[field].is_number_integer()
             ? report[field].get<int64_t>()
             : 0;
}

int64_t cents_of(const nlohmann::json& amount) {
  return amount.is_number() ? std::llround(amount.get<double>() * 100.0) : -1;
}

// A row of the payments table.
struct Row {
  int state = 0;
  int processor = -1;
  int64_t requested_at_ms = 0;
  int64_t amount_cents = 0;
  int attempts = 0;
};

// The payments table, through Stack::query: the same SQL on either store.
std::unordered_map<std::string, Row> read_payments(const Stack& stack) {
  std::unordered_map<std::string, Row> out;
  for (const std::vector<std::string>& row :
       stack.query("SELECT correlation_id, state, coalesce(processor, -1), "
                   "coalesce(requested_at_ms, 0), amount_cents, attempts FROM payments")) {
    out[row.at(0)] = {std::stoi(row.at(1)), std::stoi(row.at(2)), std::stoll(row.at(3)),
                      std::stoll(row.at(4)), std::stoi(row.at(5))};
  }
  return out;
}

// What the comparison of the test's journal, the processors' lists and the database found.
struct PaymentsCheck {
  size_t sent = 0;
  size_t accepted_202 = 0;
  size_t unanswered = 0;         // No answer, or 502 (the instance died with the request).
  size_t unavailable = 0;        // 503: nothing was written.
  size_t unexpected_status = 0;  // Anything else (a valid payment is never 422): must be 0.
  size_t recorded[2] = {0, 0};   // By processor.
  size_t rows = 0;
  size_t unanswered_recorded = 0;   // Allowed: accepted just before the crash that cut the answer.
  size_t accepted_missing = 0;      // 202 but recorded nowhere: must be 0.
  size_t on_both = 0;               // Must be 0.
  size_t unknown_recorded = 0;      // Recorded, but never sent by the test: must be 0.
  size_t unavailable_recorded = 0;  // 503 yet recorded: must be 0.
  size_t amount_mismatch = 0;       // Recorded with another amount than sent: must be 0.
  size_t row_mismatch = 0;  // Row missing, unsettled, or not what the processor holds: must be 0.
  size_t rows_not_recorded = 0;  // Rows no processor holds: must be 0.
  int64_t attempts_total = 0;
  int attempts_max = 0;

  bool ok() const {
    return unexpected_status == 0 && accepted_missing == 0 && on_both == 0 &&
           unknown_recorded == 0 && unavailable_recorded == 0 && amount_mismatch == 0 &&
           row_mismatch == 0 && rows_not_recorded == 0;
  }
  std::string describe() const {
    char text[768];
    std::snprintf(
        text, sizeof text,
        "%zu payments sent: %zu answered 202, %zu without answer or 502, %zu 503, %zu other; "
        "recorded default %zu + fallback %zu, %zu rows (%zu unanswered but recorded); "
        "accepted but missing %zu, on both processors %zu, not sent %zu, 503 but recorded %zu, "
        "amount differs %zu, row differs %zu, row not recorded %zu; attempts %lld (max %d per "
        "payment)",
        sent, accepted_202, unanswered, unavailable, unexpected_status, recorded[0], recorded[1],
        rows, unanswered_recorded, accepted_missing, on_both, unknown_recorded,
        unavailable_recorded, amount_mismatch, row_mismatch, rows_not_recorded,
        static_cast<long long>(attempts_total), attempts_max);
    return text;
  }
};

PaymentsCheck check_payments(const std::vector<Posted>& posted,
                             const std::vector<ProcessorSim::Recorded>* lists[2],
                             const std::unordered_map<std::string, Row>& rows) {
  PaymentsCheck check;
  std::unordered_map<std::string, int> recorded;  // correlationId -> processor

  std::unordered_map<std::string, const Posted*> sent;
  for (const Posted& p : posted) sent[p.correlation_id] = &p;
  for (int processor = 0; processor < 2; ++processor) {
    const std::vector<ProcessorSim::Recorded>& list = *lists[processor];
    check.recorded[processor] = list.size();
    for (const ProcessorSim::Recorded& r : list) {
      if (!recorded.emplace(r.correlation_id, processor).second) ++check.on_both;
      const auto it = sent.find(r.correlation_id);
      if (it == sent.end()) {
        ++check.unknown_recorded;
        continue;
      }
      if (it->second->amount_cents != r.amount_cents) ++check.amount_mismatch;
      const auto row = rows.find(r.correlation_id);
      if (row == rows.end() || row->second.state != 2 || row->second.processor != processor ||
          clocks::format_iso(row->second.requested_at_ms, clocks::Precision::ms) !=
              r.requested_at ||
          row->second.amount_cents != r.amount_cents) {
        ++check.row_mismatch;
      }
    }
  }
  check.sent = posted.size();
  for (const Posted& p : posted) {
    const bool is_recorded = recorded.count(p.correlation_id) > 0;
    switch (p.status) {
      case 202:
        ++check.accepted_202;
        if (!is_recorded) ++check.accepted_missing;
        break;
      case 0:
      case 502:
        ++check.unanswered;
        if (is_recorded) ++check.unanswered_recorded;
        break;
      case 503:
        ++check.unavailable;
        if (is_recorded) ++check.unavailable_recorded;
        break;
      default:
        ++check.unexpected_status;
        break;
    }
  }
  check.rows = rows.size();
  for (const auto& [id, row] : rows) {
    if (recorded.count(id) == 0) ++check.rows_not_recorded;
    check.attempts_total += row.attempts;
    check.attempts_max = std::max(check.attempts_max, row.attempts);
  }
  return check;
}

// Our summary and the processors' for one window (both bounds empty: everything); a problem per
// difference.
void compare_summaries(const Stack& stack, const Processors& processors, const std::string& from,
                       const std::string& to, std::vector<std::string>* problems) {
  const std::string path =
      from.empty() ? "/payments-summary" : "/payments-summary?from=" + from + "&to=" + to;
  const Answer ours = to_answer(stack.client()->Get(path.c_str()));
  if (ours.status != 200 || !ours.body.is_object()) {
    problems->push_back(path + " answered " + std::to_string(ours.status));
    return;
  }
  const ProcessorSim* sims[2] = {&processors.default_sim, &processors.fallback_sim};
  const char* names[2] = {"default", "fallback"};
  for (int p = 0; p < 2; ++p) {
    const ProcessorSim::Summary theirs = sims[p]->summary(from, to);
    const nlohmann::json& totals = ours.body[names[p]];
    const int64_t requests = count_of(totals, "totalRequests");
    const int64_t cents = cents_of(totals["totalAmount"]);
    const int64_t their_cents = std::llround(theirs.amount * 100.0);
    if (theirs.status != 200 || requests != theirs.requests || cents != their_cents) {
      problems->push_back(path + ": " + names[p] + " ours " + std::to_string(requests) + " / " +
                          std::to_string(cents) + " cents, theirs " +
                          std::to_string(theirs.requests) + " / " + std::to_string(their_cents) +
                          " cents");
    }
  }
}

}  // namespace

TEST_CASE("kill -9 while payments are accepted and forwarded: each counted once, on one processor",
          "[reliability][payments]") {
  Processors processors;
  Stack stack(Stack::Options{"", processors.env(), "ledger,payments"});
  CrashRun run("CREBITO_PAYMENTS_CRASH_SEED");
  int faults[fault_kinds] = {};
  int64_t pinned_max = 0, unsettled_max = 0, in_flight_max = 0;
  std::vector<std::string> problems;

  const int64_t run_started_ms = clocks::wall_ms();
  const auto started = Clock::now();
  PaymentLoad load(stack, load_threads, run.seed);
  const auto failed = [&load] { return load.failed(); };
  const auto misbehave = [&] {
    // Every other cycle the processors misbehave while instances die.
    const Fault fault = run.figures.cycles % 2 == 1
                            ? static_cast<Fault>(1 + run.random() % (fault_kinds - 1))
                            : Fault::none;
    if (!apply(processors, fault)) problems.push_back("a processor refused its configuration");
    ++faults[static_cast<int>(fault)];
  };
  const auto note_queue = [&] {
    const nlohmann::json report = consistency(stack);
    pinned_max = std::max(pinned_max, count_of(report, "pinned"));
    unsettled_max = std::max(unsettled_max, count_of(report, "unsettled"));
    in_flight_max = std::max(in_flight_max, count_of(report, "inFlight"));
  };
  crash_cycles(stack, failed, crash_phase, run.random, &run.figures, misbehave, note_queue);
  if (!apply(processors, Fault::none)) problems.push_back("a processor refused its configuration");
  // The recovered stack accepts payments again.
  const int64_t accepted_before = load.accepted();
  const bool recovered =
      wait_until([&] { return load.accepted() >= accepted_before + accepted_after_recovery; },
                 recovery_timeout);
  const std::vector<Posted> posted = load.stop();
  const int64_t crash_phase_ms = elapsed_ms(started);
  const int64_t run_ended_ms = clocks::wall_ms();

  // Everything accepted settles: the queue drains, expired leases are taken again.
  const auto stopped = Clock::now();
  nlohmann::json report;
  while (Clock::now() - stopped < settle_timeout) {
    report = consistency(stack);
    if (report.is_object() && report["unsettled"] == 0) break;
    std::this_thread::sleep_for(settle_poll_interval);
  }
  const int64_t settle_ms = elapsed_ms(stopped);
  INFO(report.dump());
  REQUIRE(report.is_object());
  REQUIRE(report["unsettled"] == 0);

  const auto on_default = processors.default_sim.payments();
  const auto on_fallback = processors.fallback_sim.payments();
  REQUIRE(on_default);
  REQUIRE(on_fallback);
  const std::vector<ProcessorSim::Recorded>* lists[2] = {&*on_default, &*on_fallback};
  const PaymentsCheck check = check_payments(posted, lists, read_payments(stack));

  compare_summaries(stack, processors, "", "", &problems);
  for (int w = 0; w < summary_windows; ++w) {
    const int64_t span = std::max<int64_t>(1, run_ended_ms - run_started_ms);
    int64_t from = run_started_ms + static_cast<int64_t>(run.random() % span);
    int64_t to = run_started_ms + static_cast<int64_t>(run.random() % span);
    if (from > to) std::swap(from, to);
    compare_summaries(stack, processors, clocks::format_iso(from, clocks::Precision::ms),
                      clocks::format_iso(to, clocks::Precision::ms), &problems);
  }

  const Stack::HealthChecks& checks = stack.health_checks();
  std::printf("payments crash: store %s, %s\n", stack.store().c_str(),
              run.figures.describe_run(run.seed, crash_phase_ms, checks).c_str());
  std::printf("payments crash: processor faults during cycles:");
  for (int f = 1; f < fault_kinds; ++f) {
    std::printf(" %s %d%s", fault_name(static_cast<Fault>(f)), faults[f],
                f + 1 < fault_kinds ? "," : "\n");
  }
  std::printf(
      "payments crash: %s\npayments crash: accepted %lld, retried %lld; at a cycle's end at most "
      "%lld unsettled, %lld in flight, %lld pinned; all settled %lld ms after the load stopped\n",
      check.describe().c_str(), static_cast<long long>(count_of(report, "accepted")),
      static_cast<long long>(count_of(report, "retried")), static_cast<long long>(unsettled_max),
      static_cast<long long>(in_flight_max), static_cast<long long>(pinned_max),
      static_cast<long long>(settle_ms));

  for (const std::string& problem : run.figures.problems) FAIL_CHECK(problem);
  for (const std::string& problem : problems) FAIL_CHECK(problem);
  CHECK(recovered);
  INFO(check.describe());
  CHECK(check.ok());
  CHECK(count_of(report, "accepted") == static_cast<int64_t>(check.rows));
  CHECK(check.rows == check.recorded[0] + check.recorded[1]);
  CHECK(check.accepted_202 > 1000);  // The load did run through the crashes.
  CHECK(count_of(report, "retried") > 0);
  CHECK(run.figures.cycles >= 10);
  CHECK(run.figures.single_kills >= 3);
  CHECK(run.figures.not_detected == 0);
  CHECK(run.figures.detection_ms_max <= checks.detection_bound_ms());
}
