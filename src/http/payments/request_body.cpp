#include "http/payments/request_body.h"

#include <nlohmann/json.hpp>

#include "clock.h"
#include "payments/amount.h"
#include "payments/payments.h"

namespace http {
namespace {

// Reads the body with nlohmann's SAX interface: numbers arrive with their text, so the amount is
// converted to cents exactly. Only the two top-level fields are kept.
class PaymentBodyReader : public nlohmann::json_sax<nlohmann::json> {
 public:
  std::optional<std::string> correlation_id;
  std::optional<int64_t> amount_cents;
  bool bad_amount = false;

  bool null() override { return scalar(); }
  bool boolean(bool) override { return scalar(); }
  bool number_integer(number_integer_t) override { return scalar(); }
  bool number_unsigned(number_unsigned_t value) override { return number(std::to_string(value)); }
  bool number_float(number_float_t, const string_t& text) override { return number(text); }
  bool string(string_t& value) override {
    if (depth_ == 1 && key_ == "correlationId") correlation_id = value;
    return scalar();
  }
  bool binary(binary_t&) override { return scalar(); }
  bool start_object(std::size_t) override { return open(); }
  bool end_object() override { return close(); }
  bool start_array(std::size_t) override { return open(); }
  bool end_array() override { return close(); }
  bool key(string_t& value) override {
    key_ = value;
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override {
    return false;
  }
  bool top_level_object() const { return saw_object_at_top_; }

 private:
  // A negative integer arrives through number_integer: it is never a valid amount.
  bool scalar() {
    if (depth_ == 1 && key_ == "amount") bad_amount = true;
    if (depth_ == 1 && key_ == "correlationId" && !correlation_id) correlation_id = "";
    key_.clear();
    return true;
  }
  bool number(const std::string& text) {
    if (depth_ == 1 && key_ == "amount") {
      amount_cents = payments::parse_amount_cents(text);
      if (!amount_cents) bad_amount = true;
      key_.clear();
      return true;
    }
    return scalar();
  }
  bool open() {
    if (depth_ == 0) saw_object_at_top_ = true;
    if (depth_ == 1 && (key_ == "amount" || key_ == "correlationId")) bad_amount = true;
    key_.clear();
    ++depth_;
    return depth_ <= max_depth_;
  }
  bool close() {
    --depth_;
    return true;
  }

  static constexpr int max_depth_ = 8;  // Deeper bodies are not payments; stop reading.
  int depth_ = 0;
  bool saw_object_at_top_ = false;
  std::string key_;
};

// A missing bound keeps *value (an open end); an unparsable one is refused.
bool read_bound(std::optional<std::string_view> text, clocks::Bound bound, int64_t* value) {
  if (!text) return true;
  const std::optional<int64_t> parsed = clocks::parse_iso_ms(*text, bound);
  if (!parsed) return false;
  *value = *parsed;
  return true;
}

}  // namespace

std::optional<PaymentRequest> parse_payment_body(std::string_view body) {
  PaymentBodyReader reader;
  const bool parsed = nlohmann::json::sax_parse(body, &reader);
  if (!parsed || !reader.top_level_object() || reader.bad_amount || !reader.amount_cents ||
      !reader.correlation_id || !payments::valid_correlation_id(*reader.correlation_id)) {
    return std::nullopt;
  }
  return PaymentRequest{*reader.correlation_id, *reader.amount_cents};
}

std::optional<SummaryRange> parse_summary_range(std::optional<std::string_view> from,
                                                std::optional<std::string_view> to) {
  SummaryRange range;
  if (!read_bound(from, clocks::Bound::from, &range.from_ms) ||
      !read_bound(to, clocks::Bound::to, &range.to_ms)) {
    return std::nullopt;
  }
  return range;
}

}  // namespace http
