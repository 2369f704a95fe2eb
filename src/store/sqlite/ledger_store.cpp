#include "store/sqlite/ledger_store.h"

#include "store/sqlite/schema.h"

namespace store {

std::unique_ptr<SqliteLedgerStore> SqliteLedgerStore::open(const std::string& path,
                                                           const LedgerStoreOptions& options,
                                                           std::string* error) {
  if (!apply_schema(path, error)) return nullptr;
  std::unique_ptr<SqliteLedgerEngine> pool =
      SqliteLedgerEngine::open(Options{path, options.busy_timeout_ms}, options.connections, error);
  if (!pool) return nullptr;
  return std::unique_ptr<SqliteLedgerStore>(new SqliteLedgerStore(std::move(pool)));
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
