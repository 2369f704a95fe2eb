#include "store/sqlite/ledger_store.h"

#include "store/sqlite/schema.h"

namespace store {

Status SqliteLedgerStore::open(const std::string& path, const OpenOptions& options,
                               std::unique_ptr<SqliteLedgerStore>* store) {
  Status schema = apply_schema(path);
  if (schema != Status::ok) return schema;
  std::string error;
  std::unique_ptr<SqliteLedgerEngine> pool =
      SqliteLedgerEngine::open(Options{path, options.busy_timeout_ms}, options.connections, &error);
  if (!pool) return {Status::unavailable, error};
  store->reset(new SqliteLedgerStore(std::move(pool)));
  return Status::ok;
}

Status SqliteLedgerStore::read_accounts(std::vector<AccountRow>* accounts) {
  SqliteLedgerEngine::Lease connection = pool_->acquire();
  return connection->read_accounts(accounts);
}

// As before the seam: every account is read, and a ledger without accounts is not healthy.
Status SqliteLedgerStore::health(int64_t) {
  std::vector<AccountRow> accounts;
  Status status = read_accounts(&accounts);
  if (status != Status::ok) return status;
  if (accounts.empty()) return {Status::unavailable, "no accounts"};
  return Status::ok;
}

}  // namespace store
