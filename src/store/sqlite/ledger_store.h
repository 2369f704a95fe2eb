// store::SqliteLedgerStore: the ledger in the SQLite file shared by the instances of one machine.
// A thin face over store::SqliteLedgerEngine (store/sqlite/ledger_engine.h), which keeps every
// invariant: postings go through the group commit, or into the calling thread's turn when one is
// open (one transaction per event-loop wake-up); statements are one SELECT.
#pragma once

#include <memory>
#include <string>

#include "store/ledger_store.h"
#include "store/sqlite/ledger_engine.h"

namespace store {

class SqliteLedgerStore final : public LedgerStore {
 public:
  // Applies schema.sql to `path` (creating the file if missing) and opens the pool into *store
  // (store/ledger_store.h, open_ledger_store).
  static Status open(const std::string& path, const OpenOptions& options,
                     std::unique_ptr<SqliteLedgerStore>* store);

  Status post(const Posting& posting, AccountRow* after) override {
    return pool_->post(posting, after);
  }
  Status read_statement(int64_t account_id, size_t entries_max, AccountRow* account,
                        std::vector<EntryRow>* entries) override {
    return pool_->read_statement(account_id, entries_max, account, entries);
  }
  Status read_accounts(std::vector<AccountRow>* accounts) override;
  Status health(int64_t account_id) override;

  void begin_turn() override { pool_->begin_turn(); }
  bool end_turn() override { return pool_->end_turn(); }
  bool answered_from_turn() override { return pool_->answered_from_turn(); }

 private:
  explicit SqliteLedgerStore(std::unique_ptr<SqliteLedgerEngine> pool) : pool_(std::move(pool)) {}

  const std::unique_ptr<SqliteLedgerEngine> pool_;
};

}  // namespace store
