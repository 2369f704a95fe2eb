#include "store/sqlite/ledger_engine.h"

#include <algorithm>

#include "check.h"
#include "clock.h"
#include "crebito_limits.h"

namespace store {

template <class C>
std::unique_ptr<SqliteConnectionPool<C>> SqliteConnectionPool<C>::open(const Options& options,
                                                                       int size, int kept,
                                                                       std::string* error) {
  CREBITO_ASSERT(size > 0);
  CREBITO_ASSERT(kept >= 0);
  std::shared_ptr<WriterLock> writer_lock = WriterLock::open(options.path, error);
  if (!writer_lock) return nullptr;
  std::unique_ptr<SqliteConnectionPool> pool(
      new SqliteConnectionPool(options, std::move(writer_lock), kept));
  for (int i = 0; i < kept + size; ++i) {
    std::unique_ptr<C> connection =
        C::open(options, pool->writer_lock_.get(), error, &pool->fault_log_);
    if (!connection) return nullptr;
    if (i >= kept) pool->free_.push_back(connection.get());
    pool->connections_.push_back(std::move(connection));
  }
  return pool;
}

template <class C>
C* SqliteConnectionPool<C>::borrow() {
  std::unique_lock<std::mutex> lock(free_mutex_);
  free_changed_.wait(lock, [this] { return !free_.empty(); });
  C* connection = free_.back();
  free_.pop_back();
  lock.unlock();
  return refresh(connection);
}

template <class C>
C* SqliteConnectionPool<C>::kept(int index) const {
  CREBITO_ASSERT(index >= 0 && index < kept_);
  return connections_[index].get();
}

template <class C>
C* SqliteConnectionPool<C>::refresh(C* connection) {
  // A moved file makes every operation fail (and say so in the fault log) until it is reopened;
  // checking only during such an episode spares each request a stat().
  if (may_have_moved() && connection->file_moved()) return reopen(connection);
  return connection;
}

template <class C>
C* SqliteConnectionPool<C>::reopen(C* connection) {
  const int64_t now_us = clocks::steady_us();
  int64_t next_us = next_reopen_us_.load();
  if (now_us < next_us || !next_reopen_us_.compare_exchange_strong(
                              next_us, now_us + int64_t{limits::store_reopen_interval_ms} * 1000)) {
    return connection;  // Another attempt was made recently, or is being made right now.
  }
  std::string error;
  std::unique_ptr<C> fresh = C::open(options_, writer_lock_.get(), &error, &fault_log_);
  if (!fresh) return connection;  // Still no usable database at the path; the old one says so.
  // Without CREATE, open() succeeds only on an existing file in WAL mode; it must hold our data.
  if (!fresh->holds_data()) return connection;
  C* replacement = fresh.get();
  std::unique_ptr<C> old;
  {
    std::lock_guard<std::mutex> lock(free_mutex_);
    for (std::unique_ptr<C>& slot : connections_) {
      if (slot.get() == connection) {
        old = std::move(slot);
        slot = std::move(fresh);
        break;
      }
    }
    // The other connections of this pool still hold the old file; each is checked and replaced
    // at its next use, also once the fault log says the fault is over (reads and writes may have
    // recovered through other connections), and the attempt interval does not apply to them.
    const int stale = stale_connections_.load();
    stale_connections_ = stale > 0 ? stale - 1 : static_cast<int>(connections_.size()) - 1;
  }
  CREBITO_ASSERT(old != nullptr);
  next_reopen_us_ = 0;
  return replacement;  // `old` closes here, keeping the restored -wal/-shm (see ~Database).
}

template <class C>
void SqliteConnectionPool<C>::release(C* connection) {
  {
    std::lock_guard<std::mutex> lock(free_mutex_);
    // Kept connections are never lent.
    CREBITO_ASSERT(free_.size() < connections_.size() - static_cast<size_t>(kept_));
    free_.push_back(connection);
  }
  free_changed_.notify_one();
}

template class SqliteConnectionPool<SqliteLedgerConnection>;
template class SqliteConnectionPool<SqlitePaymentsConnection>;

std::unique_ptr<SqliteLedgerEngine> SqliteLedgerEngine::open(const Options& options, int size,
                                                             std::string* error) {
  std::unique_ptr<SqliteConnectionPool<SqliteLedgerConnection>> connections =
      SqliteConnectionPool<SqliteLedgerConnection>::open(options, size, /*kept=*/1,
                                                         error);  // The writer.
  if (!connections) return nullptr;
  return std::unique_ptr<SqliteLedgerEngine>(new SqliteLedgerEngine(std::move(connections)));
}

// The calling thread's turn (see begin_turn()).
struct SqliteLedgerEngine::TurnState {
  SqliteLedgerEngine* pool = nullptr;  // Between begin_turn() and end_turn().
  bool open = false;      // The turn's transaction is open: this thread holds the writer lock.
  bool batching = false;  // Postings still go into the turn's transaction.
  bool lost = false;      // The turn's transaction did not commit.
  bool answered_from_turn = false;  // The current request used the turn's transaction.
};

thread_local SqliteLedgerEngine::TurnState SqliteLedgerEngine::turn_;

void SqliteLedgerEngine::begin_turn() {
  TurnState& turn = turn_;
  CREBITO_ASSERT(turn.pool == nullptr);
  turn.pool = this;
  turn.open = false;
  turn.batching = true;
  turn.lost = false;
  turn.answered_from_turn = false;
}

bool SqliteLedgerEngine::end_turn() {
  TurnState& turn = turn_;
  CREBITO_ASSERT(turn.pool == this);
  if (turn.open) close_turn_transaction();
  turn.pool = nullptr;
  return !turn.lost;
}

bool SqliteLedgerEngine::answered_from_turn() {
  const bool answered = turn_.answered_from_turn;
  turn_.answered_from_turn = false;
  return answered;
}

void SqliteLedgerEngine::close_turn_transaction() {
  TurnState& turn = turn_;
  CREBITO_ASSERT(turn.open);
  // A failure is reported by the connection's fault log, once per episode.
  if (writer_->commit_write() != Status::ok) turn.lost = true;
  turn.open = false;
  writer_lock_->unlock();
}

// The writer lock's call (WriterLock::Turn): this thread, holding the lock for its turn, asked for
// it again for another write (the payments store's). The turn's transaction commits now and the
// turn's later postings each commit on their own.
void SqliteLedgerEngine::hand_over() {
  TurnState& turn = turn_;
  CREBITO_ASSERT(turn.pool == this);
  close_turn_transaction();
  turn.batching = false;
}

void SqliteLedgerEngine::lose_turn_transaction() {
  TurnState& turn = turn_;
  CREBITO_ASSERT(turn.open);
  turn.open = false;
  turn.lost = true;
  turn.batching = false;  // The turn's later postings each commit on their own.
  writer_lock_->unlock();
}

Status SqliteLedgerEngine::post_in_turn(const Posting& posting, AccountRow* after) {
  TurnState& turn = turn_;
  if (!turn.open) {
    // Held until close_turn_transaction(), lose_turn_transaction() or hand_over().
    if (writer_lock_->lock_for_turn(this)) {
      // The payments store's turn on this thread held the lock and committed: this wake-up has had
      // its turn transaction, so this posting and the turn's later ones commit on their own.
      writer_lock_->unlock();
      turn.batching = false;
      return post(posting, after);
    }
    // The writer connection is used by the lock's holder only, so only it replaces the connection.
    writer_ = connections_->refresh(writer_);
    const Status begun = writer_->begin_write();
    if (begun != Status::ok) {
      writer_lock_->unlock();
      return begun;  // Nothing of the turn was written yet; later postings try again.
    }
    turn.open = true;
  }
  const Status status = writer_->apply(posting, after);
  if (status == Status::ok || status == Status::refused) {
    turn.answered_from_turn = true;
    return status;
  }
  // apply() rolled the transaction back: every posting of the turn so far is lost too.
  lose_turn_transaction();
  return status;
}

Status SqliteLedgerEngine::read_statement(int64_t account_id, size_t entries_max,
                                          AccountRow* account, std::vector<EntryRow>* entries) {
  TurnState& turn = turn_;
  if (turn.pool == this && turn.open) {
    const Status status =
        writer_->read_statement_in_write(account_id, entries_max, account, entries);
    if (status == Status::ok || status == Status::refused) {
      turn.answered_from_turn = true;
      return status;
    }
    // A failed read may have ended the transaction: the turn's postings are lost.
    writer_->abandon_write();
    lose_turn_transaction();
    return status;
  }
  Lease connection = acquire();
  return connection->read_statement(account_id, entries_max, account, entries);
}

Status SqliteLedgerEngine::post(const Posting& posting, AccountRow* after) {
  if (turn_.pool == this && turn_.batching) return post_in_turn(posting, after);
  thread_local QueuedWrite mine;
  mine.write = {&posting, {}, Status::unavailable};
  group_commit_.submit(&mine, [this](GroupCommit::Entry* const* entries, size_t count) {
    // The writer connection is used by the leader only, so only a leader replaces it.
    writer_ = connections_->refresh(writer_);
    SqliteLedgerConnection::Write* writes[limits::write_batch_max];
    for (size_t i = 0; i < count; ++i) writes[i] = &static_cast<QueuedWrite*>(entries[i])->write;
    // Each write gets its own outcome; on failure, the batch's status with its message.
    static_cast<void>(writer_->post_batch_holding_lock(writes, count));
  });
  if (mine.write.status == Status::ok) *after = mine.write.after;
  return std::move(mine.write.status);
}

}  // namespace store
