// The store's guarantees that do not depend on the ledger: the schema's own defence of the money
// invariant, and a race-free start on an empty directory. (The PRAGMAs every connection runs with:
// database_test.cpp.)
#include <SQLiteCpp/Database.h>

#include <catch2/catch.hpp>
#include <thread>

#include "store/sqlite/ledger_engine.h"
#include "store/sqlite/schema.h"
#include "support/temp_dir.h"

TEST_CASE("applying the schema twice changes nothing", "[store][schema]") {
  TempDir dir;
  REQUIRE(store::apply_schema(dir.file("crebito.db")) == store::Status::ok);
  {
    SQLite::Database db(dir.file("crebito.db"), SQLite::OPEN_READWRITE);
    db.exec("UPDATE accounts SET balance_cents = 42 WHERE id = 1");
  }
  REQUIRE(store::apply_schema(dir.file("crebito.db")) == store::Status::ok);
  SQLite::Database db(dir.file("crebito.db"));
  CHECK(db.execAndGet("SELECT COUNT(*) FROM accounts").getInt() == 5);
  CHECK(db.execAndGet("SELECT balance_cents FROM accounts WHERE id = 1").getInt() == 42);
}

TEST_CASE("the schema itself refuses a balance below -limit", "[store][schema]") {
  TempDir dir;
  REQUIRE(store::apply_schema(dir.file("crebito.db")) == store::Status::ok);
  SQLite::Database db(dir.file("crebito.db"), SQLite::OPEN_READWRITE);
  CHECK_THROWS_WITH(db.exec("UPDATE accounts SET balance_cents = -100001 WHERE id = 1"),
                    Catch::Contains("CHECK constraint failed"));
  CHECK_THROWS_WITH(db.exec("UPDATE accounts SET balance_cents = 9007199254740992 WHERE id = 1"),
                    Catch::Contains("CHECK constraint failed"));
  CHECK_THROWS_WITH(db.exec("INSERT INTO transactions (account_id, seq, amount_cents, kind, "
                            "description, created_at) VALUES (1, 1, 0, 'c', 'x', 'now')"),
                    Catch::Contains("CHECK constraint failed"));
  CHECK_THROWS_WITH(db.exec("INSERT INTO transactions (account_id, seq, amount_cents, kind, "
                            "description, created_at) VALUES (1, 1, 1, 'x', 'x', 'now')"),
                    Catch::Contains("CHECK constraint failed"));
  CHECK_THROWS_WITH(db.exec("INSERT INTO transactions (account_id, seq, amount_cents, kind, "
                            "description, created_at) VALUES (1, 0, 1, 'c', 'x', 'now')"),
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
        const store::Status status = store::apply_schema(dir.file("crebito.db"));
        if (status == store::Status::ok)
          ++succeeded;
        else
          UNSCOPED_INFO(status.message());
      });
    }
    for (std::thread& thread : threads) thread.join();
    REQUIRE(succeeded == openers);
    SQLite::Database db(dir.file("crebito.db"));
    CHECK(db.execAndGet("SELECT COUNT(*) FROM accounts").getInt() == 5);
  }
}

TEST_CASE("a missing directory is a clear error, not a crash", "[store][schema]") {
  const store::Status status = store::apply_schema("/nonexistent-crebito-dir/crebito.db");
  CHECK(status == store::Status::unavailable);
  CHECK_THAT(status.message(), Catch::Contains("/nonexistent-crebito-dir/crebito.db"));
}

TEST_CASE("a file of the first layout is migrated with every row and its order kept",
          "[store][schema]") {
  TempDir dir;
  {
    // The first layout: transactions numbered globally, with an index by account.
    SQLite::Database db(dir.file("crebito.db"), SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    db.exec("PRAGMA journal_mode = WAL");
    db.exec(
        "CREATE TABLE accounts (id INTEGER PRIMARY KEY, limit_cents INTEGER NOT NULL CHECK "
        "(limit_cents >= 0), balance_cents INTEGER NOT NULL DEFAULT 0, CHECK (balance_cents >= "
        "-limit_cents), CHECK (balance_cents <= 9007199254740991)) STRICT;"
        "CREATE TABLE transactions (id INTEGER PRIMARY KEY, account_id INTEGER NOT NULL REFERENCES "
        "accounts (id), amount_cents INTEGER NOT NULL, kind TEXT NOT NULL, description TEXT NOT "
        "NULL, created_at TEXT NOT NULL) STRICT;"
        "CREATE INDEX transactions_by_account ON transactions (account_id, id);"
        "INSERT INTO accounts VALUES (1, 100000, -7), (2, 80000, 5), (3, 1000000, 0), "
        "(4, 10000000, 0), (5, 500000, 0);"
        "INSERT INTO transactions (account_id, amount_cents, kind, description, created_at) VALUES "
        "(1, 3, 'd', 'a1', 't'), (2, 5, 'c', 'b1', 't'), (1, 1, 'c', 'a2', 't'), "
        "(1, 5, 'd', 'a3', 't');");
  }
  REQUIRE(store::apply_schema(dir.file("crebito.db")) == store::Status::ok);
  REQUIRE(store::apply_schema(dir.file("crebito.db")) ==
          store::Status::ok);  // And again: nothing changes.
  SQLite::Database db(dir.file("crebito.db"));
  CHECK(db.execAndGet("SELECT COUNT(*) FROM transactions").getInt() == 4);
  CHECK(db.execAndGet("SELECT group_concat(description, ',') FROM (SELECT description FROM "
                      "transactions WHERE account_id = 1 ORDER BY seq)")
            .getString() == "a1,a2,a3");
  CHECK(db.execAndGet("SELECT group_concat(seq, ',') FROM (SELECT seq FROM transactions WHERE "
                      "account_id = 1 ORDER BY seq)")
            .getString() == "1,2,3");
  CHECK(db.execAndGet("SELECT group_concat(transaction_count, ',') FROM (SELECT "
                      "transaction_count FROM accounts ORDER BY id)")
            .getString() == "3,1,0,0,0");
  CHECK(db.execAndGet("SELECT balance_cents FROM accounts WHERE id = 1").getInt() == -7);
  CHECK(db.execAndGet("SELECT COUNT(*) FROM sqlite_master WHERE name IN "
                      "('transactions_layout_1', 'transactions_by_account')")
            .getInt() == 0);

  // The next posting continues the account's numbering.
  std::string error;
  auto pool = store::SqliteLedgerEngine::open({dir.file("crebito.db"), 2000}, 1, &error);
  INFO(error);
  REQUIRE(pool);
  // account 1, +2 cents, a credit.
  const store::Posting posting{1, 2, 2, 'c', "a4", "t"};
  store::AccountRow after;
  REQUIRE(pool->post(posting, &after) == store::Status::ok);
  CHECK(after.balance_cents == -5);
  CHECK(db.execAndGet("SELECT description FROM transactions WHERE account_id = 1 AND seq = 4")
            .getString() == "a4");
}
