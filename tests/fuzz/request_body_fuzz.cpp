// Fuzz target: the request rules on arbitrary bytes. The input is used three ways: as a request
// body (parse_transaction_body), as the {id} of a URL (parse_account_id) and as a description
// (utf8_code_points, checked against an independent decoder). Whatever the input, nothing
// crashes, and whatever is accepted satisfies the rules of docs/API.md; a violation aborts.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "crebito_limits.h"
#include "http/ledger/request_body.h"
#include "ledger/transaction.h"

namespace {

void require(bool condition, const char* what) {
  if (condition) return;
  std::fprintf(stderr, "request_body_fuzz: %s\n", what);
  std::abort();
}

// RFC 3629 section 4's grammar, written out byte range by byte range (unlike transaction.cpp,
// which decodes values and then checks them). Returns -1 for invalid UTF-8.
long reference_code_points(std::string_view text) {
  long count = 0;
  size_t i = 0;
  const auto in = [&](size_t at, unsigned lo, unsigned hi) {
    if (at >= text.size()) return false;
    const auto byte = static_cast<unsigned char>(text[at]);
    return byte >= lo && byte <= hi;
  };
  while (i < text.size()) {
    const auto lead = static_cast<unsigned char>(text[i]);
    size_t length = 0;
    if (lead <= 0x7F) {
      length = 1;
    } else if (lead >= 0xC2 && lead <= 0xDF) {
      length = in(i + 1, 0x80, 0xBF) ? 2 : 0;
    } else if (lead == 0xE0) {
      length = in(i + 1, 0xA0, 0xBF) && in(i + 2, 0x80, 0xBF) ? 3 : 0;
    } else if ((lead >= 0xE1 && lead <= 0xEC) || lead == 0xEE || lead == 0xEF) {
      length = in(i + 1, 0x80, 0xBF) && in(i + 2, 0x80, 0xBF) ? 3 : 0;
    } else if (lead == 0xED) {
      length = in(i + 1, 0x80, 0x9F) && in(i + 2, 0x80, 0xBF) ? 3 : 0;
    } else if (lead == 0xF0) {
      length = in(i + 1, 0x90, 0xBF) && in(i + 2, 0x80, 0xBF) && in(i + 3, 0x80, 0xBF) ? 4 : 0;
    } else if (lead >= 0xF1 && lead <= 0xF3) {
      length = in(i + 1, 0x80, 0xBF) && in(i + 2, 0x80, 0xBF) && in(i + 3, 0x80, 0xBF) ? 4 : 0;
    } else if (lead == 0xF4) {
      length = in(i + 1, 0x80, 0x8F) && in(i + 2, 0x80, 0xBF) && in(i + 3, 0x80, 0xBF) ? 4 : 0;
    }
    if (length == 0) return -1;
    i += length;
    ++count;
  }
  return count;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  if (const auto request = http::parse_transaction_body(text)) {
    require(ledger::request_valid(*request), "an accepted body breaks the rules");
    require(request->amount_cents >= limits::amount_cents_min, "amount below the minimum");
    require(request->amount_cents <= limits::amount_cents_max, "amount above the maximum");
    require(request->kind == ledger::Kind::credit || request->kind == ledger::Kind::debit,
            "kind neither c nor d");
    const long points = reference_code_points(request->description);
    require(points >= static_cast<long>(limits::description_code_points_min) &&
                points <= static_cast<long>(limits::description_code_points_max),
            "accepted description is not 1..10 code points of valid UTF-8");
  }

  if (const auto id = http::parse_account_id(text)) {
    require(*id >= 1, "account id below 1");
    require(std::to_string(*id) == text, "account id not in canonical decimal form");
  }

  const auto points = ledger::utf8_code_points(text);
  const long expected = reference_code_points(text);
  require(points.has_value() == (expected >= 0), "UTF-8 validity differs from RFC 3629");
  require(!points || static_cast<long>(*points) == expected, "code point count differs");
  require(ledger::description_valid(text) == (expected >= 1 && expected <= 10),
          "description_valid differs from 1..10 code points");
  return 0;
}
