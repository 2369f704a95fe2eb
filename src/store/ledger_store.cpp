#include "store/ledger_store.h"

#include "store/postgres/ledger_store.h"
#include "store/sqlite/ledger_store.h"

namespace store {

Status open_ledger_store(const Location& location, const OpenOptions& options,
                         std::unique_ptr<LedgerStore>* store) {
  switch (location.kind) {
    case Location::Kind::sqlite: {
      std::unique_ptr<SqliteLedgerStore> opened;
      Status status = SqliteLedgerStore::open(location.sqlite_path, options, &opened);
      *store = std::move(opened);
      return status;
    }
    case Location::Kind::postgresql: {
      std::unique_ptr<PostgresLedgerStore> opened;
      Status status = PostgresLedgerStore::open(location.postgresql_uri, options, &opened);
      *store = std::move(opened);
      return status;
    }
  }
  return Status::unavailable;  // Unreachable: -Wswitch flags a kind left out above.
}

}  // namespace store
