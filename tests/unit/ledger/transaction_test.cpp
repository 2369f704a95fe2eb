// The request rules of docs/API.md, each tested on both sides of its boundary.
#include "ledger/transaction.h"

#include <catch2/catch.hpp>

#include "crebito_limits.h"

using ledger::Kind;

TEST_CASE("amount is valid from 1 to 2^53-1 cents and not beyond", "[ledger][rules]") {
  CHECK_FALSE(ledger::amount_valid(0));
  CHECK_FALSE(ledger::amount_valid(-1));
  CHECK(ledger::amount_valid(1));
  CHECK(ledger::amount_valid(9'007'199'254'740'991));
  CHECK_FALSE(ledger::amount_valid(9'007'199'254'740'992));
  CHECK_FALSE(ledger::amount_valid(INT64_MIN));
}

TEST_CASE("kind is exactly c or d", "[ledger][rules]") {
  CHECK(ledger::parse_kind("c") == Kind::credit);
  CHECK(ledger::parse_kind("d") == Kind::debit);
  CHECK_FALSE(ledger::parse_kind("C"));
  CHECK_FALSE(ledger::parse_kind("x"));
  CHECK_FALSE(ledger::parse_kind(""));
  CHECK_FALSE(ledger::parse_kind("cd"));
  CHECK_FALSE(ledger::parse_kind(std::string_view("c\0", 2)));
}

TEST_CASE("utf8_code_points counts characters, not bytes", "[ledger][utf8]") {
  CHECK(ledger::utf8_code_points("") == 0u);
  CHECK(ledger::utf8_code_points("abc") == 3u);
  CHECK(ledger::utf8_code_points("débito") == 6u);       // 7 bytes
  CHECK(ledger::utf8_code_points("débitoçãoé") == 10u);  // 14 bytes
  CHECK(ledger::utf8_code_points("€") == 1u);            // 3 bytes
  CHECK(ledger::utf8_code_points("😀") == 1u);            // 4 bytes
  CHECK(ledger::utf8_code_points(std::string_view("a\0b", 3)) == 3u);
}

TEST_CASE("utf8_code_points refuses invalid UTF-8", "[ledger][utf8]") {
  CHECK_FALSE(ledger::utf8_code_points("\x80"));              // lone continuation byte
  CHECK_FALSE(ledger::utf8_code_points("\xC3"));              // truncated 2-byte sequence
  CHECK_FALSE(ledger::utf8_code_points("\xE2\x82"));          // truncated 3-byte sequence
  CHECK_FALSE(ledger::utf8_code_points("\xC3("));             // bad continuation
  CHECK_FALSE(ledger::utf8_code_points("\xC0\xAF"));          // overlong '/'
  CHECK_FALSE(ledger::utf8_code_points("\xE0\x80\xAF"));      // overlong, 3 bytes
  CHECK_FALSE(ledger::utf8_code_points("\xED\xA0\x80"));      // UTF-16 surrogate U+D800
  CHECK_FALSE(ledger::utf8_code_points("\xF4\x90\x80\x80"));  // U+110000
  CHECK_FALSE(ledger::utf8_code_points("\xFF"));
  CHECK(ledger::utf8_code_points("\xF4\x8F\xBF\xBF") == 1u);  // U+10FFFF, the last one
  CHECK(ledger::utf8_code_points("\xEF\xBF\xBF") == 1u);      // U+FFFF
}

TEST_CASE("description holds 1 to 10 code points", "[ledger][rules]") {
  CHECK_FALSE(ledger::description_valid(""));
  CHECK(ledger::description_valid("a"));
  CHECK(ledger::description_valid("0123456789"));
  CHECK_FALSE(ledger::description_valid("0123456789a"));
  CHECK(ledger::description_valid("débitoçãoé"));
  CHECK_FALSE(ledger::description_valid("débitoçãoéé"));
  CHECK(ledger::description_valid("😀😀😀😀😀😀😀😀😀😀"));  // 40 bytes, 10 characters
  CHECK_FALSE(ledger::description_valid("123456789 e mais um pouco"));
  CHECK_FALSE(ledger::description_valid("abc\xC3"));
}

TEST_CASE("request_valid combines every rule", "[ledger][rules]") {
  ledger::TransactionRequest request{1, Kind::debit, "ok"};
  CHECK(ledger::request_valid(request));
  request.amount_cents = 0;
  CHECK_FALSE(ledger::request_valid(request));
  request = {1, Kind::debit, ""};
  CHECK_FALSE(ledger::request_valid(request));
  request = {1, static_cast<Kind>('x'), "ok"};
  CHECK_FALSE(ledger::request_valid(request));
}
