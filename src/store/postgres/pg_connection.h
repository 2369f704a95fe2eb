// store::pg: the libpq layer under the PostgreSQL stores (the ledger's and the payments face's).
// It connects with a libpq URI, prepares each store's named statements, runs them with text
// parameters, maps every failure to a store::Status, and reconnects a lost connection by itself.
// The stores add their SQL; none of them calls libpq for these things on its own.
//
// Design notes — the invariants this layer keeps:
//   1. A Connection is used by one thread at a time (ConnectionPool lends it to one borrower).
//   2. Failures are values: every call returns a Status, the message in it (store/status.h), and
//      the kind in last_failure():
//        - the connection was lost (server stopped or restarted, network cut, SQLSTATE class 08,
//          57P01..57P03, or libpq says CONNECTION_BAD): unavailable, and the connection is broken;
//        - a constraint refused the statement (SQLSTATE class 23): conflict;
//        - a serialization failure, deadlock, lock or statement timeout (40001, 40P01, 55P03,
//          57014): busy — nothing was written, the same request may succeed later;
//        - anything else: unavailable.
//      A statement that failed wrote nothing, except that a lost connection leaves unknown
//      whether a statement sent just before it was committed (PostgreSQL may have committed it and
//      lost only the answer).
//   3. A broken connection is opened again, with every statement prepared again, at its next use;
//      attempts are at most one per limits::pg_reconnect_interval_ms per connection, so a server
//      that is down costs a request one refused connect (or nothing), never a wait. Opening gives
//      up after limits::pg_connect_timeout_s, and over TCP a server that stops answering is given
//      up after limits::pg_tcp_user_timeout_ms (or the keepalive probes), unless the URI sets
//      these itself.
//      Before a statement is sent on a connection that is idle outside a transaction, the
//      connection is checked without waiting: anything to read there (the server's goodbye, or the
//      end of the stream) means the server closed it, and it is reopened first.
//   4. Inside a transaction (begin() .. commit()/rollback()) a lost connection is not reopened
//      until the transaction is over: the next call fails at once, and rollback() ends it.
//   5. Parameters and results travel as text; integers are written and read in decimal.
//   6. Every session runs with limits of its own (unless the URI sets `options` itself): a
//      statement waits at most limits::pg_lock_timeout_ms for a lock (then busy, nothing written),
//      PostgreSQL checks a running statement's client every limits::pg_client_check_interval_ms
//      (a backend whose client died, e.g. an instance killed mid-statement, stops and releases its
//      locks instead of holding them until it next writes to the socket), and a session idle in a
//      transaction for limits::pg_idle_in_transaction_timeout_ms is ended by the server.
//   7. A session lost on our side may still run on the server: its backend has not noticed yet
//      (client_connection_check_interval only checks while a statement runs), or something between
//      the two (a proxy, a network path) still holds the connection. It can still commit a
//      statement sent before the loss. end_backend() makes sure it cannot: pg_terminate_backend
//      (the backend rolls back whatever it has not committed, and exits), then the backend must
//      be gone from pg_stat_activity. A backend leaves pg_stat_activity only on its way out, after
//      its transaction ended; from then on nothing of that session can commit. This needs the
//      session's own backend pid: with a pooler between (e.g. PgBouncer, whose pids are its own) or
//      after a failover to another server, the pid names nothing there and reads as gone.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "store/pool_lease.h"
#include "store/status.h"

struct pg_conn;
struct pg_result;

namespace store::pg {

// One statement a store prepares on each of its connections: a name unique on the connection
// and its SQL, with $1, $2, ... for the parameters.
struct Prepared {
  const char* name;
  const char* sql;
};

// The parameters of one execution, as text. Up to params_max of them.
class Params {
 public:
  static constexpr int params_max = 16;

  Params& add(int64_t value);
  Params& add(std::string_view text);
  Params& add_null();
  Params& add_bool(bool value) { return add(std::string_view(value ? "t" : "f")); }

  Params() = default;
  Params(const Params&) = delete;
  Params& operator=(const Params&) = delete;

  int size() const { return count_; }
  // For libpq: pointers into this object, valid until it is changed or destroyed.
  const char* const* values() const;

 private:
  std::string& push(bool null);

  int count_ = 0;
  std::string texts_[params_max];
  bool null_[params_max] = {};
  mutable const char* values_[params_max] = {};
};

// The rows of one statement's answer (or none). Owns its PGresult; movable, not copyable.
class Result {
 public:
  Result() = default;
  explicit Result(pg_result* result) : result_(result) {}
  ~Result();
  Result(Result&& other) noexcept : result_(other.result_) { other.result_ = nullptr; }
  Result& operator=(Result&& other) noexcept;
  Result(const Result&) = delete;
  Result& operator=(const Result&) = delete;

  int rows() const;
  int columns() const;
  // Rows changed by an INSERT, UPDATE or DELETE without RETURNING.
  int64_t rows_affected() const;
  bool is_null(int row, int column) const;
  std::string_view text(int row, int column) const;
  // REQUIRES: the value is a decimal integer (bigint, integer, smallint columns).
  int64_t integer(int row, int column) const;
  // REQUIRES: the value is a boolean ("t" or "f").
  bool boolean(int row, int column) const;

  pg_result* raw() const { return result_; }

 private:
  pg_result* result_ = nullptr;
};

enum class Failure {
  none,        // The last call succeeded.
  lost,        // The connection was lost; it is reopened at its next use (invariant 3).
  constraint,  // A constraint refused the statement (Status::conflict).
  retry,       // Serialization failure, deadlock, lock or statement timeout (Status::busy).
  other,       // Any other error (Status::unavailable).
};

class Connection {
 public:
  // Connects to `uri` and prepares `statements` (which must stay valid for the connection's life:
  // they are prepared again after a reconnect). nullptr and *error when the server cannot be
  // reached or a statement does not prepare.
  static std::unique_ptr<Connection> open(const std::string& uri,
                                          const std::vector<Prepared>& statements,
                                          std::string* error);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Executes the prepared statement `name` with `params`; its rows go to *result if given.
  Status exec(const char* name, const Params& params, Result* result = nullptr);
  // Executes `sql` as given (one or more statements, no parameters), e.g. a schema or "BEGIN".
  // *result, if given, gets the last statement's rows.
  Status run(const char* sql, Result* result = nullptr);

  // Transactions. begin() runs `begin_sql` (e.g. "BEGIN ISOLATION LEVEL REPEATABLE READ");
  // commit() commits (on failure nothing of the transaction was written, unless the connection
  // was lost while committing: invariant 2); rollback() ends whatever is open and never fails.
  Status begin(const char* begin_sql = "BEGIN");
  Status commit();
  void rollback();

  // Runs body() (a callable returning Status) inside begin(begin_sql) .. commit(): commits when
  // it returns ok, else rolls back and returns its status.
  template <class Body>
  Status transaction(Body&& body, const char* begin_sql = "BEGIN") {
    const Status begun = begin(begin_sql);
    if (begun != Status::ok) return begun;
    const Status status = body();
    if (status != Status::ok) {
      rollback();
      return status;
    }
    return commit();
  }

  // The last failure's kind; its SQLSTATE, empty when there was none.
  Failure last_failure() const { return last_failure_; }
  const std::string& last_sqlstate() const { return last_sqlstate_; }

  // Whether the last exec() or run() sent its statement to the server. False when it failed before
  // (the connection could not be opened): then the statement certainly did nothing.
  bool last_sent() const { return last_sent_; }

  // The server process (backend) of the session opened last (PQbackendPID); still that session's
  // after it was lost, until the connection is opened again. 0 while none was opened.
  int backend_pid() const { return backend_pid_; }
  // Invariant 7: asks the server to end the backend `pid` of a session that was lost, and says
  // whether it is gone: *gone when it is no longer among the server's processes. Each call that
  // finds it still there signals it again; call again until *gone. REQUIRES: pid > 0, not in a
  // transaction.
  Status end_backend(int pid, bool* gone);

  // True once the connection was lost, until it is reopened.
  bool broken() const;
  // Between a successful begin() and commit() or rollback().
  bool in_transaction() const { return in_transaction_; }

 private:
  Connection(std::string uri, std::vector<Prepared> statements)
      : uri_(std::move(uri)), statements_(std::move(statements)) {}
  // Opens the connection and prepares the statements; on failure records it and returns it.
  Status connect();
  // Invariant 3: reconnects a broken connection outside a transaction, at most once per interval.
  Status ensure_open();
  // Maps a result (or its absence) to a Status and records a failure (invariant 2).
  Status check(pg_result* result, const char* what);
  Status fail(Failure failure, const std::string& message, std::string sqlstate = "");

  const std::string uri_;
  const std::vector<Prepared> statements_;
  pg_conn* conn_ = nullptr;
  bool lost_ = false;  // A failure said the server ended the session (57P01..57P03, class 08).
  bool in_transaction_ = false;
  bool last_sent_ = false;
  int backend_pid_ = 0;
  int64_t next_connect_us_ = 0;  // Monotonic clock.
  std::string server_;           // HOST:PORT of the last session opened; empty before the first.
  // The last failure's message: a call refused while a reconnect waits (invariant 3) repeats it.
  std::string last_error_;
  std::string last_sqlstate_;
  Failure last_failure_ = Failure::none;
};

// A fixed set of Connections to one database, all with the same prepared statements, lent to one
// thread at a time. Thread-safe. A thread that finds none free waits on a condition variable.
class ConnectionPool {
 public:
  // A connection on loan; returned to the pool when the Lease is destroyed.
  using Lease = PoolLease<ConnectionPool, Connection>;

  // Opens `size` connections (all must open). nullptr and *error on failure.
  static std::unique_ptr<ConnectionPool> open(const std::string& uri, int size,
                                              const std::vector<Prepared>& statements,
                                              std::string* error);

  Lease acquire();
  int size() const { return static_cast<int>(connections_.size()); }

 private:
  friend Lease;
  ConnectionPool() = default;
  void release(Connection* connection);

  std::vector<std::unique_ptr<Connection>> connections_;  // Constant after open().
  std::mutex free_mutex_;
  std::condition_variable free_changed_;
  std::vector<Connection*> free_;  // Guarded by free_mutex_.
};

}  // namespace store::pg
