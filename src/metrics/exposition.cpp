#include "metrics/exposition.h"

#include <charconv>
#include <cmath>

#include "check.h"

namespace metrics {

Histogram::Histogram(std::span<const int64_t> bounds) : bounds_count_(bounds.size()) {
  CREBITO_ASSERT(!bounds.empty() && bounds.size() <= buckets_max);
  for (size_t i = 0; i < bounds.size(); ++i) {
    CREBITO_ASSERT(i == 0 || bounds[i] > bounds[i - 1]);
    bounds_[i] = bounds[i];
  }
}

void Histogram::observe(int64_t value) {
  CREBITO_ASSERT(value >= 0);
  size_t i = 0;
  while (i < bounds_count_ && value > bounds_[i]) ++i;
  counts_[i].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(value, std::memory_order_relaxed);
}

uint64_t Histogram::count() const {
  uint64_t total = 0;
  for (size_t i = 0; i <= bounds_count_; ++i) total += bucket(i);
  return total;
}

std::string format_number(double value) {
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  if (std::isnan(value)) return "NaN";
  char digits[32];
  // Whole numbers as integers (a count as a gauge: "1000000", not "1e+06"); others in the
  // shortest %g form ("0.0001", "3.0054e-05").
  constexpr double exact_integer_max = 9007199254740992.0;  // 2^53.
  const auto [end, ec] =
      value == std::floor(value) && std::fabs(value) < exact_integer_max
          ? std::to_chars(digits, digits + sizeof digits, static_cast<int64_t>(value))
          : std::to_chars(digits, digits + sizeof digits, value, std::chars_format::general);
  CREBITO_ASSERT(ec == std::errc());
  return std::string(digits, end);
}

void Exposition::family(std::string_view name, Type type, std::string_view help) {
  CREBITO_ASSERT(type != Type::counter || name.ends_with("_total"));
  text_.append("# HELP ").append(name).append(" ");
  for (const char c : help) {
    if (c == '\\') {
      text_.append("\\\\");
    } else if (c == '\n') {
      text_.append("\\n");
    } else {
      text_.push_back(c);
    }
  }
  text_.append("\n# TYPE ").append(name).append(" ");
  text_.append(type == Type::counter ? "counter" : type == Type::gauge ? "gauge" : "histogram");
  text_.push_back('\n');
}

void Exposition::write_labels(const Labels& labels, std::string_view le) {
  if (labels.empty() && le.empty()) return;
  text_.push_back('{');
  bool first = true;
  auto write = [&](std::string_view name, std::string_view value) {
    if (!first) text_.push_back(',');
    first = false;
    text_.append(name).append("=\"");
    for (const char c : value) {
      if (c == '\\') {
        text_.append("\\\\");
      } else if (c == '"') {
        text_.append("\\\"");
      } else if (c == '\n') {
        text_.append("\\n");
      } else {
        text_.push_back(c);
      }
    }
    text_.push_back('"');
  };
  for (const auto& [name, value] : labels) write(name, value);
  if (!le.empty()) write("le", le);
  text_.push_back('}');
}

void Exposition::write_number(double value) { text_.append(format_number(value)); }

void Exposition::write_number(uint64_t value) {
  char digits[24];
  const auto [end, ec] = std::to_chars(digits, digits + sizeof digits, value);
  CREBITO_ASSERT(ec == std::errc());
  text_.append(digits, end);
}

template <typename Number>
void Exposition::write_sample(std::string_view name, const Labels& labels, Number value) {
  text_.append(name);
  write_labels(labels, {});
  text_.push_back(' ');
  write_number(value);
  text_.push_back('\n');
}

void Exposition::sample(std::string_view name, const Labels& labels, double value) {
  write_sample(name, labels, value);
}

void Exposition::sample(std::string_view name, const Labels& labels, uint64_t value) {
  write_sample(name, labels, value);
}

void Exposition::histogram(std::string_view name, const Labels& labels, const Histogram& histogram,
                           double divisor) {
  const std::string bucket_name = std::string(name) + "_bucket";
  uint64_t cumulative = 0;
  for (size_t i = 0; i <= histogram.bounds(); ++i) {
    cumulative += histogram.bucket(i);
    const std::string le = i < histogram.bounds()
                               ? format_number(static_cast<double>(histogram.bound(i)) / divisor)
                               : std::string("+Inf");
    text_.append(bucket_name);
    write_labels(labels, le);
    text_.push_back(' ');
    write_number(cumulative);
    text_.push_back('\n');
  }
  sample(std::string(name) + "_sum", labels, static_cast<double>(histogram.sum()) / divisor);
  // The +Inf bucket's count: _count always equals it, even while observations land.
  sample(std::string(name) + "_count", labels, cumulative);
}

}  // namespace metrics
