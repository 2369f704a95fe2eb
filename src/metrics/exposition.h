// metrics::Histogram and metrics::Exposition: the two pieces every metric of crebito is made of.
//
//   - Histogram counts observations into fixed buckets (upper bounds given once, in an integer
//     unit: nanoseconds, postings) with relaxed atomics: observe() takes no lock and costs two
//     atomic additions (its bucket and the sum), from any number of threads. A reader sees each
//     bucket and the sum as of some moment each, not one snapshot; _count is the total of the
//     buckets, so it always equals the +Inf bucket.
//   - Exposition writes Prometheus's text exposition format, version 0.0.4: one `# HELP` and one
//     `# TYPE` line per family, then its samples (`name{label="value",...} number`); a histogram's
//     cumulative `_bucket{le="..."}` lines, `_sum` and `_count`. Label values are escaped (\\, \",
//     \n). Numbers are written in the shortest form that reads back exactly.
//
// Thread-safety: Histogram as above; an Exposition belongs to the thread that writes it.
#pragma once

#include <atomic>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace metrics {

// The Content-Type of a scrape's answer.
inline constexpr const char* exposition_content_type = "text/plain; version=0.0.4; charset=utf-8";

class Histogram {
 public:
  // Upper bounds of the buckets, strictly increasing, in the unit observations are given in; the
  // +Inf bucket is added. REQUIRES: 1 <= bounds.size() <= buckets_max.
  static constexpr size_t buckets_max = 32;
  explicit Histogram(std::span<const int64_t> bounds);
  Histogram(const Histogram&) = delete;
  Histogram& operator=(const Histogram&) = delete;

  // Counts `value` into the first bucket whose bound is >= value (values above every bound go to
  // +Inf). REQUIRES: value >= 0.
  void observe(int64_t value);

  size_t bounds() const { return bounds_count_; }
  int64_t bound(size_t i) const { return bounds_[i]; }
  // Observations in bucket i alone (not cumulative); i == bounds() is the +Inf bucket.
  uint64_t bucket(size_t i) const { return counts_[i].load(std::memory_order_relaxed); }
  uint64_t count() const;
  int64_t sum() const { return sum_.load(std::memory_order_relaxed); }

 private:
  int64_t bounds_[buckets_max] = {};
  size_t bounds_count_ = 0;
  std::atomic<uint64_t> counts_[buckets_max + 1] = {};
  std::atomic<int64_t> sum_{0};
};

using Labels = std::vector<std::pair<std::string_view, std::string_view>>;

class Exposition {
 public:
  enum class Type { counter, gauge, histogram };

  // Starts a family: its # HELP and # TYPE lines. A counter's name ends in _total.
  void family(std::string_view name, Type type, std::string_view help);
  // One sample of the current family (counter or gauge).
  void sample(std::string_view name, const Labels& labels, double value);
  void sample(std::string_view name, const Labels& labels, uint64_t value);
  // Every line of a histogram sample of the current family: the buckets, _sum and _count, with
  // `labels` plus le. Each bound and the sum are divided by `divisor` to give the family's unit
  // (1e9 for nanoseconds into seconds, so that 100000 ns is written 0.0001; 1 for counts).
  void histogram(std::string_view name, const Labels& labels, const Histogram& histogram,
                 double divisor);

  const std::string& text() const { return text_; }

 private:
  void write_labels(const Labels& labels, std::string_view le);
  void write_number(double value);
  void write_number(uint64_t value);
  template <typename Number>
  void write_sample(std::string_view name, const Labels& labels, Number value);

  std::string text_;
};

// The shortest text that reads back as `value` (as Prometheus writes numbers), "+Inf" for
// infinity.
std::string format_number(double value);

}  // namespace metrics
