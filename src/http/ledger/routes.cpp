#include "http/ledger/routes.h"

#include "http/ledger/answers.h"
#include "http/ledger/request_body.h"
#include "http/reply.h"
#include "metrics/registry.h"

namespace http {
namespace {

void reply_error(httplib::Response& res, ledger::Outcome outcome, std::string_view message) {
  if (outcome == ledger::Outcome::unavailable) metrics::count(metrics::StoreEvent::answered_503);
  if (outcome == ledger::Outcome::unknown) metrics::count(metrics::StoreEvent::answered_504);
  reply_json_error(res, status_for(outcome), message);
}

void post_transaction(ledger::Ledger& ledger, const httplib::Request& req, httplib::Response& res) {
  const std::optional<int64_t> account_id = parse_account_id(req.matches[1].str());
  if (!account_id || !ledger.has_account(*account_id)) {
    return reply_error(res, ledger::Outcome::no_such_account, "no such account");
  }
  const std::optional<ledger::TransactionRequest> request = parse_transaction_body(req.body);
  if (!request) {
    return reply_error(res, ledger::Outcome::invalid_request,
                       "invalid transaction: valor, tipo or descricao breaks a rule");
  }
  ledger::Balance balance;
  const ledger::Outcome outcome = ledger.apply(*account_id, *request, &balance);
  if (outcome != ledger::Outcome::ok) {
    return reply_error(res, outcome,
                       outcome == ledger::Outcome::refused
                           ? "refused: the limit would be broken"
                           : "database unavailable, nothing was written");
  }
  reply_json(res, 200, balance_json(balance));
}

void get_statement(ledger::Ledger& ledger, const httplib::Request& req, httplib::Response& res) {
  const std::optional<int64_t> account_id = parse_account_id(req.matches[1].str());
  if (!account_id || !ledger.has_account(*account_id)) {
    return reply_error(res, ledger::Outcome::no_such_account, "no such account");
  }
  ledger::Statement statement;
  const ledger::Outcome outcome = ledger.statement(*account_id, &statement);
  if (outcome != ledger::Outcome::ok) return reply_error(res, outcome, "database unavailable");
  reply_json(res, 200, statement_json(statement));
}

void get_health(ledger::Ledger& ledger, httplib::Response& res) {
  const ledger::Outcome outcome = ledger.health();
  if (outcome != ledger::Outcome::ok) return reply_error(res, outcome, "database unavailable");
  reply_json(res, 200, R"({"status":"ok"})");
}

}  // namespace

int status_for(ledger::Outcome outcome) {
  switch (outcome) {
    case ledger::Outcome::ok:
      return 200;
    case ledger::Outcome::no_such_account:
      return 404;
    case ledger::Outcome::invalid_request:
    case ledger::Outcome::refused:
      return 422;
    case ledger::Outcome::unavailable:
      return 503;
    case ledger::Outcome::unknown:  // Sent, connection lost, not learnt: not a 503
                                    // (docs/RELIABILITY.md).
      return 504;
  }
  return 500;  // Unreachable: -Wswitch flags any outcome left out above.
}

EventLoop::TurnHooks ledger_turn_hooks(ledger::Ledger* ledger) {
  return {[ledger] { ledger->begin_turn(); }, [ledger] { return ledger->end_turn(); },
          [ledger] { return ledger->answered_from_turn(); }};
}

void install_routes(httplib::Server* server, ledger::Ledger* ledger) {
  server->Post(R"(/clientes/([^/]*)/transacoes)",
               [ledger](const httplib::Request& req, httplib::Response& res) {
                 post_transaction(*ledger, req, res);
               });
  server->Get(R"(/clientes/([^/]*)/extrato)",
              [ledger](const httplib::Request& req, httplib::Response& res) {
                get_statement(*ledger, req, res);
              });
  server->Get("/health", [ledger](const httplib::Request&, httplib::Response& res) {
    get_health(*ledger, res);
  });
}

}  // namespace http
