// crebito: one instance of the ledger service. Wires configuration, ledger and HTTP server
// together, and turns SIGTERM/SIGINT into a clean stop: no new connections, in-flight requests
// answered, database closed (the last connection to close checkpoints the WAL).
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>

#include "config.h"
#include "crebito_limits.h"
#include "http/payments_routes.h"
#include "http/routes.h"
#include "http/server.h"
#include "ledger/ledger.h"
#include "payments/forwarder.h"
#include "payments/payments.h"
#include "store/checkpointer.h"
#include "store/schema.h"

extern char** environ;

namespace {

constexpr auto stop_retry_interval = std::chrono::milliseconds(10);

// Waits for SIGTERM or SIGINT (blocked in every thread, so only this one sees them), then stops
// the server, repeating the stop until run() has returned. SIGTERM first drains for drain_ms
// (limits::drain_ms_default); another signal during the drain cuts it short.
void stop_on_signal(http::Server* server, int drain_ms, const std::atomic<bool>* finished) {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  const timespec poll_interval{0, 100'000'000};
  while (!*finished) {
    const int signal = sigtimedwait(&signals, nullptr, &poll_interval);
    if (signal < 0) continue;
    if (signal == SIGTERM && drain_ms > 0) {
      std::fprintf(stderr, "crebito: SIGTERM received, draining for %d ms (health answers 503)\n",
                   drain_ms);
      server->begin_drain();
      const timespec drain{drain_ms / 1000, (drain_ms % 1000) * 1'000'000L};
      sigtimedwait(&signals, nullptr, &drain);
    }
    std::fprintf(stderr, "crebito: %s received, finishing in-flight requests\n",
                 signal == SIGTERM ? "SIGTERM" : "SIGINT");
    while (!*finished) {
      server->stop();
      std::this_thread::sleep_for(stop_retry_interval);
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  std::vector<std::string> env;
  for (char** entry = environ; *entry != nullptr; ++entry) env.emplace_back(*entry);

  Config config;
  bool help = false;
  std::string error;
  if (!parse_config(args, env, &config, &help, &error)) {
    std::fprintf(stderr, "crebito: %s\n%s", error.c_str(), config_usage("crebito").c_str());
    return 2;
  }
  if (help) {
    std::fputs(config_usage("crebito").c_str(), stdout);
    return 0;
  }

  // Block the stop signals before any thread starts, so every thread inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  const store::Options store_options{config.db_path, config.busy_timeout_ms};
  std::unique_ptr<ledger::Ledger> ledger;
  if (config.faces.ledger) {
    ledger = ledger::Ledger::open(store_options, config.threads, &error);
    if (!ledger) {
      std::fprintf(stderr, "crebito: cannot open the database: %s\n", error.c_str());
      return 1;
    }
    std::fprintf(stderr, "crebito: database %s ready, %zu accounts, %d threads\n",
                 config.db_path.c_str(), ledger->accounts().size(), config.threads);
  } else if (!store::apply_schema(config.db_path, &error)) {  // The ledger's open does it too.
    std::fprintf(stderr, "crebito: cannot open the database: %s\n", error.c_str());
    return 1;
  }

  std::unique_ptr<store::Checkpointer> checkpointer =
      store::Checkpointer::start(config.db_path, &error);
  if (!checkpointer) {
    std::fprintf(stderr, "crebito: %s\n", error.c_str());
    return 1;
  }

  // The payments face shares the file (schema applied above) and nothing else with the ledger.
  // A summary runs on one of the server's blocking threads, every other request on a loop thread.
  std::unique_ptr<payments::Payments> payments;
  std::unique_ptr<payments::Forwarder> forwarder;
  if (config.faces.payments) {
    payments =
        payments::Payments::open(store_options, config.threads + limits::blocking_threads, &error);
    forwarder = std::make_unique<payments::Forwarder>(payments::ForwarderConfig{
        store_options, config.processor_default_url, config.processor_fallback_url,
        config.payment_workers, config.processor_timeout_ms});
    if (!payments || !forwarder->start(&error)) {
      std::fprintf(stderr, "crebito: cannot open the payments queue: %s\n", error.c_str());
      return 1;
    }
    payments->on_accepted([&forwarder] { forwarder->wake(); });
    std::fprintf(stderr, "crebito: payments go to %s (fallback %s), %d workers\n",
                 config.processor_default_url.c_str(), config.processor_fallback_url.c_str(),
                 config.payment_workers);
  }
  std::fprintf(stderr, "crebito: faces:%s%s\n", config.faces.ledger ? " ledger" : "",
               config.faces.payments ? " payments" : "");

  http::Server server(
      [&](httplib::Server* routes) {
        if (ledger) http::install_routes(routes, ledger.get());
        if (payments) http::install_payment_routes(routes, payments.get());
      },
      config.listen, config.threads);
  if (payments) server.set_blocking_route(http::payment_request_may_block);
  // The ledger's writes of one wake-up commit together, before any of their answers is sent.
  if (ledger) server.set_turn_hooks(http::ledger_turn_hooks(ledger.get()));
  std::atomic<bool> finished{false};
  std::thread signal_thread(stop_on_signal, &server, config.drain_ms, &finished);
  const bool served = server.run(&error);
  finished = true;
  signal_thread.join();
  if (!served) {
    std::fprintf(stderr, "crebito: %s\n", error.c_str());
    return 1;
  }
  if (forwarder) forwarder->stop();
  payments.reset();
  checkpointer.reset();
  ledger.reset();
  std::fprintf(stderr, "crebito: stopped cleanly\n");
  return 0;
}
