// store::PostgresLedgerStore when the session carrying a posting is lost on the instance's side
// while PostgreSQL still runs it (store/postgres/ledger_store.h, invariant 4): the answer and the
// table must agree. The store reaches a real cluster of its own (support/pg_cluster.h) through a
// relay (support/session_relay.h) that cuts the store's side of a session and keeps the server's
// side open, so that to PostgreSQL the session is still there:
//   - the posting has not reached its backend yet (the relay keeps it), and reaches it after the
//     store has answered;
//   - the posting waits for its account's row lock, held by another session, which lets go after
//     the store has answered;
//   - the posting committed, and only its answer was lost.
// Whatever the store answers, ok means the posting is in the table once and unavailable means it
// is not there and never will be: the lost session's backend is gone before the store answers.
#include <catch2/catch.hpp>
#include <chrono>
#include <functional>
#include <future>
#include <thread>

#include "crebito_limits.h"
#include "store/postgres/ledger_store.h"
#include "store/postgres/pg_connection.h"
#include "support/pg_cluster.h"
#include "support/session_relay.h"
#include "support/temp_dir.h"
#include "unit/store/posting.h"

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// How long the test waits for a state it caused (a statement reaching the relay or a lock queue,
// a backend exiting): far beyond what each takes, only a bound on a test that went wrong.
constexpr auto state_timeout = std::chrono::seconds(10);
constexpr auto poll_interval = milliseconds(2);

// The cluster, and the store reaching it through the relay with one connection, so that every
// posting goes through the newest session of the relay.
struct Setup {
  PgCluster cluster;
  TempDir relay_dir;
  SessionRelay relay{relay_dir.file(".s.PGSQL.5432"), cluster.dir() + "/socket/.s.PGSQL.5432"};
  std::unique_ptr<store::PostgresLedgerStore> store;

  Setup() {
    const std::string uri =
        "postgresql:///crebito?host=" + relay_dir.path() + "&port=5432&user=postgres";
    const store::Status opened = store::PostgresLedgerStore::open(uri, {0, 1}, &store);
    INFO(opened.message());
    REQUIRE(opened == store::Status::ok);
    // A connection reopens at most once per interval (pg_connection.h, invariant 3): past it, the
    // store's connection is like one that has served for a while, and reopens at once when lost.
    std::this_thread::sleep_for(milliseconds(limits::pg_reconnect_interval_ms));
  }

  // The session the store's one connection uses now.
  int store_session() const { return relay.sessions() - 1; }

  // How many rows carry `description` in account 1.
  int64_t rows_of(const std::string& description) const {
    return std::stoll(
        cluster.psql("SELECT count(*) FROM transactions WHERE account_id = 1 AND description = '" +
                     description + "'"));
  }
};

struct Answer {
  store::Status status = store::Status::unavailable;
  store::AccountRow after;
  int64_t elapsed_ms = 0;
};

// Posts on another thread, as an instance's request would.
std::future<Answer> post_async(store::LedgerStore* store, const store::Posting& posting) {
  return std::async(std::launch::async, [store, posting] {
    Answer answer;
    const Clock::time_point started = Clock::now();
    answer.status = store->post(posting, &answer.after);
    answer.elapsed_ms = std::chrono::duration_cast<milliseconds>(Clock::now() - started).count();
    return answer;
  });
}

bool wait_for(const std::function<bool()>& holds) {
  const Clock::time_point deadline = Clock::now() + state_timeout;
  while (!holds()) {
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(poll_interval);
  }
  return true;
}

std::unique_ptr<store::pg::Connection> direct_connection(const PgCluster& cluster) {
  std::string error;
  auto connection = store::pg::Connection::open(cluster.uri(), {}, &error);
  INFO(error);
  REQUIRE(connection);
  return connection;
}

// Cuts the client's side of `session` and takes the posting's answer.
Answer cut_and_take(Setup& s, int session, std::future<Answer>& answer) {
  s.relay.cut_client(session);
  return answer.get();
}

// "<error>; answered <status> in N ms", for the checks on it.
std::string described(const Answer& got) {
  return got.status.message() + "; answered " + store::status_name(got.status) + " in " +
         std::to_string(got.elapsed_ms) + " ms";
}

}  // namespace

TEST_CASE(
    "postgresql: a posting that reaches its lost session's backend late is never written "
    "after a 503",
    "[postgresql][store][fault]") {
  Setup s;
  store::AccountRow after;
  std::string error;
  REQUIRE(s.store->post(posting(1, 'd', 100, "antes"), &after) == store::Status::ok);

  const int session = s.store_session();
  s.relay.hold_from_client(session);
  std::future<Answer> answer = post_async(s.store.get(), posting(1, 'd', 100, "atrasado"));
  REQUIRE(wait_for([&] { return s.relay.held_from_client(session) > 0; }));
  const Answer got = cut_and_take(s, session, answer);
  INFO(described(got));
  // The posting never ran: nothing to find, and its backend was ended before the answer.
  CHECK(got.status == store::Status::unavailable);

  // Now the posting reaches the server on the old session, if anything still listens there.
  s.relay.release_from_client(session);
  CHECK(wait_for([&] { return s.relay.server_closed(session) || s.rows_of("atrasado") > 0; }));
  CHECK(s.rows_of("atrasado") == (got.status == store::Status::ok ? 1 : 0));
  CHECK(s.relay.server_closed(session));
  CHECK(s.rows_of("antes") == 1);
}

TEST_CASE(
    "postgresql: a posting lost while it waits for its account's row lock is ended before "
    "the answer",
    "[postgresql][store][fault]") {
  Setup s;
  store::AccountRow after;
  std::string error;
  REQUIRE(s.store->post(posting(1, 'd', 100, "antes"), &after) == store::Status::ok);

  // Another session holds account 1's row lock.
  auto holder = direct_connection(s.cluster);
  REQUIRE(holder->begin() == store::Status::ok);
  REQUIRE(holder->run("SELECT id FROM accounts WHERE id = 1 FOR UPDATE") == store::Status::ok);

  const int session = s.store_session();
  std::future<Answer> answer = post_async(s.store.get(), posting(1, 'd', 100, "na fila"));
  // The posting waits in the lock's queue (seen from a third session).
  auto observer = direct_connection(s.cluster);
  REQUIRE(wait_for([&] {
    store::pg::Result waiting;
    return observer->run(
               "SELECT pid FROM pg_stat_activity WHERE application_name = 'crebito' "
               "AND wait_event_type = 'Lock'",
               &waiting) == store::Status::ok &&
           waiting.rows() == 1;
  }));
  const Answer got = cut_and_take(s, session, answer);
  INFO(described(got));
  CHECK(got.status == store::Status::unavailable);

  // The lock is let go: a backend still queued for it would take it now and commit.
  REQUIRE(holder->commit() == store::Status::ok);
  CHECK(wait_for([&] { return s.relay.server_closed(session) || s.rows_of("na fila") > 0; }));
  CHECK(s.relay.server_closed(session));
  CHECK(s.rows_of("na fila") == (got.status == store::Status::ok ? 1 : 0));
  CHECK(s.cluster.psql("SELECT balance_cents FROM accounts WHERE id = 1") ==
        (got.status == store::Status::ok ? "-200\n" : "-100\n"));
}

TEST_CASE("postgresql: a posting that committed but whose answer was lost is answered ok, once",
          "[postgresql][store][fault]") {
  Setup s;
  const int session = s.store_session();
  s.relay.hold_from_server(session);
  std::future<Answer> answer = post_async(s.store.get(), posting(1, 'd', 100, "sem resposta"));
  // Committed, and its answer kept by the relay.
  REQUIRE(wait_for([&] { return s.rows_of("sem resposta") == 1; }));
  REQUIRE(wait_for([&] { return s.relay.held_from_server(session) > 0; }));
  const Answer got = cut_and_take(s, session, answer);
  INFO(described(got));
  REQUIRE(got.status == store::Status::ok);
  CHECK(got.after.balance_cents == -100);
  CHECK(got.after.limit_cents == 100000);
  CHECK(wait_for([&] { return s.relay.server_closed(session); }));
  CHECK(s.rows_of("sem resposta") == 1);
}
