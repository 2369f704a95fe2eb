// Small helpers for talking to the ledger API in tests: one call per request, answers parsed as
// JSON (a null json when the body is not JSON, status 0 when the request failed).
#pragma once

#include <httplib.h>

#include <nlohmann/json.hpp>
#include <string>

struct Answer {
  int status = 0;
  nlohmann::json body;
};

inline Answer to_answer(const httplib::Result& result) {
  Answer answer;
  if (!result) return answer;
  answer.status = result->status;
  answer.body = nlohmann::json::parse(result->body, nullptr, false);
  if (answer.body.is_discarded()) answer.body = nullptr;
  return answer;
}

inline Answer post_transaction(httplib::Client& client, int account, const std::string& body) {
  return to_answer(client.Post(("/clientes/" + std::to_string(account) + "/transacoes").c_str(),
                               body, "application/json"));
}

inline Answer post_transaction(httplib::Client& client, int account, int64_t amount,
                               const char* kind, const std::string& description) {
  nlohmann::json body = {{"valor", amount}, {"tipo", kind}, {"descricao", description}};
  return post_transaction(client, account, body.dump());
}

inline Answer get_statement(httplib::Client& client, int account) {
  return to_answer(client.Get(("/clientes/" + std::to_string(account) + "/extrato").c_str()));
}
