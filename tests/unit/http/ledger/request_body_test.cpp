// Parsing of the URL id and of the POST body: every rule of docs/API.md and the invalid
// payloads of the official test, at the wire level.
#include "http/ledger/request_body.h"

#include <catch2/catch.hpp>

using http::parse_account_id;
using http::parse_transaction_body;
using ledger::Kind;

TEST_CASE("account id is a positive decimal integer", "[http][id]") {
  CHECK(parse_account_id("1") == 1);
  CHECK(parse_account_id("5") == 5);
  CHECK(parse_account_id("6") == 6);  // Parsed; whether it exists is the ledger's business.
  CHECK(parse_account_id("123456789") == 123456789);
  CHECK_FALSE(parse_account_id("1234567890"));  // More digits than any id we could have.
  CHECK_FALSE(parse_account_id(""));
  CHECK_FALSE(parse_account_id("0"));
  CHECK_FALSE(parse_account_id("01"));
  CHECK_FALSE(parse_account_id("-1"));
  CHECK_FALSE(parse_account_id("+1"));
  CHECK_FALSE(parse_account_id("1a"));
  CHECK_FALSE(parse_account_id("abc"));
  CHECK_FALSE(parse_account_id(" 1"));
  CHECK_FALSE(parse_account_id("1.0"));
  CHECK_FALSE(parse_account_id("99999999999999999999999"));
}

TEST_CASE("a valid body gives the request", "[http][body]") {
  auto request =
      parse_transaction_body(R"({"valor": 1000, "tipo": "c", "descricao": "descricao"})");
  REQUIRE(request);
  CHECK(request->amount_cents == 1000);
  CHECK(request->kind == Kind::credit);
  CHECK(request->description == "descricao");

  request = parse_transaction_body(R"({"descricao":"d","tipo":"d","valor":1})");
  REQUIRE(request);
  CHECK(request->kind == Kind::debit);
}

TEST_CASE("valor must be an integer literal in range", "[http][body]") {
  auto body = [](const std::string& valor) {
    return parse_transaction_body(R"({"valor": )" + valor + R"(, "tipo": "c", "descricao": "x"})");
  };
  CHECK(body("1"));
  CHECK(body("9007199254740991"));
  CHECK_FALSE(body("9007199254740992"));
  CHECK_FALSE(body("18446744073709551615"));
  CHECK_FALSE(body("99999999999999999999"));
  CHECK_FALSE(body("0"));
  CHECK_FALSE(body("-0"));
  CHECK_FALSE(body("-5"));
  CHECK_FALSE(body("1.2"));
  CHECK_FALSE(body("1.0"));
  CHECK_FALSE(body("1e2"));
  CHECK_FALSE(body("1E2"));
  CHECK_FALSE(body("\"10\""));
  CHECK_FALSE(body("null"));
  CHECK_FALSE(body("true"));
  CHECK_FALSE(body("[1]"));
  CHECK_FALSE(body("{}"));
  CHECK_FALSE(body("01"));  // Not JSON.
}

TEST_CASE("tipo must be the string c or d", "[http][body]") {
  auto body = [](const std::string& tipo) {
    return parse_transaction_body(R"({"valor": 1, "tipo": )" + tipo + R"(, "descricao": "x"})");
  };
  CHECK(body(R"("c")"));
  CHECK(body(R"("d")"));
  CHECK(body(R"("\u0063")"));  // An escaped "c" is still "c".
  CHECK_FALSE(body(R"("x")"));
  CHECK_FALSE(body(R"("C")"));
  CHECK_FALSE(body(R"("")"));
  CHECK_FALSE(body(R"(null)"));
  CHECK_FALSE(body(R"(99)"));
  CHECK_FALSE(body(R"(["c"])"));
}

TEST_CASE("descricao must be a string of 1 to 10 characters", "[http][body]") {
  auto body = [](const std::string& descricao) {
    return parse_transaction_body(R"({"valor": 1, "tipo": "c", "descricao": )" + descricao + "}");
  };
  CHECK(body(R"("0123456789")"));
  CHECK(body(R"("débitoçãoé")"));
  CHECK(body(R"("d\u00e9bito")"));
  CHECK(body(R"("\"\\\n")"));        // Quote, backslash and newline: 3 characters.
  CHECK(body(R"("\ud83d\ude00")"));  // One character from a surrogate pair.
  CHECK_FALSE(body(R"("01234567890")"));
  CHECK_FALSE(body(R"("débitoçãoéé")"));
  CHECK_FALSE(body(R"("123456789 e mais um pouco")"));
  CHECK_FALSE(body(R"("")"));
  CHECK_FALSE(body("null"));
  CHECK_FALSE(body("1"));
  CHECK_FALSE(body("\"\xC3(\""));    // Invalid UTF-8 inside the string.
  CHECK_FALSE(body(R"("\ud83d")"));  // A lone surrogate escape.
}

TEST_CASE("every field is required and the body must be a JSON object", "[http][body]") {
  CHECK_FALSE(parse_transaction_body(R"({"tipo": "c", "descricao": "x"})"));
  CHECK_FALSE(parse_transaction_body(R"({"valor": 1, "descricao": "x"})"));
  CHECK_FALSE(parse_transaction_body(R"({"valor": 1, "tipo": "c"})"));
  CHECK_FALSE(parse_transaction_body(""));
  CHECK_FALSE(parse_transaction_body("null"));
  CHECK_FALSE(parse_transaction_body("[]"));
  CHECK_FALSE(parse_transaction_body("\"x\""));
  CHECK_FALSE(parse_transaction_body(R"({"valor": 1, "tipo": "c", "descricao": "x")"));
  CHECK_FALSE(parse_transaction_body(R"({"valor": 1, "tipo": "c", "descricao": "x"} x)"));
  CHECK_FALSE(parse_transaction_body(R"({"valor": 1, "tipo": "c", "descricao": "x"}{})"));
  CHECK_FALSE(parse_transaction_body("{\"valor\": 1, \"tipo\": \"c\", \"descricao\": \"x\"\xff}"));
  CHECK_FALSE(parse_transaction_body(std::string(4096, '{')));
}

TEST_CASE("unknown fields are ignored", "[http][body]") {
  auto request = parse_transaction_body(
      R"({"valor": 7, "tipo": "d", "descricao": "x", "extra": {"deep": [1, 2.5, null]}})");
  REQUIRE(request);
  CHECK(request->amount_cents == 7);
}
