#include "support/stack.h"

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <vector>

#include "support/child_process.h"
#include "support/pg_cluster.h"
#include "support/wait_until.h"

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

// Waits for pid to exit; SIGKILL after stop_timeout. Returns the wait status.
int reap(pid_t pid) {
  int status = 0;
  if (wait_for_exit(pid, stop_timeout, &status)) return status;
  ::kill(pid, SIGKILL);
  ::waitpid(pid, &status, 0);
  return status;
}

// The repository's haproxy.cfg, which haproxy runs as is: its conditional blocks give it a server
// for each CREBITO_APIn in its environment, up to haproxy_instances_max, and a stats socket
// (haproxy's runtime API, level admin) at CREBITO_STATS_SOCKET.
constexpr const char* haproxy_config_path = CREBITO_SOURCE_DIR "/haproxy.cfg";
constexpr int haproxy_instances_max = 16;

// haproxy.cfg's text, for its health-check settings.
std::string haproxy_config_text() {
  std::ifstream file(haproxy_config_path);
  if (!file) throw std::runtime_error(std::string("cannot read ") + haproxy_config_path);
  std::ostringstream text;
  text << file.rdbuf();
  return text.str();
}

// A haproxy time: a number with an optional unit (us, ms, s, m, h; none means ms).
int64_t haproxy_time_ms(const std::string& text) {
  size_t digits = 0;
  const int64_t value = std::stoll(text, &digits);
  const std::string unit = text.substr(digits);
  if (unit.empty() || unit == "ms") return value;
  if (unit == "us") return value / 1000;
  if (unit == "s") return value * 1000;
  if (unit == "m") return value * 60'000;
  if (unit == "h") return value * 3'600'000;
  throw std::runtime_error("haproxy.cfg: cannot read the time '" + text + "'");
}

// The health-check settings of haproxy.cfg: `inter`, `fall` and `rise` on its default-server line,
// and `timeout check`. Each must be set there (haproxy's defaults would hide the bound in code).
Stack::HealthChecks read_health_checks(const std::string& config) {
  Stack::HealthChecks checks;
  std::istringstream lines(config);
  std::string line;
  while (std::getline(lines, line)) {
    line = line.substr(0, line.find('#'));
    std::istringstream words(line);
    std::vector<std::string> tokens{std::istream_iterator<std::string>(words), {}};
    for (size_t i = 0; i + 1 < tokens.size(); ++i) {
      if (tokens[0] == "default-server" && tokens[i] == "inter") {
        checks.inter_ms = haproxy_time_ms(tokens[i + 1]);
      } else if (tokens[0] == "default-server" && tokens[i] == "fall") {
        checks.fall = std::stoi(tokens[i + 1]);
      } else if (tokens[0] == "default-server" && tokens[i] == "rise") {
        checks.rise = std::stoi(tokens[i + 1]);
      } else if (i == 0 && tokens[0] == "timeout" && tokens[1] == "check" && tokens.size() > 2) {
        checks.timeout_check_ms = haproxy_time_ms(tokens[2]);
      }
    }
  }
  if (checks.inter_ms <= 0 || checks.fall <= 0 || checks.rise <= 0 ||
      checks.timeout_check_ms <= 0) {
    throw std::runtime_error(
        "haproxy.cfg must set inter, fall and rise on default-server, and timeout check");
  }
  return checks;
}

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

// One command on haproxy's stats socket; its whole answer (haproxy closes after one command), or
// an empty string when nothing answers.
std::string haproxy_command(const std::string& stats_path, const std::string& command) {
  constexpr int answer_wait_ms = 2000;
  const int fd = connect_unix(stats_path);
  return fd < 0 ? "" : exchange_on(fd, command + "\n", answer_wait_ms);
}

std::vector<std::string> split_csv(const std::string& line) {
  std::vector<std::string> fields;
  std::istringstream in(line);
  std::string field;
  while (std::getline(in, field, ',')) fields.push_back(field);
  return fields;
}

void terminate_and_reap(pid_t pid) {
  if (pid <= 0) return;
  ::kill(pid, SIGTERM);
  reap(pid);
}

}  // namespace

bool wait_for_exit(pid_t pid, std::chrono::milliseconds timeout, int* status) {
  return wait_until([&] { return ::waitpid(pid, status, WNOHANG) != 0; }, timeout, poll_interval);
}

namespace {

int count_entries(const std::string& directory) {
  std::error_code error;
  int n = 0;
  for (std::filesystem::directory_iterator it(directory, error), end; !error && it != end;
       it.increment(error)) {
    ++n;
  }
  return error ? -1 : n;
}

}  // namespace

int open_descriptors(pid_t pid) { return count_entries("/proc/" + std::to_string(pid) + "/fd"); }

int thread_count(pid_t pid) { return count_entries("/proc/" + std::to_string(pid) + "/task"); }

int stop_process(pid_t pid, int signal) {
  ::kill(pid, signal);
  return reap(pid);
}

Stack::Stack() : Stack(Options{}) {}

namespace {

std::string store_from(const std::string& chosen) {
  const char* from_env = std::getenv("CREBITO_TEST_STORE");
  const std::string store =
      !chosen.empty() ? chosen : (from_env != nullptr && *from_env != '\0' ? from_env : "sqlite");
  if (store != "sqlite" && store != "postgresql") {
    throw std::runtime_error("the test store must be sqlite or postgresql, not '" + store + "'");
  }
  return store;
}

}  // namespace

Stack::Stack(Options options)
    : options_(std::move(options)),
      store_(store_from(options_.store)),
      dir_(std::make_unique<TempDir>()) {
  if (options_.instances < 1) throw std::runtime_error("a Stack needs at least one instance");
  if (options_.instances > haproxy_instances_max) {
    throw std::runtime_error("haproxy.cfg names " + std::to_string(haproxy_instances_max) +
                             " instances at most");
  }
  api_pids_.assign(static_cast<size_t>(options_.instances), -1);
  if (store_ == "postgresql") pg_ = std::make_unique<PgCluster>();
  health_checks_ = read_health_checks(haproxy_config_text());
  start_instances();
  const int listen_fd = bind_free_loopback_port(&port_);
  std::vector<std::string> haproxy_env = {
      "CREBITO_LB_BIND=fd@" + std::to_string(inherited_listen_fd),
      "CREBITO_STATS_SOCKET=" + dir_->file("haproxy.stats"),
      "CREBITO_STATS_BIND=" + haproxy_stats_path()};
  for (int i = 1; i <= instances(); ++i) {
    haproxy_env.push_back("CREBITO_API" + std::to_string(i) + "=" + socket_path(i));
  }
  haproxy_pid_ =
      child_process::start({HAPROXY_BINARY, "-db", "-f", haproxy_config_path}, haproxy_env,
                           dir_->file("haproxy.log"), listen_fd, inherited_listen_fd);
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

std::string Stack::instance_name(int instance) {
  char name[16];
  std::snprintf(name, sizeof name, "api%02d", instance);
  return name;
}

std::string Stack::db_path() const {
  if (!dir_ || store_ != "sqlite") return "";
  return options_.data_dir.empty() ? dir_->file("crebito.db") : options_.data_dir + "/crebito.db";
}

std::string Stack::store_location() const {
  return store_ == "postgresql" ? pg_->uri() : "sqlite:" + db_path();
}

PgCluster& Stack::pg_cluster() const {
  if (!pg_) throw std::runtime_error("this Stack's store is " + store_ + ", not postgresql");
  return *pg_;
}

std::vector<std::vector<std::string>> Stack::query(const std::string& sql) const {
  std::vector<std::vector<std::string>> rows;
  if (store_ == "postgresql") {
    for (const std::string& line : pg_->psql_rows(sql)) {
      std::vector<std::string> columns;
      size_t start = 0;
      while (true) {  // psql's unaligned output: columns separated by '|'.
        const size_t bar = line.find('|', start);
        columns.push_back(line.substr(start, bar - start));
        if (bar == std::string::npos) break;
        start = bar + 1;
      }
      rows.push_back(std::move(columns));
    }
    return rows;
  }
  SQLite::Database db(db_path(), SQLite::OPEN_READONLY);
  SQLite::Statement statement(db, sql);
  while (statement.executeStep()) {
    std::vector<std::string> columns;
    for (int i = 0; i < statement.getColumnCount(); ++i) {
      columns.push_back(statement.getColumn(i).getString());
    }
    rows.push_back(std::move(columns));
  }
  return rows;
}

std::vector<std::string> Stack::instance_command() const {
  if (store_ == "postgresql") return {CREBITO_BINARY, "--store", pg_->uri()};
  return {CREBITO_BINARY};
}

void Stack::start_instance(int instance) {
  const std::string name = instance_name(instance);
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
  std::vector<std::string> env = {"CREBITO_LISTEN=" + socket_path(instance), "CREBITO_DRAIN_MS=0"};
  if (store_ == "sqlite") env.push_back("CREBITO_DB=" + db_path());
  env.insert(env.end(), options_.instance_env.begin(), options_.instance_env.end());
  env.push_back("CREBITO_FACES=" + options_.faces);
  slot = child_process::start(instance_command(), env, log_path(name));
}

pid_t Stack::start_extra_instance(int instance, const std::string& name) const {
  std::vector<std::string> env = {"CREBITO_LISTEN=" + socket_path(instance), "CREBITO_DRAIN_MS=0",
                                  "CREBITO_FACES=" + options_.faces};
  if (store_ == "sqlite") env.push_back("CREBITO_DB=" + db_path());
  return child_process::start(instance_command(), env, log_path(name));
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
  const bool ledger = options_.faces.find("ledger") != std::string::npos;
  while (true) {
    const httplib::Result result = instance_client(instance)->Get(ledger ? "/health" : "/ready");
    if (result && result->status == 200) return;
    if (std::chrono::steady_clock::now() >= deadline) {
      throw std::runtime_error("instance " + std::to_string(instance) +
                               " did not answer within 20 s\n" +
                               tail_of(log_path(instance_name(instance))));
    }
    std::this_thread::sleep_for(poll_interval);
  }
}

void Stack::start_instances() {
  // All at once on purpose: instances preparing one (possibly empty) store must not race.
  for (int i = 1; i <= instances(); ++i) start_instance(i);
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

std::string Stack::haproxy_status(int instance) const {
  const std::string server = instance_name(instance);
  std::istringstream lines(haproxy_command(dir_->file("haproxy.stats"), "show stat"));
  std::string line;
  size_t status_column = 0;
  while (std::getline(lines, line)) {
    const std::vector<std::string> fields =
        split_csv(line.rfind("# ", 0) == 0 ? line.substr(2) : line);
    if (line.rfind("# ", 0) == 0) {
      const auto it = std::find(fields.begin(), fields.end(), "status");
      status_column = it == fields.end() ? 0 : static_cast<size_t>(it - fields.begin());
      continue;
    }
    if (status_column > 0 && fields.size() > status_column && fields[0] == "instances" &&
        fields[1] == server) {
      return fields[status_column];
    }
  }
  return "";
}

bool Stack::wait_haproxy_status(int instance, const std::string& status,
                                std::chrono::milliseconds timeout,
                                std::chrono::milliseconds poll_interval) const {
  return wait_until([&] { return haproxy_status(instance) == status; }, timeout, poll_interval);
}

std::unique_ptr<httplib::Client> Stack::client() const {
  auto client = std::make_unique<httplib::Client>(host_, port_);
  client->set_tcp_nodelay(true);
  client->set_keep_alive(true);
  client->set_read_timeout(std::chrono::seconds(10));
  return client;
}

std::unique_ptr<httplib::Client> Stack::instance_client(int instance) const {
  auto client = std::make_unique<httplib::Client>(socket_path(instance));
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
  // Without the ledger face there is no /clientes/ and no /health: the payments face's summary
  // through haproxy, and each instance's /ready (it serves).
  const bool ledger = options_.faces.find("ledger") != std::string::npos;
  const char* through_haproxy = ledger ? "/clientes/1/extrato" : "/payments-summary";
  const char* instance_probe = ledger ? "/health" : "/ready";
  while (true) {
    bool ready = answers(*client(), through_haproxy);
    if (!external_) {
      for (int i = 1; ready && i <= instances(); ++i) {
        ready = answers(*instance_client(i), instance_probe);
      }
      // And haproxy sends to every one of them: its first check may have found an instance not
      // yet listening (DOWN until its next check passes), and a test that kills the other one
      // would find no instance in rotation.
      for (int i = 1; ready && i <= instances(); ++i) ready = haproxy_status(i) == "UP";
    }
    if (ready) return;
    if (std::chrono::steady_clock::now() >= deadline) {
      std::string logs;
      if (dir_) {
        std::vector<std::string> names = {"haproxy"};
        for (int i = 1; i <= instances(); ++i) names.push_back(instance_name(i));
        for (const std::string& name : names) {
          logs += "\n--- " + name + ".log\n" + tail_of(log_path(name));
        }
        if (pg_) logs += "\n--- postgresql.log\n" + tail_of(pg_->log_path());
      }
      throw std::runtime_error("the stack did not answer within 20 s" + logs);
    }
    std::this_thread::sleep_for(poll_interval);
  }
}

int connect_tcp(const std::string& host, int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  ::inet_pton(AF_INET, host.c_str(), &address.sin_addr);
  if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    if (fd >= 0) ::close(fd);
    return -1;
  }
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

int connect_unix(const std::string& path) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::snprintf(address.sun_path, sizeof address.sun_path, "%s", path.c_str());
  if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    if (fd >= 0) ::close(fd);
    return -1;
  }
  return fd;
}

std::string raw_exchange(const std::string& host, int port, const std::string& bytes, int wait_ms) {
  const int fd = connect_tcp(host, port);
  return fd < 0 ? "" : exchange_on(fd, bytes, wait_ms);
}

std::string raw_exchange_unix(const std::string& path, const std::string& bytes, int wait_ms) {
  const int fd = connect_unix(path);
  return fd < 0 ? "" : exchange_on(fd, bytes, wait_ms);
}

int raw_status(const std::string& response) {
  if (response.rfind("HTTP/1.", 0) != 0 || response.size() < 12) return 0;
  return std::atoi(response.substr(9, 3).c_str());
}
