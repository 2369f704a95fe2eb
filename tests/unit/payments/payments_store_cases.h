// The payments store cases every implementation of store::PaymentsSession must pass (the SQLite
// store: payments_store_test.cpp, the PostgreSQL store: postgres_payments_store_test.cpp). Each
// takes two sessions of one store on a fresh database holding the schema and nothing else, and
// is run by one TEST_CASE per store, with the same title: PAYMENTS_STORE_CASES below.
#pragma once

#include <catch2/catch.hpp>
#include <cstdint>
#include <functional>
#include <string>

#include "store/payments_store.h"

namespace payments_store_cases {

struct Sessions {
  store::PaymentsSession& one;
  store::PaymentsSession& two;
};

// A distinct correlationId per n.
std::string id_of(int n);

// A decision that sends the attempt to `processor` at `now`.
std::function<void(store::PaymentJob*)> send_to(store::Processor processor, int64_t now);

// Whether two sessions of `payments` (a pool of either engine), held at once, both read the
// queue's counts: after a fault each is reconnected or replaced at its next use. *counts holds
// what the second read.
template <class Store>
bool two_sessions_count(Store& payments, store::QueueCounts* counts) {
  auto first = payments.acquire();
  auto second = payments.acquire();
  return first->counts(counts) == store::Status::ok && second->counts(counts) == store::Status::ok;
}

// Checks that a session whose database is gone answers unavailable to every kind of call:
// counts, health rows, the health lease, a claim.
void every_call_unavailable(store::PaymentsSession& session);

void correlation_id_queued_once(Sessions q);
void leased_until_expiry(Sessions q);
void requeued_waits(Sessions q);
void outcomes_under_lease(Sessions q);
void claims_most_overdue_first(Sessions q);
void summary_bounds(Sessions q);
void health_lease(Sessions q);
void concurrent_claims_never_share(Sessions q);
void health_rows_round_trip(Sessions q);

}  // namespace payments_store_cases

// One TEST_CASE per case above for a store whose fixture `Fixture` (default-constructed: a fresh
// database) has sessions(); every title ends with `suffix`, and `tags` are the cases' tags.
#define PAYMENTS_STORE_CASE(Fixture, title, suffix, tags, body) \
  TEST_CASE(title suffix, tags) {                               \
    Fixture q;                                                  \
    payments_store_cases::body(q.sessions());                   \
  }
#define PAYMENTS_STORE_CASES(Fixture, suffix, tags)                                               \
  PAYMENTS_STORE_CASE(Fixture, "a correlationId is queued once", suffix, tags,                    \
                      correlation_id_queued_once)                                                 \
  PAYMENTS_STORE_CASE(Fixture, "a leased payment is not claimed again until its lease expires",   \
                      suffix, tags, leased_until_expiry)                                          \
  PAYMENTS_STORE_CASE(Fixture, "a requeued payment waits for its due time", suffix, tags,         \
                      requeued_waits)                                                             \
  PAYMENTS_STORE_CASE(Fixture,                                                                    \
                      "outcomes and claims in one transaction: each outcome written only under "  \
                      "its lease",                                                                \
                      suffix, tags, outcomes_under_lease)                                         \
  PAYMENTS_STORE_CASE(Fixture,                                                                    \
                      "one claim leases up to as many due payments as asked, the most overdue "   \
                      "first",                                                                    \
                      suffix, tags, claims_most_overdue_first)                                    \
  PAYMENTS_STORE_CASE(Fixture,                                                                    \
                      "the summary counts settled payments with requestedAt inside both bounds",  \
                      suffix, tags, summary_bounds)                                               \
  PAYMENTS_STORE_CASE(Fixture, "the health lease is held by one owner until it expires", suffix,  \
                      tags, health_lease)                                                         \
  PAYMENTS_STORE_CASE(Fixture, "two sessions claiming at once never lease the same payment",      \
                      suffix, tags, concurrent_claims_never_share)                                \
  PAYMENTS_STORE_CASE(Fixture, "the processors' health rows are shared by every session", suffix, \
                      tags, health_rows_round_trip)
