// store::SqlitePaymentsStore is the payments store on SQLite (the seam: store/payments_store.h):
// it lends sessions (store::SqlitePaymentsConnection, store/sqlite/payments_connection.h) from a
// store::SqlitePaymentsPool (store/sqlite/connection_pool.h) to every thread of the payments face,
// and runs the turns of the event loop's wake-ups (store/sqlite/turn.h) on the pool's one kept
// connection.
#pragma once

#include <memory>
#include <string>

#include "crebito_limits.h"
#include "store/payments_store.h"
#include "store/sqlite/connection_pool.h"
#include "store/sqlite/payments_connection.h"
#include "store/sqlite/turn.h"

namespace store {

class SqlitePaymentsStore final : public PaymentsStore {
 public:
  // Opens `sessions` connections to options.path (schema already applied), into *store: one per
  // thread that may borrow at once, plus the turns' writer. Their writes take the process's
  // WriterLock for the file. A failure's message names the path.
  static Status open(const Options& options, int sessions,
                     std::unique_ptr<SqlitePaymentsStore>* store);
  ~SqlitePaymentsStore() override;
  // Short: a round holds the write lock every accept waits for.
  int rows_per_round() const override { return limits::payment_dispatch_rows_max; }

  // Outside a turn: one autocommit INSERT on a borrowed session, as PaymentsSession::accept().
  Status accept(const std::string& correlation_id, int64_t amount_cents, int64_t now_ms) override;

  // Turns (store/sqlite/turn.h): between begin_turn() and end_turn() the calling thread's accepts
  // go into its wake-up's one write transaction. A correlationId accepted twice in one turn is
  // refused the second time, as across turns: the INSERT sees the turn's own rows. None is
  // durable, and none can be claimed by a forwarding worker, before end_turn(): answers, and the
  // workers' wake-up, must wait for it. end_turn() false: every request answered_from_turn() must
  // be answered 503 instead. An accept that meets a failure itself returns it at once (its own
  // 503). If the ledger's turn on this thread holds the writer lock, or takes it, or a purge
  // does, this turn's accepts commit on their own (autocommit). One turn at a time per thread.
  // Accepts of other threads, the forwarder's rounds and the health poller wait for the lock as
  // usual (a turn holds it for one wake-up's handlers at most).
  void begin_turn() override { turn_.begin(); }
  bool end_turn() override { return turn_.end(); }
  bool answered_from_turn() override { return turn_.answered_from(); }

 protected:
  PaymentsSession* borrow() override;
  void give_back(PaymentsSession* session) override;

 private:
  explicit SqlitePaymentsStore(std::unique_ptr<SqlitePaymentsPool> pool);

  const std::unique_ptr<SqlitePaymentsPool> pool_;
  // The turns, on the pool's kept connection (never lent).
  SqliteTurn<SqlitePaymentsConnection> turn_;
};

}  // namespace store
