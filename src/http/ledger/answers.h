// The JSON bodies crebito sends (docs/API.md). Pure functions; thread-safe.
// Written with http/json_object.h, which escapes strings.
#pragma once

#include <string>
#include <string_view>

#include "http/json_object.h"
#include "ledger/ledger.h"

namespace http {

// {"limite":L,"saldo":S}
std::string balance_json(const ledger::Balance& balance);

// {"saldo":{"total":..,"data_extrato":"..","limite":..},"ultimas_transacoes":[..]}
std::string statement_json(const ledger::Statement& statement);

// {"error":"message"}
std::string error_json(std::string_view message);

}  // namespace http
