// crebito: one instance of the service, with either face or both (the 2024/Q1 ledger, the 2025
// payments intermediary; --faces). Wires configuration, the store, the faces and the HTTP server
// together, and turns SIGTERM/SIGINT into a clean stop: no new connections, in-flight requests
// answered, database closed (the last connection to close checkpoints the WAL).

#include <cstdio>
#include <optional>

#include "config.h"
#include "crebito_limits.h"
#include "http/ledger/routes.h"
#include "http/payments/routes.h"
#include "http/server.h"
#include "ledger/ledger.h"
#include "metrics/registry.h"
#include "payments/forwarder.h"
#include "payments/metrics_gauges.h"
#include "payments/payments.h"
#include "process.h"
#include "store/payments_store.h"
#include "store/sqlite/checkpointer.h"
#include "store/sqlite/database.h"
#include "store/sqlite/schema.h"

int main(int argc, char** argv) {
  Config config;
  if (const std::optional<int> exit_status = configure("crebito", argc, argv, &config)) {
    return *exit_status;
  }
  // Both faces keep their data in the store --store names (store/location.h): SQLite or PostgreSQL.
  const bool postgresql = config.store.is_postgresql();
  process::block_stop_signals();
  metrics::set_enabled(config.metrics);
  store::configure_sqlite();
  std::string error;

  // SQLite: one connection per event-loop thread; PostgreSQL: --store-connections.
  const store::OpenOptions ledger_options{config.busy_timeout_ms,
                                          postgresql ? config.store_connections : config.threads};
  std::unique_ptr<ledger::Ledger> ledger;
  if (config.faces.ledger) {
    ledger = ledger::Ledger::open(config.store, ledger_options, &error);
    if (!ledger) {
      std::fprintf(stderr, "crebito: cannot open the database: %s\n", error.c_str());
      return 1;
    }
    std::fprintf(stderr, "crebito: database %s ready, %zu accounts, %d threads\n",
                 config.store.describe().c_str(), ledger->accounts().size(), config.threads);
  } else if (!postgresql) {
    // The ledger's open does it too; the checkpointer below needs the file.
    const store::Status schema = store::apply_schema(config.db_path);
    if (schema != store::Status::ok) {
      std::fprintf(stderr, "crebito: cannot open the database: %s\n", schema.message().c_str());
      return 1;
    }
  }

  // SQLite only: PostgreSQL checkpoints by itself.
  std::unique_ptr<store::Checkpointer> checkpointer;
  if (!postgresql) {
    checkpointer = store::Checkpointer::start(config.db_path, &error);
    if (!checkpointer) {
      std::fprintf(stderr, "crebito: %s\n", error.c_str());
      return 1;
    }
  }

  // The payments face shares the store and nothing else with the ledger. A summary runs on one of
  // the server's blocking threads, every other request on a loop thread; the store lends a session
  // to each of them and to the forwarder's two borrowers (PostgreSQL: --store-connections, shared
  // by them all).
  std::unique_ptr<store::PaymentsStore> payments_store;
  std::unique_ptr<payments::Payments> payments;
  std::unique_ptr<payments::Forwarder> forwarder;
  if (config.faces.payments) {
    const int borrowers =
        config.threads + limits::blocking_threads + payments::Forwarder::sessions_borrowed;
    const store::Status opened = store::open_payments_store(
        config.store, {config.busy_timeout_ms, postgresql ? config.store_connections : borrowers},
        &payments_store);
    if (opened != store::Status::ok) {
      std::fprintf(stderr, "crebito: cannot open the payments queue: %s\n",
                   opened.message().c_str());
      return 1;
    }
    payments = std::make_unique<payments::Payments>(payments_store.get());
    forwarder = std::make_unique<payments::Forwarder>(payments::ForwarderConfig{
        payments_store.get(), config.processor_default_url, config.processor_fallback_url,
        config.payment_workers, config.processor_timeout_ms});
    forwarder->start();
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
  // Each face's writes of one wake-up commit together, before any of their answers is sent.
  if (ledger && payments) {
    server.set_turn_hooks(http::EventLoop::both_turn_hooks(
        http::ledger_turn_hooks(ledger.get()), http::payment_turn_hooks(payments.get())));
  } else if (ledger) {
    server.set_turn_hooks(http::ledger_turn_hooks(ledger.get()));
  } else if (payments) {
    server.set_turn_hooks(http::payment_turn_hooks(payments.get()));
  }
  // GET /metrics; with the payments face, the queue and processors read at each scrape.
  if (config.metrics) {
    http::Server::Gauges gauges;
    if (payments) {
      gauges = [&](metrics::Exposition* out) {
        payments::write_gauges(payments.get(), *forwarder, out);
      };
    }
    server.enable_metrics(std::move(gauges));
  }
  const bool served = process::serve_until_stop_signal(
      [&] { return server.run(&error); },
      {config.drain_ms, [&] { server.begin_drain(); }, [&] { server.stop(); }, "crebito"});
  if (!served) {
    std::fprintf(stderr, "crebito: %s\n", error.c_str());
    return 1;
  }
  if (forwarder) forwarder->stop();
  forwarder.reset();
  payments.reset();
  payments_store.reset();
  checkpointer.reset();
  ledger.reset();
  std::fprintf(stderr, "crebito: stopped cleanly\n");
  return 0;
}
