// payments::Payments (src/payments/payments.h), the payments face's request side, on a real SQLite
// file: a correlationId is accepted once whatever its case, and the forwarding hook hears of new
// payments only; the summary counts what settled, by processor and within both bounds; purge and
// the consistency counts; a storage fault answers unavailable until the file is back; an accept
// on a thread whose ledger turn holds the writer lock commits that turn first; and in a turn of
// its own, the forwarding hook is called once the turn has committed.
#include "payments/payments.h"

#include <SQLiteCpp/Database.h>

#include <array>
#include <catch2/catch.hpp>
#include <cctype>
#include <chrono>
#include <filesystem>
#include <functional>
#include <thread>

#include "clock.h"
#include "store/sqlite/ledger_engine.h"
#include "store/sqlite/payments_store.h"
#include "store/sqlite/schema.h"
#include "support/temp_dir.h"
#include "support/wait_until.h"

namespace {

const std::string id_a = "4a7901b8-7d26-4d9d-aa19-4dc1c7cf60b1";
const std::string id_b = "4a7901b8-7d26-4d9d-aa19-4dc1c7cf60b2";
const std::string id_c = "4a7901b8-7d26-4d9d-aa19-4dc1c7cf60b3";

struct Face {
  TempDir dir;
  std::string path;
  std::unique_ptr<store::SqlitePaymentsStore> store;
  std::unique_ptr<payments::Payments> payments;
  int accepted_hooks = 0;
  Face() : path(dir.file("crebito.db")) {
    REQUIRE(store::apply_schema(path) == store::Status::ok);
    const store::Status opened = store::SqlitePaymentsStore::open({path, 100}, 2, &store);
    INFO(opened.message());
    REQUIRE(opened == store::Status::ok);
    payments = std::make_unique<payments::Payments>(store.get());
    payments->on_accepted([this] { ++accepted_hooks; });
  }
  // Settles every queued payment for `processor` with requestedAt = requested_at_ms, as a
  // forwarding worker would.
  void settle_all(store::Processor processor, int64_t requested_at_ms) {
    std::string error;
    auto lock = store::WriterLock::open(path, &error);
    auto connection = store::SqlitePaymentsConnection::open({path, 100}, lock.get(), &error);
    REQUIRE(connection);
    store::PaymentJob job;
    const auto decide = [&](store::PaymentJob* j) {
      j->processor = processor;
      j->requested_at_ms = requested_at_ms;
      ++j->attempts;
    };
    const int64_t now = clocks::wall_ms();
    while (connection->claim(now, now + 10'000, decide, &job) == store::Status::ok) {
      REQUIRE(connection->settle(job, processor, requested_at_ms, now) == store::Status::ok);
    }
  }
};

}  // namespace

TEST_CASE("Payments accepts a correlationId once, whatever its case", "[unit][payments]") {
  Face face;
  CHECK(face.payments->accept(id_a, 1990) == payments::Outcome::ok);
  std::string upper = id_a;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  // The same UUID to a processor: accepted (ok), queued once, and no second wake-up.
  CHECK(face.payments->accept(upper, 1990) == payments::Outcome::ok);
  CHECK(face.payments->accept(id_b, 500) == payments::Outcome::ok);
  CHECK(face.accepted_hooks == 2);
  payments::Consistency consistency;
  REQUIRE(face.payments->consistency(&consistency) == payments::Outcome::ok);
  CHECK(consistency.accepted == 2);
  CHECK(consistency.queued == 2);
  CHECK(consistency.oldest_unsettled_age_ms >= 0);
  SQLite::Database db(face.path);
  CHECK(db.execAndGet("SELECT count(*) FROM payments WHERE correlation_id = '" + id_a + "'")
            .getInt() == 1);
}

TEST_CASE("Payments' summary counts settled payments by processor within both bounds",
          "[unit][payments]") {
  Face face;
  REQUIRE(face.payments->accept(id_a, 1990) == payments::Outcome::ok);
  REQUIRE(face.payments->accept(id_b, 10) == payments::Outcome::ok);
  face.settle_all(store::Processor::default_processor, 5000);
  REQUIRE(face.payments->accept(id_c, 300) == payments::Outcome::ok);
  face.settle_all(store::Processor::fallback, 6000);

  payments::Summary summary;
  REQUIRE(face.payments->summary(0, 10'000, &summary) == payments::Outcome::ok);
  CHECK(summary.default_totals.requests == 2);
  CHECK(summary.default_totals.amount_cents == 2000);
  CHECK(summary.fallback_totals.requests == 1);
  CHECK(summary.fallback_totals.amount_cents == 300);
  REQUIRE(face.payments->summary(5000, 5000, &summary) == payments::Outcome::ok);
  CHECK(summary.default_totals.requests == 2);
  CHECK(summary.fallback_totals.requests == 0);
  REQUIRE(face.payments->summary(5001, 6000, &summary) == payments::Outcome::ok);
  CHECK(summary.default_totals.requests == 0);
  CHECK(summary.fallback_totals.requests == 1);

  payments::Consistency consistency;
  REQUIRE(face.payments->consistency(&consistency) == payments::Outcome::ok);
  CHECK(consistency.settled_default == 2);
  CHECK(consistency.settled_fallback == 1);
  CHECK(consistency.oldest_unsettled_age_ms == 0);

  REQUIRE(face.payments->purge() == payments::Outcome::ok);
  REQUIRE(face.payments->summary(0, 10'000, &summary) == payments::Outcome::ok);
  CHECK(summary.default_totals.requests + summary.fallback_totals.requests == 0);
  REQUIRE(face.payments->consistency(&consistency) == payments::Outcome::ok);
  CHECK(consistency.accepted == 0);
}

TEST_CASE("Payments answers unavailable while its file is gone, and serves once it is back",
          "[unit][payments]") {
  Face face;
  REQUIRE(face.payments->accept(id_a, 1990) == payments::Outcome::ok);
  const std::string backup = face.dir.file("backup.db");
  {
    SQLite::Database db(face.path);
    db.exec("VACUUM INTO '" + backup + "'");
  }
  {
    SQLite::Database db(backup, SQLite::OPEN_READWRITE);
    db.exec("PRAGMA journal_mode = WAL");
  }
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(face.path + suffix);

  CHECK(face.payments->accept(id_b, 10) == payments::Outcome::unavailable);
  CHECK(face.accepted_hooks == 1);  // Nothing was queued.
  payments::Summary summary;
  CHECK(face.payments->summary(0, 10'000, &summary) == payments::Outcome::unavailable);
  payments::Consistency consistency;
  CHECK(face.payments->consistency(&consistency) == payments::Outcome::unavailable);
  CHECK(face.payments->purge() == payments::Outcome::unavailable);
  CHECK_FALSE(std::filesystem::exists(face.path));

  std::filesystem::copy_file(backup, face.path);
  CHECK(wait_until([&] { return face.payments->accept(id_c, 300) == payments::Outcome::ok; }));
  REQUIRE(face.payments->consistency(&consistency) == payments::Outcome::ok);
  CHECK(consistency.accepted == 2);  // a (restored) and c; b was never written.
}

TEST_CASE("an accept during a ledger turn on the same thread commits the turn first",
          "[unit][payments][turn]") {
  Face face;
  std::string error;
  auto pool = store::SqliteLedgerEngine::open({face.path, 100}, 1, &error);
  REQUIRE(pool);
  const store::Posting posting{1, 100, 100, 'c', "turn", "2024-01-01T00:00:00.000000Z"};
  store::AccountRow after;
  pool->begin_turn();
  REQUIRE(pool->post(posting, &after) == store::Status::ok);
  // The turn's transaction holds the writer lock; the accept must not wait for this thread.
  CHECK(face.payments->accept(id_a, 1990) == payments::Outcome::ok);
  {
    SQLite::Database db(face.path);
    CHECK(db.execAndGet("SELECT balance_cents FROM accounts WHERE id = 1").getInt() == 100);
    CHECK(db.execAndGet("SELECT count(*) FROM payments").getInt() == 1);
  }
  CHECK(pool->end_turn());
}

TEST_CASE("in a turn, the forwarding hook hears of new payments once the turn has committed",
          "[unit][payments][turn]") {
  Face face;
  face.payments->begin_turn();
  CHECK(face.payments->accept(id_a, 1990) == payments::Outcome::ok);
  CHECK(face.payments->answered_from_turn());
  CHECK(face.payments->accept(id_b, 10) == payments::Outcome::ok);
  CHECK(face.payments->accept(id_a, 1990) == payments::Outcome::ok);  // Queued once.
  CHECK(face.accepted_hooks == 0);  // Not committed yet: a worker could not see them.
  CHECK(face.payments->end_turn());
  CHECK(face.accepted_hooks == 1);  // Once for the turn.
  payments::Consistency consistency;
  REQUIRE(face.payments->consistency(&consistency) == payments::Outcome::ok);
  CHECK(consistency.accepted == 2);
  // A turn that queued nothing new wakes no one.
  face.payments->begin_turn();
  CHECK(face.payments->accept(id_b, 10) == payments::Outcome::ok);
  CHECK(face.payments->end_turn());
  CHECK(face.accepted_hooks == 1);
}
