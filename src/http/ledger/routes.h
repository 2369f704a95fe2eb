// The ledger's HTTP routes (docs/API.md). Each handler reads like one command: parse, guard
// and return on bad input, one call into the ledger, map the outcome, reply.
//
// The handlers hold a reference to the ledger, which must outlive the server. Thread-safe.
#pragma once

#include <httplib.h>

#include "http/event_loop.h"
#include "ledger/ledger.h"

namespace http {

// The single place where a ledger outcome becomes an HTTP status: 4xx when the client should fix
// its request, 503 when it may retry the same request later.
int status_for(ledger::Outcome outcome);

// The event loop's turn hooks that commit each wake-up's ledger writes together (Ledger batches).
EventLoop::TurnHooks ledger_turn_hooks(ledger::Ledger* ledger);

// POST /clientes/{id}/transacoes, GET /clientes/{id}/extrato, GET /health.
void install_routes(httplib::Server* server, ledger::Ledger* ledger);

}  // namespace http
