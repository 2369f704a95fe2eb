// The JSON answers: exact shapes, and escaping that round-trips through a real JSON parser.
#include "http/ledger/answers.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using nlohmann::json;

TEST_CASE("balance answer has limite and saldo as integers", "[http][answers]") {
  CHECK(http::balance_json({100000, -25}) == R"({"limite":100000,"saldo":-25})");
  CHECK(http::balance_json({0, 9007199254740991}) == R"({"limite":0,"saldo":9007199254740991})");
}

TEST_CASE("strings are escaped per RFC 8259", "[http][answers]") {
  auto escaped = [](std::string_view text) {
    std::string out;
    http::append_json_string(&out, text);
    return out;
  };
  CHECK(escaped("plain") == R"("plain")");
  CHECK(escaped("a\"b") == R"("a\"b")");
  CHECK(escaped("a\\b") == R"("a\\b")");
  CHECK(escaped("\n\r\t\b\f") == R"("\n\r\t\b\f")");
  CHECK(escaped(std::string_view("\0\x01\x1f", 3)) == R"("\u0000\u0001\u001f")");
  CHECK(escaped("\x7f") == "\"\x7f\"");
  CHECK(escaped("débito€😀") == "\"débito€😀\"");  // UTF-8 passes through.
  CHECK(escaped("</script>") == R"("</script>")");
}

TEST_CASE("statement answer round-trips through a JSON parser", "[http][answers]") {
  ledger::Statement statement;
  statement.balance_cents = -9098;
  statement.limit_cents = 100000;
  statement.taken_at = "2024-01-17T02:34:41.217753Z";
  statement.entries.push_back(
      {10, ledger::Kind::credit, "a\"b\\c\n\x01é", "2024-01-17T02:34:38.543030Z"});
  statement.entries.push_back({5, ledger::Kind::debit, "x", "2024-01-17T02:34:38.543029Z"});

  const json parsed = json::parse(http::statement_json(statement));
  CHECK(parsed["saldo"]["total"] == -9098);
  CHECK(parsed["saldo"]["limite"] == 100000);
  CHECK(parsed["saldo"]["data_extrato"] == "2024-01-17T02:34:41.217753Z");
  REQUIRE(parsed["ultimas_transacoes"].size() == 2);
  CHECK(parsed["ultimas_transacoes"][0]["valor"] == 10);
  CHECK(parsed["ultimas_transacoes"][0]["tipo"] == "c");
  CHECK(parsed["ultimas_transacoes"][0]["descricao"] == "a\"b\\c\n\x01é");
  CHECK(parsed["ultimas_transacoes"][0]["realizada_em"] == "2024-01-17T02:34:38.543030Z");
  CHECK(parsed["ultimas_transacoes"][1]["tipo"] == "d");
}

TEST_CASE("statement answer, byte for byte", "[http][answers]") {
  ledger::Statement statement;
  statement.balance_cents = -9098;
  statement.limit_cents = 100000;
  statement.taken_at = "2024-01-17T02:34:41.217753Z";
  statement.entries.push_back({10, ledger::Kind::credit, "x", "2024-01-17T02:34:38.543030Z"});
  statement.entries.push_back({5, ledger::Kind::debit, "y", "2024-01-17T02:34:38.543029Z"});
  CHECK(http::statement_json(statement) ==
        R"({"saldo":{"total":-9098,"data_extrato":"2024-01-17T02:34:41.217753Z","limite":100000},)"
        R"("ultimas_transacoes":[{"valor":10,"tipo":"c","descricao":"x",)"
        R"("realizada_em":"2024-01-17T02:34:38.543030Z"},{"valor":5,"tipo":"d","descricao":"y",)"
        R"("realizada_em":"2024-01-17T02:34:38.543029Z"}]})");
}

TEST_CASE("statement of an account without transactions has an empty list", "[http][answers]") {
  ledger::Statement statement;
  statement.taken_at = "2024-01-17T02:34:41.217753Z";
  statement.limit_cents = 80000;
  CHECK(http::statement_json(statement) ==
        R"({"saldo":{"total":0,"data_extrato":"2024-01-17T02:34:41.217753Z","limite":80000},)"
        R"("ultimas_transacoes":[]})");
}

TEST_CASE("error answer escapes its message", "[http][answers]") {
  CHECK(http::error_json("bad \"x\"") == R"({"error":"bad \"x\""})");
}
