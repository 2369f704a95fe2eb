// crebito-null: the HTTP path of crebito with no database behind it, for benchmarks.
//
// It runs the very same http::Server (event loop, deadlines, limits) as crebito,
// with the same routes answering constants: a 200 balance for every POST, a fixed 10-entry
// statement for every GET, and /health; for the payments face, 202 for every POST /payments
// (nothing is forwarded), an empty summary and 200 for POST /purge-payments. Put behind the same
// haproxy and limits, it measures the ceiling of the HTTP path; crebito's figures as a ratio of it
// show what the ledger (or the payments queue) costs.
// Takes crebito's flags (--listen, --threads, --faces; the database and payments flags are accepted
// and ignored).
#include <cstdio>
#include <optional>

#include "config.h"
#include "http/ledger/answers.h"
#include "http/server.h"
#include "process.h"

namespace {

std::string constant_statement() {
  ledger::Statement statement;
  statement.balance_cents = -9098;
  statement.limit_cents = 100000;
  statement.taken_at = "2024-01-17T02:34:41.217753Z";
  for (int i = 0; i < 10; ++i) {
    statement.entries.push_back(
        {10, ledger::Kind::credit, "descricao", "2024-01-17T02:34:38.543030Z"});
  }
  return http::statement_json(statement);
}

void install_constant_routes(httplib::Server* server, const Faces& faces) {
  static const std::string statement = constant_statement();
  static const std::string balance = http::balance_json({100000, -9098});
  if (faces.ledger) {
    server->Post(R"(/clientes/([^/]*)/transacoes)",
                 [](const httplib::Request&, httplib::Response& res) {
                   res.set_content(balance, "application/json");
                 });
    server->Get(R"(/clientes/([^/]*)/extrato)",
                [](const httplib::Request&, httplib::Response& res) {
                  res.set_content(statement, "application/json");
                });
    server->Get("/health", [](const httplib::Request&, httplib::Response& res) {
      res.set_content(R"({"status":"ok"})", "application/json");
    });
  }
  if (!faces.payments) return;
  server->Post("/payments",
               [](const httplib::Request&, httplib::Response& res) { res.status = 202; });
  server->Get("/payments-summary", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(R"({"default":{"totalRequests":0,"totalAmount":0},)"
                    R"("fallback":{"totalRequests":0,"totalAmount":0}})",
                    "application/json");
  });
  server->Post("/purge-payments",
               [](const httplib::Request&, httplib::Response& res) { res.status = 200; });
}

}  // namespace

int main(int argc, char** argv) {
  Config config;
  if (const std::optional<int> exit_status = configure("crebito-null", argc, argv, &config)) {
    return *exit_status;
  }
  process::block_stop_signals();
  std::string error;
  http::Server server(
      [&config](httplib::Server* routes) { install_constant_routes(routes, config.faces); },
      config.listen, config.threads);
  // No drain: nothing is lost when a benchmark's server stops at once.
  const bool served = process::serve_until_stop_signal(
      [&] { return server.run(&error); }, {0, nullptr, [&] { server.stop(); }, "crebito-null"});
  if (!served) {
    std::fprintf(stderr, "crebito-null: %s\n", error.c_str());
    return 1;
  }
  return 0;
}
