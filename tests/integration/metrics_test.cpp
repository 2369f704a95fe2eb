// GET /metrics on each instance (docs/METRICS.md): the counters move with the requests sent
// through haproxy (route patterns, statuses, latency histograms, commits), the payments gauges
// are there with both faces on, and --metrics off counts nothing and serves no /metrics.
#include <catch2/catch.hpp>

#include "support/api.h"
#include "support/metrics_scrape.h"
#include "support/processor_sim.h"
#include "support/stack.h"
#include "support/temp_dir.h"

namespace {

constexpr const char* transactions_route = "/clientes/:id/transacoes";
constexpr const char* statement_route = "/clientes/:id/extrato";

// A series' value added up over every instance of the stack.
double total(const std::vector<std::string>& scrapes, const std::string& series) {
  double sum = 0;
  for (const std::string& text : scrapes) sum += metric_value(text, series);
  return sum;
}

std::vector<std::string> scrape_all(const Stack& stack) {
  std::vector<std::string> scrapes;
  for (int i = 1; i <= stack.instances(); ++i) {
    scrapes.push_back(scrape_metrics(*stack.instance_client(i)));
    REQUIRE(!scrapes.back().empty());
  }
  return scrapes;
}

}  // namespace

TEST_CASE("each instance's /metrics counts the requests it answered, by route and status",
          "[integration][metrics]") {
  Stack stack;
  const httplib::Result first = stack.instance_client(1)->Get("/metrics");
  REQUIRE(first);
  CHECK(first->status == 200);
  CHECK(first->get_header_value("Content-Type") == "text/plain; version=0.0.4; charset=utf-8");
  CHECK_THAT(first->body, Catch::Contains("# TYPE crebito_http_requests_total counter\n"));
  CHECK_THAT(first->body,
             Catch::Contains("# TYPE crebito_http_request_duration_seconds histogram\n"));

  const std::vector<std::string> before = scrape_all(stack);
  constexpr int credits = 20, refused = 3, statements = 7, unknown_account = 2;
  auto client = stack.client();
  for (int i = 0; i < credits; ++i) {
    REQUIRE(post_transaction(*client, 1 + i % 5, 1, "c", "metrics").status == 200);
  }
  for (int i = 0; i < refused; ++i) {
    REQUIRE(post_transaction(*client, 1, 1'000'000'000, "d", "too much").status == 422);
  }
  for (int i = 0; i < statements; ++i) REQUIRE(get_statement(*client, 2).status == 200);
  for (int i = 0; i < unknown_account; ++i) REQUIRE(get_statement(*client, 6).status == 404);
  REQUIRE(client->Get("/nowhere/42")->status == 404);
  const std::vector<std::string> after = scrape_all(stack);

  auto moved = [&](const std::string& series) {
    return total(after, series) - total(before, series);
  };
  CHECK(moved(requests_series(transactions_route, 200)) == credits);
  CHECK(moved(requests_series(transactions_route, 422)) == refused);
  CHECK(moved(requests_series(statement_route, 200)) == statements);
  CHECK(moved(requests_series(statement_route, 404)) == unknown_account);
  CHECK(moved(requests_series("other", 404)) == 1);
  // No raw path with an id is ever a label.
  for (const std::string& text : after) CHECK_THAT(text, !Catch::Contains("/clientes/1/"));
  // The latency histograms counted the same requests; every one of them within 2.5 s.
  const std::string count = "crebito_http_request_duration_seconds_count{route=\"" +
                            std::string(transactions_route) + "\"}";
  const std::string le_max = "crebito_http_request_duration_seconds_bucket{route=\"" +
                             std::string(transactions_route) + "\",le=\"2.5\"}";
  CHECK(moved(count) == credits + refused);
  CHECK(moved(le_max) == credits + refused);
  CHECK(total(after, "crebito_http_request_duration_seconds_sum{route=\"" +
                         std::string(transactions_route) + "\"}") > 0);
  // Each credit was committed once: in a transaction of its own or with others of its turn.
  const double commits = moved("crebito_store_commits_total");
  CHECK(commits >= 1);
  CHECK(commits <= credits + refused);
  CHECK(moved("crebito_store_commit_postings_sum") == credits);
  CHECK(moved("crebito_store_commit_postings_count") == commits);
  CHECK(moved("crebito_store_events_total{kind=\"answered_503\"}") == 0);

  // haproxy's own statistics, in the same format, from its exporter.
  httplib::Client haproxy_stats(stack.haproxy_stats_path());
  haproxy_stats.set_address_family(AF_UNIX);
  const std::string haproxy_text = scrape_metrics(haproxy_stats);
  double sessions = 0;  // One keep-alive client: its connection went to one instance or another.
  for (int i = 1; i <= stack.instances(); ++i) {
    const std::string server = "{proxy=\"instances\",server=\"" + Stack::instance_name(i) + "\"";
    CHECK(metric_value(haproxy_text, "haproxy_server_status" + server + ",state=\"UP\"}") == 1);
    sessions += metric_value(haproxy_text, "haproxy_server_sessions_total" + server + "}");
  }
  CHECK(sessions >= 1);
}

TEST_CASE("with the payments face on, /metrics has the queue and each processor's health",
          "[integration][metrics][payments]") {
  TempDir logs;
  ProcessorSim default_sim{"0.05", logs.file("default.log")};
  ProcessorSim fallback_sim{"0.15", logs.file("fallback.log")};
  Stack stack(Stack::Options{.instance_env = {"PROCESSOR_DEFAULT_URL=" + default_sim.url(),
                                              "PROCESSOR_FALLBACK_URL=" + fallback_sim.url()},
                             .faces = "ledger,payments"});
  auto client = stack.client();
  const std::string payment =
      R"({"correlationId":"6a0e3c47-5f1b-4d8e-9a2f-1c3b5d7e9f01","amount":10.50})";
  REQUIRE(client->Post("/payments", payment, "application/json")->status == 202);
  // Forwarded and settled: nothing left queued, leased or pinned.
  REQUIRE(wait_until(
      [&] {
        const std::string text = scrape_metrics(*stack.instance_client(1));
        return metric_value(text, "crebito_payments_queue_readable") == 1 &&
               text.find("crebito_payments_queue{state=\"queued\"} 0\n") != std::string::npos &&
               text.find("crebito_payments_queue{state=\"leased\"} 0\n") != std::string::npos &&
               text.find("crebito_payments_queue{state=\"pinned\"} 0\n") != std::string::npos &&
               default_sim.summary().requests + fallback_sim.summary().requests == 1;
      },
      std::chrono::seconds(10)));
  for (int i = 1; i <= stack.instances(); ++i) {
    const std::string text = scrape_metrics(*stack.instance_client(i));
    INFO(text);
    for (const char* processor : {"default", "fallback"}) {
      const std::string label = std::string("{processor=\"") + processor + "\"}";
      CHECK_THAT(text, Catch::Contains("crebito_processor_failing" + label + " 0\n"));
      CHECK_THAT(text, Catch::Contains("crebito_processor_usable" + label + " 1\n"));
      CHECK_THAT(text, Catch::Contains("crebito_processor_min_response_seconds" + label + " "));
      CHECK_THAT(text,
                 Catch::Contains("crebito_processor_expected_response_seconds" + label + " "));
    }
  }
  const std::vector<std::string> scrapes = scrape_all(stack);
  CHECK(total(scrapes, requests_series("/payments", 202)) == 1);
}

TEST_CASE("with --metrics off, /metrics answers 404 and the service is unchanged",
          "[integration][metrics]") {
  Stack stack(Stack::Options{.instance_env = {"CREBITO_METRICS=off"}});
  CHECK(stack.instance_client(1)->Get("/metrics")->status == 404);
  auto client = stack.client();
  CHECK(post_transaction(*client, 1, 5, "c", "off").status == 200);
  CHECK(get_statement(*client, 1).status == 200);
}
