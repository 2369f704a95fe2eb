// crebito-metrics-cost: what counting one request costs, alone, in nanoseconds: the same calls
// http::Server makes per request when metrics are on (two clock reads, the route lookup, the
// counters), from 1 thread and from 2 threads counting the same series at once (the worst
// contention two loop threads could make). Prints figures; passes or fails nothing.
//
//   build/crebito-metrics-cost [CALLS]     (default 10,000,000 per thread)
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

#include "clock.h"
#include "metrics/registry.h"

namespace {

void count_requests(long calls) {
  for (long i = 0; i < calls; ++i) {
    const int64_t started = clocks::steady_ns();
    const metrics::Route route = metrics::route_of("/clientes/3/transacoes");
    metrics::observe_request(route, 200, clocks::steady_ns() - started);
  }
}

// Nanoseconds per call with `threads` threads counting at once.
double per_call_ns(int threads, long calls) {
  const int64_t started = clocks::steady_ns();
  std::vector<std::thread> running;
  for (int t = 0; t < threads; ++t) running.emplace_back(count_requests, calls);
  for (std::thread& thread : running) thread.join();
  return static_cast<double>(clocks::steady_ns() - started) / static_cast<double>(calls);
}

}  // namespace

int main(int argc, char** argv) {
  const long calls = argc > 1 ? std::atol(argv[1]) : 10'000'000;
  if (calls <= 0) {
    std::fprintf(stderr, "usage: crebito-metrics-cost [CALLS]\n");
    return 2;
  }
  metrics::set_enabled(false);
  const double off = per_call_ns(1, calls);
  metrics::set_enabled(true);
  const double one = per_call_ns(1, calls);
  const double two = per_call_ns(2, calls);
  std::printf("per request counted, %ld calls per thread:\n", calls);
  std::printf("  metrics off (clock reads and route lookup only): %6.1f ns\n", off);
  std::printf("  metrics on, 1 thread:                            %6.1f ns\n", one);
  std::printf("  metrics on, 2 threads on the same series:        %6.1f ns (wall time per call)\n",
              two);
  return 0;
}
