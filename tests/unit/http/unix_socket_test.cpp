// http::UnixSocket: which paths a claim takes, refuses or waits for, and that release() removes
// only the socket the claim bound. Two claims in one process conflict like two processes do (an
// flock belongs to an open file description), so the "other process" here is another object or a
// plain socket the test binds itself.
#include "http/unix_socket.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <future>

#include "support/temp_dir.h"

namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// Short enough for a unit test; the production bound is limits::unix_socket_claim_wait_ms.
constexpr int claim_wait_ms = 300;

sockaddr_un address_of(const std::string& path) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::snprintf(address.sun_path, sizeof address.sun_path, "%s", path.c_str());
  return address;
}

bool connects(const std::string& path) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  const sockaddr_un address = address_of(path);
  const bool ok = ::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0;
  ::close(fd);
  return ok;
}

// A socket bound at path by "another program" (no lock); listening or not.
int bind_plain(const std::string& path, bool listening) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  const sockaddr_un address = address_of(path);
  REQUIRE(::bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0);
  if (listening) REQUIRE(::listen(fd, 8) == 0);
  return fd;
}

ino_t inode_of(const std::string& path) {
  struct stat status {};
  return ::lstat(path.c_str(), &status) == 0 ? status.st_ino : 0;
}

bool exists(const std::string& path) { return inode_of(path) != 0; }

// A socket path in a directory of its own.
struct SocketPath {
  TempDir dir;
  const std::string path = dir.file("api.sock");
};

// A UnixSocket that has claimed `path` and listens on it, through the protocol.
struct Served {
  explicit Served(const std::string& path, int wait_ms = claim_wait_ms) : socket(path, wait_ms) {
    std::string error;
    REQUIRE(socket.claim(&error));
    fd = socket.bind_and_listen(&error);
    REQUIRE(fd >= 0);
  }
  http::UnixSocket socket;
  int fd = -1;
};

}  // namespace

TEST_CASE("a free path is claimed, served with mode 0666, and removed at release",
          "[unix_socket]") {
  const SocketPath at;
  const std::string& path = at.path;
  Served served(path);
  CHECK(connects(path));
  struct stat status {};
  REQUIRE(::stat(path.c_str(), &status) == 0);
  CHECK((status.st_mode & 0777) == 0666);
  ::close(served.fd);
  served.socket.release();
  CHECK_FALSE(exists(path));
  CHECK(exists(path + ".lock"));  // Never removed (see the header).
}

TEST_CASE("a socket nobody listens on is removed and the path taken", "[unix_socket]") {
  const SocketPath at;
  ::close(bind_plain(at.path, /*listening=*/false));  // What kill -9 leaves behind.
  Served served(at.path);
  CHECK(connects(at.path));
  ::close(served.fd);
}

TEST_CASE("a path held by a running owner is refused at once and left alone", "[unix_socket]") {
  const SocketPath at;
  const std::string& path = at.path;
  Served owner(path);
  const ino_t inode = inode_of(path);

  std::string error;
  http::UnixSocket second(path, 60'000);  // Refused on the lock, not after this wait.
  const auto started = Clock::now();
  CHECK_FALSE(second.claim(&error));
  CHECK(Clock::now() - started < 5s);
  CHECK(error.find(path) != std::string::npos);
  CHECK(error.find("pid " + std::to_string(::getpid())) != std::string::npos);
  second.release();
  CHECK(inode_of(path) == inode);
  CHECK(connects(path));
  ::close(owner.fd);
}

TEST_CASE("a socket another program listens on is waited for, then refused and left alone",
          "[unix_socket]") {
  const SocketPath at;
  const std::string& path = at.path;
  const int other = bind_plain(path, /*listening=*/true);
  std::string error;
  http::UnixSocket socket(path, claim_wait_ms);
  const auto started = Clock::now();
  CHECK_FALSE(socket.claim(&error));
  CHECK(Clock::now() - started >= std::chrono::milliseconds(claim_wait_ms));
  CHECK(error.find(path) != std::string::npos);
  socket.release();
  CHECK(connects(path));
  ::close(other);
}

TEST_CASE("a path that is not a socket is refused and kept", "[unix_socket]") {
  const SocketPath at;
  const std::string& path = at.path;
  std::ofstream(path) << "not a socket";
  std::string error;
  http::UnixSocket socket(path, claim_wait_ms);
  CHECK_FALSE(socket.claim(&error));
  CHECK(error.find("not a socket") != std::string::npos);
  CHECK(exists(path));
}

TEST_CASE("a path longer than sun_path allows is refused", "[unix_socket]") {
  std::string error;
  http::UnixSocket socket("/tmp/" + std::string(sizeof(sockaddr_un{}.sun_path), 'x'));
  CHECK_FALSE(socket.claim(&error));
  CHECK(error.find("longer than") != std::string::npos);
}

TEST_CASE(
    "a successor waits for an owner that left, whose release then leaves the new socket alone",
    "[unix_socket]") {
  const SocketPath at;
  const std::string& path = at.path;
  Served owner(path);
  owner.socket.leave();  // SIGTERM: draining, still accepting.

  http::UnixSocket successor(path, 10'000);
  std::string successor_error;
  auto claimed = std::async(std::launch::async, [&] { return successor.claim(&successor_error); });
  CHECK(claimed.wait_for(300ms) == std::future_status::timeout);  // The owner still accepts.
  ::close(owner.fd);                                              // The drain ends.
  REQUIRE(claimed.get());
  const int successor_fd = successor.bind_and_listen(&successor_error);
  REQUIRE(successor_fd >= 0);
  const ino_t successor_inode = inode_of(path);

  owner.socket.release();  // At the owner's exit.
  CHECK(inode_of(path) == successor_inode);
  CHECK(connects(path));
  successor.release();
  CHECK_FALSE(exists(path));
  ::close(successor_fd);
}

TEST_CASE("an owner that left removes its socket at release when no successor came",
          "[unix_socket]") {
  const SocketPath at;
  Served owner(at.path);
  owner.socket.leave();
  ::close(owner.fd);
  owner.socket.release();
  CHECK_FALSE(exists(at.path));
}

TEST_CASE("release leaves a path that is no longer the socket it bound", "[unix_socket]") {
  const SocketPath at;
  const std::string& path = at.path;
  Served owner(path);
  ::close(owner.fd);
  // Someone outside the protocol replaced it.
  REQUIRE(::unlink(path.c_str()) == 0);
  const int other = bind_plain(path, /*listening=*/true);
  owner.socket.release();
  CHECK(connects(path));
  ::close(other);
}

TEST_CASE("leave() makes a waiting claim give up", "[unix_socket]") {
  const SocketPath at;
  const std::string& path = at.path;
  const int other = bind_plain(path, /*listening=*/true);
  std::string error;
  http::UnixSocket socket(path, 60'000);
  auto claimed = std::async(std::launch::async, [&] { return socket.claim(&error); });
  // The claim waits once its probe has found the path served: the probe is a connection pending
  // on `other`.
  constexpr int probe_deadline_ms = 5000;
  pollfd probe{other, POLLIN, 0};
  REQUIRE(::poll(&probe, 1, probe_deadline_ms) == 1);
  socket.leave();
  REQUIRE(claimed.wait_for(5s) == std::future_status::ready);
  CHECK_FALSE(claimed.get());
  CHECK(error.find("stopped") != std::string::npos);
  CHECK(connects(path));
  ::close(other);
}
