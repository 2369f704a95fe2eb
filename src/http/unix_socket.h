// http::UnixSocket is one process's claim on the path of a unix socket it serves on. It never takes
// over, and never removes, a socket that another process serves:
//   - a path where a running instance serves is refused at start (the caller exits, nothing is
//     removed); so is a path that is not a socket;
//   - a socket file that refuses connections (ECONNREFUSED: its process died without removing it,
//     e.g. kill -9) is removed and the path taken;
//   - at exit the path is removed only if it is still the socket this process bound (same st_dev
//     and st_ino, the inode kept allocated meanwhile so that its number cannot be reused), so an
//     instance that drains while its successor starts never removes the successor's socket.
//
// Use, in this order:
//   claim()              before binding: see below. Refused: false and *error naming the path.
//   bind_and_listen()    creates the socket, binds, listens, and returns the listening fd; makes
//                        the socket connectable for every user (mode 0666: haproxy may run as
//                        another user) and records its device and inode.
//   leave()              the process is stopping (SIGTERM drain, or stop): a successor may claim
//                        the path from now on; it waits until this process's socket stops
//                        accepting. Also makes a claim() that is still waiting give up.
//   release()            at exit (before or after closing the listening socket): removes the path
//                        if it is still ours. Idempotent; the destructor calls it.
// The lock file needs the socket's directory to be writable, as the socket itself does.
//
// Why a lock file: probing a path, removing a stale socket and binding a new one are separate
// system calls; two processes interleaving them could each remove the other's fresh socket, and an
// exiting process could stat its socket, lose it to a successor, then unlink the successor's.
// So every one of those steps happens under an exclusive flock(2) on "<path>.lock", beside the
// socket: claim() takes it before probing and holds it through the bind and listen, and release()
// holds it across its stat and unlink. Between processes that follow this protocol a socket is
// removed only while it refuses connections, and only by the lock's holder.
//
// Why the lock is held for the owner's whole life (until leave() or release()): a held lock means
// a running owner, so a second instance started by mistake is refused at once (after
// limits::unix_socket_lock_wait_ms, which covers an owner removing its socket at exit), and two
// instances racing for one path cannot both win: the loser finds the lock held. The kernel drops an
// flock when its process dies, even by kill -9, so a crash never leaves the path locked. A path
// that accepts connections while its lock is free belongs to an owner that has left (it drains) or
// to a process outside this protocol: claim() keeps the lock and waits, up to claim_wait_ms, for it
// to stop accepting, then refuses. The lock file holds the owner's pid (for messages) and is never
// removed: removing it would let two processes lock two different files under one name.
//
// bind() itself fails on an existing path (EADDRINUSE), so a socket is never replaced, only removed
// when stale; and an owner keeps its lock until it listens, because a socket that is bound but not
// yet listening refuses connections like a stale one.
//
// Thread-safe: leave() and release() may be called from any thread; while claim() runs, both only
// make it give up.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <mutex>
#include <string>

#include "crebito_limits.h"

namespace http {

class UnixSocket {
 public:
  explicit UnixSocket(std::string path, int claim_wait_ms = limits::unix_socket_claim_wait_ms);
  ~UnixSocket();
  UnixSocket(const UnixSocket&) = delete;
  UnixSocket& operator=(const UnixSocket&) = delete;

  const std::string& path() const { return path_; }

  // Takes the path's lock and makes the path free to bind: nothing there, or a stale socket that is
  // removed. false and *error (naming the path) if another process serves it, if it is not a
  // socket, if it still accepts connections after claim_wait_ms, or if leave() was called first.
  // At most once per object.
  bool claim(std::string* error);

  // REQUIRES: claim() succeeded. Binds path(), listens with limits::unix_socket_backlog, sets mode
  // 0666 and records the socket. Returns the listening fd (the caller owns it), or -1 and *error.
  // socket_type_flags are added to SOCK_STREAM | SOCK_CLOEXEC (e.g. SOCK_NONBLOCK).
  int bind_and_listen(std::string* error, int socket_type_flags = 0);

  void leave();
  void release();

 private:
  // bind_and_listen()'s step after bind: sets mode 0666 and records the socket. false and *error
  // if the path is not a socket.
  bool adopt_bound(std::string* error);
  enum class State { unclaimed, claiming, claimed, owned, released };

  // claim()'s steps, while the state is claiming (only that thread touches the lock file then).
  bool claim_path(std::string* error);
  // Retries a held lock for limits::unix_socket_lock_wait_ms. Called with mutex_ not held.
  bool take_lock(int fd, std::string* error);
  // Drops the lock, keeping the file open. REQUIRES: mutex_ held.
  void unlock();
  // Closes the lock file, which drops the lock. REQUIRES: mutex_ held.
  void close_lock();

  const std::string path_;
  const std::string lock_path_;
  const int claim_wait_ms_;
  std::atomic<bool> leaving_{false};

  std::mutex mutex_;
  State state_ = State::unclaimed;  // Guarded by mutex_, as are the fields below.
  int lock_fd_ = -1;
  bool locked_ = false;      // This process holds the flock on lock_fd_.
  int socket_file_fd_ = -1;  // O_PATH descriptor of the socket file, once owned.
  dev_t device_ = 0;         // Of the socket file, once owned.
  ino_t inode_ = 0;
};

}  // namespace http
