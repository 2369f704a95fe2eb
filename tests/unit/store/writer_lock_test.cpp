// store::WriterLock: one per file per process, mutual exclusion across processes, and a holder
// killed with -9 does not block the others (other processes are made with fork()); a turn that
// holds the lock hands it over to another lock() on its own thread, and only there.
#include "store/sqlite/writer_lock.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <memory>
#include <thread>

#include "support/temp_dir.h"

namespace {

using namespace std::chrono_literals;

// Forks a child that takes the lock, reports through a pipe, then holds it for hold_ms (or until
// killed). Returns the child's pid once it holds the lock.
pid_t child_holding_lock(const std::string& db_path, int hold_ms) {
  int ready[2];
  REQUIRE(::pipe(ready) == 0);
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    std::string error;
    // fork() copied the parent's registry, so when the parent has the lock open, open() returns the
    // child's copy of the parent's object: the same MAP_SHARED mutex another process would map,
    // which is what these tests exercise (the fcntl locks, not inherited, stay the parent's).
    std::shared_ptr<store::WriterLock> lock = store::WriterLock::open(db_path, &error);
    lock->lock();
    const char byte = 1;
    [[maybe_unused]] ssize_t n = ::write(ready[1], &byte, 1);
    std::this_thread::sleep_for(std::chrono::milliseconds(hold_ms));
    lock->unlock();
    ::_exit(0);
  }
  char byte = 0;
  REQUIRE(::read(ready[0], &byte, 1) == 1);
  ::close(ready[0]);
  ::close(ready[1]);
  return pid;
}

}  // namespace

TEST_CASE("a process gets one writer lock per database file", "[store][writer_lock]") {
  TempDir dir;
  std::string error;
  auto first = store::WriterLock::open(dir.file("crebito.db"), &error);
  auto second = store::WriterLock::open(dir.path() + "/./crebito.db", &error);
  REQUIRE(first);
  CHECK(first.get() == second.get());
  auto other = store::WriterLock::open(dir.file("other.db"), &error);
  CHECK(other.get() != first.get());
}

TEST_CASE("the writer lock excludes another process until it unlocks", "[store][writer_lock]") {
  TempDir dir;
  std::string error;
  auto lock = store::WriterLock::open(dir.file("crebito.db"), &error);
  REQUIRE(lock);
  const auto started = std::chrono::steady_clock::now();
  const pid_t child = child_holding_lock(dir.file("crebito.db"), 300);
  lock->lock();  // Waits for the child's 300 ms.
  const auto waited = std::chrono::steady_clock::now() - started;
  lock->unlock();
  int status = 0;
  ::waitpid(child, &status, 0);
  CHECK(waited >= 250ms);
  CHECK(WIFEXITED(status));
}

TEST_CASE("a writer killed while holding the lock does not block the others",
          "[store][writer_lock]") {
  TempDir dir;
  std::string error;
  auto lock = store::WriterLock::open(dir.file("crebito.db"), &error);
  REQUIRE(lock);
  const pid_t child = child_holding_lock(dir.file("crebito.db"), 60'000);
  ::kill(child, SIGKILL);
  int status = 0;
  ::waitpid(child, &status, 0);
  const auto started = std::chrono::steady_clock::now();
  lock->lock();  // EOWNERDEAD inside: taken at once, made consistent.
  lock->unlock();
  lock->lock();
  lock->unlock();
  CHECK(std::chrono::steady_clock::now() - started < 1s);
}

namespace {

// A turn that records each hand-over and lets go of the lock, as a SqliteLedgerEngine turn commits
// its transaction and unlocks.
struct CountingTurn final : store::WriterLock::Turn {
  explicit CountingTurn(store::WriterLock* lock) : lock(lock) {}
  void hand_over() override {
    ++hand_overs;
    lock->unlock();
  }
  store::WriterLock* const lock;
  int hand_overs = 0;
};

// A process's lock for a fresh file, held by a CountingTurn.
struct HeldByTurn {
  HeldByTurn() {
    std::string error;
    lock = store::WriterLock::open(dir.file("crebito.db"), &error);
    REQUIRE(lock);
    turn = std::make_unique<CountingTurn>(lock.get());
    REQUIRE_FALSE(lock->lock_for_turn(turn.get()));  // Nothing to hand over.
  }
  TempDir dir;
  std::shared_ptr<store::WriterLock> lock;
  std::unique_ptr<CountingTurn> turn;
};

}  // namespace

TEST_CASE("a lock() on the thread that holds the lock for a turn hands the turn's lock over",
          "[store][writer_lock][turn]") {
  HeldByTurn held;
  store::WriterLock& lock = *held.lock;
  lock.lock();  // Would wait for this very thread without the hand-over.
  CHECK(held.turn->hand_overs == 1);
  lock.unlock();
  // Once the turn let go, a lock() of this thread has nothing to hand over.
  lock.lock();
  lock.unlock();
  CHECK(held.turn->hand_overs == 1);
  // A turn that ends by unlocking is not asked later either.
  CHECK_FALSE(lock.lock_for_turn(held.turn.get()));
  lock.unlock();
  lock.lock();
  lock.unlock();
  CHECK(held.turn->hand_overs == 1);
}

TEST_CASE("a second turn on the thread of a turn that holds the lock takes it over, and says so",
          "[store][writer_lock][turn]") {
  // Both faces' stores on one thread: the ledger's turn holds the lock, the payments store's turn
  // asks for it.
  HeldByTurn held;
  store::WriterLock& lock = *held.lock;
  CountingTurn second(&lock);
  CHECK(lock.lock_for_turn(&second));
  CHECK(held.turn->hand_overs == 1);
  // The second turn now holds it: a lock() of this thread asks the second, not the first.
  lock.lock();
  CHECK(second.hand_overs == 1);
  CHECK(held.turn->hand_overs == 1);
  lock.unlock();
}

TEST_CASE("another thread waits for a turn's lock and never asks the turn to hand it over",
          "[store][writer_lock][turn]") {
  HeldByTurn held;
  store::WriterLock& lock = *held.lock;
  std::atomic<bool> taken{false};
  std::thread other([&] {
    lock.lock();
    taken = true;
    lock.unlock();
  });
  std::this_thread::sleep_for(100ms);
  CHECK_FALSE(taken);  // Still waiting: the turn holds the lock.
  lock.unlock();       // The turn ends.
  other.join();
  CHECK(taken);
  CHECK(held.turn->hand_overs == 0);
}
