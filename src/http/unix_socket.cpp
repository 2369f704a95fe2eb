#include "http/unix_socket.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <thread>

#include "check.h"

namespace http {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// haproxy may run as another user (it does in the container): every user may connect.
constexpr mode_t socket_mode = 0666;
// Other users may read the owner's pid from the lock file; only the owner writes it.
constexpr mode_t lock_file_mode = 0644;
// Room for the pid read back from the lock file, with its newline.
constexpr size_t pid_text_bytes_max = 24;

std::string errno_text() { return std::strerror(errno); }

sockaddr_un address_of(const std::string& path) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::memcpy(address.sun_path, path.c_str(), path.size() + 1);  // Length checked in claim().
  return address;
}

enum class PathState {
  absent,      // Nothing at the path: free.
  stale,       // A socket file nobody listens on (connect: ECONNREFUSED).
  accepting,   // A socket some process listens on.
  not_socket,  // A regular file, directory, link, ...: not ours to remove.
  failed,      // lstat or connect failed otherwise; errno says why.
};

PathState inspect(const std::string& path) {
  struct stat status {};
  if (::lstat(path.c_str(), &status) != 0) {
    return errno == ENOENT ? PathState::absent : PathState::failed;
  }
  if (!S_ISSOCK(status.st_mode)) return PathState::not_socket;
  // Non-blocking: a full backlog answers EAGAIN at once instead of blocking the probe.
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return PathState::failed;
  const sockaddr_un address = address_of(path);
  const int connected = ::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address);
  const int connect_errno = errno;
  ::close(fd);
  if (connected == 0) return PathState::accepting;
  switch (connect_errno) {
    case EAGAIN:  // Its backlog is full: someone serves it.
      return PathState::accepting;
    case ECONNREFUSED:
      return PathState::stale;
    case ENOENT:  // Removed between lstat and connect.
      return PathState::absent;
    default:
      errno = connect_errno;
      return PathState::failed;
  }
}

// " (pid N per LOCK_PATH)" from the lock file, or "" when it holds nothing readable.
std::string holder_of(int lock_fd, const std::string& lock_path) {
  char text[pid_text_bytes_max] = {};
  const ssize_t n = ::pread(lock_fd, text, sizeof text - 1, 0);
  if (n <= 0) return "";
  std::string pid(text, static_cast<size_t>(n));
  while (!pid.empty() && (pid.back() == '\n' || pid.back() == '\0')) pid.pop_back();
  if (pid.empty() || pid.find_first_not_of("0123456789") != std::string::npos) return "";
  return " (pid " + pid + " per " + lock_path + ")";
}

}  // namespace

UnixSocket::UnixSocket(std::string path, int claim_wait_ms)
    : path_(std::move(path)), lock_path_(path_ + ".lock"), claim_wait_ms_(claim_wait_ms) {}

UnixSocket::~UnixSocket() { release(); }

bool UnixSocket::claim(std::string* error) {
  {
    std::lock_guard<std::mutex> hold(mutex_);
    CREBITO_ASSERT(state_ == State::unclaimed);
    state_ = State::claiming;
  }
  const bool claimed = claim_path(error);
  std::lock_guard<std::mutex> hold(mutex_);
  if (!claimed) {
    close_lock();
    state_ = State::released;
    return false;
  }
  state_ = State::claimed;
  return true;
}

bool UnixSocket::claim_path(std::string* error) {
  if (path_.empty() || path_.size() >= sizeof(sockaddr_un{}.sun_path)) {
    *error = "unix socket path '" + path_ + "' is empty or longer than " +
             std::to_string(sizeof(sockaddr_un{}.sun_path) - 1) + " bytes";
    return false;
  }
  const int fd = ::open(lock_path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, lock_file_mode);
  if (fd < 0) {
    *error = "cannot open " + lock_path_ + ", the lock file of " + path_ + ": " + errno_text();
    return false;
  }
  {
    std::lock_guard<std::mutex> hold(mutex_);
    lock_fd_ = fd;
  }
  if (!take_lock(fd, error)) return false;
  {
    std::lock_guard<std::mutex> hold(mutex_);
    locked_ = true;
  }
  // The pid is only for other processes' messages: failing to write it changes nothing else.
  const std::string pid = std::to_string(::getpid()) + "\n";
  const bool pid_written = ::ftruncate(fd, 0) == 0 && ::pwrite(fd, pid.data(), pid.size(), 0) ==
                                                          static_cast<ssize_t>(pid.size());
  static_cast<void>(pid_written);

  const auto deadline = Clock::now() + milliseconds(claim_wait_ms_);
  bool waiting = false;
  while (true) {
    switch (inspect(path_)) {
      case PathState::absent:
        return true;
      case PathState::stale:
        if (::unlink(path_.c_str()) != 0 && errno != ENOENT) {
          *error = "cannot remove the stale socket " + path_ + ": " + errno_text();
          return false;
        }
        std::fprintf(stderr, "crebito: removed %s, a socket nothing listened on any more\n",
                     path_.c_str());
        return true;
      case PathState::not_socket:
        *error = path_ + " exists and is not a socket; not removing it";
        return false;
      case PathState::failed:
        *error = "cannot probe " + path_ + ": " + errno_text();
        return false;
      case PathState::accepting:
        break;
    }
    if (leaving_) {
      *error = "stopped while waiting for " + path_ + " to be free";
      return false;
    }
    if (Clock::now() >= deadline) {
      *error = path_ + " still accepts connections after " + std::to_string(claim_wait_ms_) +
               " ms: another process serves it; not taking it";
      return false;
    }
    if (!waiting) {
      std::fprintf(stderr,
                   "crebito: %s is still served by a process that has left it; waiting up to %d "
                   "ms for it to close\n",
                   path_.c_str(), claim_wait_ms_);
      waiting = true;
    }
    std::this_thread::sleep_for(milliseconds(limits::unix_socket_probe_interval_ms));
  }
}

bool UnixSocket::take_lock(int fd, std::string* error) {
  const auto deadline = Clock::now() + milliseconds(limits::unix_socket_lock_wait_ms);
  while (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    if (errno == EINTR) continue;
    if (errno != EWOULDBLOCK) {
      *error = "cannot lock " + lock_path_ + ", the lock file of " + path_ + ": " + errno_text();
      return false;
    }
    if (leaving_) {
      *error = "stopped while waiting for the lock of " + path_;
      return false;
    }
    if (Clock::now() >= deadline) {
      *error =
          path_ + " belongs to a running instance" + holder_of(fd, lock_path_) + "; not taking it";
      return false;
    }
    std::this_thread::sleep_for(milliseconds(limits::unix_socket_lock_retry_ms));
  }
  return true;
}

int UnixSocket::bind_and_listen(std::string* error, int socket_type_flags) {
  {
    std::lock_guard<std::mutex> hold(mutex_);
    CREBITO_ASSERT(state_ == State::claimed);
  }
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | socket_type_flags, 0);
  if (fd < 0) {
    *error = "cannot create a socket for " + path_ + ": " + errno_text();
    return -1;
  }
  const sockaddr_un address = address_of(path_);
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
    *error = "cannot bind " + path_ + ": " + errno_text();
    ::close(fd);
    return -1;
  }
  // From here the file is ours: recorded first, so that release() removes it whatever fails next.
  if (!adopt_bound(error)) {
    ::close(fd);
    release();
    return -1;
  }
  if (::listen(fd, limits::listen_backlog) != 0) {
    *error = "cannot listen on " + path_ + ": " + errno_text();
    ::close(fd);
    release();
    return -1;
  }
  return fd;
}

bool UnixSocket::adopt_bound(std::string* error) {
  std::lock_guard<std::mutex> hold(mutex_);
  CREBITO_ASSERT(state_ == State::claimed);
  // An O_PATH descriptor keeps the socket's inode allocated until release(): were the file
  // removed meanwhile, a new file could otherwise get the same inode number and pass for ours.
  const int file_fd = ::open(path_.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC);
  struct stat status {};
  if (file_fd < 0 || ::fstat(file_fd, &status) != 0 || !S_ISSOCK(status.st_mode)) {
    *error = path_ + " is not the socket just bound" + (file_fd < 0 ? ": " + errno_text() : "");
    if (file_fd >= 0) ::close(file_fd);
    return false;
  }
  socket_file_fd_ = file_fd;
  device_ = status.st_dev;
  inode_ = status.st_ino;
  state_ = State::owned;
  if (::chmod(path_.c_str(), socket_mode) != 0) {
    *error = "cannot make " + path_ + " connectable for every user: " + errno_text();
    return false;
  }
  // A leave() that came while the socket was being bound takes effect now that it listens.
  if (leaving_) unlock();
  return true;
}

void UnixSocket::leave() {
  leaving_ = true;
  std::lock_guard<std::mutex> hold(mutex_);
  // Before the socket listens, a successor's probe would take it for stale: keep the lock until
  // adopt_bound().
  if (state_ == State::owned) unlock();
}

void UnixSocket::release() {
  leaving_ = true;  // A claim() still running gives up; it closes the lock file itself.
  std::lock_guard<std::mutex> hold(mutex_);
  if (state_ == State::claiming || state_ == State::released) return;
  if (state_ == State::owned) {
    if (!locked_) {
      // Left earlier. Held now by a successor: it removes this socket itself once it refuses
      // connections, so leave it. Free: take it for the stat and the unlink.
      while (!locked_) {
        if (::flock(lock_fd_, LOCK_EX | LOCK_NB) == 0) {
          locked_ = true;
        } else if (errno != EINTR) {
          break;
        }
      }
    }
    struct stat status {};
    if (locked_ && ::lstat(path_.c_str(), &status) == 0 && status.st_dev == device_ &&
        status.st_ino == inode_ && ::unlink(path_.c_str()) != 0) {
      std::fprintf(stderr, "crebito: cannot remove %s: %s\n", path_.c_str(), errno_text().c_str());
    }
    ::close(socket_file_fd_);
    socket_file_fd_ = -1;
  }
  close_lock();
  state_ = State::released;
}

void UnixSocket::unlock() {
  if (!locked_) return;
  // Failing to unlock (not expected on a valid descriptor) keeps successors out: safe.
  if (::flock(lock_fd_, LOCK_UN) == 0) locked_ = false;
}

void UnixSocket::close_lock() {
  if (lock_fd_ >= 0) ::close(lock_fd_);
  lock_fd_ = -1;
  locked_ = false;
}

}  // namespace http
