#include "http/ledger/request_body.h"

#include <nlohmann/json.hpp>

#include "crebito_limits.h"

namespace http {

std::optional<int64_t> parse_account_id(std::string_view text) {
  if (text.empty() || text.size() > limits::account_id_digits_max) return std::nullopt;
  if (text[0] == '0') return std::nullopt;
  int64_t id = 0;
  for (const char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    id = id * 10 + (c - '0');
  }
  return id;
}

std::optional<ledger::TransactionRequest> parse_transaction_body(std::string_view body) {
  // No exceptions: a parse error yields a "discarded" value. nlohmann rejects invalid UTF-8 in
  // strings and parses 1.0, 1e2 and integers beyond 64 bits as floats, which we refuse below.
  const nlohmann::json json = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded() || !json.is_object()) return std::nullopt;

  const auto valor = json.find("valor");
  const auto tipo = json.find("tipo");
  const auto descricao = json.find("descricao");
  if (valor == json.end() || tipo == json.end() || descricao == json.end()) return std::nullopt;
  if (!valor->is_number_integer() || !tipo->is_string() || !descricao->is_string()) {
    return std::nullopt;
  }

  ledger::TransactionRequest request;
  if (valor->is_number_unsigned()) {
    const auto amount = valor->get<uint64_t>();
    if (amount > static_cast<uint64_t>(limits::amount_cents_max)) return std::nullopt;
    request.amount_cents = static_cast<int64_t>(amount);
  } else {
    request.amount_cents = valor->get<int64_t>();
  }
  const std::optional<ledger::Kind> kind = ledger::parse_kind(tipo->get_ref<const std::string&>());
  if (!kind) return std::nullopt;
  request.kind = *kind;
  request.description = descricao->get<std::string>();
  if (!ledger::request_valid(request)) return std::nullopt;
  return request;
}

}  // namespace http
