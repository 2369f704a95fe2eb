// store::PostgresLedgerStore against a real PostgreSQL cluster of its own (support/pg_cluster.h):
// credits and debits at the exact limit, nothing written on refusal, statements newest first from
// one snapshot, concurrent debits on one account that never pass its limit, the schema applied by
// instances starting at once, and PostgreSQL stopped like a power cut (unavailable, never a wrong
// ok) and started again (the store recovers by itself, nothing lost). And, without a server, that
// every prepared statement names its account in its WHERE clause (Citus routing).
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <regex>
#include <thread>

#include "crebito_limits.h"
#include "store/postgres/ledger_store.h"
#include "support/pg_cluster.h"
#include "unit/store/posting.h"

namespace {

constexpr int test_connections = 4;

std::unique_ptr<store::PostgresLedgerStore> open_store(const PgCluster& cluster,
                                                       int connections = test_connections) {
  std::unique_ptr<store::PostgresLedgerStore> opened;
  const store::Status status =
      store::PostgresLedgerStore::open(cluster.uri(), {0, connections}, &opened);
  INFO(status.message());
  REQUIRE(status == store::Status::ok);
  return opened;
}

store::Status post(store::LedgerStore& store, const store::Posting& p,
                   store::AccountRow* after = nullptr) {
  store::AccountRow row;
  store::Status status = store.post(p, after != nullptr ? after : &row);
  INFO(status.message());
  return status;
}

int64_t count_rows(const PgCluster& cluster, int64_t account_id) {
  return std::stoll(cluster.psql("SELECT count(*) FROM transactions WHERE account_id = " +
                                 std::to_string(account_id)));
}

// Every account's balance equals the sum of its transactions and respects its limit (the same
// audit as support/audit.h's, in PostgreSQL's dialect).
std::vector<std::string> audit_failures(const PgCluster& cluster) {
  return cluster.psql_rows(
      "SELECT a.id FROM accounts a LEFT JOIN transactions t ON t.account_id = a.id "
      "GROUP BY a.id HAVING a.balance_cents != COALESCE(SUM(CASE t.kind WHEN 'c' "
      "THEN t.amount_cents ELSE -t.amount_cents END), 0) "
      "OR a.balance_cents < -a.limit_cents");
}

std::string label(int i) {
  std::string text = "t";
  text += std::to_string(i);
  return text;
}

}  // namespace

TEST_CASE("every prepared ledger statement names its account in its WHERE clause",
          "[store][postgresql_sql]") {
  // Citus routes a statement to one shard when its WHERE clause fixes the distribution column:
  // accounts.id or transactions.account_id, given as $1.
  const std::regex names_account(R"(WHERE\s+(\w+\.)?(id|account_id)\s*=\s*\$1\b)");
  const auto& statements = store::PostgresLedgerStore::statements();
  REQUIRE(statements.size() >= 3);
  for (const store::pg::Prepared& statement : statements) {
    INFO(statement.name << ": " << statement.sql);
    CHECK(std::regex_search(statement.sql, names_account));
    // And no clause filters by anything else first: every WHERE in it names the account.
    const std::string sql = statement.sql;
    for (size_t at = sql.find("WHERE"); at != std::string::npos; at = sql.find("WHERE", at + 1)) {
      CHECK(
          std::regex_search(sql.substr(at), names_account, std::regex_constants::match_continuous));
    }
  }
}

TEST_CASE("postgresql: a debit down to exactly -limit is accepted, one cent more writes nothing",
          "[postgresql][store]") {
  PgCluster cluster;
  auto store = open_store(cluster);

  std::vector<store::AccountRow> accounts;
  REQUIRE(store->read_accounts(&accounts) == store::Status::ok);
  REQUIRE(accounts.size() == 5);
  CHECK(accounts[0].id == 1);
  CHECK(accounts[0].limit_cents == 100000);
  CHECK(accounts[4].limit_cents == 500000);
  CHECK(store->health(1) == store::Status::ok);

  store::AccountRow after;
  REQUIRE(post(*store, posting(1, 'c', 500, "um"), &after) == store::Status::ok);
  CHECK(after.balance_cents == 500);
  CHECK(after.limit_cents == 100000);
  REQUIRE(post(*store, posting(1, 'd', 100499, "quase"), &after) == store::Status::ok);
  CHECK(after.balance_cents == -99999);
  CHECK(post(*store, posting(1, 'd', 2, "demais")) == store::Status::refused);
  REQUIRE(post(*store, posting(1, 'd', 1, "exato"), &after) == store::Status::ok);
  CHECK(after.balance_cents == -100000);
  CHECK(post(*store, posting(1, 'd', 1, "um centavo")) == store::Status::refused);
  CHECK(count_rows(cluster, 1) == 3);  // The refused ones wrote nothing.

  // A credit past the balance maximum is refused too.
  REQUIRE(post(*store, posting(2, 'c', limits::amount_cents_max, "max")) == store::Status::ok);
  CHECK(post(*store, posting(2, 'c', 1, "over")) == store::Status::refused);
  CHECK(count_rows(cluster, 2) == 1);

  // No such account: refused, nothing written.
  CHECK(post(*store, posting(6, 'c', 1, "x")) == store::Status::refused);
  store::AccountRow row;
  std::vector<store::EntryRow> entries;
  CHECK(store->read_statement(6, 10, &row, &entries) == store::Status::refused);
  CHECK(audit_failures(cluster).empty());
}

TEST_CASE("postgresql: a statement lists the newest transactions first, as many as asked",
          "[postgresql][store]") {
  PgCluster cluster;
  auto store = open_store(cluster);
  store::AccountRow row;
  std::vector<store::EntryRow> entries;
  REQUIRE(store->read_statement(3, limits::statement_entries_max, &row, &entries) ==
          store::Status::ok);
  CHECK(row.balance_cents == 0);
  CHECK(row.limit_cents == 1000000);
  CHECK(entries.empty());

  for (int i = 1; i <= 12; ++i) {
    REQUIRE(post(*store, posting(3, i % 2 ? 'c' : 'd', i, label(i))) == store::Status::ok);
  }
  REQUIRE(store->read_statement(3, limits::statement_entries_max, &row, &entries) ==
          store::Status::ok);
  CHECK(row.balance_cents == -6);  // 1 - 2 + 3 - ... - 12
  REQUIRE(entries.size() == 10);
  for (size_t k = 0; k < entries.size(); ++k) {
    const int i = 12 - static_cast<int>(k);
    CHECK(entries[k].description == label(i));
    CHECK(entries[k].amount_cents == i);
    CHECK(entries[k].kind == (i % 2 ? 'c' : 'd'));
    CHECK(entries[k].created_at == posting_created_at);
  }
  // UTF-8 descriptions come back as they went in.
  REQUIRE(post(*store, posting(3, 'c', 1, "ação ✓ 𝄞")) == store::Status::ok);
  REQUIRE(store->read_statement(3, 1, &row, &entries) == store::Status::ok);
  REQUIRE(entries.size() == 1);
  CHECK(entries[0].description == "ação ✓ 𝄞");
}

TEST_CASE("postgresql: a statement is one snapshot while credits are committed",
          "[postgresql][store]") {
  PgCluster cluster;
  auto store = open_store(cluster);
  // Credits of 1 cent, each labelled with the balance it makes: in every statement the balance
  // must be the label of the newest entry.
  std::atomic<bool> done{false};
  std::thread writer([&] {
    for (int i = 1; i <= 400; ++i) {
      if (post(*store, posting(4, 'c', 1, label(i))) != store::Status::ok) break;
    }
    done = true;
  });
  int statements = 0;
  int mismatches = 0;
  while (!done) {
    store::AccountRow row;
    std::vector<store::EntryRow> entries;
    REQUIRE(store->read_statement(4, limits::statement_entries_max, &row, &entries) ==
            store::Status::ok);
    ++statements;
    if (entries.empty()) {
      if (row.balance_cents != 0) ++mismatches;
      continue;
    }
    if (entries[0].description != label(static_cast<int>(row.balance_cents))) ++mismatches;
  }
  writer.join();
  CHECK(statements > 0);
  CHECK(mismatches == 0);
  CHECK(count_rows(cluster, 4) == 400);
}

TEST_CASE("postgresql: concurrent debits on one account never pass its limit",
          "[postgresql][store]") {
  PgCluster cluster;
  auto store = open_store(cluster, 8);
  // Account 2 (limit 80000): 8 threads each try 40 debits of 300; at most 266 can pass.
  constexpr int threads = 8;
  constexpr int debits_per_thread = 40;
  std::atomic<int> accepted{0};
  std::atomic<int> refused{0};
  std::atomic<int> failed{0};
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      for (int i = 0; i < debits_per_thread; ++i) {
        store::AccountRow after;
        const store::Status status = store->post(posting(2, 'd', 300, label(t * 100 + i)), &after);
        if (status == store::Status::ok) {
          ++accepted;
          if (after.balance_cents < -after.limit_cents) ++failed;
        } else if (status == store::Status::refused) {
          ++refused;
        } else {
          ++failed;
        }
      }
    });
  }
  for (std::thread& worker : workers) worker.join();
  CHECK(failed == 0);
  CHECK(accepted == 80000 / 300);
  CHECK(accepted + refused == threads * debits_per_thread);
  CHECK(cluster.psql("SELECT balance_cents FROM accounts WHERE id = 2") ==
        std::to_string(-300 * accepted) + "\n");
  CHECK(count_rows(cluster, 2) == accepted);
  // seq numbers the account's rows 1..n with no gap.
  CHECK(cluster.psql("SELECT max(seq) FROM transactions WHERE account_id = 2") ==
        std::to_string(accepted) + "\n");
  CHECK(audit_failures(cluster).empty());
}

TEST_CASE("postgresql: instances starting at once apply the schema once, without a race",
          "[postgresql][store]") {
  PgCluster cluster;
  constexpr int starters = 6;
  std::vector<std::unique_ptr<store::PostgresLedgerStore>> stores(starters);
  std::vector<store::Status> opened(starters);
  std::vector<std::thread> threads;
  for (int i = 0; i < starters; ++i) {
    threads.emplace_back([&, i] {
      opened[i] = store::PostgresLedgerStore::open(cluster.uri(), {0, 1}, &stores[i]);
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (int i = 0; i < starters; ++i) {
    INFO(opened[i].message());
    CHECK(opened[i] == store::Status::ok);
    CHECK(stores[i] != nullptr);
  }
  CHECK(cluster.psql("SELECT count(*) FROM accounts") == "5\n");
  // Opening again on a database in use changes nothing.
  REQUIRE(post(*stores[0], posting(5, 'c', 7, "antes")) == store::Status::ok);
  auto again = open_store(cluster);
  CHECK(cluster.psql("SELECT balance_cents FROM accounts WHERE id = 5") == "7\n");
}

TEST_CASE("postgresql: stopped like a power cut, the store answers unavailable, then recovers",
          "[postgresql][store][fault]") {
  PgCluster cluster;
  auto store = open_store(cluster, 2);
  REQUIRE(post(*store, posting(1, 'c', 100, "antes")) == store::Status::ok);

  cluster.stop_immediate();
  store::AccountRow row;
  std::vector<store::EntryRow> entries;
  // Every connection of the pool, in turn: none answers ok, each says why.
  for (int i = 0; i < 4; ++i) {
    CHECK(post(*store, posting(1, 'c', 1, "durante")) == store::Status::unavailable);
    const store::Status read = store->read_statement(1, 10, &row, &entries);
    CHECK(read == store::Status::unavailable);
    CHECK_FALSE(read.message().empty());
    CHECK(store->health(1) == store::Status::unavailable);
  }

  cluster.start_again();
  // The store reopens its connections by itself (at most one attempt per interval each).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (store->health(1) != store::Status::ok) {
    REQUIRE(std::chrono::steady_clock::now() < deadline);
    std::this_thread::sleep_for(std::chrono::milliseconds(limits::pg_reconnect_interval_ms / 4));
  }
  // A posting may meet a connection that has not noticed the restart yet: unavailable, nothing
  // written. Within the deadline every connection is fresh and postings are accepted again.
  int accepted = 0;
  while (accepted < 4) {
    REQUIRE(std::chrono::steady_clock::now() < deadline);
    const store::Status status = post(*store, posting(1, 'c', 10, "depois"));
    REQUIRE((status == store::Status::ok || status == store::Status::unavailable));
    if (status == store::Status::ok) ++accepted;
  }
  REQUIRE(store->read_statement(1, 10, &row, &entries) == store::Status::ok);
  CHECK(row.balance_cents == 140);  // 100 before, 4 x 10 after; nothing of the outage.
  CHECK(entries.size() == 5);
  CHECK(count_rows(cluster, 1) == 5);
  CHECK(audit_failures(cluster).empty());
}
