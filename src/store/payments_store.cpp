#include "store/payments_store.h"

#include "check.h"
#include "store/postgres/payments_store.h"
#include "store/postgres/schema.h"
#include "store/sqlite/payments_store.h"
#include "store/sqlite/schema.h"

namespace store {

Status PaymentsSession::end_and_claim(const std::vector<AttemptEnd>& ends,
                                      std::vector<Status>* ended, int64_t now_ms,
                                      int64_t lease_until_ms, int claims_max,
                                      const std::function<void(PaymentJob*)>& decide,
                                      std::vector<PaymentJob>* jobs) {
  CREBITO_ASSERT(claims_max >= 0);
  CREBITO_ASSERT(claims_max == 0 || lease_until_ms > now_ms);
  jobs->clear();
  ended->assign(ends.size(), Status::unavailable);
  return end_and_claim_checked(ends, ended, now_ms, lease_until_ms, claims_max, decide, jobs);
}

Status PaymentsSession::claim(int64_t now_ms, int64_t lease_until_ms,
                              const std::function<void(PaymentJob*)>& decide, PaymentJob* job) {
  std::vector<PaymentJob> jobs;
  std::vector<Status> ended;
  const Status claimed = end_and_claim({}, &ended, now_ms, lease_until_ms, 1, decide, &jobs);
  if (claimed == Status::ok) *job = std::move(jobs.front());
  return claimed;
}

namespace {

// One attempt's end, through end_and_claim() with nothing to claim.
Status end_one(PaymentsSession* session, const PaymentsSession::AttemptEnd& end) {
  std::vector<Status> ended;
  std::vector<PaymentJob> none;
  const Status status = session->end_and_claim(
      {end}, &ended, end.at_ms, /*lease_until_ms=*/0, /*claims_max=*/0, [](PaymentJob*) {}, &none);
  return status == Status::busy || status == Status::unavailable ? status : ended.front();
}

}  // namespace

Status PaymentsSession::settle(const PaymentJob& job, Processor processor, int64_t requested_at_ms,
                               int64_t now_ms) {
  return end_one(this,
                 {job, /*settled=*/true, /*pinned=*/false, processor, requested_at_ms, now_ms});
}

Status PaymentsSession::requeue(const PaymentJob& job, bool pinned, Processor processor,
                                int64_t requested_at_ms, int64_t due_ms) {
  return end_one(this, {job, /*settled=*/false, pinned, processor, requested_at_ms, due_ms});
}

Status open_payments_store(const Location& location, const OpenOptions& options,
                           std::unique_ptr<PaymentsStore>* store) {
  switch (location.kind) {
    case Location::Kind::sqlite: {
      Status status = apply_schema(location.sqlite_path);
      std::unique_ptr<SqlitePaymentsStore> opened;
      if (status == Status::ok) {
        status = SqlitePaymentsStore::open({location.sqlite_path, options.busy_timeout_ms},
                                           options.connections, &opened);
      }
      *store = std::move(opened);
      return status;
    }
    case Location::Kind::postgresql: {
      Status status = pg::apply_schema(location.postgresql_uri);
      std::unique_ptr<PostgresPaymentsStore> opened;
      if (status == Status::ok) {
        status = PostgresPaymentsStore::open(location.postgresql_uri, options.connections, &opened);
      }
      *store = std::move(opened);
      return status;
    }
  }
  return Status::unavailable;  // Unreachable: -Wswitch flags a kind left out above.
}

}  // namespace store
