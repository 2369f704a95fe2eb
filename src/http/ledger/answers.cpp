#include "http/ledger/answers.h"

#include <cstdio>

namespace http {
namespace {

// The characters with a two-character escape, and the letter after the backslash of each.
constexpr std::string_view short_escaped = "\"\\\n\r\t\b\f";
constexpr std::string_view short_escape_letters = "\"\\nrtbf";

}  // namespace

void append_json_string(std::string* out, std::string_view text) {
  out->push_back('"');
  for (const char c : text) {
    if (static_cast<unsigned char>(c) >= 0x20 && c != '"' && c != '\\') {
      out->push_back(c);
      continue;
    }
    const size_t at = short_escaped.find(c);
    if (at != std::string_view::npos) {
      out->push_back('\\');
      out->push_back(short_escape_letters[at]);
    } else {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\u%04x", static_cast<unsigned>(c));
      out->append(escaped);
    }
  }
  out->push_back('"');
}

std::string balance_json(const ledger::Balance& balance) {
  std::string out;
  JsonObject(&out)
      .number("limite", balance.limit_cents)
      .number("saldo", balance.balance_cents)
      .end();
  return out;
}

std::string statement_json(const ledger::Statement& statement) {
  std::string out;
  out.reserve(256 + statement.entries.size() * 128);
  JsonObject answer(&out);
  answer.object("saldo")
      .number("total", statement.balance_cents)
      .string("data_extrato", statement.taken_at)
      .number("limite", statement.limit_cents)
      .end();
  answer.key("ultimas_transacoes");
  out.push_back('[');
  bool first = true;
  for (const ledger::Entry& entry : statement.entries) {
    if (!first) out.push_back(',');
    first = false;
    JsonObject(&out)
        .number("valor", entry.amount_cents)
        .raw("tipo", entry.kind == ledger::Kind::credit ? "\"c\"" : "\"d\"")
        .string("descricao", entry.description)
        .string("realizada_em", entry.created_at)
        .end();
  }
  out.push_back(']');
  answer.end();
  return out;
}

std::string error_json(std::string_view message) {
  std::string out;
  JsonObject(&out).string("error", message).end();
  return out;
}

}  // namespace http
