#include "store/ledger_store.h"

#include "store/postgres/ledger_store.h"
#include "store/sqlite/ledger_store.h"

namespace store {

std::unique_ptr<LedgerStore> open_ledger_store(const Location& location,
                                               const LedgerStoreOptions& options,
                                               std::string* error) {
  switch (location.kind) {
    case Location::Kind::sqlite:
      return SqliteLedgerStore::open(location.sqlite_path, options, error);
    case Location::Kind::postgresql:
      return PostgresLedgerStore::open(location.postgresql_uri, options, error);
  }
  return nullptr;  // Unreachable: -Wswitch flags a kind left out above.
}

}  // namespace store
