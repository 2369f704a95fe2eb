#include "store/postgres/ledger_store.h"

#include <chrono>
#include <random>
#include <thread>

#include "check.h"
#include "crebito_limits.h"
#include "metrics/registry.h"
#include "store/location.h"
#include "store/postgres/schema.h"

namespace store {
namespace {

constexpr const char* post_name = "ledger_post";
constexpr const char* statement_name = "ledger_statement";
constexpr const char* health_name = "ledger_health";
constexpr const char* post_lookup_name = "ledger_post_lookup";

// Invariant 1. $1 account, $2 delta (+amount for a credit, -amount for a debit), $3 the balance
// maximum, $4 amount, $5 kind, $6 description, $7 created_at, $8 the posting's id (invariant 4).
// The new count is the new row's seq. The history row names the account as $1 too (not u.id), so
// that Citus sees one shard key.
constexpr const char* post_sql =
    "WITH u AS ("
    "  UPDATE accounts SET balance_cents = balance_cents + $2::bigint,"
    "    transaction_count = transaction_count + 1"
    "  WHERE id = $1 AND balance_cents + $2::bigint >= -limit_cents"
    "    AND balance_cents + $2::bigint <= $3::bigint"
    "  RETURNING balance_cents, limit_cents, transaction_count"
    "), h AS ("
    "  INSERT INTO transactions (account_id, seq, amount_cents, kind, description, created_at,"
    "    post_id, balance_cents)"
    "  SELECT $1::bigint, transaction_count, $4::bigint, $5::text, $6::text, $7::text,"
    "    $8::bigint, balance_cents FROM u"
    ") "
    "SELECT balance_cents, limit_cents FROM u";

// Invariant 4, after a lost connection and once the lost session's backend is gone: in a
// statement of its own (READ COMMITTED: a new snapshot, which sees whatever that session
// committed), look the posting's id up.
constexpr const char* post_lookup_sql =
    "SELECT t.balance_cents, a.limit_cents FROM transactions AS t JOIN accounts AS a"
    "  ON a.id = t.account_id "
    "WHERE t.account_id = $1 AND a.id = $1 AND t.post_id = $2";

// Invariant 4: while the lost session's backend is still there (it was asked to end, and ends
// within a few ms), it is looked for again this often.
constexpr auto backend_exit_poll_interval = std::chrono::milliseconds(1);

// Postings' ids: random, so that instances need not agree on anything. Two postings to one account
// with the same id would make the second fail on the unique index (and answer 503): one chance in
// 2^62 per pair.
int64_t new_post_id() {
  thread_local std::mt19937_64 generator(std::random_device{}());
  return static_cast<int64_t>(generator() >> 2);
}

// Invariant 2: one SELECT. The LEFT JOIN keeps the account row when it has no transactions yet.
constexpr const char* statement_sql =
    "SELECT a.balance_cents, a.limit_cents, t.amount_cents, t.kind, t.description, t.created_at "
    "FROM accounts AS a LEFT JOIN ("
    "  SELECT seq, account_id, amount_cents, kind, description, created_at FROM transactions"
    "  WHERE account_id = $1 ORDER BY seq DESC LIMIT $2"
    ") AS t ON t.account_id = a.id "
    "WHERE a.id = $1 ORDER BY t.seq DESC";

constexpr const char* health_sql = "SELECT id FROM accounts WHERE id = $1";

// Read once at open, not prepared: the only statement that spans the accounts.
constexpr const char* accounts_sql =
    "SELECT id, limit_cents, balance_cents FROM accounts ORDER BY id";

}  // namespace

const std::vector<pg::Prepared>& PostgresLedgerStore::statements() {
  static const std::vector<pg::Prepared> all = {
      {post_name, post_sql},
      {statement_name, statement_sql},
      {health_name, health_sql},
      {post_lookup_name, post_lookup_sql},
  };
  return all;
}

Status PostgresLedgerStore::open(const std::string& uri, const OpenOptions& options,
                                 std::unique_ptr<PostgresLedgerStore>* store) {
  Status schema = pg::apply_schema(uri);
  if (schema != Status::ok) return schema;
  std::string error;
  std::unique_ptr<pg::ConnectionPool> pool =
      pg::ConnectionPool::open(uri, options.connections, statements(), &error);
  if (!pool) return {Status::unavailable, redact_uri(uri) + ": " + error};
  store->reset(new PostgresLedgerStore(std::move(pool)));
  return Status::ok;
}

Status PostgresLedgerStore::post(const Posting& posting, AccountRow* after) {
  CREBITO_ASSERT(well_formed(posting));
  pg::Params params;
  params.add(posting.account_id)
      .add(posting.delta_cents)
      .add(limits::balance_cents_max)
      .add(posting.amount_cents)
      .add(std::string_view(&posting.kind, 1))
      .add(posting.description)
      .add(posting.created_at);
  const int64_t post_id = new_post_id();
  params.add(post_id);
  pg::Result result;
  pg::ConnectionPool::Lease connection = pool_->acquire();
  Status status = connection->exec(post_name, params, &result);
  if (status != Status::ok) {
    fault_log_.failed(FaultLog::Kind::write, status.message());
    if (connection->last_failure() == pg::Failure::lost && connection->last_sent()) {
      // Invariant 4: it may have committed before the connection was lost, or may still.
      const int lost_backend_pid = connection->backend_pid();
      CREBITO_ASSERT(lost_backend_pid > 0);
      Status settled =
          settle(&*connection, lost_backend_pid, posting.account_id, post_id, status, after);
      if (settled != Status::ok) return settled;
      metrics::committed(1);  // It had committed before the loss.
      return fault_log_.report(FaultLog::Kind::write, Status::ok);
    }
    return status;
  }
  metrics::committed(result.rows());  // The statement committed alone, with its posting or none.
  if (result.rows() == 0) return fault_log_.report(FaultLog::Kind::write, Status::refused);
  CREBITO_ASSERT(result.rows() == 1);
  after->id = posting.account_id;
  after->balance_cents = result.integer(0, 0);
  after->limit_cents = result.integer(0, 1);
  CREBITO_ASSERT(after->balance_cents >= -after->limit_cents);
  CREBITO_ASSERT(after->balance_cents <= limits::balance_cents_max);
  return fault_log_.report(FaultLog::Kind::write, Status::ok);
}

Status PostgresLedgerStore::settle(pg::Connection* connection, int lost_backend_pid,
                                   int64_t account_id, int64_t post_id, const Status& lost,
                                   AccountRow* after) {
  using Clock = std::chrono::steady_clock;
  const Clock::time_point deadline =
      Clock::now() + std::chrono::milliseconds(limits::pg_post_outcome_wait_ms);
  pg::Params lookup_params;
  lookup_params.add(account_id).add(post_id);
  std::string why_unknown;
  for (;;) {
    // First the lost session's backend must be gone (pg_connection.h, invariant 7): until then
    // it may still commit the posting, whatever a lookup finds now.
    bool gone = false;
    Status status = connection->end_backend(lost_backend_pid, &gone);
    if (status == Status::ok && gone) {
      pg::Result found;
      status = connection->exec(post_lookup_name, lookup_params, &found);
      if (status == Status::ok && found.rows() == 0) {
        return {Status::unavailable, lost.message() + " (the posting was not written)"};
      }
      if (status == Status::ok) {
        CREBITO_ASSERT(found.rows() == 1);
        after->id = account_id;
        after->balance_cents = found.integer(0, 0);
        after->limit_cents = found.integer(0, 1);
        CREBITO_ASSERT(after->balance_cents >= -after->limit_cents);
        CREBITO_ASSERT(after->balance_cents <= limits::balance_cents_max);
        return Status::ok;
      }
    }
    if (status == Status::ok) {
      why_unknown = "the lost session's server process " + std::to_string(lost_backend_pid) +
                    " was still running";
    } else {
      why_unknown = status.message();
      // Not a lost connection (e.g. not allowed to end that backend): trying again changes nothing.
      if (connection->last_failure() != pg::Failure::lost) break;
    }
    // A backend asked to end is looked for again shortly; a connection that could not be opened,
    // at its next reconnect (at most one per pg_reconnect_interval_ms).
    const Clock::time_point next =
        Clock::now() +
        (status == Status::ok
             ? Clock::duration(backend_exit_poll_interval)
             : Clock::duration(std::chrono::milliseconds(limits::pg_reconnect_interval_ms)));
    if (next >= deadline) break;
    std::this_thread::sleep_until(next);
  }
  return {Status::unknown,
          lost.message() + " (whether the posting was written could not be learnt within " +
              std::to_string(limits::pg_post_outcome_wait_ms) + " ms: " + why_unknown + ")"};
}

Status PostgresLedgerStore::read(const char* name, const pg::Params& params, pg::Result* result) {
  pg::ConnectionPool::Lease connection = pool_->acquire();
  Status status = connection->exec(name, params, result);
  for (int attempt = 1; attempt < limits::pg_read_attempts_max && status != Status::ok &&
                        connection->last_failure() == pg::Failure::lost;
       ++attempt) {
    // A connection idle across a server restart fails its first use; a reopened one may not.
    status = connection->exec(name, params, result);
  }
  if (status != Status::ok) fault_log_.failed(FaultLog::Kind::read, status.message());
  return status;
}

Status PostgresLedgerStore::read_statement(int64_t account_id, size_t entries_max,
                                           AccountRow* account, std::vector<EntryRow>* entries) {
  entries->clear();
  pg::Params params;
  params.add(account_id).add(static_cast<int64_t>(entries_max));
  pg::Result result;
  Status status = read(statement_name, params, &result);
  if (status != Status::ok) return status;
  if (result.rows() == 0) return fault_log_.report(FaultLog::Kind::read, Status::refused);
  account->id = account_id;
  account->balance_cents = result.integer(0, 0);
  account->limit_cents = result.integer(0, 1);
  for (int row = 0; row < result.rows(); ++row) {
    if (result.is_null(row, 2)) continue;  // No transactions yet.
    EntryRow& entry = entries->emplace_back();
    entry.amount_cents = result.integer(row, 2);
    const std::string_view kind = result.text(row, 3);
    CREBITO_ASSERT(kind.size() == 1);
    entry.kind = kind[0];
    entry.description = result.text(row, 4);
    entry.created_at = result.text(row, 5);
  }
  CREBITO_ASSERT(entries->size() <= entries_max);
  return fault_log_.report(FaultLog::Kind::read, Status::ok);
}

Status PostgresLedgerStore::read_accounts(std::vector<AccountRow>* accounts) {
  accounts->clear();
  pg::ConnectionPool::Lease connection = pool_->acquire();
  pg::Result result;
  Status status = connection->run(accounts_sql, &result);
  if (status != Status::ok) return status;
  for (int row = 0; row < result.rows(); ++row) {
    accounts->push_back({result.integer(row, 0), result.integer(row, 1), result.integer(row, 2)});
  }
  return Status::ok;
}

Status PostgresLedgerStore::health(int64_t account_id) {
  pg::Params params;
  params.add(account_id);
  pg::Result result;
  Status status = read(health_name, params, &result);
  if (status != Status::ok) return status;
  if (result.rows() != 1) {
    return {Status::unavailable, "account " + std::to_string(account_id) + " is missing"};
  }
  return fault_log_.report(FaultLog::Kind::read, Status::ok);
}

}  // namespace store
