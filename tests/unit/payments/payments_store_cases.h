// The payments store cases every implementation of store::PaymentsSession must pass (the SQLite
// store: payments_store_test.cpp, the PostgreSQL store: postgres_payments_store_test.cpp). Each
// takes two sessions of one store on a fresh database holding the schema and nothing else, and
// is run by one TEST_CASE per store, with the same title.
#pragma once

#include "store/payments_store.h"

namespace payments_store_cases {

struct Sessions {
  store::PaymentsSession& one;
  store::PaymentsSession& two;
};

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
