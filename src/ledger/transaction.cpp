#include "ledger/transaction.h"

#include "crebito_limits.h"

namespace ledger {

bool amount_valid(int64_t amount_cents) {
  return amount_cents >= limits::amount_cents_min && amount_cents <= limits::amount_cents_max;
}

std::optional<Kind> parse_kind(std::string_view text) {
  if (text == "c") return Kind::credit;
  if (text == "d") return Kind::debit;
  return std::nullopt;
}

std::optional<size_t> utf8_code_points(std::string_view text) {
  size_t count = 0;
  size_t i = 0;
  while (i < text.size()) {
    const auto lead = static_cast<unsigned char>(text[i]);
    size_t length;
    uint32_t code_point;
    if (lead < 0x80) {
      length = 1;
      code_point = lead;
    } else if ((lead & 0xE0) == 0xC0) {
      length = 2;
      code_point = lead & 0x1F;
    } else if ((lead & 0xF0) == 0xE0) {
      length = 3;
      code_point = lead & 0x0F;
    } else if ((lead & 0xF8) == 0xF0) {
      length = 4;
      code_point = lead & 0x07;
    } else {
      return std::nullopt;  // A continuation byte or 0xF8..0xFF cannot start a character.
    }
    if (i + length > text.size()) return std::nullopt;
    for (size_t k = 1; k < length; ++k) {
      const auto next = static_cast<unsigned char>(text[i + k]);
      if ((next & 0xC0) != 0x80) return std::nullopt;
      code_point = (code_point << 6) | (next & 0x3F);
    }
    // The shortest form only, no UTF-16 surrogates, nothing beyond Unicode's last code point.
    static constexpr uint32_t smallest_of_length[] = {0, 0, 0x80, 0x800, 0x10000};
    if (code_point < smallest_of_length[length]) return std::nullopt;
    if (code_point >= 0xD800 && code_point <= 0xDFFF) return std::nullopt;
    if (code_point > 0x10FFFF) return std::nullopt;
    i += length;
    ++count;
  }
  return count;
}

bool description_valid(std::string_view text) {
  const std::optional<size_t> count = utf8_code_points(text);
  return count && *count >= limits::description_code_points_min &&
         *count <= limits::description_code_points_max;
}

bool request_valid(const TransactionRequest& request) {
  return amount_valid(request.amount_cents) && description_valid(request.description) &&
         (request.kind == Kind::credit || request.kind == Kind::debit);
}

}  // namespace ledger
