// The store's guarantees that do not depend on the ledger: the PRAGMAs every connection runs with,
// the schema's own defence of the money invariant, and a race-free start on an empty directory.
#include <SQLiteCpp/Database.h>

#include <catch2/catch.hpp>
#include <thread>

#include "store/pool.h"
#include "store/schema.h"
#include "support/temp_dir.h"

TEST_CASE("every connection runs WAL with synchronous=NORMAL", "[store][pragmas]") {
  TempDir dir;
  std::string error;
  REQUIRE(store::apply_schema(dir.file("crebito.db"), &error));
  auto writer_lock = store::WriterLock::open(dir.file("crebito.db"), &error);
  REQUIRE(writer_lock);
  auto connection =
      store::Connection::open({dir.file("crebito.db"), 100}, writer_lock.get(), &error);
  INFO(error);
  REQUIRE(connection);
  CHECK(connection->test_pragma("journal_mode") == "wal");
  CHECK(connection->test_pragma("synchronous") == "1");  // NORMAL; Debian's default is 2 (FULL).
  CHECK(connection->test_pragma("foreign_keys") == "1");
  CHECK(connection->test_pragma("temp_store") == "2");  // MEMORY
}

TEST_CASE("applying the schema twice changes nothing", "[store][schema]") {
  TempDir dir;
  std::string error;
  REQUIRE(store::apply_schema(dir.file("crebito.db"), &error));
  {
    SQLite::Database db(dir.file("crebito.db"), SQLite::OPEN_READWRITE);
    db.exec("UPDATE accounts SET balance_cents = 42 WHERE id = 1");
  }
  REQUIRE(store::apply_schema(dir.file("crebito.db"), &error));
  SQLite::Database db(dir.file("crebito.db"));
  CHECK(db.execAndGet("SELECT COUNT(*) FROM accounts").getInt() == 5);
  CHECK(db.execAndGet("SELECT balance_cents FROM accounts WHERE id = 1").getInt() == 42);
}

TEST_CASE("the schema itself refuses a balance below -limit", "[store][schema]") {
  TempDir dir;
  std::string error;
  REQUIRE(store::apply_schema(dir.file("crebito.db"), &error));
  SQLite::Database db(dir.file("crebito.db"), SQLite::OPEN_READWRITE);
  CHECK_THROWS_WITH(db.exec("UPDATE accounts SET balance_cents = -100001 WHERE id = 1"),
                    Catch::Contains("CHECK constraint failed"));
  CHECK_THROWS_WITH(db.exec("UPDATE accounts SET balance_cents = 9007199254740992 WHERE id = 1"),
                    Catch::Contains("CHECK constraint failed"));
  CHECK_THROWS_WITH(db.exec("INSERT INTO transactions (account_id, amount_cents, kind, "
                            "description, created_at) VALUES (1, 0, 'c', 'x', 'now')"),
                    Catch::Contains("CHECK constraint failed"));
  CHECK_THROWS_WITH(db.exec("INSERT INTO transactions (account_id, amount_cents, kind, "
                            "description, created_at) VALUES (1, 1, 'x', 'x', 'now')"),
                    Catch::Contains("CHECK constraint failed"));
  CHECK(db.execAndGet("SELECT balance_cents FROM accounts WHERE id = 1").getInt() == 0);
}

TEST_CASE("many openers racing on an empty directory all succeed", "[store][schema]") {
  for (int round = 0; round < 10; ++round) {
    TempDir dir;
    constexpr int openers = 6;
    std::atomic<int> succeeded{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < openers; ++i) {
      threads.emplace_back([&] {
        std::string error;
        if (store::apply_schema(dir.file("crebito.db"), &error))
          ++succeeded;
        else
          UNSCOPED_INFO(error);
      });
    }
    for (std::thread& thread : threads) thread.join();
    REQUIRE(succeeded == openers);
    SQLite::Database db(dir.file("crebito.db"));
    CHECK(db.execAndGet("SELECT COUNT(*) FROM accounts").getInt() == 5);
  }
}

TEST_CASE("a missing directory is a clear error, not a crash", "[store][schema]") {
  std::string error;
  CHECK_FALSE(store::apply_schema("/nonexistent-crebito-dir/crebito.db", &error));
  CHECK_THAT(error, Catch::Contains("/nonexistent-crebito-dir/crebito.db"));
}
