// ledger::Ledger applies credits and debits to the five accounts and reads statements, keeping
// the money invariant of docs/API.md: saldo >= -limite, and saldo equals the sum of the
// account's transactions. It knows the rules, not HTTP and not SQL.
//
// Thread-safe: any number of threads may call it at once (each call borrows one store connection).
// The account table (ids and limits) is read once at open(); limits never change at run time.
// Where the accounts live (SQLite or PostgreSQL) is the store's business (store/ledger_store.h).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "ledger/transaction.h"
#include "store/ledger_store.h"
#include "store/location.h"
#include "store/sqlite/database.h"

namespace ledger {

enum class [[nodiscard]] Outcome{
    ok, no_such_account,
    invalid_request,  // The request breaks a rule of transaction.h; nothing written.
    refused,      // A debit past the limit, or a credit past the balance maximum; nothing written.
    unavailable,  // The database cannot be written or read now (busy past the timeout, I/O error).
                  // Nothing was written.
    unknown,      // The transaction was sent to the database and the connection lost before its
                  // answer; whether it was written could not be learnt (PostgreSQL store only).
};

struct Account {
  int64_t id = 0;
  int64_t limit_cents = 0;
};

struct Balance {
  int64_t limit_cents = 0;
  int64_t balance_cents = 0;
};

struct Entry {
  int64_t amount_cents = 0;
  Kind kind = Kind::credit;
  std::string description;
  std::string created_at;
};

struct Statement {
  int64_t balance_cents = 0;
  int64_t limit_cents = 0;
  std::string taken_at;
  std::vector<Entry> entries;  // Newest first, at most limits::statement_entries_max.
};

class Ledger {
 public:
  // Prepares the store at `location` (its schema), opens it and reads the accounts. nullptr and
  // *error on failure.
  static std::unique_ptr<Ledger> open(const store::Location& location,
                                      const store::OpenOptions& options, std::string* error);
  // The same for the SQLite file options.path, with `connections` connections.
  static std::unique_ptr<Ledger> open(const store::Options& options, int connections,
                                      std::string* error);

  bool has_account(int64_t account_id) const;

  // Applies one credit or debit. ok: *after is the account as committed (within a turn: as it
  // is committed when the turn is, see below).
  // REQUIRES: has_account(account_id) and request_valid(request).
  Outcome apply(int64_t account_id, const TransactionRequest& request, Balance* after);

  // The balance and the newest transactions from one snapshot; taken_at is the time of the query.
  // REQUIRES: has_account(account_id).
  Outcome statement(int64_t account_id, Statement* out);

  // ok when the database can be read.
  Outcome health();

  const std::vector<Account>& accounts() const { return accounts_; }

  // Turns, one per wake-up of an event-loop thread (http/event_loop.h; the store's turns,
  // store/ledger_store.h): between begin_turn() and end_turn() the calling thread's credits,
  // debits and statements may share one transaction, the turn's. Their outcomes are final only if
  // end_turn() returns true; when it returns false, nothing of the turn's transaction was written
  // and every request for which answered_from_turn() said true must be answered 503 instead.
  // answered_from_turn() is asked once after each request.
  void begin_turn() { store_->begin_turn(); }
  bool end_turn() { return store_->end_turn(); }
  bool answered_from_turn() { return store_->answered_from_turn(); }

 private:
  Ledger(std::unique_ptr<store::LedgerStore> store, std::vector<Account> accounts);
  Outcome unavailable(const store::Status& status, const char* what);
  const Account* find(int64_t account_id) const;

  // Constant after construction.
  const std::unique_ptr<store::LedgerStore> store_;
  const std::vector<Account> accounts_;
};

}  // namespace ledger
