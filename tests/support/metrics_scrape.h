// Reading an instance's GET /metrics in tests: the answer's text, and one series' value in it.
#pragma once

#include <httplib.h>

#include <string>

// The value of `series` (its name and labels exactly as written, e.g.
// crebito_store_events_total{kind="failover"}) in a scrape's text; 0 when it is not there (a
// counter that never moved is left out).
inline double metric_value(const std::string& text, const std::string& series) {
  const std::string prefix = series + " ";
  for (size_t at = 0; at < text.size();) {
    const size_t end = std::min(text.find('\n', at), text.size());
    if (text.compare(at, prefix.size(), prefix) == 0) {
      return std::stod(text.substr(at + prefix.size(), end - at - prefix.size()));
    }
    at = end + 1;
  }
  return 0;
}

// The requests counter's series for a route pattern and a status.
inline std::string requests_series(const std::string& route, int status) {
  return "crebito_http_requests_total{route=\"" + route + "\",status=\"" + std::to_string(status) +
         "\"}";
}

// GET /metrics; empty when the request failed or was not answered 200.
inline std::string scrape_metrics(httplib::Client& client) {
  const httplib::Result result = client.Get("/metrics");
  return result && result->status == 200 ? result->body : std::string();
}
