#include "support/session_relay.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace {

constexpr int listen_backlog = 16;
constexpr size_t read_chunk_bytes = 64 * 1024;

sockaddr_un address_of(const std::string& path) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (path.size() >= sizeof(address.sun_path)) {
    throw std::runtime_error("socket path too long: " + path);
  }
  std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
  return address;
}

// Writes all of `bytes` (blocking); false when the peer is gone.
bool send_all(int fd, const std::string& bytes) {
  size_t sent = 0;
  while (sent < bytes.size()) {
    const ssize_t n = ::send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    sent += static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

SessionRelay::SessionRelay(std::string listen_path, std::string server_path)
    : listen_path_(std::move(listen_path)), server_path_(std::move(server_path)) {
  const sockaddr_un address = address_of(listen_path_);
  listen_fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0 ||
      ::bind(listen_fd_, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0 ||
      ::listen(listen_fd_, listen_backlog) != 0 || ::pipe2(wake_fds_, O_CLOEXEC) != 0) {
    const std::string error = std::strerror(errno);
    close_fd(&listen_fd_);
    throw std::runtime_error("relay on " + listen_path_ + ": " + error);
  }
  thread_ = std::thread(&SessionRelay::run, this);
}

SessionRelay::~SessionRelay() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake();
  thread_.join();
  for (const std::unique_ptr<Session>& session : sessions_) {
    close_fd(&session->client_fd);
    close_fd(&session->server_fd);
  }
  close_fd(&listen_fd_);
  close_fd(&wake_fds_[0]);
  close_fd(&wake_fds_[1]);
  ::unlink(listen_path_.c_str());
}

void SessionRelay::close_fd(int* fd) {
  if (*fd >= 0) ::close(*fd);
  *fd = -1;
}

void SessionRelay::wake() {
  const char byte = 0;
  while (::write(wake_fds_[1], &byte, 1) < 0 && errno == EINTR) {
  }
}

int SessionRelay::sessions() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return static_cast<int>(sessions_.size());
}

void SessionRelay::hold_from_client(int session) {
  std::lock_guard<std::mutex> lock(mutex_);
  sessions_.at(static_cast<size_t>(session))->hold_client = true;
}

void SessionRelay::hold_from_server(int session) {
  std::lock_guard<std::mutex> lock(mutex_);
  sessions_.at(static_cast<size_t>(session))->hold_server = true;
}

size_t SessionRelay::held_from_client(int session) const {
  std::lock_guard<std::mutex> lock(mutex_);
  return sessions_.at(static_cast<size_t>(session))->held_client.size();
}

size_t SessionRelay::held_from_server(int session) const {
  std::lock_guard<std::mutex> lock(mutex_);
  return sessions_.at(static_cast<size_t>(session))->held_server.size();
}

void SessionRelay::release_from_client(int session) {
  std::lock_guard<std::mutex> lock(mutex_);
  Session& s = *sessions_.at(static_cast<size_t>(session));
  s.hold_client = false;
  if (s.server_fd >= 0) send_all(s.server_fd, s.held_client);
  s.held_client.clear();
}

void SessionRelay::cut_client(int session) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    close_fd(&sessions_.at(static_cast<size_t>(session))->client_fd);
  }
  wake();  // The thread polls that descriptor no more.
}

bool SessionRelay::server_closed(int session) const {
  std::lock_guard<std::mutex> lock(mutex_);
  return sessions_.at(static_cast<size_t>(session))->server_fd < 0;
}

void SessionRelay::relay(Session* session, bool from_client) {
  int& from = from_client ? session->client_fd : session->server_fd;
  int& to = from_client ? session->server_fd : session->client_fd;
  char buffer[read_chunk_bytes];
  const ssize_t n = ::read(from, buffer, sizeof buffer);
  if (n < 0 && errno == EINTR) return;
  if (n <= 0) {
    // The peer closed its side (or it failed): the other side closes too. A client cut by the
    // test is no longer polled, so this is a real close.
    close_fd(&from);
    close_fd(&to);
    return;
  }
  const bool hold = from_client ? session->hold_client : session->hold_server;
  if (hold) {
    (from_client ? session->held_client : session->held_server).append(buffer, n);
    return;
  }
  if (to >= 0 && !send_all(to, std::string(buffer, static_cast<size_t>(n)))) close_fd(&to);
}

void SessionRelay::run() {
  for (;;) {
    // What to poll: the wake pipe, the listening socket, and each open side (entry 2 + 2i is
    // session i's client side, 3 + 2i its server side; a closed side has fd -1, which poll skips).
    std::vector<pollfd> fds = {{wake_fds_[0], POLLIN, 0}, {listen_fd_, POLLIN, 0}};
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (stopping_) return;
      for (const std::unique_ptr<Session>& session : sessions_) {
        fds.push_back({session->client_fd, POLLIN, 0});
        fds.push_back({session->server_fd, POLLIN, 0});
      }
    }
    if (::poll(fds.data(), fds.size(), -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (fds[0].revents != 0) {
      char drain[64];
      while (::read(wake_fds_[0], drain, sizeof drain) < 0 && errno == EINTR) {
      }
    }
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_) return;
    for (size_t i = 2; i < fds.size(); ++i) {
      if (fds[i].revents == 0) continue;
      Session* session = sessions_[(i - 2) / 2].get();
      const bool from_client = (i - 2) % 2 == 0;
      // Skip a side the test (or a close just above) has closed since the poll.
      if ((from_client ? session->client_fd : session->server_fd) != fds[i].fd) continue;
      relay(session, from_client);
    }
    if (fds[1].revents != 0) {
      auto session = std::make_unique<Session>();
      session->client_fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (session->client_fd < 0) continue;
      const sockaddr_un server = address_of(server_path_);
      session->server_fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
      if (session->server_fd < 0 ||
          ::connect(session->server_fd, reinterpret_cast<const sockaddr*>(&server),
                    sizeof server) != 0) {
        close_fd(&session->server_fd);
        close_fd(&session->client_fd);
      }
      sessions_.push_back(std::move(session));
    }
  }
}
