// Turns the wire format of a request into ledger values: the account id in the URL and the JSON
// body of POST /clientes/{id}/transacoes. Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "ledger/transaction.h"

namespace http {

// A positive decimal integer without sign or leading zeros and with at most
// limits::account_id_digits_max digits; nullopt otherwise (the caller answers 404).
std::optional<int64_t> parse_account_id(std::string_view text);

// A JSON object whose "valor" is an integer literal (no fraction, no exponent), "tipo" a string and
// "descricao" a string, all satisfying ledger::request_valid. Extra fields are ignored. nullopt for
// anything else, malformed JSON and invalid UTF-8 included (the caller answers 422).
std::optional<ledger::TransactionRequest> parse_transaction_body(std::string_view body);

}  // namespace http
