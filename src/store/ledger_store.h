// store::LedgerStore is what ledger::Ledger keeps its accounts and transactions in: one interface,
// two implementations, chosen at start by --store (store/location.h):
//   - store::SqliteLedgerStore (store/sqlite/ledger_store.h): the SQLite file shared by the
//     instances of one machine, through store::SqliteLedgerEngine (group commit, per-wake-up
//     turns);
//   - store::PostgresLedgerStore (store/postgres/ledger_store.h): a PostgreSQL database shared by
//     instances on any number of machines.
//
// The contract both keep (the Ledger's rules rely on it):
//   1. post() applies one credit or debit atomically: the balance change and its history row
//      commit together or not at all. refused: the change would take the balance below -limit or
//      above limits::balance_cents_max, and nothing was written.
//   2. read_statement() reads the account and its newest entries (newest first, in the account's
//      commit order) from one snapshot: the balance and the rows always agree.
//   3. busy and unavailable mean "answer 503": nothing was written (see each implementation for
//      the one exception, a connection lost while its commit was in flight).
//   4. Every call names one account (except read_accounts(), which runs once at open), so a store
//      may keep accounts apart (PostgreSQL with Citus: distributed by account id).
//   5. Thread-safe: any number of threads may call at once.
//
// Turns (the method group begin_turn / end_turn / answered_from_turn) are how an event-loop
// thread commits all the writes of one wake-up together (http/event_loop.h, TurnHooks): the
// wake-up's turn, and its one transaction. A store may share one (SQLite) or not (PostgreSQL: each
// posting commits alone, end_turn() is always true and no request is answered from the turn).
//   - Between begin_turn() and end_turn() the calling thread's outcomes are final only if
//     end_turn() returns true; when it returns false, nothing of the turn's transaction was
//     written and every request for which answered_from_turn() said true must be answered 503
//     instead (the others keep their answers: they committed on their own).
//   - answered_from_turn() is asked once after each request, and clears the answer.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "store/ledger_rows.h"
#include "store/location.h"
#include "store/status.h"

namespace store {

class LedgerStore {
 public:
  virtual ~LedgerStore() = default;

  // Contract 1. ok: *after is the account right after this posting. A failure's status says why
  // in its message (for the log), as every call's here does (store/status.h).
  virtual Status post(const Posting& posting, AccountRow* after) = 0;

  // Contract 2: at most entries_max entries. refused: no such account.
  virtual Status read_statement(int64_t account_id, size_t entries_max, AccountRow* account,
                                std::vector<EntryRow>* entries) = 0;

  // Every account, ordered by id.
  virtual Status read_accounts(std::vector<AccountRow>* accounts) = 0;

  // ok when the store can be read now and holds the ledger; `account_id` is one of its accounts.
  virtual Status health(int64_t account_id) = 0;

  // Turns (see above).
  virtual void begin_turn() = 0;
  virtual bool end_turn() = 0;
  virtual bool answered_from_turn() = 0;
};

// Prepares the store `location` names (its schema, applied idempotently; safe when several
// instances start at once) and opens it into *store. On failure *store stays empty and the status
// (unavailable, or busy) says why, naming the location.
Status open_ledger_store(const Location& location, const OpenOptions& options,
                         std::unique_ptr<LedgerStore>* store);

}  // namespace store
