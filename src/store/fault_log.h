// store::FaultLog: one line in the log when a kind of store operation starts failing and one when
// it works again, for either engine.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

#include "store/status.h"

namespace store {

// Reports storage faults to stderr on state changes only: the first failure of a kind of operation
// (read or write) after success, and the first success once no failure has been seen for
// limits::fault_quiet_ms. A fault that comes and goes (a full disk on which a checkpoint frees WAL
// space for a few more commits) is one episode, with one line at each end. Thread-safe; one per
// pool, shared by its connections. Both engines use it (SQLite: store/sqlite/database.h;
// PostgreSQL: store/postgres/pg_connection.h).
class FaultLog {
 public:
  enum class Kind { read = 0, write = 1 };
  void failed(Kind kind, const std::string& error);
  void succeeded(Kind kind);
  // How an operation of `kind` ended, from its status, which it returns: unavailable is a
  // failure (its message is the line's reason); ok is a success, and so is refused for a read
  // (nothing found), but not for a write: a refused write wrote nothing, so it proves nothing
  // about the storage. busy (a lock wait) says nothing about the storage either.
  Status report(Kind kind, Status status);
  // True during an episode: some operation failed and nothing has worked for fault_quiet_ms since.
  bool failing() const {
    return states_[0].failing.load(std::memory_order_relaxed) ||
           states_[1].failing.load(std::memory_order_relaxed);
  }

 private:
  struct State {
    std::atomic<bool> failing{false};
    std::atomic<int64_t> failures{0};
    std::atomic<int64_t> last_failure_us{0};  // Monotonic clock.
  };
  State states_[2];
};

}  // namespace store
