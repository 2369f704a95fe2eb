#include "store/sqlite/ledger_connection.h"

#include <sqlite3.h>

#include "check.h"
#include "crebito_limits.h"
#include "metrics/registry.h"

namespace store {
namespace {

// A commit's outcome, counted (metrics/registry.h) with the postings its transaction wrote.
Status counted_commit(Status committed) {
  metrics::transaction_ended(committed == Status::ok);
  return committed;
}

// The debit/credit itself: one statement that checks and applies the change, so the rule and
// the write cannot be separated by another writer.
// It also numbers the account's transactions: the new count is the new row's seq.
constexpr const char* update_balance_sql =
    "UPDATE accounts SET balance_cents = balance_cents + ?1, "
    "transaction_count = transaction_count + 1 "
    "WHERE id = ?2 AND balance_cents + ?1 >= -limit_cents AND balance_cents + ?1 <= ?3 "
    "RETURNING balance_cents, limit_cents, transaction_count";

constexpr const char* insert_transaction_sql =
    "INSERT INTO transactions (account_id, seq, amount_cents, kind, description, created_at) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6)";

// One SELECT, hence one snapshot (invariant 5). The LEFT JOIN keeps the account row when it has
// no transactions yet.
constexpr const char* select_statement_sql =
    "SELECT a.balance_cents, a.limit_cents, t.amount_cents, t.kind, t.description, t.created_at "
    "FROM accounts AS a LEFT JOIN ("
    "  SELECT seq, account_id, amount_cents, kind, description, created_at FROM transactions"
    "  WHERE account_id = ?1 ORDER BY seq DESC LIMIT ?2"
    ") AS t ON t.account_id = a.id "
    "WHERE a.id = ?1 ORDER BY t.seq DESC";

constexpr const char* select_accounts_sql =
    "SELECT id, limit_cents, balance_cents FROM accounts ORDER BY id";

}  // namespace

SqliteLedgerConnection::SqliteLedgerConnection(const Options& options, WriterLock* writer_lock,
                                               FaultLog* fault_log)
    : db_(options, /*cache_kib=*/0, fault_log),
      writer_lock_(writer_lock),
      update_balance_(db_.sqlite(), update_balance_sql),
      insert_transaction_(db_.sqlite(), insert_transaction_sql),
      select_statement_(db_.sqlite(), select_statement_sql),
      select_accounts_(db_.sqlite(), select_accounts_sql) {
  db_.serve();
}

SqliteLedgerConnection::~SqliteLedgerConnection() = default;

std::unique_ptr<SqliteLedgerConnection> SqliteLedgerConnection::open(const Options& options,
                                                                     WriterLock* writer_lock,
                                                                     std::string* error,
                                                                     FaultLog* fault_log) {
  CREBITO_ASSERT(writer_lock != nullptr);
  return open_connection<SqliteLedgerConnection>(
      options, error, [&] { return new SqliteLedgerConnection(options, writer_lock, fault_log); });
}

bool SqliteLedgerConnection::holds_data() {
  std::vector<AccountRow> accounts;
  return read_accounts(&accounts) == Status::ok && !accounts.empty();
}

// UPDATE + INSERT of one posting inside the open transaction. refused: the UPDATE matched no row
// and nothing was written; any other failure leaves the transaction to be rolled back.
Status SqliteLedgerConnection::apply_posting(const Posting& posting, AccountRow* after) {
  CREBITO_ASSERT(well_formed(posting));
  update_balance_.bind(1, posting.delta_cents);
  update_balance_.bind(2, posting.account_id);
  update_balance_.bind(3, limits::balance_cents_max);
  int rc = update_balance_.tryExecuteStep();
  int64_t seq = 0;
  if (rc == SQLITE_ROW) {
    after->id = posting.account_id;
    after->balance_cents = update_balance_.getColumn(0).getInt64();
    after->limit_cents = update_balance_.getColumn(1).getInt64();
    seq = update_balance_.getColumn(2).getInt64();
  }
  // RETURNING buffers its rows: the change is made on the first step. The statement must be reset
  // before COMMIT, or COMMIT fails with "SQL statements in progress".
  update_balance_.tryReset();
  if (rc == SQLITE_DONE) return Status::refused;
  if (rc != SQLITE_ROW) return db_.fail(rc, "UPDATE accounts");
  CREBITO_ASSERT(after->balance_cents >= -after->limit_cents);
  CREBITO_ASSERT(after->balance_cents <= limits::balance_cents_max);

  CREBITO_ASSERT(seq >= 1);
  insert_transaction_.bind(1, posting.account_id);
  insert_transaction_.bind(2, seq);
  insert_transaction_.bind(3, posting.amount_cents);
  insert_transaction_.bind(4, std::string(1, posting.kind));
  insert_transaction_.bindNoCopy(5, posting.description);
  insert_transaction_.bindNoCopy(6, posting.created_at);
  rc = insert_transaction_.tryExecuteStep();
  insert_transaction_.tryReset();
  if (rc != SQLITE_DONE) return db_.fail(rc, "INSERT INTO transactions");
  metrics::posting_written();
  return Status::ok;
}

Status SqliteLedgerConnection::post_batch(Write* const* writes, size_t count) {
  std::lock_guard<WriterLock> writer(*writer_lock_);
  return post_batch_holding_lock(writes, count);
}

Status SqliteLedgerConnection::post_batch_holding_lock(Write* const* writes, size_t count) {
  CREBITO_ASSERT(count >= 1);
  CREBITO_ASSERT(count <= limits::write_batch_max);
  const Status status = post_batch_locked(writes, count);
  if (status != Status::ok) {
    for (size_t i = 0; i < count; ++i) writes[i]->status = status;
  }
  return db_.report(FaultLog::Kind::write, status);
}

Status SqliteLedgerConnection::post_batch_locked(Write* const* writes, size_t count) {
  // Invariant 8: begin_write() checks for a moved file with the write lock held.
  const Status begun = db_.begin_write();
  if (begun != Status::ok) return begun;
  metrics::transaction_begun();
  for (size_t i = 0; i < count; ++i) {
    const Status status = apply_posting(*writes[i]->posting, &writes[i]->after);
    if (status != Status::ok && status != Status::refused) return db_.finish_write(status);
    writes[i]->status = status;
  }
  return counted_commit(db_.commit());
}

Status SqliteLedgerConnection::post(const Posting& posting, AccountRow* after) {
  Write write{&posting, {}, Status::unavailable};
  Write* const writes[] = {&write};
  const Status status = post_batch(writes, 1);
  if (status != Status::ok) return status;
  if (write.status == Status::ok) *after = write.after;
  return write.status;
}

Status SqliteLedgerConnection::begin_write() {
  const Status begun = db_.begin_write();  // Checks for a moved file (invariant 8).
  if (begun != Status::ok) return db_.report(FaultLog::Kind::write, begun);
  metrics::transaction_begun();
  return Status::ok;
}

Status SqliteLedgerConnection::apply(const Posting& posting, AccountRow* after) {
  const Status status = apply_posting(posting, after);
  if (status == Status::ok || status == Status::refused) return status;
  return db_.report(FaultLog::Kind::write, db_.finish_write(status));
}

Status SqliteLedgerConnection::commit_write() {
  return db_.report(FaultLog::Kind::write, counted_commit(db_.commit()));
}

void SqliteLedgerConnection::abandon_write() {
  static_cast<void>(db_.finish_write(Status::unavailable));
}

Status SqliteLedgerConnection::read_statement_in_write(int64_t account_id, size_t entries_max,
                                                       AccountRow* account,
                                                       std::vector<EntryRow>* entries) {
  CREBITO_ASSERT(!sqlite3_get_autocommit(db_.handle()));
  return read_statement(account_id, entries_max, account, entries);
}

Status SqliteLedgerConnection::read_statement(int64_t account_id, size_t entries_max,
                                              AccountRow* account, std::vector<EntryRow>* entries) {
  return db_.report(FaultLog::Kind::read,
                    read_statement_checked(account_id, entries_max, account, entries));
}

Status SqliteLedgerConnection::read_statement_checked(int64_t account_id, size_t entries_max,
                                                      AccountRow* account,
                                                      std::vector<EntryRow>* entries) {
  entries->clear();
  if (db_.file_moved()) return db_.moved();
  select_statement_.bind(1, account_id);
  select_statement_.bind(2, static_cast<int64_t>(entries_max));
  bool found = false;
  int rc;
  while ((rc = select_statement_.tryExecuteStep()) == SQLITE_ROW) {
    if (!found) {
      found = true;
      account->id = account_id;
      account->balance_cents = select_statement_.getColumn(0).getInt64();
      account->limit_cents = select_statement_.getColumn(1).getInt64();
    }
    if (select_statement_.getColumn(2).isNull()) continue;  // No transactions yet.
    EntryRow& entry = entries->emplace_back();
    entry.amount_cents = select_statement_.getColumn(2).getInt64();
    entry.kind = select_statement_.getColumn(3).getString().at(0);
    entry.description = select_statement_.getColumn(4).getString();
    entry.created_at = select_statement_.getColumn(5).getString();
  }
  select_statement_.tryReset();
  if (rc != SQLITE_DONE) return db_.fail(rc, "SELECT statement");
  CREBITO_ASSERT(entries->size() <= entries_max);
  return found ? Status::ok : Status::refused;
}

Status SqliteLedgerConnection::read_accounts(std::vector<AccountRow>* accounts) {
  return db_.report(FaultLog::Kind::read, read_accounts_checked(accounts));
}

Status SqliteLedgerConnection::read_accounts_checked(std::vector<AccountRow>* accounts) {
  accounts->clear();
  if (db_.file_moved()) return db_.moved();
  int rc;
  while ((rc = select_accounts_.tryExecuteStep()) == SQLITE_ROW) {
    AccountRow& row = accounts->emplace_back();
    row.id = select_accounts_.getColumn(0).getInt64();
    row.limit_cents = select_accounts_.getColumn(1).getInt64();
    row.balance_cents = select_accounts_.getColumn(2).getInt64();
  }
  select_accounts_.tryReset();
  if (rc != SQLITE_DONE) return db_.fail(rc, "SELECT accounts");
  return Status::ok;
}

}  // namespace store
