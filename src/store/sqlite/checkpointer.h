// store::Checkpointer copies the WAL back into the database file from a background thread, so
// that no request ever runs a checkpoint (and its fsyncs) inside its COMMIT.
//
// Every connection of the store, of the ledger and of the payments face alike, runs with
// wal_autocheckpoint=0 (the PRAGMA set of store/sqlite/database.h); this thread, on a connection of
// its own (built on the same core, with a busy timeout of 0), runs a PASSIVE checkpoint every
// limits::checkpoint_interval_ms, which waits for no reader or writer and does the bulk of the
// copying and syncing. If the database file is removed or replaced, the thread reopens its
// connection once a database is back at the path.
//
// A checkpoint that runs beside writers never catches up with them: by the time it ends, new
// frames have been appended, and SQLite only starts the WAL over when a write begins on a fully
// copied WAL. So once the WAL holds limits::checkpoint_restart_frames frames, a second, short pass
// runs under the WriterLock (no writer can append meanwhile): it copies only what arrived during
// the first, and the next writer starts the WAL from its beginning, truncated to
// limits::wal_bytes_max. Writers wait for that short pass only, and it syncs what it copies, so
// passes without the lock are repeated first while much is left to copy
// (limits::checkpoint_locked_frames_max).
//
// Each instance runs one; SQLite's checkpoint lock lets only one work at a time, and the other
// gets SQLITE_BUSY, which means "next round".
//
// Thread-safe. The destructor stops the thread and waits for it.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "store/sqlite/database.h"

namespace store {

class Checkpointer {
 public:
  // Opens its own connection to db_path and starts the thread. nullptr and *error on failure.
  // Takes the process's WriterLock for db_path (see writer_lock.h).
  static std::unique_ptr<Checkpointer> start(const std::string& db_path, std::string* error);
  ~Checkpointer();
  Checkpointer(const Checkpointer&) = delete;
  Checkpointer& operator=(const Checkpointer&) = delete;

  // The connection start() opens for the thread (tests read its PRAGMAs back). nullptr and *error
  // on failure.
  static std::unique_ptr<Database> open_connection(const std::string& db_path, std::string* error);

 private:
  struct State;
  explicit Checkpointer(std::unique_ptr<State> state);
  static void run(State* state);
  static void follow_moved_file(State* state);

  std::unique_ptr<State> state_;
  std::thread thread_;
};

}  // namespace store
