#include "store/checkpointer.h"

#include <SQLiteCpp/Database.h>
#include <sqlite3.h>

#include <chrono>
#include <cstdio>

#include "crebito_limits.h"
#include "store/writer_lock.h"

namespace store {
namespace {

struct Progress {
  int wal_frames = 0;     // Frames in the WAL (0 when the checkpoint could not run).
  int copied_frames = 0;  // Of which copied into the database file, this pass or before.
  int left() const { return wal_frames - copied_frames; }
};

// One PASSIVE checkpoint.
Progress checkpoint(SQLite::Database& db) {
  Progress progress;
  const int rc = sqlite3_wal_checkpoint_v2(db.getHandle(), nullptr, SQLITE_CHECKPOINT_PASSIVE,
                                           &progress.wal_frames, &progress.copied_frames);
  return rc == SQLITE_OK ? progress : Progress{};
}

}  // namespace

struct Checkpointer::State {
  explicit State(const std::string& path)
      : db(path, SQLite::OPEN_READWRITE | SQLite::OPEN_NOMUTEX, limits::schema_busy_timeout_ms) {}
  SQLite::Database db;
  std::shared_ptr<WriterLock> writer_lock;
  std::mutex mutex;
  std::condition_variable stop_requested;
  bool stopping = false;  // Guarded by mutex.
};

std::unique_ptr<Checkpointer> Checkpointer::start(const std::string& db_path, std::string* error) {
  try {
    auto state = std::make_unique<State>(db_path);
    state->writer_lock = WriterLock::open(db_path, error);
    if (!state->writer_lock) return nullptr;
    // A connection knows the file is in WAL mode only once it has read it; until then a checkpoint
    // quietly does nothing.
    const std::string mode = state->db.execAndGet("PRAGMA journal_mode").getString();
    if (mode != "wal") {
      *error = db_path + ": checkpointer: journal_mode is '" + mode + "', expected 'wal'";
      return nullptr;
    }
    // A checkpoint waits for nobody: a busy database means "next time".
    sqlite3_busy_timeout(state->db.getHandle(), 0);
    state->db.exec("PRAGMA journal_size_limit = " + std::to_string(limits::wal_bytes_max));
    return std::unique_ptr<Checkpointer>(new Checkpointer(std::move(state)));
  } catch (const std::exception& e) {
    *error = db_path + ": checkpointer: " + e.what();
    return nullptr;
  }
}

Checkpointer::Checkpointer(std::unique_ptr<State> state)
    : state_(std::move(state)), thread_(&Checkpointer::run, state_.get()) {}

Checkpointer::~Checkpointer() {
  {
    std::lock_guard<std::mutex> lock(state_->mutex);
    state_->stopping = true;
  }
  state_->stop_requested.notify_one();
  thread_.join();
}

void Checkpointer::run(State* state) {
  const auto interval = std::chrono::milliseconds(limits::checkpoint_interval_ms);
  std::unique_lock<std::mutex> lock(state->mutex);
  while (!state->stop_requested.wait_for(lock, interval, [state] { return state->stopping; })) {
    lock.unlock();
    // BUSY: the other instance is checkpointing. Any other failure is a storage fault, which the
    // request path reports (503) and logs; the next round tries again.
    Progress progress = checkpoint(state->db);
    if (progress.wal_frames >= limits::checkpoint_restart_frames) {
      // The pass under the writer lock syncs the WAL frames that arrived since the last pass, and
      // writers wait for that sync: catch up without the lock first, so that it has little left.
      for (int pass = 1; pass < limits::checkpoint_catch_up_passes_max &&
                         progress.left() > limits::checkpoint_locked_frames_max;
           ++pass) {
        progress = checkpoint(state->db);
      }
      std::lock_guard<WriterLock> no_writers(*state->writer_lock);
      checkpoint(state->db);
    }
    lock.lock();
  }
}

}  // namespace store
