// The SQLite core every store connection is built on (src/store/sqlite/database.h), seen through
// each kind of connection: the ledger's (lent and the writer), the payments face's, and the
// checkpointer's.
//   - each runs the one PRAGMA set, read back from the connection itself;
//   - a write waits for a lock held outside crebito for the request timeout, not the schema's;
//   - a file removed while open: every kind answers unavailable, writes nothing into the unlinked
//     file, creates no file, and its pool replaces it once a database is back at the path (the
//     checkpointer too: it checkpoints the restored file).
#include "store/sqlite/database.h"

#include <SQLiteCpp/Database.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <functional>
#include <thread>

#include "crebito_limits.h"
#include "store/sqlite/checkpointer.h"
#include "store/sqlite/ledger_engine.h"
#include "store/sqlite/payments_connection.h"
#include "store/sqlite/schema.h"
#include "support/temp_dir.h"
#include "support/wait_until.h"
#include "unit/payments/payments_store_cases.h"
#include "unit/store/posting.h"

namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;

const std::string id_a = "4a7901b8-7d26-4d9d-aa19-4dc1c7cf60b1";
const std::string id_b = "4a7901b8-7d26-4d9d-aa19-4dc1c7cf60b2";
const std::string id_c = "4a7901b8-7d26-4d9d-aa19-4dc1c7cf60b3";

std::string prepared_db(const TempDir& dir) {
  REQUIRE(store::apply_schema(dir.file("crebito.db")) == store::Status::ok);
  return dir.file("crebito.db");
}

// A prepared file in a folder of its own.
struct PreparedFile {
  TempDir dir;
  const std::string path = prepared_db(dir);
  std::string error;

  // A ledger engine on the file lending `connections` connections, busy timeout 100 ms.
  std::unique_ptr<store::SqliteLedgerEngine> open_ledger(int connections) {
    auto pool = store::SqliteLedgerEngine::open({path, 100}, connections, &error);
    REQUIRE(pool);
    return pool;
  }
};

// What every kind of connection must read back (store/sqlite/database.h, invariant 3).
template <class C>
void check_pragma_set(C& connection, const std::string& cache_size) {
  CHECK(connection.test_pragma("journal_mode") == "wal");
  CHECK(connection.test_pragma("synchronous") == "1");  // NORMAL; Debian's default is 2 (FULL).
  CHECK(connection.test_pragma("foreign_keys") == "1");
  CHECK(connection.test_pragma("temp_store") == "2");          // MEMORY
  CHECK(connection.test_pragma("wal_autocheckpoint") == "0");  // Only the checkpointer's thread.
  CHECK(connection.test_pragma("journal_size_limit") == std::to_string(limits::wal_bytes_max));
  CHECK(connection.test_pragma("cache_size") == cache_size);
  // SQLite's timeout handler (PRAGMA busy_timeout) was replaced by the core's own busy handler.
  CHECK(connection.test_pragma("busy_timeout") == "0");
}

// The rows of the file at `path` with that correlationId, read by a connection of the test's own.
int payments_rows(const std::string& path, const std::string& correlation_id) {
  SQLite::Database db(path);
  SQLite::Statement query(db, "SELECT count(*) FROM payments WHERE correlation_id = ?");
  query.bind(1, correlation_id);
  REQUIRE(query.executeStep());
  return query.getColumn(0).getInt();
}

// Read-write (never created): the checkpointer test's copy has no -shm yet.
int transaction_rows(const std::string& path, const std::string& description) {
  SQLite::Database db(path, SQLite::OPEN_READWRITE);
  SQLite::Statement query(db, "SELECT count(*) FROM transactions WHERE description = ?");
  query.bind(1, description);
  if (!query.executeStep()) return -1;
  return query.getColumn(0).getInt();
}

// An operator's backup of `path`, taken while nothing writes, in WAL mode like the original.
std::string backup_of(const std::string& path, const TempDir& dir) {
  const std::string backup = dir.file("backup.db");
  {
    SQLite::Database db(path);
    db.exec("VACUUM INTO '" + backup + "'");
  }
  SQLite::Database db(backup, SQLite::OPEN_READWRITE);
  db.exec("PRAGMA journal_mode = WAL");
  return backup;
}

void remove_database(const std::string& path) {
  for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(path + suffix);
}

}  // namespace

TEST_CASE("every kind of connection runs the one PRAGMA set", "[store][pragmas]") {
  TempDir dir;
  const std::string path = prepared_db(dir);
  std::string error;
  SECTION("the ledger's") {
    auto pool = store::SqliteLedgerEngine::open({path, 100}, 1, &error);
    INFO(error);
    REQUIRE(pool);
    auto connection = pool->acquire();
    check_pragma_set(*connection, "-2000");  // SQLite's default page cache.
  }
  SECTION("the payments face's") {
    auto pool = store::SqlitePaymentsPool::open({path, 100}, 1, 0, &error);
    INFO(error);
    REQUIRE(pool);
    auto connection = pool->acquire();
    check_pragma_set(*connection, std::to_string(-limits::payments_cache_kib));
  }
  SECTION("the checkpointer's") {
    auto connection = store::Checkpointer::open_connection(path, &error);
    INFO(error);
    REQUIRE(connection);
    check_pragma_set(*connection, "-2000");
  }
}

TEST_CASE("no kind of connection opens a file not in WAL mode", "[store][pragmas]") {
  TempDir dir;
  const std::string path = prepared_db(dir);
  std::string error;
  auto writer_lock = store::WriterLock::open(path, &error);
  REQUIRE(writer_lock);
  {
    SQLite::Database db(path, SQLite::OPEN_READWRITE);
    db.exec("PRAGMA journal_mode = DELETE");
  }
  CHECK_FALSE(store::SqliteLedgerConnection::open({path, 100}, writer_lock.get(), &error));
  CHECK_THAT(error, Catch::Contains("journal_mode is 'delete'"));
  error.clear();
  CHECK_FALSE(store::SqlitePaymentsConnection::open({path, 100}, writer_lock.get(), &error));
  CHECK_THAT(error, Catch::Contains("journal_mode is 'delete'"));
  error.clear();
  CHECK_FALSE(store::Checkpointer::open_connection(path, &error));
  CHECK_THAT(error, Catch::Contains("journal_mode is 'delete'"));
}

TEST_CASE("a write waits for a lock held outside crebito for the request timeout, not longer",
          "[store][busy]") {
  TempDir dir;
  const std::string path = prepared_db(dir);
  // An operator's shell holds the write lock; it does not take crebito's WriterLock.
  SQLite::Database shell(path, SQLite::OPEN_READWRITE);
  shell.exec("BEGIN IMMEDIATE");
  constexpr int busy_timeout_ms = 100;
  std::string error;
  const auto timed = [](const std::function<store::Status()>& write, store::Status* status) {
    const auto start = std::chrono::steady_clock::now();
    *status = write();
    return std::chrono::steady_clock::now() - start;
  };
  store::Status status;
  SECTION("the ledger's") {
    auto pool = store::SqliteLedgerEngine::open({path, busy_timeout_ms}, 1, &error);
    REQUIRE(pool);
    store::AccountRow after;
    const auto waited = timed([&] { return pool->post(posting(1, 'c', 1, "x"), &after); }, &status);
    CHECK(status == store::Status::busy);
    CHECK_THAT(status.message(), Catch::Contains("database is locked"));  // For the 503's log line.
    CHECK(waited >= milliseconds(busy_timeout_ms));
    CHECK(waited < milliseconds(limits::schema_busy_timeout_ms));
  }
  SECTION("the payments face's") {
    auto pool = store::SqlitePaymentsPool::open({path, busy_timeout_ms}, 1, 0, &error);
    REQUIRE(pool);
    auto connection = pool->acquire();
    const auto waited = timed([&] { return connection->accept(id_a, 100, 1000); }, &status);
    CHECK(status == store::Status::busy);
    CHECK_THAT(status.message(), Catch::Contains("database is locked"));  // For the 503's log line.
    CHECK(waited >= milliseconds(busy_timeout_ms));
    CHECK(waited < milliseconds(limits::schema_busy_timeout_ms));
  }
  shell.exec("ROLLBACK");
}

TEST_CASE_METHOD(PreparedFile,
                 "a removed ledger: unavailable, nothing created, reopened once a ledger is back",
                 "[store][moved]") {
  auto pool = open_ledger(2);
  store::AccountRow after;
  std::vector<store::EntryRow> entries;
  REQUIRE(pool->post(posting(1, 'c', 10, "before"), &after) == store::Status::ok);
  const std::string backup = backup_of(path, dir);

  remove_database(path);
  // The writer (group commit) and the lent connections alike.
  const store::Status ghost = pool->post(posting(1, 'c', 10, "ghost"), &after);
  CHECK(ghost == store::Status::unavailable);
  CHECK_THAT(ghost.message(), Catch::Contains("was removed or replaced while open"));
  CHECK(pool->read_statement(1, 10, &after, &entries) == store::Status::unavailable);
  CHECK_FALSE(fs::exists(path));

  fs::copy_file(backup, path);
  CHECK(wait_until(
      [&] { return pool->post(posting(1, 'c', 10, "after"), &after) == store::Status::ok; }));
  CHECK(wait_until(
      [&] { return pool->read_statement(1, 10, &after, &entries) == store::Status::ok; }));
  CHECK(transaction_rows(path, "before") == 1);
  CHECK(transaction_rows(path, "ghost") == 0);
  CHECK(transaction_rows(path, "after") == 1);
}

TEST_CASE("a removed file under payments connections: unavailable, nothing created, reopened",
          "[store][moved][payments]") {
  TempDir dir;
  const std::string path = prepared_db(dir);
  std::string error;
  auto pool = store::SqlitePaymentsPool::open({path, 100}, 2, 0, &error);
  REQUIRE(pool);
  REQUIRE(pool->acquire()->accept(id_a, 100, 1000) == store::Status::ok);
  const std::string backup = backup_of(path, dir);

  remove_database(path);
  {
    auto connection = pool->acquire();
    const store::Status accepted = connection->accept(id_b, 100, 1001);
    CHECK(accepted == store::Status::unavailable);
    CHECK_THAT(accepted.message(), Catch::Contains("was removed or replaced while open"));
    payments_store_cases::every_call_unavailable(*connection);
  }
  CHECK_FALSE(fs::exists(path));

  fs::copy_file(backup, path);
  CHECK(wait_until([&] { return pool->acquire()->accept(id_c, 100, 1002) == store::Status::ok; }));
  // Both connections, held at once: the one not yet replaced is replaced at its next loan.
  CHECK(wait_until([&] {
    store::QueueCounts counts;
    return payments_store_cases::two_sessions_count(*pool, &counts);
  }));
  CHECK(payments_rows(path, id_a) == 1);
  CHECK(payments_rows(path, id_b) == 0);
  CHECK(payments_rows(path, id_c) == 1);
}

TEST_CASE_METHOD(PreparedFile,
                 "the checkpointer follows a replaced file and checkpoints the restored one",
                 "[store][moved][checkpointer]") {
  auto pool = open_ledger(1);
  auto checkpointer = store::Checkpointer::start(path, &error);
  REQUIRE(checkpointer);
  const std::string backup = backup_of(path, dir);
  remove_database(path);
  fs::copy_file(backup, path);
  store::AccountRow after;
  REQUIRE(wait_until(
      [&] { return pool->post(posting(1, 'c', 10, "restored"), &after) == store::Status::ok; }));
  // Checkpointed: the database file alone (a copy without its WAL) holds the row. Without the
  // checkpointer nothing would copy it there: every connection runs with wal_autocheckpoint=0.
  CHECK(wait_until([&] {
    const std::string copy = dir.file("copy.db");
    remove_database(copy);
    fs::copy_file(path, copy);
    try {
      return transaction_rows(copy, "restored") == 1;
    } catch (const std::exception&) {
      return false;  // Copied in the middle of a checkpoint.
    }
  }));
}
