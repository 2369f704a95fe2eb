#include "processor.h"

#include <algorithm>
#include <limits>
#include <nlohmann/json.hpp>

#include "clock.h"

namespace processor_sim {
namespace {

using nlohmann::json;
// Answers keep the real one's field order (System.Text.Json writes them as declared).
using ordered_json = nlohmann::ordered_json;
constexpr const char* json_type = "application/json; charset=utf-8";
// What .NET reads for a missing requestedAt: DateTime's default, 0001-01-01, outside any window.
constexpr int64_t missing_requested_at_ms = -62'135'596'800'000;
// The real processor takes any .NET decimal; this one keeps cents in an int64 with room to sum.
constexpr int64_t amount_units_max = 1'000'000'000'000;  // 10^12 per payment
constexpr int amount_scale_max = 2;                      // decimal.Round(amount, 2)
constexpr int exponent_max = 400;                        // |e| in "1e5"; beyond it, 400
constexpr std::string_view too_many_text = "Calm down, bitch. Try again later.";
constexpr std::string_view home_page =
    "<!doctype html><title>processor-sim</title><p>A payment processor stand-in.</p>";

Response json_answer(int status, const ordered_json& body) {
  Response response;
  response.status = status;
  response.content_type = json_type;
  response.body = body.dump();
  return response;
}

Response empty_answer(int status) {
  Response response;
  response.status = status;
  return response;
}

int64_t power_of_ten(int exponent) {
  int64_t value = 1;
  for (int i = 0; i < exponent; ++i) value *= 10;
  return value;
}

// `value` × 10^-scale as decimal text with exactly `scale` decimals ("-1.50" for {-150, 2}).
std::string scaled_text(__int128 value, int scale) {
  const bool negative = value < 0;
  unsigned __int128 magnitude = negative ? -static_cast<unsigned __int128>(value) : value;
  std::string digits;
  do {
    digits.insert(digits.begin(), static_cast<char>('0' + static_cast<int>(magnitude % 10)));
    magnitude /= 10;
  } while (magnitude != 0);
  if (scale > 0) {
    if (digits.size() <= static_cast<size_t>(scale)) {
      digits.insert(0, static_cast<size_t>(scale) + 1 - digits.size(), '0');
    }
    digits.insert(digits.size() - static_cast<size_t>(scale), 1, '.');
  }
  return negative ? "-" + digits : digits;
}

// An amount in cents printed with `scale` (0..2) decimals; the cents below it are zero.
std::string amount_text(int64_t cents, int scale) {
  return scaled_text(cents / power_of_ten(amount_scale_max - scale), scale);
}

struct Amount {
  int64_t cents = 0;
  int scale = 0;
};

// A JSON number's text to cents as .NET does it: the exact decimal, decimal.Round(amount, 2)
// (half to even), keeping at most 2 of its decimals. nullopt beyond the bounds above.
std::optional<Amount> parse_amount(std::string_view text) {
  bool negative = false;
  if (!text.empty() && text.front() == '-') {
    negative = true;
    text.remove_prefix(1);
  }
  std::string digits;  // The significand's digits, integer part then fraction.
  int fraction_digits = 0;
  size_t i = 0;
  for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i) digits += text[i];
  if (i < text.size() && text[i] == '.') {
    for (++i; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i) {
      digits += text[i];
      ++fraction_digits;
    }
  }
  int exponent = 0;
  if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    bool exponent_negative = false;
    if (i < text.size() && (text[i] == '+' || text[i] == '-')) exponent_negative = text[i++] == '-';
    for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i) {
      exponent = exponent * 10 + (text[i] - '0');
      if (exponent > exponent_max) return std::nullopt;
    }
    if (exponent_negative) exponent = -exponent;
  }
  if (digits.empty() || i != text.size()) return std::nullopt;
  // value = digits × 10^shift, in cents: digits × 10^(shift + 2).
  const int shift = exponent - fraction_digits;
  const int scale = std::clamp(-shift, 0, amount_scale_max);
  int cents_shift = shift + amount_scale_max;
  std::string kept = digits;
  std::string dropped;
  if (cents_shift < 0) {
    const size_t drop = static_cast<size_t>(-cents_shift);
    if (drop >= kept.size()) {
      dropped = std::string(drop - kept.size(), '0') + kept;
      kept = "0";
    } else {
      dropped = kept.substr(kept.size() - drop);
      kept.erase(kept.size() - drop);
    }
    cents_shift = 0;
  }
  kept.erase(0, std::min(kept.find_first_not_of('0'), kept.size() - 1));
  // 10^12 units are 10^14 cents: 15 digits; anything longer is over the bound.
  if (kept.size() + static_cast<size_t>(cents_shift) > 15) return std::nullopt;
  int64_t cents = std::stoll(kept) * power_of_ten(cents_shift);
  if (!dropped.empty()) {
    const std::string half = "5" + std::string(dropped.size() - 1, '0');
    const int order = dropped.compare(half);
    if (order > 0 || (order == 0 && cents % 2 == 1)) ++cents;
  }
  if (cents > amount_units_max * 100) return std::nullopt;
  return Amount{negative ? -cents : cents, scale};
}

// The fields of a POST /payments body, read in one pass that keeps the amount's text (.NET reads
// the decimal from the text; a double would round it first). Unknown fields are ignored; a
// repeated field keeps its last value, as System.Text.Json does.
class PaymentBody : public nlohmann::json_sax<json> {
 public:
  std::optional<std::string> correlation_id;
  std::optional<std::string> amount_text;
  std::optional<json> requested_at;  // Any JSON value; checked by the caller.
  bool top_is_object = false;
  bool wrong_type = false;  // correlationId or amount of the wrong JSON type.

  bool null() override { return value(json(nullptr)); }
  bool boolean(bool v) override { return value(json(v)); }
  bool number_integer(number_integer_t v) override { return number(std::to_string(v)); }
  bool number_unsigned(number_unsigned_t v) override { return number(std::to_string(v)); }
  bool number_float(number_float_t, const string_t& text) override { return number(text); }
  bool string(string_t& v) override {
    if (depth_ == 1 && key_ == "correlationId") {
      correlation_id = v;
      return true;
    }
    return value(json(v));
  }
  bool binary(binary_t&) override { return false; }
  bool start_object(std::size_t) override {
    if (depth_ == 0) top_is_object = true;
    return enter();
  }
  bool end_object() override { return leave(); }
  bool start_array(std::size_t) override { return enter(); }
  bool end_array() override { return leave(); }
  bool key(string_t& k) override {
    if (depth_ == 1) key_ = k;
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override {
    return false;
  }

 private:
  bool number(const std::string& text) {
    if (depth_ == 1 && key_ == "amount") {
      amount_text = text;
      return true;
    }
    return value(json(0));  // Only the type matters elsewhere.
  }
  bool value(const json& v) {
    if (depth_ != 1) return true;
    if (key_ == "correlationId" || key_ == "amount") wrong_type = true;
    if (key_ == "requestedAt") requested_at = v;
    return true;
  }
  void nested() {
    if (key_ == "correlationId" || key_ == "amount") wrong_type = true;
    if (key_ == "requestedAt") requested_at = json::object();
  }
  // An object or array opens: one level deeper, a nested value if under a top-level key.
  bool enter() {
    if (depth_ == 1) nested();
    ++depth_;
    return true;
  }
  bool leave() {
    --depth_;
    return true;
  }
  int depth_ = 0;
  std::string key_;
};

}  // namespace

std::optional<Decimal> parse_fee(std::string_view text) {
  Decimal fee;
  bool point = false;
  bool any_digit = false;
  for (const char c : text) {
    if (c == '.' && !point) {
      point = true;
    } else if (c >= '0' && c <= '9') {
      any_digit = true;
      if (point && ++fee.scale > fee_scale_max) return std::nullopt;
      fee.units = fee.units * 10 + (c - '0');
      if (fee.units >= power_of_ten(fee_scale_max + 1)) return std::nullopt;
    } else {
      return std::nullopt;
    }
  }
  if (!any_digit || fee.units >= power_of_ten(fee.scale)) return std::nullopt;  // Below 1.
  return fee;
}

Processor::Processor(Settings settings, Timers& timers)
    : settings_(std::move(settings)), timers_(timers), token_(settings_.token) {}

bool Processor::authorized(const Request& request) const {
  const std::string* token = request.header("x-rinha-token");
  return token != nullptr && *token == token_;
}

bool Processor::acquire_permit(std::function<void()> start) {
  if (permits_used_ < settings_.permits_max) {
    ++permits_used_;
    start();
    return true;
  }
  if (permit_queue_.size() >= static_cast<size_t>(settings_.permit_queue_max)) return false;
  permit_queue_.push_back(std::move(start));
  return true;
}

void Processor::release_permit() {
  if (permit_queue_.empty()) {
    --permits_used_;
    return;
  }
  // The permit passes straight to the oldest waiter.
  std::function<void()> start = std::move(permit_queue_.front());
  permit_queue_.pop_front();
  start();
}

Response Processor::too_many() const {
  Response response;
  response.status = 429;
  // The real one answers Retry-After with its RATE_LIMIT_SECONDS, for either limiter.
  response.retry_after_s =
      static_cast<int>(std::max<int64_t>(1, settings_.health_window_ms / 1000));
  response.body = std::string(too_many_text);
  return response;
}

Response Processor::health_answer() const {
  return json_answer(200, {{"failing", failure_}, {"minResponseTime", delay_ms_}});
}

void Processor::handle(const Request& request, Reply reply) {
  const std::string& path = request.path;
  const std::string& method = request.method;
  auto route = [&](std::string_view route_method) {
    if (method == route_method) return true;
    reply(empty_answer(405));
    return false;
  };
  if (path == "/payments") {
    if (route("POST")) post_payment(request, std::move(reply));
  } else if (path == "/payments/service-health") {
    if (route("GET")) get_health(std::move(reply));
  } else if (path.rfind("/payments/", 0) == 0 && path.find('/', 10) == std::string::npos) {
    if (route("GET")) get_payment(path.substr(10), std::move(reply));
  } else if (path == "/admin/payments-summary") {
    if (route("GET")) reply(admin_summary(request));
  } else if (path == "/admin/payments") {
    if (route("GET")) reply(admin_payments(request));
  } else if (path == "/admin/purge-payments") {
    if (route("POST")) reply(admin_purge(request));
  } else if (path == "/admin/configurations/token") {
    if (route("PUT")) reply(admin_token(request));
  } else if (path == "/admin/configurations/delay") {
    if (route("PUT")) reply(admin_delay(request));
  } else if (path == "/admin/configurations/failure") {
    if (route("PUT")) reply(admin_failure(request));
  } else if (path == "/") {
    if (route("GET")) {
      Response page;
      page.content_type = "text/html";
      page.body = std::string(home_page);
      reply(std::move(page));
    }
  } else {
    reply(empty_answer(404));
  }
}

void Processor::post_payment(const Request& request, Reply reply) {
  // As the real one's pipeline: the limiter first, then the body is read, then the delay, then
  // the failure flag, then the insert.
  auto start = [this, body = request.body, reply]() { record_payment(body, reply); };
  if (!acquire_permit(std::move(start))) reply(too_many());
}

void Processor::record_payment(const std::string& body, Reply reply) {
  PaymentBody fields;
  const bool parsed = json::sax_parse(body, &fields, json::input_format_t::json, true, false);
  std::optional<Amount> amount;
  if (parsed && fields.amount_text) amount = parse_amount(*fields.amount_text);
  int64_t requested_at_ms = missing_requested_at_ms;
  bool requested_at_ok = true;
  if (fields.requested_at) {
    const std::optional<int64_t> at =
        fields.requested_at->is_string()
            ? clocks::parse_iso_ms(fields.requested_at->get<std::string>(), clocks::Bound::to)
            : std::nullopt;
    requested_at_ok = at.has_value();
    requested_at_ms = at.value_or(missing_requested_at_ms);
  }
  if (!parsed || !fields.top_is_object || fields.wrong_type || !fields.correlation_id || !amount ||
      !requested_at_ok) {
    release_permit();
    return reply(empty_answer(400));
  }
  auto finish = [this, id = *fields.correlation_id,
                 record = Record{amount->cents, requested_at_ms, amount->scale}, reply]() {
    // The failure flag as it is when the delay ends, as the real one's filter reads it.
    if (failure_) {
      release_permit();
      return reply(empty_answer(500));
    }
    const bool inserted = payments_.emplace(id, record).second;
    release_permit();
    if (!inserted) {
      return reply(json_answer(
          422, {{"message", "Payment could not be processed. CorrelationId already exists: " + id +
                                ". Error details: duplicate key value violates unique constraint "
                                "\"payments_pkey\""}}));
    }
    reply(json_answer(200, {{"message", "payment processed successfully"}}));
  };
  if (delay_ms_ > 0) {
    timers_.after(delay_ms_, std::move(finish));
  } else {
    finish();
  }
}

void Processor::get_payment(const std::string& id, Reply reply) {
  auto start = [this, id, reply]() {
    const auto it = payments_.find(id);
    if (it == payments_.end()) {
      release_permit();
      return reply(empty_answer(404));
    }
    const Record& record = it->second;
    Response response;
    response.content_type = json_type;
    response.body =
        R"({"correlationId":)" + json(id).dump() + R"(,"amount":)" +
        amount_text(record.amount_cents, record.amount_scale) + R"(,"requestedAt":")" +
        clocks::format_iso(std::max<int64_t>(0, record.requested_at_ms), clocks::Precision::ms) +
        R"("})";
    release_permit();
    reply(std::move(response));
  };
  if (!acquire_permit(std::move(start))) reply(too_many());
}

// A fixed window of one permit; callers beyond it wait for the next free window, at most
// health_queue_max of them at a time.
void Processor::get_health(Reply reply) {
  const int64_t now = clocks::steady_ms();
  if (health_next_ms_ <= now) {
    health_next_ms_ = now + settings_.health_window_ms;
    return reply(health_answer());
  }
  if (health_waiters_ >= settings_.health_queue_max) return reply(too_many());
  ++health_waiters_;
  const int64_t turn_ms = health_next_ms_;
  health_next_ms_ += settings_.health_window_ms;
  timers_.after(turn_ms - now, [this, reply]() {
    --health_waiters_;
    reply(health_answer());  // The flags as they are when its turn comes.
  });
}

Response Processor::admin_summary(const Request& request) const {
  // As the real one: the bounds are read before the token is checked; with both, BETWEEN
  // (inclusive), with either missing or empty, every payment.
  const std::optional<std::string> from_text = query_param(request.query, "from");
  const std::optional<std::string> to_text = query_param(request.query, "to");
  std::optional<int64_t> from;
  std::optional<int64_t> to;
  if (from_text && !from_text->empty()) {
    from = clocks::parse_iso_ms(*from_text, clocks::Bound::from);
    if (!from) return empty_answer(400);
  }
  if (to_text && !to_text->empty()) {
    to = clocks::parse_iso_ms(*to_text, clocks::Bound::to);
    if (!to) return empty_answer(400);
  }
  if (!authorized(request)) return empty_answer(401);
  const bool filtered = from && to;
  int64_t requests = 0;
  int64_t cents = 0;
  int scale = 0;  // Postgres's SUM over numerics: the largest scale of its terms.
  for (const auto& [id, record] : payments_) {
    if (filtered && (record.requested_at_ms < *from || record.requested_at_ms > *to)) continue;
    ++requests;
    cents += record.amount_cents;
    scale = std::max(scale, record.amount_scale);
  }
  // COALESCE(SUM(amount), 0) is the integer 0 with no payments; totalAmount * fee has the scale of
  // both factors added, as .NET's decimal product.
  const Decimal& fee = settings_.fee;
  const __int128 fee_product =
      static_cast<__int128>(cents / power_of_ten(amount_scale_max - scale)) * fee.units;
  Response response;
  response.content_type = json_type;
  response.body = R"({"totalAmount":)" + amount_text(cents, scale) + R"(,"totalRequests":)" +
                  std::to_string(requests) + R"(,"totalFee":)" +
                  scaled_text(fee_product, scale + fee.scale) + R"(,"feePerTransaction":)" +
                  scaled_text(fee.units, fee.scale) + "}";
  return response;
}

// [{"correlationId","amount","requestedAt"}, ...] in no particular order; requestedAt as stored
// (a missing one shows as the epoch, as in GET /payments/{id}).
Response Processor::admin_payments(const Request& request) const {
  if (!authorized(request)) return empty_answer(401);
  std::string body = "[";
  for (const auto& [id, record] : payments_) {
    if (body.size() > 1) body += ',';
    // Any string was accepted as a correlationId: escape it.
    body +=
        R"({"correlationId":)" + json(id).dump() + R"(,"amount":)" +
        amount_text(record.amount_cents, amount_scale_max) + R"(,"requestedAt":")" +
        clocks::format_iso(std::max<int64_t>(0, record.requested_at_ms), clocks::Precision::ms) +
        R"("})";
  }
  body += ']';
  Response response;
  response.content_type = json_type;
  response.body = std::move(body);
  return response;
}

Response Processor::admin_purge(const Request& request) {
  if (!authorized(request)) return empty_answer(401);
  payments_.clear();
  return json_answer(200, {{"message", "All payments purged."}});
}

// The PUTs read their body before the token is checked, as the real one's binding comes before
// its token filter: a bad body is 400 whatever the token.
Response Processor::admin_token(const Request& request) {
  const json body = json::parse(request.body, nullptr, false);
  if (!body.is_object() || !body.contains("token") || !body["token"].is_string()) {
    return empty_answer(400);
  }
  if (!authorized(request)) return empty_answer(401);
  token_ = body["token"].get<std::string>();
  return empty_answer(204);
}

Response Processor::admin_delay(const Request& request) {
  const json body = json::parse(request.body, nullptr, false);
  if (!body.is_object() || !body.contains("delay") || !body["delay"].is_number_integer()) {
    return empty_answer(400);
  }
  const json& delay = body["delay"];
  const bool fits = delay.is_number_unsigned()
                        ? delay.get<uint64_t>() <= std::numeric_limits<int32_t>::max()
                        : delay.get<int64_t>() >= std::numeric_limits<int32_t>::min();
  if (!fits) return empty_answer(400);  // An Int32 on the real one.
  if (!authorized(request)) return empty_answer(401);
  const int64_t was = delay_ms_;
  delay_ms_ = delay.get<int64_t>();
  return json_answer(200, {{"config", "delay"}, {"was", was}, {"is", delay_ms_}});
}

Response Processor::admin_failure(const Request& request) {
  const json body = json::parse(request.body, nullptr, false);
  if (!body.is_object() || !body.contains("failure") || !body["failure"].is_boolean()) {
    return empty_answer(400);
  }
  if (!authorized(request)) return empty_answer(401);
  const bool was = failure_;
  failure_ = body["failure"].get<bool>();
  return json_answer(200, {{"config", "failure"}, {"was", was}, {"is", failure_}});
}

}  // namespace processor_sim
