// The payments face through the whole stack (two instances, haproxy) and two processor-sim
// processes: every accepted payment is forwarded exactly once, and our summary equals what the
// processors recorded, while the processors fail, are slower than our timeout, are both down, or
// an instance dies holding leased payments. Each test breaks something on purpose, waits until
// the queue is empty, then compares our books with the processors' own.
#include <catch2/catch.hpp>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <random>
#include <set>
#include <thread>

#include "support/api.h"
#include "support/processor_sim.h"
#include "support/raw_http.h"
#include "support/stack.h"
#include "support/temp_dir.h"

namespace {

using namespace std::chrono_literals;

struct Processors : ProcessorPair {
  std::vector<std::string> env(int timeout_ms = 6000) const {
    return urls_env({"CREBITO_PROCESSOR_TIMEOUT_MS=" + std::to_string(timeout_ms),
                     "CREBITO_PAYMENT_WORKERS=8"});
  }
};

std::string new_uuid(std::mt19937_64& random) {
  static const char* hex = "0123456789abcdef";
  std::string id(36, '-');
  for (size_t i = 0; i < id.size(); ++i) {
    if (i != 8 && i != 13 && i != 18 && i != 23) id[i] = hex[random() % 16];
  }
  return id;
}

int post_payment(httplib::Client& client, const std::string& id, const char* amount = "20.05") {
  const std::string body = R"({"correlationId":")" + id + R"(","amount":)" + amount + "}";
  const httplib::Result result = client.Post("/payments", body, "application/json");
  return result ? result->status : 0;
}

// Posts n new payments; returns how many were answered 202.
int post_many(httplib::Client& client, int n, std::mt19937_64& random) {
  int accepted = 0;
  for (int i = 0; i < n; ++i) accepted += post_payment(client, new_uuid(random)) == 202;
  return accepted;
}

// The same through haproxy, with ids drawn from a generator seeded with `seed`.
int post_many(const Stack& stack, int n, unsigned seed) {
  std::mt19937_64 random(seed);
  return post_many(*stack.client(), n, random);
}

nlohmann::json consistency(const Stack& stack) {
  return to_answer(stack.client()->Get("/payments-consistency")).body;
}

// Waits until the consistency report satisfies `holds` (polling every 100 ms); returns the last
// report, which the caller asserts on (it does not satisfy `holds` after `limit`).
template <typename Condition>
nlohmann::json wait_for_report(const Stack& stack, std::chrono::seconds limit, Condition holds) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  nlohmann::json report;
  while (std::chrono::steady_clock::now() < deadline) {
    report = consistency(stack);
    if (report.is_object() && holds(report)) return report;
    std::this_thread::sleep_for(100ms);
  }
  return report;
}

int64_t count_of(const nlohmann::json& report, const char* field);

// Waits up to 10 s until the consistency report counts some of `field`; returns the last report.
nlohmann::json wait_for_some(const Stack& stack, const char* field) {
  return wait_for_report(stack, 10s,
                         [field](const nlohmann::json& r) { return count_of(r, field) > 0; });
}

int64_t count_of(const nlohmann::json& report, const char* field) {
  return report.is_object() && report.contains(field) && report[field].is_number_integer()
             ? report[field].get<int64_t>()
             : 0;
}

// Waits until nothing is queued or in flight; returns the last consistency report.
nlohmann::json wait_until_settled(const Stack& stack, std::chrono::seconds limit) {
  return wait_for_report(stack, limit, [](const nlohmann::json& r) { return r["unsettled"] == 0; });
}

struct Books {
  int64_t ours_default = 0, ours_fallback = 0;
  int64_t theirs_default = 0, theirs_fallback = 0;
};

Books books(const Stack& stack, const Processors& processors) {
  Books b;
  const Answer summary = to_answer(stack.client()->Get("/payments-summary"));
  if (summary.status == 200) {
    b.ours_default = summary.body["default"]["totalRequests"].get<int64_t>();
    b.ours_fallback = summary.body["fallback"]["totalRequests"].get<int64_t>();
  }
  b.theirs_default = processors.default_sim.summary().requests;
  b.theirs_fallback = processors.fallback_sim.summary().requests;
  return b;
}

void check_books(const Stack& stack, const Processors& processors, int64_t expected) {
  const nlohmann::json report = wait_until_settled(stack, 60s);
  INFO(report.dump());
  REQUIRE(report["unsettled"] == 0);
  CHECK(report["accepted"] == expected);
  const Books b = books(stack, processors);
  CHECK(b.ours_default == b.theirs_default);
  CHECK(b.ours_fallback == b.theirs_fallback);
  // Every payment on exactly one processor: none lost, none counted twice.
  CHECK(b.theirs_default + b.theirs_fallback == expected);
}

}  // namespace

TEST_CASE("payments are forwarded once and the summary equals the processors'",
          "[integration][payments]") {
  Processors processors;
  Stack stack(Stack::Options{"", processors.env(), "ledger,payments"});
  std::mt19937_64 random(1);
  auto client = stack.client();
  REQUIRE(post_many(*client, 150, random) == 150);
  // A correlationId seen before is accepted again and still forwarded once.
  const std::string again = new_uuid(random);
  CHECK(post_payment(*client, again) == 202);
  CHECK(post_payment(*client, again) == 202);
  CHECK(post_payment(*stack.instance_client(2), again) == 202);
  check_books(stack, processors, 151);
  const Answer summary = to_answer(client->Get("/payments-summary"));
  const double amount = summary.body["default"]["totalAmount"].get<double>() +
                        summary.body["fallback"]["totalAmount"].get<double>();
  CHECK(amount == Approx(151 * 20.05));
  // Both instances give the same global answer.
  CHECK(to_answer(stack.instance_client(1)->Get("/payments-summary")).body ==
        to_answer(stack.instance_client(2)->Get("/payments-summary")).body);
  // The processors' own lists hold each payment once, on one of them, with the amount sent.
  const auto recorded = processors.payments();
  REQUIRE(recorded);
  std::set<std::string> ids;
  for (const ProcessorSim::Recorded& r : *recorded) {
    CHECK(r.amount_cents == 2005);
    CHECK(r.requested_at.size() == 24);
    ids.insert(r.correlation_id);
  }
  CHECK(ids.size() == 151);
  CHECK(recorded->size() == 151);
  CHECK(ids.count(again) == 1);
}

TEST_CASE("pipelined payments on one connection: each answered, forwarded once, all summed",
          "[integration][payments]") {
  // Every request of one send is served in as few wake-ups of the instance's loop as the reads
  // allow, so its accepts share a turn's transaction; with both faces on, the ledger posting among
  // them takes the writer lock from that turn (it commits), and the accepts after it commit on
  // their own. With the payments face alone, the posting is answered 404.
  const std::string faces = GENERATE(as<std::string>(), "ledger,payments", "payments");
  const bool ledger = faces == "ledger,payments";
  INFO(faces);
  Processors processors;
  Stack stack(Stack::Options{"", processors.env(), faces});
  std::mt19937_64 random(7);
  constexpr int payments = 40;
  const auto payment = [](const std::string& id) {
    return raw_http::format("POST", "/payments", "Content-Type: application/json\r\n",
                            R"({"correlationId":")" + id + R"(","amount":20.05})");
  };
  std::vector<std::string> ids;
  std::string bytes;
  for (int i = 0; i < payments; ++i) {
    ids.push_back(new_uuid(random));
    bytes += payment(ids.back());
    if (i == payments / 2) {
      bytes += payment(ids.front());  // The same correlationId again, in the same send.
      bytes +=
          raw_http::format("POST", "/clientes/1/transacoes", "Content-Type: application/json\r\n",
                           R"({"valor":1,"tipo":"c","descricao":"pipelined"})");
    }
  }
  const int fd = connect_unix(stack.socket_path(1));
  REQUIRE(fd >= 0);
  const std::vector<raw_http::Answer> answers =
      raw_http::exchange_many(fd, bytes, payments + 2, 10'000);
  ::close(fd);
  REQUIRE(answers.size() == payments + 2);
  for (size_t i = 0; i < answers.size(); ++i) {
    INFO("answer " << i);
    CHECK(answers[i].status == (i == payments / 2 + 2 ? (ledger ? 200 : 404) : 202));
  }
  check_books(stack, processors, payments);
  const auto recorded = processors.payments();
  REQUIRE(recorded);
  std::multiset<std::string> forwarded;
  for (const ProcessorSim::Recorded& r : *recorded) forwarded.insert(r.correlation_id);
  CHECK(forwarded.size() == payments);
  for (const std::string& id : ids) CHECK(forwarded.count(id) == 1);
  const Answer summary = to_answer(stack.client()->Get("/payments-summary"));
  CHECK(summary.body["default"]["totalAmount"].get<double>() +
            summary.body["fallback"]["totalAmount"].get<double>() ==
        Approx(payments * 20.05));
  if (ledger) {
    CHECK(to_answer(stack.client()->Get("/clientes/1/extrato")).body["saldo"]["total"] == 1);
  }
}

TEST_CASE("a failing default processor sends payments to the fallback, none counted twice",
          "[integration][payments]") {
  Processors processors;
  Stack stack(Stack::Options{"", processors.env(), "ledger,payments"});
  REQUIRE(processors.default_sim.set_failure(true));
  REQUIRE(post_many(stack, 100, 2) == 100);
  check_books(stack, processors, 100);
  CHECK(processors.default_sim.summary().requests == 0);
  CHECK(consistency(stack)["settled"]["fallback"] == 100);
}

TEST_CASE("a processor slower than our timeout: the payment stays on it, counted once",
          "[integration][payments]") {
  Processors processors;
  // Every call to default times out (unknown outcome) while its delay is 1500 ms, yet default
  // records each one after the delay; the fallback must not receive them.
  Stack stack(Stack::Options{"", processors.env(300), "ledger,payments"});
  REQUIRE(processors.default_sim.set_delay(1500));
  REQUIRE(post_many(stack, 40, 3) == 40);
  // A call that timed out pins its payment to default: the next attempts repeat that call.
  const nlohmann::json during = wait_for_some(stack, "pinned");
  INFO(during.dump());
  CHECK(count_of(during, "pinned") > 0);
  REQUIRE(processors.default_sim.set_delay(0));
  check_books(stack, processors, 40);
  const nlohmann::json after = consistency(stack);
  INFO(after.dump());
  CHECK(after["retried"].get<int64_t>() > 0);
}

TEST_CASE("an instance killed while holding leased payments: the other settles each once",
          "[integration][payments]") {
  Processors processors;
  // A 2 s delay keeps instance 1's workers inside their calls when it dies; its leases expire
  // after timeout + margins, then instance 2 repeats those calls on the same processor.
  Stack stack(Stack::Options{"", processors.env(1000), "ledger,payments"});
  REQUIRE(processors.default_sim.set_delay(2000));
  REQUIRE(processors.fallback_sim.set_delay(2000));
  std::mt19937_64 random(4);
  auto first = stack.instance_client(1);
  REQUIRE(post_many(*first, 8, random) == 8);
  const nlohmann::json before = wait_for_some(stack, "inFlight");
  INFO(before.dump());
  REQUIRE(count_of(before, "inFlight") > 0);
  stack.stop_instance(1, SIGKILL);
  REQUIRE(processors.default_sim.set_delay(0));
  REQUIRE(processors.fallback_sim.set_delay(0));
  const nlohmann::json report = wait_until_settled(stack, 60s);
  INFO(report.dump());
  REQUIRE(report["unsettled"] == 0);
  CHECK(report["accepted"] == 8);
  const Books b = books(stack, processors);
  CHECK(b.ours_default == b.theirs_default);
  CHECK(b.ours_fallback == b.theirs_fallback);
  CHECK(b.theirs_default + b.theirs_fallback == 8);
}

TEST_CASE("both processors down for a while: nothing is dropped, all are processed after",
          "[integration][payments]") {
  Processors processors;
  Stack stack(Stack::Options{"", processors.env(), "ledger,payments"});
  REQUIRE(processors.default_sim.set_failure(true));
  REQUIRE(processors.fallback_sim.set_failure(true));
  REQUIRE(post_many(stack, 60, 5) == 60);
  // The forwarder keeps trying: some payments have failed on a processor and been tried again.
  const nlohmann::json during = wait_for_some(stack, "retried");
  INFO(during.dump());
  CHECK(count_of(during, "retried") > 0);
  CHECK(during["unsettled"] == 60);
  CHECK(processors.default_sim.summary().requests + processors.fallback_sim.summary().requests ==
        0);
  REQUIRE(processors.default_sim.set_failure(false));
  REQUIRE(processors.fallback_sim.set_failure(false));
  check_books(stack, processors, 60);
}

TEST_CASE("payments answers: 422 for invalid bodies, 400 for bad bounds, 200 summary bare",
          "[integration][payments]") {
  Processors processors;
  Stack stack(Stack::Options{"", processors.env(), "ledger,payments"});
  auto client = stack.client();
  for (const char* body :
       {"", "{}", "[]", R"({"correlationId":"x","amount":1})",
        R"({"correlationId":"4a7901b8-7d26-4d9d-aa19-4dc1c7cf60b1"})",
        R"({"correlationId":"4a7901b8-7d26-4d9d-aa19-4dc1c7cf60b1","amount":0})",
        R"({"correlationId":"4a7901b8-7d26-4d9d-aa19-4dc1c7cf60b1","amount":-1})",
        R"({"correlationId":"4a7901b8-7d26-4d9d-aa19-4dc1c7cf60b1","amount":1.234})",
        R"({"correlationId":"4a7901b8-7d26-4d9d-aa19-4dc1c7cf60b1","amount":"1"})"}) {
    INFO(body);
    const httplib::Result result = client->Post("/payments", body, "application/json");
    REQUIRE(result);
    CHECK(result->status == 422);
  }
  CHECK(to_answer(client->Get("/payments-summary")).status == 200);
  CHECK(to_answer(client->Get("/payments-summary?from=yesterday")).status == 400);
  CHECK(to_answer(client->Get("/payments-summary?to=2025-07-15T12:34:56.000")).status == 400);
  CHECK(to_answer(client->Post("/purge-payments", "", "application/json")).status == 200);
  // The ledger is still there, unchanged.
  CHECK(get_statement(*client, 1).status == 200);
}
