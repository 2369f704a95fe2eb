// The ledger's rules against a real SQLite file in a temporary directory: limits at their exact
// boundary, nothing written on refusal, statement order and size, the money invariant after
// concurrent writers, and durability across a reopen.
#include "ledger/ledger.h"

#include <SQLiteCpp/Database.h>

#include <catch2/catch.hpp>
#include <thread>

#include "crebito_limits.h"
#include "support/audit.h"
#include "support/temp_dir.h"

using ledger::Kind;
using ledger::Outcome;

namespace {

constexpr int test_connections = 4;

std::unique_ptr<ledger::Ledger> open_ledger(const TempDir& dir) {
  std::string error;
  auto opened = ledger::Ledger::open({dir.file("crebito.db"), 2000}, test_connections, &error);
  INFO(error);
  REQUIRE(opened);
  return opened;
}

int64_t count_rows(const TempDir& dir, int64_t account_id) {
  SQLite::Database db(dir.file("crebito.db"));
  SQLite::Statement query(db, "SELECT COUNT(*) FROM transactions WHERE account_id = ?");
  query.bind(1, account_id);
  query.executeStep();
  return query.getColumn(0).getInt64();
}

// Every account's balance equals the sum of its transactions and respects its limit.
void check_audit(const TempDir& dir) { CHECK(audit_failures(dir.file("crebito.db")).empty()); }

// "t<i>". Built with += because GCC 12 warns falsely (-Wrestrict) on label(i).
std::string label(int i) {
  std::string text = "t";
  text += std::to_string(i);
  return text;
}

}  // namespace

TEST_CASE("the five accounts of the spec exist and no other", "[ledger]") {
  TempDir dir;
  auto ledger = open_ledger(dir);
  REQUIRE(ledger->accounts().size() == 5);
  const int64_t limits_expected[] = {100000, 80000, 1000000, 10000000, 500000};
  for (int i = 0; i < 5; ++i) {
    CHECK(ledger->accounts()[i].id == i + 1);
    CHECK(ledger->accounts()[i].limit_cents == limits_expected[i]);
  }
  CHECK_FALSE(ledger->has_account(0));
  CHECK_FALSE(ledger->has_account(6));
  CHECK(ledger->has_account(1));
}

TEST_CASE("a debit down to exactly -limit is accepted, one cent more is refused", "[ledger]") {
  TempDir dir;
  auto ledger = open_ledger(dir);
  ledger::Balance balance;
  REQUIRE(ledger->apply(1, {99999, Kind::debit, "quase"}, &balance) == Outcome::ok);
  CHECK(balance.balance_cents == -99999);
  CHECK(ledger->apply(1, {2, Kind::debit, "demais"}, &balance) == Outcome::refused);
  REQUIRE(ledger->apply(1, {1, Kind::debit, "exato"}, &balance) == Outcome::ok);
  CHECK(balance.balance_cents == -100000);
  CHECK(balance.limit_cents == 100000);
  CHECK(ledger->apply(1, {1, Kind::debit, "um centavo"}, &balance) == Outcome::refused);
  CHECK(count_rows(dir, 1) == 2);  // The refused debits wrote nothing.

  ledger::Statement statement;
  REQUIRE(ledger->statement(1, &statement) == Outcome::ok);
  CHECK(statement.balance_cents == -100000);
  check_audit(dir);
}

TEST_CASE("a credit past the balance maximum is refused and writes nothing", "[ledger]") {
  TempDir dir;
  auto ledger = open_ledger(dir);
  ledger::Balance balance;
  REQUIRE(ledger->apply(2, {limits::amount_cents_max, Kind::credit, "max"}, &balance) ==
          Outcome::ok);
  CHECK(balance.balance_cents == limits::balance_cents_max);
  CHECK(ledger->apply(2, {1, Kind::credit, "over"}, &balance) == Outcome::refused);
  CHECK(count_rows(dir, 2) == 1);
  REQUIRE(ledger->apply(2, {limits::amount_cents_max, Kind::debit, "back"}, &balance) ==
          Outcome::ok);
  CHECK(balance.balance_cents == 0);
  check_audit(dir);
}

TEST_CASE("a statement lists the 10 newest transactions, newest first", "[ledger][statement]") {
  TempDir dir;
  auto ledger = open_ledger(dir);
  ledger::Balance balance;
  for (int i = 1; i <= 12; ++i) {
    REQUIRE(ledger->apply(3, {i, i % 2 ? Kind::credit : Kind::debit, label(i)}, &balance) ==
            Outcome::ok);
  }
  ledger::Statement statement;
  REQUIRE(ledger->statement(3, &statement) == Outcome::ok);
  CHECK(statement.balance_cents == balance.balance_cents);
  CHECK(statement.limit_cents == 1000000);
  REQUIRE(statement.entries.size() == limits::statement_entries_max);
  for (size_t k = 0; k < statement.entries.size(); ++k) {
    const int i = 12 - static_cast<int>(k);
    CHECK(statement.entries[k].amount_cents == i);
    CHECK(statement.entries[k].description == label(i));
    CHECK(statement.entries[k].kind == (i % 2 ? Kind::credit : Kind::debit));
    CHECK(statement.entries[k].created_at.size() == 27);
  }
  CHECK(statement.taken_at.size() == 27);
  CHECK(statement.taken_at.back() == 'Z');
}

TEST_CASE("statement order is commit order even within one microsecond", "[ledger][statement]") {
  TempDir dir;
  auto ledger = open_ledger(dir);
  ledger::Balance balance;
  REQUIRE(ledger->apply(4, {1, Kind::credit, "toma"}, &balance) == Outcome::ok);
  REQUIRE(ledger->apply(4, {1, Kind::debit, "devolve"}, &balance) == Outcome::ok);
  {
    // Give both rows the same timestamp: order must still come from commit order.
    SQLite::Database db(dir.file("crebito.db"), SQLite::OPEN_READWRITE);
    db.exec("UPDATE transactions SET created_at = '2024-01-01T00:00:00.000000Z'");
  }
  ledger::Statement statement;
  REQUIRE(ledger->statement(4, &statement) == Outcome::ok);
  REQUIRE(statement.entries.size() == 2);
  CHECK(statement.entries[0].description == "devolve");
  CHECK(statement.entries[1].description == "toma");
}

TEST_CASE("descriptions round-trip byte for byte, NUL and non-ASCII included", "[ledger]") {
  TempDir dir;
  auto ledger = open_ledger(dir);
  ledger::Balance balance;
  const std::string description("a\0b\"\\é😀", 12);
  REQUIRE(ledger->apply(5, {10, Kind::credit, description}, &balance) == Outcome::ok);
  ledger::Statement statement;
  REQUIRE(ledger->statement(5, &statement) == Outcome::ok);
  REQUIRE(statement.entries.size() == 1);
  CHECK(statement.entries[0].description == description);
}

TEST_CASE("balances survive closing and reopening the file", "[ledger][durability]") {
  TempDir dir;
  ledger::Balance balance;
  {
    auto ledger = open_ledger(dir);
    REQUIRE(ledger->apply(1, {500, Kind::credit, "a"}, &balance) == Outcome::ok);
    REQUIRE(ledger->apply(1, {200, Kind::debit, "b"}, &balance) == Outcome::ok);
  }
  auto reopened = open_ledger(dir);  // Applies schema.sql again: it must change nothing.
  ledger::Statement statement;
  REQUIRE(reopened->statement(1, &statement) == Outcome::ok);
  CHECK(statement.balance_cents == 300);
  CHECK(statement.entries.size() == 2);
  check_audit(dir);
}

TEST_CASE("concurrent writers from two ledgers on one file keep the invariant",
          "[ledger][concurrency]") {
  TempDir dir;
  // Two Ledger objects stand in for the two instances: separate pools, separate writer mutexes,
  // so they meet only in SQLite's file lock (the busy handler path).
  auto first = open_ledger(dir);
  auto second = open_ledger(dir);
  constexpr int threads_per_ledger = 4;
  constexpr int operations_per_thread = 300;
  std::atomic<int64_t> accepted_sum[6] = {};
  std::atomic<int> failures{0};
  auto work = [&](ledger::Ledger* ledger, int seed) {
    uint32_t state = static_cast<uint32_t>(seed) * 2654435761u + 1;
    for (int i = 0; i < operations_per_thread; ++i) {
      state = state * 1664525u + 1013904223u;
      const int64_t account = 1 + (state >> 8) % 5;
      const int64_t amount = 1 + (state >> 12) % 50000;
      const Kind kind = (state >> 4) % 3 == 0 ? Kind::credit : Kind::debit;
      ledger::Balance balance;
      const Outcome outcome = ledger->apply(account, {amount, kind, "stress"}, &balance);
      if (outcome == Outcome::ok) {
        accepted_sum[account] += kind == Kind::credit ? amount : -amount;
        if (balance.balance_cents < -balance.limit_cents) ++failures;
      } else if (outcome != Outcome::refused) {
        ++failures;
      }
    }
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < threads_per_ledger; ++t) {
    threads.emplace_back(work, first.get(), t);
    threads.emplace_back(work, second.get(), 100 + t);
  }
  for (std::thread& thread : threads) thread.join();
  CHECK(failures == 0);
  for (int64_t account = 1; account <= 5; ++account) {
    ledger::Statement statement;
    REQUIRE(first->statement(account, &statement) == Outcome::ok);
    CHECK(statement.balance_cents == accepted_sum[account]);
  }
  check_audit(dir);
}
