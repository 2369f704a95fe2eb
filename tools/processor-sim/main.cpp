// processor-sim: a payment processor stand-in on one loopback address (see processor.h), served
// by its own event loop (event_server.h).
//
//   processor-sim --listen 127.0.0.1:8001 [--fee 0.07] [--token 123] [--health-window-ms 5000]
//                 [--permits 800] [--permit-queue 500] [--connections 16384]
// Environment as the real one: TRANSACTION_FEE, INITIAL_TOKEN, RATE_LIMIT_SECONDS (flags win).
// Stops on SIGTERM/SIGINT (answers still due within stop_grace_ms go out first).
#include <sys/resource.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "event_server.h"
#include "process.h"
#include "processor.h"

namespace {

// The real processor has no connection limit; a client that opens one connection per payment in
// flight (1,300 held by the permits and their queue, more while 429s are retried) must not be
// refused. Each connection costs one descriptor and a few KiB.
constexpr int connections_default = 16'384;
constexpr int connections_max = 100'000;
// Descriptors besides connections: listener, epoll, signalfd, stdio, the log.
constexpr rlim_t descriptors_reserved = 64;

[[noreturn]] void usage(const char* problem) {
  std::fprintf(stderr,
               "processor-sim: %s\nusage: processor-sim --listen HOST:PORT [--fee F] [--token T] "
               "[--health-window-ms N] [--permits N] [--permit-queue N] [--connections N]\n",
               problem);
  std::exit(2);
}

long number(const std::string& text, long min, long max, const char* what) {
  char* end = nullptr;
  const long value = std::strtol(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || value < min || value > max) usage(what);
  return value;
}

processor_sim::Decimal fee(const std::string& text, const char* what) {
  const std::optional<processor_sim::Decimal> parsed = processor_sim::parse_fee(text);
  if (!parsed) usage(what);
  return *parsed;
}

// Raises the soft RLIMIT_NOFILE so that `connections` fit; returns how many fit.
int fit_descriptors(int connections) {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return connections;
  const rlim_t wanted = static_cast<rlim_t>(connections) + descriptors_reserved;
  if (limit.rlim_cur < wanted) {
    limit.rlim_cur = std::min(wanted, limit.rlim_max);
    if (::setrlimit(RLIMIT_NOFILE, &limit) != 0) ::getrlimit(RLIMIT_NOFILE, &limit);
  }
  if (limit.rlim_cur >= wanted) return connections;
  const int fit = static_cast<int>(
      limit.rlim_cur > descriptors_reserved ? limit.rlim_cur - descriptors_reserved : 1);
  std::fprintf(stderr, "processor-sim: RLIMIT_NOFILE %llu allows %d connections, not %d\n",
               static_cast<unsigned long long>(limit.rlim_cur), fit, connections);
  return fit;
}

}  // namespace

int main(int argc, char** argv) {
  processor_sim::Settings settings;
  if (const char* text = std::getenv("TRANSACTION_FEE")) {
    settings.fee = fee(text, "TRANSACTION_FEE: a decimal below 1, at most 6 decimals");
  }
  if (const char* token = std::getenv("INITIAL_TOKEN")) settings.token = token;
  if (const char* seconds = std::getenv("RATE_LIMIT_SECONDS")) {
    settings.health_window_ms = number(seconds, 1, 3600, "RATE_LIMIT_SECONDS: 1..3600") * 1000;
  }
  std::string listen;
  int connections = connections_default;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (i + 1 >= argc) usage(("missing value for " + flag).c_str());
    const std::string value = argv[++i];
    if (flag == "--listen") {
      listen = value;
    } else if (flag == "--fee") {
      settings.fee = fee(value, "--fee: a decimal below 1, at most 6 decimals");
    } else if (flag == "--token") {
      settings.token = value;
    } else if (flag == "--health-window-ms") {
      settings.health_window_ms = number(value, 1, 3'600'000, "--health-window-ms: 1..3600000");
    } else if (flag == "--permits") {
      settings.permits_max = static_cast<int>(number(value, 1, 100'000, "--permits: 1..100000"));
    } else if (flag == "--permit-queue") {
      settings.permit_queue_max =
          static_cast<int>(number(value, 0, 100'000, "--permit-queue: 0..100000"));
    } else if (flag == "--connections") {
      connections = static_cast<int>(number(value, 1, connections_max, "--connections: 1..100000"));
    } else {
      usage(("unknown flag " + flag).c_str());
    }
  }
  const size_t colon = listen.rfind(':');
  if (colon == std::string::npos) usage("--listen HOST:PORT is required");
  const std::string host = listen.substr(0, colon);
  const int port = static_cast<int>(number(listen.substr(colon + 1), 1, 65535, "--listen port"));

  process::block_stop_signals();  // The loop takes them through a signalfd.

  processor_sim::EventServer server({host, port, fit_descriptors(connections)});
  if (const auto error = server.listen()) {
    std::fprintf(stderr, "processor-sim: cannot listen on %s: %s\n", listen.c_str(),
                 error->c_str());
    return 1;
  }
  processor_sim::Processor processor(settings, server.timers());
  std::fprintf(stderr, "processor-sim: listening on %s, fee %lld/10^%d\n", listen.c_str(),
               static_cast<long long>(settings.fee.units), settings.fee.scale);
  const auto error =
      server.run([&processor](const processor_sim::Request& request, processor_sim::Reply reply) {
        processor.handle(request, std::move(reply));
      });
  if (error) {
    std::fprintf(stderr, "processor-sim: %s\n", error->c_str());
    return 1;
  }
  std::fprintf(stderr, "processor-sim: stopped\n");
  return 0;
}
