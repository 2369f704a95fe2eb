// ledger::Ledger on a PostgreSQL store (--store postgresql://...), against a real cluster of its
// own (support/pg_cluster.h): the same rules and outcomes as on SQLite (tests/unit/ledger/
// ledger_test.cpp), batches that never hold an answer back, and 503s (never a wrong 200) while
// PostgreSQL is down.
#include <catch2/catch.hpp>

#include "ledger/ledger.h"
#include "store/location.h"
#include "support/pg_cluster.h"

namespace {

int64_t count_rows(const PgCluster& cluster, int64_t account_id) {
  return std::stoll(cluster.psql("SELECT count(*) FROM transactions WHERE account_id = " +
                                 std::to_string(account_id)));
}

}  // namespace

TEST_CASE("postgresql: the ledger's rules through ledger::Ledger on a PostgreSQL store",
          "[postgresql][ledger]") {
  PgCluster cluster;
  std::string error;
  store::Location location;
  REQUIRE(store::parse_location(cluster.uri(), &location, &error));
  auto ledger = ledger::Ledger::open(location, {0, 4}, &error);
  INFO(error);
  REQUIRE(ledger);
  REQUIRE(ledger->accounts().size() == 5);
  CHECK(ledger->health() == ledger::Outcome::ok);

  ledger::Balance balance;
  REQUIRE(ledger->apply(1, {99999, ledger::Kind::debit, "quase"}, &balance) == ledger::Outcome::ok);
  CHECK(balance.balance_cents == -99999);
  CHECK(ledger->apply(1, {2, ledger::Kind::debit, "demais"}, &balance) == ledger::Outcome::refused);
  ledger::Statement statement;
  REQUIRE(ledger->statement(1, &statement) == ledger::Outcome::ok);
  CHECK(statement.balance_cents == -99999);
  CHECK(statement.limit_cents == 100000);
  REQUIRE(statement.entries.size() == 1);
  CHECK(statement.entries[0].description == "quase");

  // A batch on PostgreSQL: each posting commits alone, no answer depends on the batch.
  ledger->begin_turn();
  REQUIRE(ledger->apply(1, {1, ledger::Kind::credit, "lote"}, &balance) == ledger::Outcome::ok);
  CHECK_FALSE(ledger->answered_from_turn());
  CHECK(ledger->end_turn());
  CHECK(count_rows(cluster, 1) == 2);

  cluster.stop_immediate();
  CHECK(ledger->apply(1, {1, ledger::Kind::credit, "fora"}, &balance) ==
        ledger::Outcome::unavailable);
  CHECK(ledger->statement(1, &statement) == ledger::Outcome::unavailable);
  CHECK(ledger->health() == ledger::Outcome::unavailable);
}
