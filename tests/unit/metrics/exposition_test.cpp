// The Prometheus text format as crebito writes it, exactly, and the fixed-bucket histogram.
#include "metrics/exposition.h"

#include <catch2/catch.hpp>
#include <thread>
#include <vector>

#include "metrics/registry.h"

namespace {

constexpr int64_t bounds_ns[] = {100'000, 1'000'000, 2'500'000'000};

}  // namespace

TEST_CASE("a histogram counts each value into the first bucket whose bound holds it", "[metrics]") {
  metrics::Histogram histogram(bounds_ns);
  histogram.observe(0);
  histogram.observe(100'000);        // On a bound: that bucket (le is "less or equal").
  histogram.observe(100'001);        // Just above: the next one.
  histogram.observe(3'000'000'000);  // Above every bound: +Inf.
  CHECK(histogram.bucket(0) == 2);
  CHECK(histogram.bucket(1) == 1);
  CHECK(histogram.bucket(2) == 0);
  CHECK(histogram.bucket(3) == 1);
  CHECK(histogram.count() == 4);
  CHECK(histogram.sum() == 3'000'200'001);
}

TEST_CASE("a histogram loses no observation when threads observe at once", "[metrics]") {
  metrics::Histogram histogram(bounds_ns);
  constexpr int threads = 4;
  constexpr int per_thread = 100'000;
  std::vector<std::thread> running;
  for (int t = 0; t < threads; ++t) {
    running.emplace_back([&histogram, t] {
      for (int i = 0; i < per_thread; ++i) histogram.observe(t == 0 ? 50'000 : 2'000'000);
    });
  }
  for (std::thread& thread : running) thread.join();
  CHECK(histogram.count() == uint64_t{threads} * per_thread);
  CHECK(histogram.bucket(0) == per_thread);
  CHECK(histogram.bucket(2) == uint64_t{threads - 1} * per_thread);
  CHECK(histogram.sum() ==
        int64_t{per_thread} * 50'000 + int64_t{threads - 1} * per_thread * 2'000'000);
}

TEST_CASE("the exposition is Prometheus's text format 0.0.4, byte for byte", "[metrics]") {
  metrics::Histogram histogram(bounds_ns);
  histogram.observe(50'000);
  histogram.observe(700'000);
  histogram.observe(3'000'000'000);
  metrics::Exposition out;
  out.family("demo_requests_total", metrics::Exposition::Type::counter, "Requests, by route.");
  out.sample("demo_requests_total", {{"route", "/a"}, {"status", "200"}}, uint64_t{12});
  out.family("demo_queue", metrics::Exposition::Type::gauge, "A gauge with no labels.");
  out.sample("demo_queue", {}, 0.25);
  out.family("demo_duration_seconds", metrics::Exposition::Type::histogram, "Latency.");
  out.histogram("demo_duration_seconds", {{"route", "/a"}}, histogram, 1e9);
  CHECK(out.text() ==
        "# HELP demo_requests_total Requests, by route.\n"
        "# TYPE demo_requests_total counter\n"
        "demo_requests_total{route=\"/a\",status=\"200\"} 12\n"
        "# HELP demo_queue A gauge with no labels.\n"
        "# TYPE demo_queue gauge\n"
        "demo_queue 0.25\n"
        "# HELP demo_duration_seconds Latency.\n"
        "# TYPE demo_duration_seconds histogram\n"
        "demo_duration_seconds_bucket{route=\"/a\",le=\"0.0001\"} 1\n"
        "demo_duration_seconds_bucket{route=\"/a\",le=\"0.001\"} 2\n"
        "demo_duration_seconds_bucket{route=\"/a\",le=\"2.5\"} 2\n"
        "demo_duration_seconds_bucket{route=\"/a\",le=\"+Inf\"} 3\n"
        "demo_duration_seconds_sum{route=\"/a\"} 3.00075\n"
        "demo_duration_seconds_count{route=\"/a\"} 3\n");
}

TEST_CASE("label values and help texts are escaped", "[metrics]") {
  metrics::Exposition out;
  out.family("demo", metrics::Exposition::Type::gauge, "back\\slash and\nnewline");
  out.sample("demo", {{"path", "a\"b\\c\nd"}}, 1.0);
  CHECK(out.text() ==
        "# HELP demo back\\\\slash and\\nnewline\n"
        "# TYPE demo gauge\n"
        "demo{path=\"a\\\"b\\\\c\\nd\"} 1\n");
}

TEST_CASE("numbers are written in their shortest exact form", "[metrics]") {
  CHECK(metrics::format_number(0) == "0");
  CHECK(metrics::format_number(1000000) == "1000000");
  CHECK(metrics::format_number(0.0001) == "0.0001");
  CHECK(metrics::format_number(2.5) == "2.5");
  CHECK(metrics::format_number(3.0054e-05) == "3.0054e-05");
  CHECK(metrics::format_number(-1) == "-1");
  CHECK(metrics::format_number(1.0 / 0.0) == "+Inf");
}

TEST_CASE("a request path is counted under its route pattern, never its ids", "[metrics]") {
  using metrics::Route;
  const struct {
    const char* path;
    Route route;
  } cases[] = {
      {"/clientes/1/transacoes", Route::transactions},
      {"/clientes/123456/extrato", Route::statement},
      {"/clientes/x/extrato", Route::statement},  // The handler says 404.
      {"/clientes/1/2/extrato", Route::other},
      {"/clientes/1", Route::other},
      {"/clientes/1/transacoesX", Route::other},
      {"/payments", Route::payments},
      {"/payments-summary", Route::payments_summary},
      {"/purge-payments", Route::purge_payments},
      {"/payments-consistency", Route::payments_consistency},
      {"/health", Route::health},
      {"/ready", Route::ready},
      {"/metrics", Route::metrics},
      {"/metrics/", Route::other},
      {"", Route::other},
      {"/", Route::other},
  };
  for (const auto& c : cases) {
    INFO(c.path);
    CHECK(metrics::route_of(c.path) == c.route);
  }
  CHECK(std::string(metrics::route_label(Route::transactions)) == "/clientes/:id/transacoes");
  CHECK(std::string(metrics::route_label(Route::other)) == "other");
}

TEST_CASE("the registry counts requests, commits and store events, and counts nothing when off",
          "[metrics]") {
  // The registry is the process's: compare before and after.
  auto scrape = [] {
    metrics::Exposition out;
    metrics::write_registry(&out);
    return out.text();
  };
  auto value_of = [](const std::string& text, const std::string& series) -> uint64_t {
    const size_t at = text.find("\n" + series + " ");
    if (at == std::string::npos) return 0;
    return std::stoull(text.substr(at + series.size() + 2));
  };
  const std::string requests =
      "crebito_http_requests_total{route=\"/clientes/:id/extrato\",status=\"418\"}";
  const std::string lost = "crebito_store_events_total{kind=\"lost_session\"}";
  const std::string commits = "crebito_store_commits_total";
  const std::string two_postings = "crebito_store_commit_postings_bucket{le=\"2\"}";
  const std::string before = scrape();

  metrics::observe_request(metrics::Route::statement, 418, 1'000);
  metrics::count(metrics::StoreEvent::lost_session);
  metrics::transaction_begun();
  metrics::posting_written();
  metrics::posting_written();
  metrics::transaction_ended(true);  // 2 postings.
  metrics::transaction_begun();
  metrics::posting_written();
  metrics::transaction_ended(false);  // Not committed: not counted.
  const std::string during = scrape();
  CHECK(value_of(during, requests) == value_of(before, requests) + 1);
  CHECK(value_of(during, lost) == value_of(before, lost) + 1);
  CHECK(value_of(during, commits) == value_of(before, commits) + 1);
  CHECK(value_of(during, two_postings) == value_of(before, two_postings) + 1);

  metrics::set_enabled(false);
  metrics::observe_request(metrics::Route::statement, 418, 1'000);
  metrics::count(metrics::StoreEvent::lost_session);
  metrics::committed(1);
  metrics::set_enabled(true);
  const std::string after = scrape();
  CHECK(value_of(after, requests) == value_of(during, requests));
  CHECK(value_of(after, lost) == value_of(during, lost));
  CHECK(value_of(after, commits) == value_of(during, commits));
}
