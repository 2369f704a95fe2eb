#include "http/ledger/answers.h"

#include <cstdio>

namespace http {
namespace {

void append_int(std::string* out, int64_t value) { out->append(std::to_string(value)); }

}  // namespace

void append_json_string(std::string* out, std::string_view text) {
  out->push_back('"');
  for (const char c : text) {
    switch (c) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\t':
        out->append("\\t");
        break;
      case '\b':
        out->append("\\b");
        break;
      case '\f':
        out->append("\\f");
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char escaped[8];
          std::snprintf(escaped, sizeof escaped, "\\u%04x", static_cast<unsigned>(c));
          out->append(escaped);
        } else {
          out->push_back(c);
        }
    }
  }
  out->push_back('"');
}

std::string balance_json(const ledger::Balance& balance) {
  std::string out = "{\"limite\":";
  append_int(&out, balance.limit_cents);
  out.append(",\"saldo\":");
  append_int(&out, balance.balance_cents);
  out.push_back('}');
  return out;
}

std::string statement_json(const ledger::Statement& statement) {
  std::string out;
  out.reserve(256 + statement.entries.size() * 128);
  out.append("{\"saldo\":{\"total\":");
  append_int(&out, statement.balance_cents);
  out.append(",\"data_extrato\":");
  append_json_string(&out, statement.taken_at);
  out.append(",\"limite\":");
  append_int(&out, statement.limit_cents);
  out.append("},\"ultimas_transacoes\":[");
  bool first = true;
  for (const ledger::Entry& entry : statement.entries) {
    if (!first) out.push_back(',');
    first = false;
    out.append("{\"valor\":");
    append_int(&out, entry.amount_cents);
    out.append(entry.kind == ledger::Kind::credit ? ",\"tipo\":\"c\"" : ",\"tipo\":\"d\"");
    out.append(",\"descricao\":");
    append_json_string(&out, entry.description);
    out.append(",\"realizada_em\":");
    append_json_string(&out, entry.created_at);
    out.push_back('}');
  }
  out.append("]}");
  return out;
}

std::string error_json(std::string_view message) {
  std::string out = "{\"error\":";
  append_json_string(&out, message);
  out.push_back('}');
  return out;
}

}  // namespace http
