// crebito-null: the HTTP path of crebito with no database behind it, for benchmarks.
//
// It runs the very same http::Server (event loop, deadlines, limits) as crebito,
// with the same routes answering constants: a 200 balance for every POST, a fixed 10-entry
// statement for every GET, and /health; for the payments face, 202 for every POST /payments
// (nothing is forwarded), an empty summary and 200 for POST /purge-payments. Put behind the same
// haproxy and limits, it measures the ceiling of the HTTP path; crebito's figures as a ratio of it
// show what the ledger (or the payments queue) costs.
// Takes crebito's flags (--listen, --threads; the database flags are accepted and ignored).
#include <signal.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>

#include "config.h"
#include "http/answers.h"
#include "http/server.h"

extern char** environ;

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

void install_constant_routes(httplib::Server* server) {
  static const std::string statement = constant_statement();
  static const std::string balance = http::balance_json({100000, -9098});
  server->Post(R"(/clientes/([^/]*)/transacoes)",
               [](const httplib::Request&, httplib::Response& res) {
                 res.set_content(balance, "application/json");
               });
  server->Get(R"(/clientes/([^/]*)/extrato)", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(statement, "application/json");
  });
  server->Get("/health", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(R"({"status":"ok"})", "application/json");
  });
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
  std::vector<std::string> args(argv + 1, argv + argc);
  std::vector<std::string> env;
  for (char** entry = environ; *entry != nullptr; ++entry) env.emplace_back(*entry);
  Config config;
  bool help = false;
  std::string error;
  if (!parse_config(args, env, &config, &help, &error) || help) {
    std::fprintf(stderr, "crebito-null: %s\n%s", error.c_str(),
                 config_usage("crebito-null").c_str());
    return help ? 0 : 2;
  }
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  http::Server server(install_constant_routes, config.listen, config.threads);
  std::atomic<bool> finished{false};
  std::thread stopper([&] {
    int signal = 0;
    sigwait(&signals, &signal);
    while (!finished) {
      server.stop();
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  });
  const bool served = server.run(&error);
  finished = true;
  if (!served) {
    std::fprintf(stderr, "crebito-null: %s\n", error.c_str());
    kill(getpid(), SIGTERM);  // Wake the stopper so it can be joined.
  }
  stopper.join();
  return served ? 0 : 1;
}
