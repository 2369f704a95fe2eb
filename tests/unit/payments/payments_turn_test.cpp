// The payments store's turns on SQLite (store::SqlitePaymentsStore, store/payments_store.h): the
// accepts of one event-loop wake-up share one transaction. Checked against a real file: they are
// durable together at end_turn() and invisible before; a duplicate inside the turn is queued once;
// a turn whose commit fails writes none of its accepts, and each of them is answered from the
// turn; an accept that fails part-way loses the turn's earlier ones while the later ones commit
// on their own (and are not answered from the turn); a forwarder's round on another thread can
// claim nothing of the turn before it ends, and every accept of it after; a purge on the turn's
// thread commits the turn first; the ledger's turn on the same thread leaves at most one turn
// transaction per wake-up, whichever face opened it; and a posting of the turn's thread that
// queues in a group commit lets go of the turn's lock first.
#include <SQLiteCpp/Database.h>
#include <signal.h>
#include <sys/resource.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <thread>

#include "clock.h"
#include "payments_fixture.h"
#include "store/sqlite/ledger_engine.h"
#include "unit/store/posting.h"

using payments_fixture::id_of;
using payments_fixture::QueueFile;
using store::Status;

namespace {

constexpr int64_t amount_cents = 1990;

// Rows in the payments table as another connection sees them (committed only).
int64_t committed_payments(const QueueFile& q) { return q.counts().accepted; }

// A claim's decision: the default processor, now.
void to_default(store::PaymentJob* job) {
  job->processor = store::Processor::default_processor;
  job->requested_at_ms = clocks::wall_ms();
  ++job->attempts;
}

// A payments store on a real file, for the cases of one face.
struct PaymentsTurn {
  QueueFile q;
  store::PaymentsStore& store = *q.store;
};

// Payment 0 accepted alone (committed), then a turn begun and payments 1 to 3 accepted in it.
void accept_one_then_three_in_turn(store::PaymentsStore& store) {
  REQUIRE(store.accept(id_of(0), amount_cents, 1000) == Status::ok);
  store.begin_turn();
  for (int n = 1; n <= 3; ++n) {
    REQUIRE(store.accept(id_of(n), amount_cents, 1000 + n) == Status::ok);
    CHECK(store.answered_from_turn());
  }
}

// Both faces' SQLite stores on one file, as an instance with both faces on holds them: the ledger's
// engine (`ledger_connections` connections to lend) beside QueueFile's payments store.
struct BothFaces {
  explicit BothFaces(int ledger_connections) {
    std::string error;
    ledger = store::SqliteLedgerEngine::open(q.options(), ledger_connections, &error);
    REQUIRE(ledger);
  }
  // Account 1's balance as another connection sees it (committed only).
  int64_t balance() const {
    SQLite::Database db(q.path);
    return db.execAndGet("SELECT balance_cents FROM accounts WHERE id = 1").getInt64();
  }

  QueueFile q;
  std::unique_ptr<store::SqliteLedgerEngine> ledger;
  store::PaymentsStore& payments = *q.store;
  store::AccountRow after;
};

}  // namespace

TEST_CASE_METHOD(PaymentsTurn,
                 "a turn's accepts share one transaction: none visible before its end, all after",
                 "[unit][payments][store][turn]") {
  store.begin_turn();
  for (int n = 0; n < 5; ++n) {
    CHECK(store.accept(id_of(n), amount_cents, 1000 + n) == Status::ok);
    CHECK(store.answered_from_turn());
    CHECK_FALSE(store.answered_from_turn());  // Once per request.
  }
  // The same correlationId again in the same turn: the INSERT sees the turn's own row.
  CHECK(store.accept(id_of(2), amount_cents, 2000) == Status::refused);
  CHECK(store.answered_from_turn());  // Its answer depends on the turn's commit too.
  CHECK(committed_payments(q) == 0);
  CHECK(store.end_turn());
  CHECK(committed_payments(q) == 5);
  // The next turn starts afresh, and refuses what the last one committed.
  store.begin_turn();
  CHECK(store.accept(id_of(4), amount_cents, 3000) == Status::refused);
  CHECK(store.accept(id_of(5), amount_cents, 3000) == Status::ok);
  CHECK(store.end_turn());
  CHECK(committed_payments(q) == 6);
}

TEST_CASE_METHOD(
    PaymentsTurn,
    "a turn whose commit fails writes none of its accepts, each answered from the turn",
    "[unit][payments][store][turn]") {
  accept_one_then_three_in_turn(store);
  // The file is replaced by a copy (as an operator restoring a backup would) while the turn's
  // transaction is open: committing into the removed file would be acknowledged and lost, so the
  // commit refuses and rolls back.
  q.replace_by_copy();
  CHECK_FALSE(store.end_turn());
  CHECK(committed_payments(q) == 1);  // The copy holds the accept made before the turn only.
  // The store serves the restored file once its writer and sessions are replaced.
  CHECK(wait_until([&] {
    store.begin_turn();
    const Status status = store.accept(id_of(1), amount_cents, 2000);
    return store.end_turn() && status == Status::ok;
  }));
  CHECK(committed_payments(q) == 2);
}

TEST_CASE_METHOD(PaymentsTurn, "a turn whose COMMIT meets a write error writes none of its accepts",
                 "[unit][payments][store][turn]") {
  accept_one_then_three_in_turn(store);
  // The turn's rows are in its connection's page cache; COMMIT must append them to the WAL. A
  // file size limit at the WAL's current size makes that write fail (EFBIG) in this process only.
  const auto wal_bytes = static_cast<rlim_t>(std::filesystem::file_size(q.path + "-wal"));
  rlimit before{};
  REQUIRE(::getrlimit(RLIMIT_FSIZE, &before) == 0);
  const sighandler_t previous = ::signal(SIGXFSZ, SIG_IGN);
  rlimit capped = before;
  capped.rlim_cur = wal_bytes;
  REQUIRE(::setrlimit(RLIMIT_FSIZE, &capped) == 0);
  const bool committed = store.end_turn();
  REQUIRE(::setrlimit(RLIMIT_FSIZE, &before) == 0);
  ::signal(SIGXFSZ, previous);
  CHECK_FALSE(committed);
  CHECK(committed_payments(q) == 1);
  // Nothing of the lost turn is left behind: the same payments are accepted anew, once.
  store.begin_turn();
  for (int n = 1; n <= 3; ++n) CHECK(store.accept(id_of(n), amount_cents, 2000) == Status::ok);
  CHECK(store.end_turn());
  CHECK(committed_payments(q) == 4);
}

TEST_CASE_METHOD(PaymentsTurn,
                 "an accept that fails part-way loses the turn, and the later accepts stand alone",
                 "[unit][payments][store][turn]") {
  store.begin_turn();
  CHECK(store.accept(id_of(1), amount_cents, 1000) == Status::ok);
  CHECK(store.answered_from_turn());
  q.replace_by_copy();
  // This accept meets the fault itself: its own answer says so (503), and the turn's transaction,
  // holding the first accept, is rolled back with it.
  CHECK(store.accept(id_of(2), amount_cents, 1001) == Status::unavailable);
  CHECK_FALSE(store.answered_from_turn());
  // A pipelined accept after the loss commits on its own, on a session that moved to the restored
  // file: its answer must stand whatever end_turn() says.
  CHECK(store.accept(id_of(3), amount_cents, 1002) == Status::ok);
  CHECK_FALSE(store.answered_from_turn());
  CHECK(committed_payments(q) == 1);  // Committed at once, before the turn's end.
  CHECK_FALSE(store.end_turn());      // The first accept's answer becomes a 503.
  CHECK(committed_payments(q) == 1);
}

TEST_CASE_METHOD(PaymentsTurn,
                 "a forwarder's round sees nothing of a turn before its end, then claims all of it",
                 "[unit][payments][store][turn]") {
  store.begin_turn();
  for (int n = 0; n < 3; ++n) REQUIRE(store.accept(id_of(n), amount_cents, 1000) == Status::ok);
  std::atomic<bool> round_done{false};
  std::vector<store::PaymentJob> jobs;
  Status claimed = Status::unavailable;
  std::thread forwarder([&] {
    // The round's look sees nothing due yet (the turn has not committed); it polls, as the
    // dispatcher does, until its claim finds the turn's payments.
    std::vector<store::Status> ended;
    while (claimed != Status::ok) {
      const int64_t now = clocks::wall_ms();
      claimed =
          store.acquire()->end_and_claim({}, &ended, now, now + 10'000, 10, to_default, &jobs);
      if (claimed != Status::ok) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    round_done = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  CHECK_FALSE(round_done);  // Nothing of the turn can be claimed before it commits.
  CHECK(store.end_turn());
  forwarder.join();
  CHECK(claimed == Status::ok);
  CHECK(jobs.size() == 3);
}

TEST_CASE_METHOD(PaymentsTurn,
                 "a purge on the turn's thread commits the turn first instead of deadlocking",
                 "[unit][payments][store][turn]") {
  store.begin_turn();
  CHECK(store.accept(id_of(1), amount_cents, 1000) == Status::ok);
  CHECK(store.answered_from_turn());
  CHECK(store.acquire()->purge() == Status::ok);  // Takes the writer lock: the turn hands it over.
  CHECK(committed_payments(q) == 0);              // Committed, then purged.
  // The turn's later accepts commit on their own.
  CHECK(store.accept(id_of(2), amount_cents, 1001) == Status::ok);
  CHECK_FALSE(store.answered_from_turn());
  CHECK(committed_payments(q) == 1);
  CHECK(store.end_turn());
}

TEST_CASE("the ledger's turn and the payments turn on one thread: one turn transaction a wake-up",
          "[unit][payments][store][turn]") {
  BothFaces both(1);
  auto& [q, ledger, payments, after] = both;

  SECTION("the ledger's first") {
    ledger->begin_turn();
    payments.begin_turn();
    CHECK(ledger->post(posting(1, 'c', 100, "a"), &after) == Status::ok);
    CHECK(ledger->answered_from_turn());
    // The accept takes the lock from the ledger's turn, which commits; the accept commits alone.
    CHECK(payments.accept(id_of(1), amount_cents, 1000) == Status::ok);
    CHECK_FALSE(payments.answered_from_turn());
    CHECK(both.balance() == 100);
    CHECK(committed_payments(q) == 1);
    // From then on, both faces' writes commit on their own.
    CHECK(ledger->post(posting(1, 'c', 100, "b"), &after) == Status::ok);
    CHECK_FALSE(ledger->answered_from_turn());
    CHECK(payments.accept(id_of(2), amount_cents, 1001) == Status::ok);
    CHECK_FALSE(payments.answered_from_turn());
    CHECK(both.balance() == 200);
    CHECK(committed_payments(q) == 2);
    CHECK(ledger->end_turn());
    CHECK(payments.end_turn());
  }
  SECTION("the payments store's first") {
    ledger->begin_turn();
    payments.begin_turn();
    for (int n = 1; n <= 2; ++n) {
      CHECK(payments.accept(id_of(n), amount_cents, 1000) == Status::ok);
      CHECK(payments.answered_from_turn());
    }
    CHECK(committed_payments(q) == 0);
    // The posting takes the lock from the payments turn, which commits; the posting commits alone.
    CHECK(ledger->post(posting(1, 'c', 100, "a"), &after) == Status::ok);
    CHECK_FALSE(ledger->answered_from_turn());
    CHECK(committed_payments(q) == 2);
    CHECK(both.balance() == 100);
    CHECK(payments.accept(id_of(3), amount_cents, 1001) == Status::ok);
    CHECK_FALSE(payments.answered_from_turn());
    CHECK(committed_payments(q) == 3);
    CHECK(ledger->end_turn());
    CHECK(payments.end_turn());
  }
}

TEST_CASE("a posting that queues behind another thread's group commit lets go of the turn's lock",
          "[unit][payments][store][turn]") {
  // The ledger's turn stopped batching (a purge took the lock from it); the payments turn then
  // took the lock. Another thread's posting leads a group commit and waits for that lock; a
  // posting of the turn's thread queued behind it would wait for ever, holding the lock.
  BothFaces both(2);
  auto& [q, ledger, payments, after] = both;
  ledger->begin_turn();
  payments.begin_turn();
  CHECK(ledger->post(posting(1, 'c', 100, "a"), &after) == Status::ok);
  CHECK(ledger->answered_from_turn());
  CHECK(payments.acquire()->purge() == Status::ok);  // The ledger's turn commits, stops batching.
  CHECK(payments.accept(id_of(1), amount_cents, 1000) == Status::ok);
  CHECK(payments.answered_from_turn());  // The payments turn holds the lock now.
  std::atomic<bool> other_done{false};
  Status other_status = Status::unavailable;  // Checked after join(): Catch2 asserts on one thread.
  std::thread other([&] {
    store::AccountRow other_after;
    other_status = ledger->post(posting(2, 'c', 100, "other"), &other_after);
    other_done = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  CHECK_FALSE(other_done);  // Leading its group commit, waiting for the lock.
  CHECK(ledger->post(posting(1, 'c', 100, "b"), &after) == Status::ok);
  CHECK_FALSE(ledger->answered_from_turn());
  other.join();
  CHECK(other_status == Status::ok);
  CHECK(committed_payments(q) == 1);  // The payments turn committed when it let go.
  CHECK(ledger->end_turn());
  CHECK(payments.end_turn());
}
