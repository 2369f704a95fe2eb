// store::WriterLock serialises the writers of every crebito process that opens the same database:
// a process-shared, robust pthread mutex in a small file beside the database (<db>-writer).
//
// SQLite lets one writer in at a time but makes the others poll for the lock; a waiter in the other
// process sleeps between polls while the lock sits free. Taking this mutex before BEGIN IMMEDIATE
// hands the lock over through a futex instead: the next writer, in either process, is woken the
// moment the previous one unlocks. SQLite's busy handler remains the fallback for writers that do
// not take the mutex (an operator's sqlite3 shell).
//
// Robust: if a holder dies (kill -9), the next lock() gets the mutex anyway; SQLite has already
// discarded the dead writer's uncommitted frames. Initialisation: a process that finds no other
// live process on the file (an fcntl write lock it can take) initialises the mutex, then holds a
// read lock on the file for its lifetime, so a stale mutex left by a crash or a reboot is reset
// and a mutex in use is never reset.
//
// One instance per database file per process: open() returns the same object to every caller in
// the process (the ledger's pool, the payments store), because fcntl locks belong to the process
// and a second initialisation would reset a mutex another part of the process may hold.
//
// Thread-safe. lock() and unlock() must be called by the same thread.
#pragma once

#include <pthread.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>

namespace store {

class WriterLock {
 public:
  // The process's lock for db_path. nullptr and *error if the file cannot be created, mapped or
  // locked.
  static std::shared_ptr<WriterLock> open(const std::string& db_path, std::string* error);
  ~WriterLock();
  WriterLock(const WriterLock&) = delete;
  WriterLock& operator=(const WriterLock&) = delete;

  void lock();
  void unlock();

  // Turns: a holder that keeps the lock across several operations (a store::SqliteTurn,
  // store/sqlite/turn.h, whose transaction stays open from its first write to the end of an
  // event-loop wake-up) takes it with lock_for_turn(turn). The lock then remembers `turn` and the
  // holding thread until unlock(). If that same thread asks for the lock again for another write
  // (the other face's store, a purge, a group commit), waiting would deadlock on itself: lock()
  // and lock_for_turn() first call turn->hand_over(), which ends the holder's work under the lock
  // (commits its transaction) and calls unlock(), then take the lock as usual. Other threads
  // wait as usual; the turn's holder is never asked by them.
  class Turn {
   public:
    // On the holding thread, from its own lock(). Must call unlock() before it returns.
    virtual void hand_over() = 0;

   protected:
    ~Turn() = default;
  };
  // lock(), then `turn` holds the lock until unlock(). REQUIRES: turn outlives the hold.
  // Returns true when another turn of this thread held the lock and was handed over to get it
  // (a wake-up that writes for both faces): the caller then writes on its own (unlock(), and no
  // batching for the rest of its turn), so that a wake-up keeps at most one turn transaction and
  // "the turn's transaction did not commit" names one set of requests.
  [[nodiscard]] bool lock_for_turn(Turn* turn);
  // If the calling thread holds the lock for a turn, hands it over (the turn commits and
  // unlocks); returns whether it did. For a writer about to wait for another thread that may be
  // waiting for this lock (a follower in a group commit's queue behind a leader that is about to
  // lock()): it must not hold the lock while it waits.
  bool hand_over_turn();

 private:
  WriterLock(int fd, pthread_mutex_t* mutex) : fd_(fd), mutex_(mutex) {}
  static std::shared_ptr<WriterLock> create(const std::string& path, std::string* error);
  void acquire();
  bool hand_over_and_lock();  // lock(); true when this thread's turn was handed over first.
  const int fd_;
  pthread_mutex_t* const mutex_;
  // The turn holding the lock (lock_for_turn) and its thread, else nullptr and no thread. Written
  // with the lock held only. Every lock() compares turn_thread_ with its own thread; turn_ is read
  // with the lock held only.
  std::atomic<std::thread::id> turn_thread_{};
  Turn* turn_ = nullptr;
};

}  // namespace store
