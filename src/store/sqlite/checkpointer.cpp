#include "store/sqlite/checkpointer.h"

#include <sqlite3.h>

#include <chrono>
#include <cstdio>

#include "clock.h"
#include "crebito_limits.h"
#include "store/sqlite/writer_lock.h"

namespace store {
namespace {

struct Progress {
  int wal_frames = 0;     // Frames in the WAL (0 when the checkpoint could not run).
  int copied_frames = 0;  // Of which copied into the database file, this pass or before.
  int left() const { return wal_frames - copied_frames; }
};

// One PASSIVE checkpoint.
Progress checkpoint(Database& db) {
  Progress progress;
  const int rc = sqlite3_wal_checkpoint_v2(db.handle(), nullptr, SQLITE_CHECKPOINT_PASSIVE,
                                           &progress.wal_frames, &progress.copied_frames);
  return rc == SQLITE_OK ? progress : Progress{};
}

}  // namespace

struct Checkpointer::State {
  std::string path;
  std::unique_ptr<Database> db;  // Used and replaced by the thread only, once it runs.
  int64_t next_reopen_ms = 0;    // Used by the thread only.
  std::shared_ptr<WriterLock> writer_lock;
  std::mutex mutex;
  std::condition_variable stop_requested;
  bool stopping = false;  // Guarded by mutex.
};

std::unique_ptr<Database> Checkpointer::open_connection(const std::string& db_path,
                                                        std::string* error) {
  try {
    // A checkpoint waits for nobody (busy timeout 0): a busy database means "next time". The
    // core's check of the journal mode also reads the file, without which a connection does not
    // know it is in WAL mode and a checkpoint quietly does nothing.
    auto db = std::make_unique<Database>(Options{db_path, 0}, /*cache_kib=*/0,
                                         /*fault_log=*/nullptr);
    db->serve();
    return db;
  } catch (const std::exception& e) {
    *error = db_path + ": checkpointer: " + e.what();
    return nullptr;
  }
}

std::unique_ptr<Checkpointer> Checkpointer::start(const std::string& db_path, std::string* error) {
  auto state = std::make_unique<State>();
  state->path = db_path;
  state->db = open_connection(db_path, error);
  if (!state->db) return nullptr;
  state->writer_lock = WriterLock::open(db_path, error);
  if (!state->writer_lock) return nullptr;
  return std::unique_ptr<Checkpointer>(new Checkpointer(std::move(state)));
}

// A file removed or replaced under the connection would be checkpointed no more: once a database
// is back at the path (put there by an operator), its WAL would grow without bound. So the
// connection is replaced, at most once per limits::store_reopen_interval_ms, as the pools do.
void Checkpointer::follow_moved_file(State* state) {
  if (!state->db->file_moved()) return;
  const int64_t now = clocks::steady_ms();
  if (now < state->next_reopen_ms) return;
  state->next_reopen_ms = now + limits::store_reopen_interval_ms;
  std::string error;
  std::unique_ptr<Database> fresh = open_connection(state->path, &error);
  if (fresh) state->db = std::move(fresh);  // The old one closes keeping the restored -wal/-shm.
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
    follow_moved_file(state);
    // BUSY: the other instance is checkpointing. Any other failure is a storage fault, which the
    // request path reports (503) and logs; the next round tries again.
    Progress progress = checkpoint(*state->db);
    if (progress.wal_frames >= limits::checkpoint_restart_frames) {
      // The pass under the writer lock syncs the WAL frames that arrived since the last pass, and
      // writers wait for that sync: catch up without the lock first, so that it has little left.
      for (int pass = 1; pass < limits::checkpoint_catch_up_passes_max &&
                         progress.left() > limits::checkpoint_locked_frames_max;
           ++pass) {
        progress = checkpoint(*state->db);
      }
      std::lock_guard<WriterLock> no_writers(*state->writer_lock);
      checkpoint(*state->db);
    }
    lock.lock();
  }
}

}  // namespace store
