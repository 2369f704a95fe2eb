#include "store/sqlite/payments_store.h"

#include "check.h"

namespace store {

Status SqlitePaymentsStore::open(const Options& options, int sessions,
                                 std::unique_ptr<SqlitePaymentsStore>* store) {
  CREBITO_ASSERT(sessions > 0);
  std::string error;
  std::unique_ptr<SqlitePaymentsPool> pool =
      SqlitePaymentsPool::open(options, sessions, /*kept=*/1, &error);  // The turns' writer.
  if (!pool) return {Status::unavailable, error};
  store->reset(new SqlitePaymentsStore(std::move(pool)));
  return Status::ok;
}

SqlitePaymentsStore::SqlitePaymentsStore(std::unique_ptr<SqlitePaymentsPool> pool)
    : pool_(std::move(pool)), turn_(pool_.get()) {}

SqlitePaymentsStore::~SqlitePaymentsStore() = default;

PaymentsSession* SqlitePaymentsStore::borrow() { return pool_->borrow(); }

void SqlitePaymentsStore::give_back(PaymentsSession* session) {
  pool_->give_back(static_cast<SqlitePaymentsConnection*>(session));
}

Status SqlitePaymentsStore::accept(const std::string& correlation_id, int64_t amount_cents,
                                   int64_t now_ms) {
  if (turn_.takes_writes()) {
    return turn_.write(
        [&](SqlitePaymentsConnection* writer) {
          return writer->accept_in_write(correlation_id, amount_cents, now_ms);
        },
        [&] { return accept(correlation_id, amount_cents, now_ms); });  // No longer takes writes.
  }
  return PaymentsStore::accept(correlation_id, amount_cents, now_ms);
}

}  // namespace store
