#include "store/payments_store.h"

namespace store {

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

}  // namespace store
