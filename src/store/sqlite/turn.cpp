#include "store/sqlite/turn.h"

#include "check.h"
#include "store/sqlite/ledger_connection.h"
#include "store/sqlite/payments_connection.h"

namespace store {

// The calling thread's turn (see begin()).
template <class C>
struct SqliteTurn<C>::State {
  const SqliteTurn* turn = nullptr;  // Between begin() and end().
  bool open = false;           // The turn's transaction is open: this thread holds the writer lock.
  bool takes_writes = false;   // Writes still go into the turn's transaction.
  bool lost = false;           // The turn's transaction did not commit.
  bool answered_from = false;  // The current request used the turn's transaction.
};

template <class C>
thread_local typename SqliteTurn<C>::State SqliteTurn<C>::state_;

template <class C>
SqliteTurn<C>::SqliteTurn(SqliteConnectionPool<C>* pool)
    : pool_(pool), writer_lock_(pool->writer_lock()), writer_(pool->kept(0)) {}

template <class C>
void SqliteTurn<C>::begin() {
  State& state = state_;
  CREBITO_ASSERT(state.turn == nullptr);
  state = {this, /*open=*/false, /*takes_writes=*/true, /*lost=*/false, /*answered_from=*/false};
}

template <class C>
bool SqliteTurn<C>::end() {
  State& state = state_;
  CREBITO_ASSERT(state.turn == this);
  if (state.open) close();
  state.turn = nullptr;
  return !state.lost;
}

template <class C>
bool SqliteTurn<C>::answered_from() {
  const bool answered = state_.answered_from;
  state_.answered_from = false;
  return answered;
}

template <class C>
bool SqliteTurn<C>::takes_writes() const {
  return state_.turn == this && state_.takes_writes;
}

template <class C>
bool SqliteTurn<C>::transaction_open() const {
  return state_.turn == this && state_.open;
}

template <class C>
C* SqliteTurn<C>::writer() {
  CREBITO_ASSERT(!transaction_open());
  writer_ = pool_->refresh(writer_);
  return writer_;
}

template <class C>
Status SqliteTurn<C>::open(bool* handed_over) {
  State& state = state_;
  CREBITO_ASSERT(state.turn == this && state.takes_writes);
  if (state.open) return Status::ok;
  // Held until close(), lose() or hand_over().
  if (writer_lock_->lock_for_turn(this)) {
    // Another store's turn on this thread held the lock and committed: this wake-up has had its
    // turn transaction, so this write and the turn's later ones go on their own.
    writer_lock_->unlock();
    state.takes_writes = false;
    *handed_over = true;
    return Status::ok;
  }
  // The writer connection is used by the lock's holder only, so only it replaces the connection.
  writer_ = pool_->refresh(writer_);
  Status begun = writer_->begin_write();
  if (begun != Status::ok) {
    writer_lock_->unlock();
    return begun;
  }
  state.open = true;
  return Status::ok;
}

template <class C>
Status SqliteTurn<C>::used(Status status) {
  if (status == Status::ok || status == Status::refused) {
    state_.answered_from = true;
  } else {
    lose();  // The connection rolled the transaction back: every write of the turn so far is lost.
  }
  return status;
}

template <class C>
void SqliteTurn<C>::close() {
  State& state = state_;
  CREBITO_ASSERT(state.open);
  // A failure is reported by the connection's fault log, once per episode.
  if (writer_->commit_write() != Status::ok) state.lost = true;
  state.open = false;
  writer_lock_->unlock();
}

// The writer lock's call (WriterLock::Turn): this thread, holding the lock for its turn, asked for
// it again for another write. The turn's transaction commits now, and the turn's later writes each
// go on their own.
template <class C>
void SqliteTurn<C>::hand_over() {
  CREBITO_ASSERT(state_.turn == this);
  close();
  state_.takes_writes = false;
}

template <class C>
void SqliteTurn<C>::lose() {
  State& state = state_;
  CREBITO_ASSERT(state.open);
  state.open = false;
  state.lost = true;
  state.takes_writes = false;  // The turn's later writes each go on their own.
  writer_lock_->unlock();
}

template class SqliteTurn<SqliteLedgerConnection>;
template class SqliteTurn<SqlitePaymentsConnection>;

}  // namespace store
