// The real stack for integration tests: crebito instances (two unless a test asks for more) on unix
// sockets in a temporary directory, sharing one store, and the real haproxy with the repository's
// haproxy.cfg on a free loopback port. Processes are stopped by their pids when the Stack is
// destroyed. Each Stack has its own directory, so two Stacks never share a socket path; within one
// Stack an instance is started only once its slot's previous process has exited (or the start
// refuses, naming that process), as scripts/up does for a run directory.
//
// The store is one SQLite file in that directory (the default), or, with the store "postgresql"
// (Options::store, or CREBITO_TEST_STORE=postgresql in the environment), a PostgreSQL cluster of
// the Stack's own (PgCluster) that each instance is given as --store URI. query() reads either
// with the same SQL, so the tests' audits do not care which one it is.
//
// haproxy runs on the repository's haproxy.cfg as is, given one CREBITO_APIn per instance (servers
// api01, api02, ...; 16 at most), CREBITO_STATS_SOCKET, a stats socket in that directory
// (haproxy's runtime API), from which tests read how haproxy sees each instance, and
// CREBITO_STATS_BIND, haproxy's statistics over HTTP on a unix socket there (haproxy_stats_path).
//
// With CREBITO_TARGET=HOST:PORT in the environment, external() returns a target for an already
// running stack instead (for example the docker deployment); nothing is started then.
#pragma once

#include <httplib.h>
#include <sys/types.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "support/temp_dir.h"
#include "support/wait_until.h"

class PgCluster;

class Stack {
 public:
  // Every member has an initializer, so a test names only what it sets: Options{.instances = 3}.
  struct Options {
    // Directory of the database file; empty means the Stack's temporary directory. The directory
    // must exist (reliability tests put it on a small tmpfs).
    std::string data_dir{};
    // NAME=VALUE entries added to every instance's environment.
    std::vector<std::string> instance_env{};
    // CREBITO_FACES of every instance: the ledger alone unless a test asks for the payments face
    // (which would otherwise poll processors no test started). Without the ledger face the Stack
    // waits for GET /payments-summary and /ready instead of the ledger's routes.
    std::string faces = "ledger";
    // "sqlite" or "postgresql" (see the top of this file); empty: CREBITO_TEST_STORE, else sqlite.
    std::string store{};
    // How many instances haproxy balances over.
    int instances = 2;
  };

  // Starts everything and waits until haproxy and every instance answer, and haproxy has every
  // instance UP (not external: that is whatever runs there).
  Stack();
  explicit Stack(Options options);
  ~Stack();
  Stack(const Stack&) = delete;
  Stack& operator=(const Stack&) = delete;

  // The address tests send traffic to.
  const std::string& host() const { return host_; }
  int port() const { return port_; }

  // A keep-alive client to haproxy (or to the external target).
  std::unique_ptr<httplib::Client> client() const;
  // A client straight to instance 1..instances(), bypassing haproxy. REQUIRES: !is_external().
  std::unique_ptr<httplib::Client> instance_client(int instance) const;

  bool is_external() const { return external_; }
  int instances() const { return static_cast<int>(api_pids_.size()); }
  // "api01", "api02", ...: the instance's name in haproxy and its log's.
  static std::string instance_name(int instance);
  // The unix socket of an instance. REQUIRES: !is_external().
  std::string socket_path(int instance) const {
    return dir_->file(instance_name(instance) + ".sock");
  }
  // haproxy's statistics over HTTP (GET /metrics: Prometheus's format). REQUIRES: !is_external().
  std::string haproxy_stats_path() const { return dir_->file("haproxy-stats.sock"); }
  // The SQLite file; empty with the store "postgresql".
  std::string db_path() const;
  // "sqlite" or "postgresql".
  const std::string& store() const { return store_; }
  // The store's location as the instances are given it: sqlite:PATH or the cluster's URI.
  std::string store_location() const;
  // The Stack's PostgreSQL cluster: tests stop it and start it again. REQUIRES: store() is
  // "postgresql".
  PgCluster& pg_cluster() const;
  // Runs one SQL query on the store (SQLite: read-only; PostgreSQL: through psql) and returns its
  // rows, each column as text (NULL as ""). Throws when the query fails. REQUIRES: !is_external().
  std::vector<std::vector<std::string>> query(const std::string& sql) const;
  pid_t instance_pid(int instance) const { return api_pids_[instance - 1]; }
  // The log file of "api01", "api02", ... or "haproxy". REQUIRES: !is_external().
  std::string log_path(const std::string& name) const { return dir_->file(name + ".log"); }

  // SIGTERM to every instance, wait for them to exit; returns true if all exited with status 0.
  bool stop_instances();
  // Starts every instance again on the same store and sockets, and waits until they answer.
  void start_instances();

  // Sends `signal` to an instance and waits for it to exit (SIGKILL after 10 s); returns the
  // wait status. The instance stays down until restart_instance().
  int stop_instance(int instance, int signal);
  // Starts an instance (after stop_instance) and waits until its /health answers 200 (its
  // /ready without the ledger face).
  void restart_instance(int instance);

  // Starts one more crebito process on an instance's socket and store
  // (CREBITO_DRAIN_MS=0), logging to log_path(name): a second instance started by mistake, or a
  // successor started while the instance drains. Returns its pid at once; the Stack neither waits
  // for it nor stops it: the caller reaps it (wait_for_exit, stop_process) or hands it over with
  // adopt_instance(). REQUIRES: !is_external().
  pid_t start_extra_instance(int instance, const std::string& name) const;
  // Makes pid (from start_extra_instance) the process of an instance, whose previous process
  // has been stopped: the Stack stops it like its own from now on.
  void adopt_instance(int instance, pid_t pid);

  // haproxy's health checks as haproxy.cfg sets them (`default-server ... inter
  // fall rise` and `timeout check`). A check of a dead instance fails at once (its socket refuses
  // the connection); one that hangs fails after timeout_check_ms. So an instance that dies while
  // fully UP is out of rotation within detection_bound_ms(). REQUIRES: !is_external().
  struct HealthChecks {
    int64_t inter_ms = 0;
    int fall = 0;
    int rise = 0;
    int64_t timeout_check_ms = 0;
    int64_t detection_bound_ms() const { return fall * inter_ms + timeout_check_ms; }
  };
  const HealthChecks& health_checks() const { return health_checks_; }

  // How haproxy sees an instance now, from its runtime API (`show stat` on the stats socket):
  // "UP" (every recent check passed), "UP 1/2" (a check failed: going down), "DOWN",
  // "DOWN 1/2" (going up), ...; empty when haproxy did not answer. REQUIRES: !is_external().
  std::string haproxy_status(int instance) const;
  // Polls haproxy_status(instance) every poll_interval until it is exactly `status`; false after
  // timeout. REQUIRES: !is_external().
  bool wait_haproxy_status(
      int instance, const std::string& status, std::chrono::milliseconds timeout,
      std::chrono::milliseconds poll_interval = std::chrono::milliseconds(5)) const;

  // Returns a Stack for CREBITO_TARGET if set, else starts a local one.
  static std::unique_ptr<Stack> local_or_external();

 private:
  struct External {};
  explicit Stack(External, const std::string& target);
  void start_instance(int instance);
  // The command line of an instance: the binary and, for PostgreSQL, --store URI.
  std::vector<std::string> instance_command() const;
  void wait_until_ready();

  bool external_ = false;
  Options options_;
  std::string store_;
  std::unique_ptr<TempDir> dir_;
  std::unique_ptr<PgCluster> pg_;
  std::string host_ = "127.0.0.1";
  int port_ = 0;
  std::vector<pid_t> api_pids_;
  pid_t haproxy_pid_ = -1;
  HealthChecks health_checks_;
};

// Waits up to timeout for the child pid to exit; true and its wait status in *status if it did.
bool wait_for_exit(pid_t pid, std::chrono::milliseconds timeout, int* status);

// The number of entries in /proc/PID/fd (open descriptors) or /proc/PID/task (threads) of a
// process; -1 if it cannot be read.
int open_descriptors(pid_t pid);
int thread_count(pid_t pid);

// Sends signal to the child pid and waits for it to exit (SIGKILL after 10 s); returns the wait
// status. For processes a test started itself (start_extra_instance).
int stop_process(pid_t pid, int signal);

// A new connection to HOST:PORT (with TCP_NODELAY) or to a unix socket; -1 if it cannot connect.
int connect_tcp(const std::string& host, int port);
int connect_unix(const std::string& path);

// Sends raw bytes over a new TCP connection and returns everything the server sends back before it
// closes the connection or wait_ms passes without data.
std::string raw_exchange(const std::string& host, int port, const std::string& bytes,
                         int wait_ms = 3000);

// The same over a unix socket.
std::string raw_exchange_unix(const std::string& path, const std::string& bytes,
                              int wait_ms = 3000);

// The status code in the first line of a raw HTTP response, or 0 if there is none.
int raw_status(const std::string& response);
