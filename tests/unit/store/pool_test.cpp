// store::SqliteLedgerEngine's group commit: postings from many threads, committed in shared
// transactions, each get their own outcome, and every returned balance is exactly the running
// balance in commit order. And the checkpointer keeps the WAL from growing while requests never
// checkpoint; and a turn (one wake-up of an event-loop thread) commits its postings together, each
// with its own outcome.
#include <SQLiteCpp/Database.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <map>
#include <thread>

#include "crebito_limits.h"
#include "store/sqlite/checkpointer.h"
#include "store/sqlite/ledger_engine.h"
#include "store/sqlite/schema.h"
#include "support/temp_dir.h"
#include "unit/store/posting.h"

namespace {

std::unique_ptr<store::SqliteLedgerEngine> open_pool(const TempDir& dir) {
  std::string error;
  REQUIRE(store::apply_schema(dir.file("crebito.db")) == store::Status::ok);
  auto pool = store::SqliteLedgerEngine::open({dir.file("crebito.db"), 2000}, 12, &error);
  INFO(error);
  REQUIRE(pool);
  return pool;
}

}  // namespace

TEST_CASE("group commit gives every posting its own balance, in commit order",
          "[store][pool][group_commit]") {
  TempDir dir;
  auto pool = open_pool(dir);
  constexpr int threads = 12;
  constexpr int postings_per_thread = 150;
  struct Result {
    std::string tag;
    int64_t account;
    store::Status status;
    int64_t balance_after;
  };
  std::vector<std::vector<Result>> results(threads);
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      for (int i = 0; i < postings_per_thread; ++i) {
        // Account 2 (limit 80000) gets big debits, so some are refused inside shared batches.
        const int64_t account = 1 + (t + i) % 2;
        const char kind = (i % 3 == 0) ? 'c' : 'd';
        const std::string tag = std::to_string(t) + "-" + std::to_string(i);
        store::AccountRow after;
        std::string error;
        const store::Status status = pool->post(posting(account, kind, 1000 + 37 * t, tag), &after);
        results[t].push_back({tag, account, status, after.balance_cents});
      }
    });
  }
  for (std::thread& worker : workers) worker.join();

  // Replay each account's rows in seq (commit) order and compare with what each caller was told.
  std::map<std::string, int64_t> balance_at;
  std::map<int64_t, int64_t> running;
  SQLite::Database db(dir.file("crebito.db"));
  SQLite::Statement rows(db,
                         "SELECT account_id, amount_cents, kind, description FROM transactions "
                         "ORDER BY account_id, seq");
  while (rows.executeStep()) {
    const int64_t account = rows.getColumn(0).getInt64();
    const int64_t amount = rows.getColumn(1).getInt64();
    running[account] += rows.getColumn(2).getString() == "c" ? amount : -amount;
    balance_at[rows.getColumn(3).getString()] = running[account];
  }
  int refused = 0;
  for (const auto& thread_results : results) {
    for (const Result& result : thread_results) {
      INFO(result.tag);
      REQUIRE((result.status == store::Status::ok || result.status == store::Status::refused));
      if (result.status == store::Status::refused) {
        ++refused;
        CHECK(balance_at.count(result.tag) == 0);  // Nothing of it was written.
      } else {
        REQUIRE(balance_at.count(result.tag) == 1);
        CHECK(balance_at[result.tag] == result.balance_after);
      }
    }
  }
  CHECK(refused > 0);
  CHECK(db.execAndGet("SELECT balance_cents FROM accounts WHERE id = 1").getInt64() == running[1]);
  CHECK(db.execAndGet("SELECT balance_cents FROM accounts WHERE id = 2").getInt64() == running[2]);
}

TEST_CASE("requests never checkpoint, and the checkpointer keeps the WAL small",
          "[store][checkpointer]") {
  TempDir dir;
  auto pool = open_pool(dir);
  {
    auto connection = pool->acquire();
    CHECK(connection->test_pragma("wal_autocheckpoint") == "0");
  }
  std::string error;
  auto checkpointer = store::Checkpointer::start(dir.file("crebito.db"), &error);
  REQUIRE(checkpointer);
  // ~2 pages per posting: without checkpoints the WAL would pass limits::wal_bytes_max (and
  // limits::checkpoint_restart_frames) long before the end.
  constexpr int postings = 16000;
  static_assert(postings * 2 * 4096 > 1.5 * limits::wal_bytes_max);
  for (int i = 0; i < postings; ++i) {
    store::AccountRow after;
    REQUIRE(pool->post(posting(1 + i % 5, 'c', 1, "wal"), &after) == store::Status::ok);
  }
  // Once the checkpointer has copied the whole WAL, the next commit restarts the WAL from its
  // beginning and truncates it to limits::wal_bytes_max. Commit one more posting every interval
  // until the file is that small, within a deadline of many intervals.
  const auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::milliseconds(200 * limits::checkpoint_interval_ms);
  const std::string wal = dir.file("crebito.db-wal");
  int more = 0;
  uintmax_t wal_bytes = std::filesystem::file_size(wal);
  while (wal_bytes > static_cast<uintmax_t>(limits::wal_bytes_max) &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(limits::checkpoint_interval_ms));
    store::AccountRow after;
    REQUIRE(pool->post(posting(1, 'c', 1, "wal"), &after) == store::Status::ok);
    ++more;
    wal_bytes = std::filesystem::file_size(wal);
  }
  INFO(more << " more commits");
  CHECK(wal_bytes <= static_cast<uintmax_t>(limits::wal_bytes_max));
  SQLite::Database db(dir.file("crebito.db"));
  CHECK(db.execAndGet("SELECT COUNT(*) FROM transactions").getInt() == postings + more);
}

namespace {

int64_t committed_balance(const TempDir& dir, int64_t account) {
  SQLite::Database db(dir.file("crebito.db"));
  SQLite::Statement query(db, "SELECT balance_cents FROM accounts WHERE id = ?");
  query.bind(1, account);
  REQUIRE(query.executeStep());
  return query.getColumn(0).getInt64();
}

}  // namespace

TEST_CASE("a turn's postings share one transaction: each its own outcome, all durable at its end",
          "[store][pool][turn]") {
  TempDir dir;
  auto pool = open_pool(dir);
  store::AccountRow after;
  pool->begin_turn();
  CHECK(pool->post(posting(2, 'd', 50000, "a"), &after) == store::Status::ok);
  CHECK(after.balance_cents == -50000);
  CHECK(pool->answered_from_turn());
  CHECK_FALSE(pool->answered_from_turn());  // Once per request.
  // Refused against the turn's own earlier posting (limit 80000): it writes nothing, and its
  // answer depends on the turn too.
  CHECK(pool->post(posting(2, 'd', 40000, "b"), &after) == store::Status::refused);
  CHECK(pool->answered_from_turn());
  // A statement read during the turn sees the turn's postings.
  std::vector<store::EntryRow> entries;
  CHECK(pool->read_statement(2, 10, &after, &entries) == store::Status::ok);
  CHECK(after.balance_cents == -50000);
  CHECK(entries.size() == 1);
  CHECK(pool->answered_from_turn());
  // Nothing is visible to another connection before the turn ends.
  CHECK(committed_balance(dir, 2) == 0);
  CHECK(pool->end_turn());
  CHECK(committed_balance(dir, 2) == -50000);
}

TEST_CASE("another write on the turn's thread commits the turn first instead of deadlocking",
          "[store][pool][turn]") {
  TempDir dir;
  auto pool = open_pool(dir);
  std::string error;
  std::shared_ptr<store::WriterLock> lock = store::WriterLock::open(dir.file("crebito.db"), &error);
  REQUIRE(lock);
  store::AccountRow after;
  pool->begin_turn();
  CHECK(pool->post(posting(1, 'c', 100, "a"), &after) == store::Status::ok);
  CHECK(pool->answered_from_turn());
  lock->lock();  // As the payments store does: the turn commits and lets go of the lock.
  CHECK(committed_balance(dir, 1) == 100);
  lock->unlock();
  // Later postings of the turn commit on their own: their answers depend on nothing else.
  CHECK(pool->post(posting(1, 'c', 100, "b"), &after) == store::Status::ok);
  CHECK_FALSE(pool->answered_from_turn());
  CHECK(committed_balance(dir, 1) == 200);
  CHECK(pool->end_turn());
}
