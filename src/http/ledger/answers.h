// The JSON bodies crebito sends (docs/API.md). Pure functions; thread-safe.
// Strings are escaped per RFC 8259: '"', '\\' and control characters; other UTF-8 passes through.
#pragma once

#include <string>
#include <string_view>

#include "ledger/ledger.h"

namespace http {

// {"limite":L,"saldo":S}
std::string balance_json(const ledger::Balance& balance);

// {"saldo":{"total":..,"data_extrato":"..","limite":..},"ultimas_transacoes":[..]}
std::string statement_json(const ledger::Statement& statement);

// {"error":"message"}
std::string error_json(std::string_view message);

// Appends text as a quoted, escaped JSON string.
void append_json_string(std::string* out, std::string_view text);

}  // namespace http
