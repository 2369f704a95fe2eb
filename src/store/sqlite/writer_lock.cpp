#include "store/sqlite/writer_lock.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <map>
#include <mutex>

#include "check.h"

namespace store {
namespace {

constexpr size_t mapping_bytes = 4096;

bool set_file_lock(int fd, short type, bool wait) {
  struct flock lock {};
  lock.l_type = type;
  lock.l_whence = SEEK_SET;
  lock.l_start = 0;
  lock.l_len = 1;
  while (::fcntl(fd, wait ? F_SETLKW : F_SETLK, &lock) != 0) {
    if (errno != EINTR) return false;
  }
  return true;
}

void initialise(pthread_mutex_t* mutex) {
  pthread_mutexattr_t attributes;
  pthread_mutexattr_init(&attributes);
  pthread_mutexattr_setpshared(&attributes, PTHREAD_PROCESS_SHARED);
  pthread_mutexattr_setrobust(&attributes, PTHREAD_MUTEX_ROBUST);
  std::memset(static_cast<void*>(mutex), 0, sizeof *mutex);
  CREBITO_ASSERT(pthread_mutex_init(mutex, &attributes) == 0);
  pthread_mutexattr_destroy(&attributes);
}

}  // namespace

std::shared_ptr<WriterLock> WriterLock::open(const std::string& db_path, std::string* error) {
  static std::mutex registry_mutex;
  static std::map<std::string, std::weak_ptr<WriterLock>> registry;  // Guarded by registry_mutex.
  std::error_code ignored;
  const std::string path = std::filesystem::weakly_canonical(db_path, ignored).string() + "-writer";
  std::lock_guard<std::mutex> lock(registry_mutex);
  std::shared_ptr<WriterLock> existing = registry[path].lock();
  if (existing) return existing;
  std::shared_ptr<WriterLock> created = create(path, error);
  if (created) registry[path] = created;
  return created;
}

std::shared_ptr<WriterLock> WriterLock::create(const std::string& path, std::string* error) {
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0 || ::ftruncate(fd, mapping_bytes) != 0) {
    *error = path + ": " + std::strerror(errno);
    if (fd >= 0) ::close(fd);
    return nullptr;
  }
  void* mapping = ::mmap(nullptr, mapping_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (mapping == MAP_FAILED) {
    *error = path + ": mmap: " + std::strerror(errno);
    ::close(fd);
    return nullptr;
  }
  auto* mutex = static_cast<pthread_mutex_t*>(mapping);
  // Alone on the file (no other process holds a read lock): the mutex may be stale, reset it.
  // fcntl lock conversion is atomic, so no other process can slip in between.
  if (set_file_lock(fd, F_WRLCK, /*wait=*/false)) {
    initialise(mutex);
    CREBITO_ASSERT(set_file_lock(fd, F_RDLCK, /*wait=*/false));
  } else if (!set_file_lock(fd, F_RDLCK, /*wait=*/true)) {
    *error = path + ": fcntl: " + std::strerror(errno);
    ::munmap(mapping, mapping_bytes);
    ::close(fd);
    return nullptr;
  }
  return std::shared_ptr<WriterLock>(new WriterLock(fd, mutex));
}

WriterLock::~WriterLock() {
  ::munmap(mutex_, mapping_bytes);
  ::close(fd_);  // Releases the read lock.
}

void WriterLock::lock() { static_cast<void>(hand_over_and_lock()); }

bool WriterLock::hand_over_turn() {
  // This thread holds the lock for a turn: the turn hands it over (writer_lock.h, Turns).
  if (turn_thread_.load(std::memory_order_relaxed) != std::this_thread::get_id()) return false;
  turn_->hand_over();
  CREBITO_ASSERT(turn_thread_.load(std::memory_order_relaxed) != std::this_thread::get_id());
  return true;
}

bool WriterLock::hand_over_and_lock() {
  const bool handed_over = hand_over_turn();
  acquire();
  return handed_over;
}

bool WriterLock::lock_for_turn(Turn* turn) {
  CREBITO_ASSERT(turn != nullptr);
  const bool handed_over = hand_over_and_lock();
  turn_ = turn;
  turn_thread_.store(std::this_thread::get_id(), std::memory_order_relaxed);
  return handed_over;
}

void WriterLock::acquire() {
  const int rc = pthread_mutex_lock(mutex_);
  if (rc == EOWNERDEAD) {
    // The previous holder died mid-write; SQLite rolls its transaction back on its own.
    CREBITO_ASSERT(pthread_mutex_consistent(mutex_) == 0);
    return;
  }
  CREBITO_ASSERT(rc == 0);
}

void WriterLock::unlock() {
  if (turn_ != nullptr) {  // The caller holds the lock, so the turn is its own.
    turn_thread_.store(std::thread::id(), std::memory_order_relaxed);
    turn_ = nullptr;
  }
  CREBITO_ASSERT(pthread_mutex_unlock(mutex_) == 0);
}

}  // namespace store
