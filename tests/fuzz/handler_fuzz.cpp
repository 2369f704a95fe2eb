// Fuzz target: the whole request handler. Each input is sent as raw bytes over a new connection to
// a real http::Server (cpp-httplib's parser, our event loop, the 411/413 pre-routing, the
// routes, the ledger and the store) on a unix socket, with a temporary database; then the client
// half-closes and reads every answer until the server closes.
//
// Why a real server rather than calling the route functions: the parsing that hostile input meets
// first (request line, headers, Content-Length, chunking, pipelining, our event loop) lives in
// cpp-httplib, http/event_loop.cpp and http/connection.cpp, and only a socket exercises it as
// deployed. The cost is one connection per input (a few thousand inputs a second), which is enough.
//
// Checks per input: the server closes within limits::read_timeout_ms plus slack (no hang), and no
// answer is a 5xx (the database is healthy, so bad input must never produce one). Every
// audit_interval inputs, the money invariant holds in the database file.
#include <SQLiteCpp/Database.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>

#include "crebito_limits.h"
#include "http/ledger/routes.h"
#include "http/server.h"
#include "ledger/ledger.h"
#include "support/audit.h"
#include "support/temp_dir.h"

namespace {

constexpr int threads = 2;
constexpr int answer_timeout_ms = limits::read_timeout_ms + 3000;
constexpr int audit_interval = 256;

void require(bool condition, const std::string& what) {
  if (condition) return;
  std::fprintf(stderr, "handler_fuzz: %s\n", what.c_str());
  std::abort();
}

int connect_to(const std::string& path) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::snprintf(address.sun_path, sizeof address.sun_path, "%s", path.c_str());
  int rc;
  // A unix-socket connect interrupted by a signal (see exchange()) has not connected: try again.
  while ((rc = ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address)) != 0 &&
         errno == EINTR) {
  }
  if (rc != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// A ledger and a server on a temporary directory, started once per fuzzing process and never
// stopped: libFuzzer ends the process with exit().
class Harness {
 public:
  Harness() {
    std::string error;
    ledger_ = ledger::Ledger::open({dir_.file("crebito.db"), limits::busy_timeout_ms_default},
                                   threads, &error);
    require(ledger_ != nullptr, "cannot open the ledger: " + error);
    ledger::Ledger* ledger = ledger_.get();
    server_ = std::make_unique<http::Server>(
        [ledger](httplib::Server* routes) { http::install_routes(routes, ledger); },
        http::ListenAddress{true, "", 0, socket_path()}, threads);
    server_->set_turn_hooks(http::ledger_turn_hooks(ledger));  // As crebito runs it.
    serving_ = std::thread([this] {
      std::string error;
      require(server_->run(&error), "cannot serve: " + error);
    });
    for (int attempt = 0; attempt < 500; ++attempt) {
      const int fd = connect_to(socket_path());
      if (fd >= 0) {
        ::close(fd);
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    require(false, "the server did not start listening");
  }

  std::string socket_path() const { return dir_.file("api.sock"); }
  std::string db_path() const { return dir_.file("crebito.db"); }

 private:
  TempDir dir_;
  std::unique_ptr<ledger::Ledger> ledger_;
  std::unique_ptr<http::Server> server_;
  std::thread serving_;
};

std::string exchange(const std::string& path, const uint8_t* data, size_t size) {
  const int fd = connect_to(path);
  require(fd >= 0, "cannot connect to the server");
  size_t sent = 0;
  while (sent < size) {
    const ssize_t n = ::send(fd, data + sent, size - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // The server may close early (after a 400, 411 or 413): fine.
    sent += static_cast<size_t>(n);
  }
  ::shutdown(fd, SHUT_WR);
  std::string response;
  char buffer[4096];
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(answer_timeout_ms);
  while (true) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    require(left.count() > 0, "the server neither answered nor closed in time");
    pollfd waiting{fd, POLLIN, 0};
    // libFuzzer's -timeout arms a SIGALRM every few seconds: an interrupted wait is not a hang.
    const int ready = ::poll(&waiting, 1, static_cast<int>(left.count()));
    if (ready < 0 && errno == EINTR) continue;
    require(ready > 0, "the server neither answered nor closed in time");
    const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    response.append(buffer, static_cast<size_t>(n));
  }
  ::close(fd);
  return response;
}

void audit(const std::string& db_path) {
  require(audit_failures(db_path).empty(),
          "the audit query fails: a balance disagrees with its transactions");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Harness* harness = new Harness();
  static int inputs = 0;
  const std::string response = exchange(harness->socket_path(), data, size);
  // "HTTP/1.1 50" is 11 characters: no descricao (at most 10) echoed in a statement can hold it.
  require(response.find("HTTP/1.1 50") == std::string::npos,
          "a 5xx answer to input:\n" + std::string(response, 0, 400));
  if (++inputs % audit_interval == 0) audit(harness->db_path());
  return 0;
}
