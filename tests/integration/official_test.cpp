// The validation sequence of the official Rinha de Backend 2024/Q1 test, through haproxy and both
// instances: 25 concurrent debits then 25 concurrent credits on account 1, the per-account
// toma/devolve/danada checks with 4 parallel statements, the invalid payloads, and account 6.
// With CREBITO_TARGET=HOST:PORT it runs against that stack instead (balances must start at 0).
#include <catch2/catch.hpp>
#include <thread>
#include <vector>

#include "support/api.h"
#include "support/stack.h"

namespace {

constexpr int concurrent_requests = 25;
constexpr int parallel_statements = 4;
const int64_t limits_by_account[] = {0, 100000, 80000, 1000000, 10000000, 500000};

// Sends `count` requests at once, each on its own connection (Gatling's atOnceUsers), and returns
// their statuses.
std::vector<int> at_once(const Stack& stack, int count,
                         const std::function<int(httplib::Client&)>& request) {
  std::vector<int> statuses(static_cast<size_t>(count));
  std::vector<std::thread> users;
  for (int i = 0; i < count; ++i) {
    users.emplace_back([&, i] {
      auto client = stack.client();
      statuses[static_cast<size_t>(i)] = request(*client);
    });
  }
  for (std::thread& user : users) user.join();
  return statuses;
}

// Catch2's assertions are not thread-safe: the parallel validations record what went wrong and
// the test thread asserts on it.
struct Problems {
  std::vector<std::string> found;
  void expect(bool ok, const std::string& what) {
    if (!ok) found.push_back(what);
  }
};

std::string text(const nlohmann::json& value) { return value.dump(); }

Problems validate_account(const Stack& stack, int account) {
  Problems problems;
  const std::string tag = "account " + std::to_string(account) + ": ";
  auto client = stack.client();
  Answer statement = get_statement(*client, account);
  problems.expect(statement.status == 200,
                  tag + "statement status " + std::to_string(statement.status));
  if (statement.status != 200) return problems;
  problems.expect(statement.body["saldo"]["limite"] == limits_by_account[account],
                  tag + "limite " + text(statement.body["saldo"]["limite"]));
  problems.expect(statement.body["saldo"]["total"] == 0,
                  tag + "initial total " + text(statement.body["saldo"]["total"]));

  problems.expect(post_transaction(*client, account, 1, "c", "toma").status == 200, tag + "toma");
  problems.expect(post_transaction(*client, account, 1, "d", "devolve").status == 200,
                  tag + "devolve");
  statement = get_statement(*client, account);
  const nlohmann::json& entries = statement.body["ultimas_transacoes"];
  problems.expect(statement.status == 200 && entries.size() >= 2, tag + "statement after devolve");
  if (entries.size() >= 2) {
    problems.expect(entries[0]["descricao"] == "devolve" && entries[0]["tipo"] == "d" &&
                        entries[0]["valor"] == 1,
                    tag + "[0] is " + text(entries[0]));
    problems.expect(
        entries[1]["descricao"] == "toma" && entries[1]["tipo"] == "c" && entries[1]["valor"] == 1,
        tag + "[1] is " + text(entries[1]));
  }

  // Statements read right after a write, on whichever instance, must show it (read-your-writes
  // across the two processes).
  const Answer danada = post_transaction(*client, account, 1, "c", "danada");
  problems.expect(danada.status == 200, tag + "danada status " + std::to_string(danada.status));
  std::vector<Answer> statements(parallel_statements);
  std::vector<std::thread> readers;
  for (int i = 0; i < parallel_statements; ++i) {
    readers.emplace_back([&, i] {
      auto reader = stack.client();
      statements[static_cast<size_t>(i)] = get_statement(*reader, account);
    });
  }
  for (std::thread& reader : readers) reader.join();
  for (const Answer& answer : statements) {
    problems.expect(answer.status == 200, tag + "parallel statement status");
    if (answer.status != 200) continue;
    const nlohmann::json& newest = answer.body["ultimas_transacoes"][0];
    problems.expect(
        newest["descricao"] == "danada" && newest["tipo"] == "c" && newest["valor"] == 1,
        tag + "parallel statement shows " + text(newest));
    problems.expect(answer.body["saldo"]["limite"] == danada.body["limite"],
                    tag + "parallel statement limite");
    problems.expect(answer.body["saldo"]["total"] == danada.body["saldo"],
                    tag + "parallel statement total " + text(answer.body["saldo"]["total"]) +
                        " vs " + text(danada.body["saldo"]));
  }

  // The official test accepts 422 or 400 for these; crebito answers 422.
  const char* invalid_bodies[] = {
      R"({"valor": 1.2, "tipo": "d", "descricao": "devolve"})",
      R"({"valor": 1, "tipo": "x", "descricao": "devolve"})",
      R"({"valor": 1, "tipo": "c", "descricao": "123456789 e mais um pouco"})",
      R"({"valor": 1, "tipo": "c", "descricao": ""})",
      R"({"valor": 1, "tipo": "c", "descricao": null})",
  };
  for (const char* body : invalid_bodies) {
    const int status = post_transaction(*client, account, body).status;
    problems.expect(status == 422, tag + body + " gave " + std::to_string(status));
  }
  return problems;
}

}  // namespace

TEST_CASE("official 2024/Q1 validation sequence", "[official]") {
  const std::unique_ptr<Stack> stack = Stack::local_or_external();

  // Concurrency: no lost update among 25 simultaneous debits, then 25 credits.
  std::vector<int> statuses = at_once(*stack, concurrent_requests, [](httplib::Client& client) {
    return post_transaction(client, 1, 1, "d", "debits").status;
  });
  for (const int status : statuses) CHECK(status == 200);
  auto client = stack->client();
  CHECK(get_statement(*client, 1).body["saldo"]["total"] == -concurrent_requests);

  statuses = at_once(*stack, concurrent_requests, [](httplib::Client& client) {
    return post_transaction(client, 1, 1, "c", "credits").status;
  });
  for (const int status : statuses) CHECK(status == 200);
  CHECK(get_statement(*client, 1).body["saldo"]["total"] == 0);

  // Per-account validations run in parallel, as in the official test.
  std::vector<Problems> problems(6);
  std::vector<std::thread> accounts;
  for (int account = 1; account <= 5; ++account) {
    accounts.emplace_back([&, account] {
      problems[static_cast<size_t>(account)] = validate_account(*stack, account);
    });
  }
  for (std::thread& thread : accounts) thread.join();
  for (const Problems& account_problems : problems) {
    for (const std::string& problem : account_problems.found) FAIL_CHECK(problem);
  }

  CHECK(get_statement(*client, 6).status == 404);
}
