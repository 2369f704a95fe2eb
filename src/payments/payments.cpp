#include "payments/payments.h"

#include <chrono>
#include <cstdio>
#include <thread>

#include "check.h"
#include "crebito_limits.h"
#include "payments/timestamp.h"

namespace payments {

bool valid_correlation_id(std::string_view text) {
  if (text.size() != limits::correlation_id_chars) return false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return false;
    } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
      return false;
    }
  }
  return true;
}

std::string normalized_correlation_id(std::string_view text) {
  std::string lower(text);
  for (char& c : lower) {
    if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
  }
  return lower;
}

std::unique_ptr<Payments> Payments::open(const store::Options& options, int connections,
                                         std::string* error) {
  CREBITO_ASSERT(connections > 0);
  std::unique_ptr<Payments> payments(new Payments());
  payments->writer_lock_ = store::WriterLock::open(options.path, error);
  if (!payments->writer_lock_) return nullptr;
  for (int i = 0; i < connections; ++i) {
    auto connection = store::PaymentsConnection::open(options, payments->writer_lock_.get(), error);
    if (!connection) return nullptr;
    payments->free_.push_back(std::move(connection));
  }
  return payments;
}

Payments::~Payments() = default;

std::unique_ptr<store::PaymentsConnection> Payments::borrow() {
  std::unique_lock<std::mutex> lock(free_mutex_);
  free_changed_.wait(lock, [this] { return !free_.empty(); });
  std::unique_ptr<store::PaymentsConnection> connection = std::move(free_.back());
  free_.pop_back();
  return connection;
}

void Payments::give_back(std::unique_ptr<store::PaymentsConnection> connection) {
  {
    std::lock_guard<std::mutex> lock(free_mutex_);
    free_.push_back(std::move(connection));
  }
  free_changed_.notify_one();
}

Outcome Payments::unavailable(store::PaymentsConnection& connection, const char* what) {
  std::fprintf(stderr, "crebito: payments %s failed: %s\n", what, connection.last_error().c_str());
  return Outcome::unavailable;
}

Outcome Payments::accept(const std::string& correlation_id, int64_t amount_cents) {
  CREBITO_ASSERT(valid_correlation_id(correlation_id));
  CREBITO_ASSERT(amount_cents >= limits::payment_cents_min);
  auto connection = borrow();
  const store::Status status =
      connection->accept(normalized_correlation_id(correlation_id), amount_cents, now_ms());
  Outcome outcome = Outcome::ok;
  if (status == store::Status::busy || status == store::Status::unavailable) {
    outcome = unavailable(*connection, "accept");
  }
  give_back(std::move(connection));
  if (status == store::Status::ok && on_accepted_) on_accepted_();
  return outcome;
}

Outcome Payments::summary(int64_t from_ms, int64_t to_ms, Summary* out) {
  // The processors are asked at the same moment as we are. A payment a processor recorded before
  // that moment settles here a few milliseconds later; one it records after must not be counted,
  // or we count more than it does. So: what settled by arrival + the grace, no more.
  const int64_t settled_until_ms = now_ms() + limits::summary_settle_wait_ms_max;
  auto connection = borrow();
  const auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::milliseconds(limits::summary_settle_wait_ms_max);
  std::array<store::ProcessorTotals, 2> totals;
  int64_t in_flight = 0;
  Outcome outcome = Outcome::ok;
  while (true) {
    if (connection->summary(from_ms, to_ms, settled_until_ms, &totals, &in_flight) !=
        store::Status::ok) {
      outcome = unavailable(*connection, "summary");
      break;
    }
    if (in_flight == 0 || std::chrono::steady_clock::now() >= deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(limits::summary_settle_poll_ms));
  }
  give_back(std::move(connection));
  out->default_totals = {totals[0].requests, totals[0].amount_cents};
  out->fallback_totals = {totals[1].requests, totals[1].amount_cents};
  return outcome;
}

Outcome Payments::purge() {
  auto connection = borrow();
  Outcome outcome = Outcome::ok;
  if (connection->purge() != store::Status::ok) outcome = unavailable(*connection, "purge");
  give_back(std::move(connection));
  return outcome;
}

Outcome Payments::consistency(Consistency* out) {
  auto connection = borrow();
  Outcome outcome = Outcome::ok;
  if (connection->counts(&out->counts) != store::Status::ok) {
    outcome = unavailable(*connection, "consistency");
  }
  give_back(std::move(connection));
  const int64_t oldest = out->counts.oldest_unsettled_accepted_ms;
  out->oldest_unsettled_age_ms = oldest > 0 ? std::max<int64_t>(0, now_ms() - oldest) : 0;
  return outcome;
}

}  // namespace payments
