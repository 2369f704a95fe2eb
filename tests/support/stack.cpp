#include "support/stack.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <thread>
#include <vector>

extern char** environ;

namespace {

constexpr auto ready_timeout = std::chrono::seconds(20);
constexpr auto stop_timeout = std::chrono::seconds(10);
constexpr auto poll_interval = std::chrono::milliseconds(20);
// A start waits this long for the previous process of the same instance (same socket) to exit:
// longer than the instances' longest drain in these tests (3 s) plus finishing in-flight requests.
constexpr auto previous_exit_timeout = std::chrono::seconds(15);

// haproxy's listening socket: bound here, on a free loopback port, and handed to haproxy as fd 3
// ("bind fd@3"), so no other process can take the port between choosing it and binding it.
constexpr int inherited_listen_fd = 3;

int bind_free_loopback_port(int* port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t length = sizeof address;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    ::close(fd);
    throw std::runtime_error("cannot bind a free loopback port");
  }
  *port = ntohs(address.sin_port);
  return fd;
}

std::string tail_of(const std::string& path) {
  std::ifstream file(path);
  std::string text((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  constexpr size_t tail_bytes = 2000;
  return text.size() > tail_bytes ? text.substr(text.size() - tail_bytes) : text;
}

pid_t spawn(const std::vector<std::string>& argv, const std::vector<std::string>& extra_env,
            const std::string& log_path, int inherit_fd = -1) {
  std::vector<std::string> env_strings(extra_env);
  for (char** entry = environ; *entry != nullptr; ++entry) env_strings.emplace_back(*entry);
  std::vector<char*> args, env;
  for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  for (const std::string& entry : env_strings) env.push_back(const_cast<char*>(entry.c_str()));
  env.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log_path.c_str(),
                                   O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  if (inherit_fd >= 0) posix_spawn_file_actions_adddup2(&actions, inherit_fd, inherited_listen_fd);
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, args[0], &actions, nullptr, args.data(), env.data());
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) throw std::runtime_error("cannot start " + argv[0] + ": " + std::strerror(rc));
  return pid;
}

// Waits for pid to exit; SIGKILL after stop_timeout. Returns the wait status.
int reap(pid_t pid) {
  int status = 0;
  if (wait_for_exit(pid, stop_timeout, &status)) return status;
  ::kill(pid, SIGKILL);
  ::waitpid(pid, &status, 0);
  return status;
}

void terminate_and_reap(pid_t pid) {
  if (pid <= 0) return;
  ::kill(pid, SIGTERM);
  reap(pid);
}

}  // namespace

bool wait_for_exit(pid_t pid, std::chrono::milliseconds timeout, int* status) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (::waitpid(pid, status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(poll_interval);
  }
  return true;
}

int stop_process(pid_t pid, int signal) {
  ::kill(pid, signal);
  return reap(pid);
}

Stack::Stack() : Stack(Options{}) {}

Stack::Stack(Options options) : options_(std::move(options)), dir_(std::make_unique<TempDir>()) {
  start_instances();
  const int listen_fd = bind_free_loopback_port(&port_);
  haproxy_pid_ = spawn(
      {HAPROXY_BINARY, "-db", "-f", CREBITO_SOURCE_DIR "/haproxy.cfg"},
      {"CREBITO_LB_BIND=fd@" + std::to_string(inherited_listen_fd),
       "CREBITO_API1=" + dir_->file("api01.sock"), "CREBITO_API2=" + dir_->file("api02.sock")},
      dir_->file("haproxy.log"), listen_fd);
  ::close(listen_fd);
  try {
    wait_until_ready();
  } catch (...) {
    // A constructor that throws gets no destructor: stop what was started here.
    terminate_and_reap(haproxy_pid_);
    stop_instances();
    throw;
  }
}

Stack::Stack(External, const std::string& target) : external_(true) {
  const size_t colon = target.rfind(':');
  if (colon == std::string::npos) throw std::runtime_error("CREBITO_TARGET must be HOST:PORT");
  host_ = target.substr(0, colon);
  port_ = std::stoi(target.substr(colon + 1));
  wait_until_ready();
}

std::unique_ptr<Stack> Stack::local_or_external() {
  const char* target = std::getenv("CREBITO_TARGET");
  if (target != nullptr && *target != '\0') {
    return std::unique_ptr<Stack>(new Stack(External{}, target));
  }
  return std::make_unique<Stack>();
}

Stack::~Stack() {
  if (external_) return;
  terminate_and_reap(haproxy_pid_);
  stop_instances();
}

std::string Stack::db_path() const {
  if (!dir_) return "";
  return options_.data_dir.empty() ? dir_->file("crebito.db") : options_.data_dir + "/crebito.db";
}

void Stack::start_instance(int instance) {
  const std::string name = instance == 1 ? "api01" : "api02";
  pid_t& slot = api_pids_[instance - 1];
  if (slot > 0) {
    // Two processes on one socket: the new one would wait for the old one, or refuse to start.
    int status = 0;
    if (!wait_for_exit(slot, previous_exit_timeout, &status)) {
      throw std::runtime_error(name + ": the previous process on " + socket_path(instance) +
                               " (pid " + std::to_string(slot) + ") is still running after " +
                               std::to_string(previous_exit_timeout.count()) +
                               " s; not starting another");
    }
    slot = -1;
  }
  // Test stacks stop at once (no SIGTERM drain) unless a test's instance_env says otherwise.
  std::vector<std::string> env = {"CREBITO_DB=" + db_path(),
                                  "CREBITO_LISTEN=" + dir_->file(name + ".sock"),
                                  "CREBITO_DRAIN_MS=0"};
  env.insert(env.end(), options_.instance_env.begin(), options_.instance_env.end());
  slot = spawn({CREBITO_BINARY}, env, dir_->file(name + ".log"));
}

pid_t Stack::start_extra_instance(int instance, const std::string& name) const {
  return spawn(
      {CREBITO_BINARY},
      {"CREBITO_DB=" + db_path(), "CREBITO_LISTEN=" + socket_path(instance), "CREBITO_DRAIN_MS=0"},
      log_path(name));
}

void Stack::adopt_instance(int instance, pid_t pid) {
  pid_t& slot = api_pids_[instance - 1];
  if (slot > 0) {
    throw std::runtime_error("adopt_instance: instance " + std::to_string(instance) +
                             " still has its process (pid " + std::to_string(slot) + ")");
  }
  slot = pid;
}

int Stack::stop_instance(int instance, int signal) {
  pid_t& pid = api_pids_[instance - 1];
  if (pid <= 0) return 0;
  ::kill(pid, signal);
  const int status = reap(pid);
  pid = -1;
  return status;
}

void Stack::restart_instance(int instance) {
  start_instance(instance);
  const auto deadline = std::chrono::steady_clock::now() + ready_timeout;
  while (true) {
    const httplib::Result result = instance_client(instance)->Get("/health");
    if (result && result->status == 200) return;
    if (std::chrono::steady_clock::now() >= deadline) {
      throw std::runtime_error("instance " + std::to_string(instance) +
                               " did not answer within 20 s\n" +
                               tail_of(log_path(instance == 1 ? "api01" : "api02")));
    }
    std::this_thread::sleep_for(poll_interval);
  }
}

void Stack::start_instances() {
  // Both at once on purpose: two instances preparing one (possibly empty) file must not race.
  start_instance(1);
  start_instance(2);
  if (haproxy_pid_ > 0) wait_until_ready();
}

bool Stack::stop_instances() {
  bool clean = true;
  for (pid_t& pid : api_pids_) {
    if (pid > 0) ::kill(pid, SIGTERM);
  }
  for (pid_t& pid : api_pids_) {
    if (pid <= 0) continue;
    const int status = reap(pid);
    clean = clean && WIFEXITED(status) && WEXITSTATUS(status) == 0;
    pid = -1;
  }
  return clean;
}

std::unique_ptr<httplib::Client> Stack::client() const {
  auto client = std::make_unique<httplib::Client>(host_, port_);
  client->set_tcp_nodelay(true);
  client->set_keep_alive(true);
  client->set_read_timeout(std::chrono::seconds(10));
  return client;
}

std::unique_ptr<httplib::Client> Stack::instance_client(int instance) const {
  auto client =
      std::make_unique<httplib::Client>(dir_->file(instance == 1 ? "api01.sock" : "api02.sock"));
  client->set_address_family(AF_UNIX);
  client->set_keep_alive(true);
  client->set_read_timeout(std::chrono::seconds(10));
  return client;
}

void Stack::wait_until_ready() {
  const auto deadline = std::chrono::steady_clock::now() + ready_timeout;
  auto answers = [](httplib::Client& client, const char* path) {
    const httplib::Result result = client.Get(path);
    return result && result->status == 200;
  };
  while (true) {
    bool ready = answers(*client(), "/clientes/1/extrato");
    if (!external_) {
      ready = ready && answers(*instance_client(1), "/health") &&
              answers(*instance_client(2), "/health");
    }
    if (ready) return;
    if (std::chrono::steady_clock::now() >= deadline) {
      std::string logs;
      if (dir_) {
        for (const char* name : {"api01.log", "api02.log", "haproxy.log"}) {
          logs += std::string("\n--- ") + name + "\n" + tail_of(dir_->file(name));
        }
      }
      throw std::runtime_error("the stack did not answer within 20 s" + logs);
    }
    std::this_thread::sleep_for(poll_interval);
  }
}

namespace {

// Sends bytes on a connected socket, reads until close or wait_ms of silence, closes.
std::string exchange_on(int fd, const std::string& bytes, int wait_ms) {
  size_t sent = 0;
  while (sent < bytes.size()) {
    const ssize_t n = ::send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;
    sent += static_cast<size_t>(n);
  }
  std::string response;
  char buffer[4096];
  pollfd waiting{fd, POLLIN, 0};
  while (::poll(&waiting, 1, wait_ms) > 0) {
    const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
    if (n <= 0) break;
    response.append(buffer, static_cast<size_t>(n));
  }
  ::close(fd);
  return response;
}

}  // namespace

std::string raw_exchange(const std::string& host, int port, const std::string& bytes, int wait_ms) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  ::inet_pton(AF_INET, host.c_str(), &address.sin_addr);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    ::close(fd);
    return "";
  }
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return exchange_on(fd, bytes, wait_ms);
}

std::string raw_exchange_unix(const std::string& path, const std::string& bytes, int wait_ms) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::snprintf(address.sun_path, sizeof address.sun_path, "%s", path.c_str());
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    ::close(fd);
    return "";
  }
  return exchange_on(fd, bytes, wait_ms);
}

int raw_status(const std::string& response) {
  if (response.rfind("HTTP/1.", 0) != 0 || response.size() < 12) return 0;
  return std::atoi(response.substr(9, 3).c_str());
}
