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

#include <memory>
#include <string>

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

  // A thread that keeps the lock across several operations (a SqliteLedgerEngine turn) registers
  // here; if the same thread then asks for the lock for another write (the payments store), lock()
  // first asks the holder to give it up (commit and unlock) instead of deadlocking on itself.
  class Holder {
   public:
    virtual void give_up(WriterLock* lock) = 0;

   protected:
    ~Holder() = default;
  };
  // The calling thread's holder (nullptr: none). The holder must call it again with nullptr before
  // it goes away.
  static void set_thread_holder(Holder* holder);

 private:
  WriterLock(int fd, pthread_mutex_t* mutex) : fd_(fd), mutex_(mutex) {}
  static std::shared_ptr<WriterLock> create(const std::string& path, std::string* error);
  const int fd_;
  pthread_mutex_t* const mutex_;
};

}  // namespace store
