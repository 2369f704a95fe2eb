// processor-sim: a payment processor stand-in on one loopback address (see processor.h).
//
//   processor-sim --listen 127.0.0.1:8001 [--fee 0.07] [--token 123] [--health-window-ms 5000]
//                 [--threads 512] [--permits 800] [--permit-queue 500]
// Environment as the real one: TRANSACTION_FEE, INITIAL_TOKEN, RATE_LIMIT_SECONDS (flags win).
// Stops cleanly on SIGTERM/SIGINT.
#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

#include "http/connection_loop.h"
#include "processor.h"

namespace {

// cpp-httplib ties a thread to each open connection. Two instances of 64 forwarding workers, each
// with a kept-alive connection, would take 128 threads and leave health polls and the load test's
// admin calls waiting for a keep-alive timeout; the real processor has no such limit.
constexpr int threads_default = 512;
constexpr int threads_max = 2048;
constexpr int keep_alive_timeout_s = 60;

[[noreturn]] void usage(const char* problem) {
  std::fprintf(stderr,
               "processor-sim: %s\nusage: processor-sim --listen HOST:PORT [--fee F] [--token T] "
               "[--health-window-ms N] [--threads N] [--permits N] [--permit-queue N]\n",
               problem);
  std::exit(2);
}

long number(const std::string& text, long min, long max, const char* what) {
  char* end = nullptr;
  const long value = std::strtol(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || value < min || value > max) usage(what);
  return value;
}

}  // namespace

int main(int argc, char** argv) {
  processor_sim::Settings settings;
  if (const char* fee = std::getenv("TRANSACTION_FEE")) settings.fee = std::atof(fee);
  if (const char* token = std::getenv("INITIAL_TOKEN")) settings.token = token;
  if (const char* seconds = std::getenv("RATE_LIMIT_SECONDS")) {
    settings.health_window_ms = number(seconds, 1, 3600, "RATE_LIMIT_SECONDS: 1..3600") * 1000;
  }
  std::string listen;
  int threads = threads_default;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (i + 1 >= argc) usage(("missing value for " + flag).c_str());
    const std::string value = argv[++i];
    if (flag == "--listen") {
      listen = value;
    } else if (flag == "--fee") {
      settings.fee = std::atof(value.c_str());
      if (settings.fee < 0 || settings.fee >= 1) usage("--fee: 0 <= F < 1");
    } else if (flag == "--token") {
      settings.token = value;
    } else if (flag == "--health-window-ms") {
      settings.health_window_ms = number(value, 1, 3'600'000, "--health-window-ms: 1..3600000");
    } else if (flag == "--threads") {
      threads = static_cast<int>(number(value, 1, threads_max, "--threads: 1..2048"));
    } else if (flag == "--permits") {
      settings.permits_max = static_cast<int>(number(value, 1, 100'000, "--permits: 1..100000"));
    } else if (flag == "--permit-queue") {
      settings.permit_queue_max =
          static_cast<int>(number(value, 0, 100'000, "--permit-queue: 0..100000"));
    } else {
      usage(("unknown flag " + flag).c_str());
    }
  }
  const size_t colon = listen.rfind(':');
  if (colon == std::string::npos) usage("--listen HOST:PORT is required");
  const std::string host = listen.substr(0, colon);
  const int port = static_cast<int>(number(listen.substr(colon + 1), 1, 65535, "--listen port"));

  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  processor_sim::Processor processor(settings);
  // crebito's own connection loop: stock cpp-httplib 0.11.4 wakes every idle keep-alive connection
  // ~90 times a second (a 10 ms select and a 1 ms sleep), and the forwarders keep up to 128 of them
  // open; measured, that made each simulator use a third of a core at the final test's rate.
  http::ConnectionLoop server;
  server.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  server.set_tcp_nodelay(true);
  server.set_keep_alive_timeout(keep_alive_timeout_s);
  server.set_keep_alive_max_count(1'000'000);
  processor.install(&server);
  if (!server.bind_to_port(host, port)) {
    std::fprintf(stderr, "processor-sim: cannot listen on %s\n", listen.c_str());
    return 1;
  }
  std::thread stopper([&server, signals] {
    int received = 0;
    sigwait(&signals, &received);
    server.request_stop();  // Idle keep-alive connections close now, not after their timeout.
    server.stop();
  });
  std::fprintf(stderr, "processor-sim: listening on %s, fee %.4f\n", listen.c_str(), settings.fee);
  server.listen_after_bind();
  // A stop that came before the accept loop started is not seen by it; the loop has ended here
  // either way, so the stopper only needs releasing.
  pthread_kill(stopper.native_handle(), SIGTERM);
  stopper.join();
  std::fprintf(stderr, "processor-sim: stopped\n");
  return 0;
}
