#include "store/postgres/pg_connection.h"

#include <libpq-fe.h>
#include <poll.h>

#include <charconv>
#include <cstring>

#include "check.h"
#include "clock.h"
#include "crebito_limits.h"
#include "metrics/registry.h"

namespace store::pg {
namespace {

// libpq's messages end with a newline; the log adds its own.
std::string trimmed(const char* message) {
  std::string text = message == nullptr ? "" : message;
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

// A failure's message names what failed: a statement's name, or the start of its SQL.
std::string label(const char* what) {
  constexpr size_t label_chars_max = 60;
  const std::string text = what;
  return text.size() <= label_chars_max ? text : text.substr(0, label_chars_max) + "...";
}

// Invariant 2: SQLSTATEs that mean the session is over.
bool ends_session(const std::string& sqlstate) {
  return sqlstate.compare(0, 2, "08") == 0 || sqlstate == "57P01" || sqlstate == "57P02" ||
         sqlstate == "57P03";
}

bool worth_retrying(const std::string& sqlstate) {
  return sqlstate == "40001" || sqlstate == "40P01" || sqlstate == "55P03" || sqlstate == "57014";
}

// NOTICEs (e.g. "relation already exists, skipping" from the schema) are not ours to print.
void ignore_notice(void*, const char*) {}

}  // namespace

// ---- Params ----

std::string& Params::push(bool null) {
  CREBITO_ASSERT(count_ < params_max);
  null_[count_] = null;
  std::string& text = texts_[count_++];
  text.clear();
  return text;
}

Params& Params::add(int64_t value) {
  char digits[24];
  const auto [end, ec] = std::to_chars(digits, digits + sizeof(digits), value);
  CREBITO_ASSERT(ec == std::errc());
  push(false).assign(digits, end);
  return *this;
}

Params& Params::add(std::string_view text) {
  push(false).assign(text);
  return *this;
}

Params& Params::add_null() {
  push(true);
  return *this;
}

const char* const* Params::values() const {
  for (int i = 0; i < count_; ++i) values_[i] = null_[i] ? nullptr : texts_[i].c_str();
  return values_;
}

// ---- Result ----

Result::~Result() {
  if (result_ != nullptr) PQclear(result_);
}

Result& Result::operator=(Result&& other) noexcept {
  if (this != &other) {
    if (result_ != nullptr) PQclear(result_);
    result_ = other.result_;
    other.result_ = nullptr;
  }
  return *this;
}

int Result::rows() const { return result_ == nullptr ? 0 : PQntuples(result_); }

int Result::columns() const { return result_ == nullptr ? 0 : PQnfields(result_); }

int64_t Result::rows_affected() const {
  if (result_ == nullptr) return 0;
  const char* text = PQcmdTuples(result_);
  int64_t value = 0;
  std::from_chars(text, text + std::strlen(text), value);
  return value;
}

bool Result::is_null(int row, int column) const {
  CREBITO_ASSERT(row < rows() && column < columns());
  return PQgetisnull(result_, row, column) != 0;
}

std::string_view Result::text(int row, int column) const {
  CREBITO_ASSERT(row < rows() && column < columns());
  return {PQgetvalue(result_, row, column), static_cast<size_t>(PQgetlength(result_, row, column))};
}

int64_t Result::integer(int row, int column) const {
  const std::string_view digits = text(row, column);
  int64_t value = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  CREBITO_ASSERT(ec == std::errc() && end == digits.data() + digits.size());
  return value;
}

bool Result::boolean(int row, int column) const {
  const std::string_view value = text(row, column);
  CREBITO_ASSERT(value == "t" || value == "f");
  return value == "t";
}

// ---- Connection ----

std::unique_ptr<Connection> Connection::open(const std::string& uri,
                                             const std::vector<Prepared>& statements,
                                             std::string* error) {
  std::unique_ptr<Connection> connection(new Connection(uri, statements));
  const Status connected = connection->connect();
  if (connected != Status::ok) {
    *error = connected.message();
    return nullptr;
  }
  return connection;
}

Connection::~Connection() {
  if (conn_ != nullptr) PQfinish(conn_);
}

bool Connection::broken() const {
  return conn_ == nullptr || lost_ || PQstatus(conn_) != CONNECTION_OK;
}

Status Connection::connect() {
  if (conn_ != nullptr) PQfinish(conn_);
  conn_ = nullptr;
  lost_ = false;
  backend_pid_ = 0;
  next_connect_us_ = clocks::steady_us() + int64_t{limits::pg_reconnect_interval_ms} * 1000;
  // Ours first: the URI's own settings, expanded from dbname, override them.
  const std::string timeout = std::to_string(limits::pg_connect_timeout_s);
  const std::string user_timeout = std::to_string(limits::pg_tcp_user_timeout_ms);
  const std::string idle = std::to_string(limits::pg_keepalive_idle_s);
  const std::string interval = std::to_string(limits::pg_keepalive_interval_s);
  const std::string count = std::to_string(limits::pg_keepalive_count);
  // Invariant 6: the session's own limits.
  const std::string options =
      "-c client_connection_check_interval=" + std::to_string(limits::pg_client_check_interval_ms) +
      " -c lock_timeout=" + std::to_string(limits::pg_lock_timeout_ms) +
      " -c idle_in_transaction_session_timeout=" +
      std::to_string(limits::pg_idle_in_transaction_timeout_ms);
  const char* const keywords[] = {"connect_timeout",  "tcp_user_timeout",
                                  "keepalives_idle",  "keepalives_interval",
                                  "keepalives_count", "application_name",
                                  "client_encoding",  "options",
                                  "dbname",           nullptr};
  const char* const values[] = {timeout.c_str(),  user_timeout.c_str(), idle.c_str(),
                                interval.c_str(), count.c_str(),        "crebito",
                                "UTF8",           options.c_str(),      uri_.c_str(),
                                nullptr};
  conn_ = PQconnectdbParams(keywords, values, /*expand_dbname=*/1);
  if (conn_ == nullptr) return fail(Failure::lost, "PostgreSQL: out of memory connecting");
  if (PQstatus(conn_) != CONNECTION_OK) {
    return fail(Failure::lost, "PostgreSQL: connect: " + trimmed(PQerrorMessage(conn_)));
  }
  PQsetNoticeProcessor(conn_, ignore_notice, nullptr);
  backend_pid_ = PQbackendPID(conn_);
  // Metrics: a session opened after a loss is a reconnect; on another server, a failover.
  const char* host = PQhost(conn_);
  const char* port = PQport(conn_);
  const std::string server = std::string(host ? host : "") + ":" + (port ? port : "");
  if (!server_.empty()) {
    metrics::count(server == server_ ? metrics::StoreEvent::reconnect
                                     : metrics::StoreEvent::failover);
  }
  server_ = server;
  for (const Prepared& statement : statements_) {
    Result prepared(PQprepare(conn_, statement.name, statement.sql, 0, nullptr));
    const Status status = check(prepared.raw(), statement.name);
    if (status != Status::ok) {
      lost_ = true;  // Not usable without its statements: the next use opens it again.
      return status;
    }
  }
  last_failure_ = Failure::none;
  return Status::ok;
}

Status Connection::ensure_open() {
  if (!broken() && !in_transaction_) {
    // Invariant 3: an idle connection has nothing to read; if it has, the server closed it.
    pollfd idle = {PQsocket(conn_), POLLIN, 0};
    if (poll(&idle, 1, 0) != 0) {
      (void)fail(Failure::lost, "PostgreSQL: the server closed the connection while it was idle");
    }
  }
  if (!broken()) return Status::ok;
  // Invariant 4: the transaction's earlier statements are gone with the session.
  if (in_transaction_) return fail(Failure::lost, "PostgreSQL: connection lost in a transaction");
  if (clocks::steady_us() < next_connect_us_) {
    // The last attempt failed moments ago; its message still says why.
    last_failure_ = Failure::lost;
    return {Status::unavailable, last_error_};
  }
  return connect();
}

Status Connection::fail(Failure failure, const std::string& message, std::string sqlstate) {
  last_failure_ = failure;
  last_error_ = message;
  last_sqlstate_ = std::move(sqlstate);
  if (failure == Failure::lost && !lost_ && backend_pid_ != 0) {
    metrics::count(metrics::StoreEvent::lost_session);  // An open session, lost.
  }
  switch (failure) {
    case Failure::none:
      return Status::ok;
    case Failure::constraint:
      return {Status::conflict, message};
    case Failure::retry:
      return {Status::busy, message};
    case Failure::lost:
      lost_ = true;
      return {Status::unavailable, message};
    case Failure::other:
      return {Status::unavailable, message};
  }
  return {Status::unavailable, message};  // Unreachable: -Wswitch flags a failure left out above.
}

Status Connection::check(pg_result* result, const char* what) {
  if (result == nullptr) {
    return fail(broken() ? Failure::lost : Failure::other,
                "PostgreSQL: " + label(what) + ": " + trimmed(PQerrorMessage(conn_)));
  }
  const ExecStatusType status = PQresultStatus(result);
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) {
    last_failure_ = Failure::none;
    return Status::ok;
  }
  const char* code = PQresultErrorField(result, PG_DIAG_SQLSTATE);
  std::string sqlstate = code == nullptr ? "" : code;
  std::string message = "PostgreSQL: " + label(what) + ": " + trimmed(PQresultErrorMessage(result));
  Failure failure = Failure::other;
  if (PQstatus(conn_) != CONNECTION_OK || ends_session(sqlstate)) {
    failure = Failure::lost;
  } else if (sqlstate.compare(0, 2, "23") == 0) {
    failure = Failure::constraint;
  } else if (worth_retrying(sqlstate)) {
    failure = Failure::retry;
  }
  return fail(failure, message, std::move(sqlstate));
}

Status Connection::exec(const char* name, const Params& params, Result* result) {
  last_sent_ = false;
  const Status open = ensure_open();
  if (open != Status::ok) return open;
  last_sent_ = true;
  Result answer(PQexecPrepared(conn_, name, params.size(), params.values(), nullptr, nullptr,
                               /*resultFormat=*/0));
  const Status status = check(answer.raw(), name);
  if (status == Status::ok && result != nullptr) *result = std::move(answer);
  return status;
}

Status Connection::run(const char* sql, Result* result) {
  last_sent_ = false;
  const Status open = ensure_open();
  if (open != Status::ok) return open;
  last_sent_ = true;
  Result answer(PQexec(conn_, sql));
  const Status status = check(answer.raw(), sql);
  if (status == Status::ok && result != nullptr) *result = std::move(answer);
  return status;
}

Status Connection::end_backend(int pid, bool* gone) {
  CREBITO_ASSERT(pid > 0);
  CREBITO_ASSERT(!in_transaction_);
  *gone = false;
  // Invariant 7. One statement: signal the backend if it is still listed, and say whether it is.
  // Not prepared: it runs only after a loss. The own session's pid means the old one was reused.
  const std::string sql =
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid = " + std::to_string(pid) +
      " AND pid <> pg_backend_pid()";
  Result listed;
  const Status status = run(sql.c_str(), &listed);
  if (status != Status::ok) return status;
  *gone = listed.rows() == 0;
  return Status::ok;
}

Status Connection::begin(const char* begin_sql) {
  CREBITO_ASSERT(!in_transaction_);
  const Status status = run(begin_sql);
  if (status == Status::ok) in_transaction_ = true;
  return status;
}

Status Connection::commit() {
  CREBITO_ASSERT(in_transaction_);
  Result answer(PQexec(conn_, "COMMIT"));
  in_transaction_ = false;
  const Status status = check(answer.raw(), "COMMIT");
  if (status != Status::ok) return status;
  // COMMIT of a transaction in which a statement failed succeeds as a ROLLBACK.
  if (std::strcmp(PQcmdStatus(answer.raw()), "ROLLBACK") == 0) {
    return fail(Failure::other, "PostgreSQL: COMMIT: the transaction was rolled back");
  }
  return Status::ok;
}

void Connection::rollback() {
  in_transaction_ = false;
  if (broken()) return;  // The server ended the transaction with the session.
  // A failure here breaks the connection or leaves it idle; either way nothing is open.
  Result answer(PQexec(conn_, "ROLLBACK"));
  if (PQstatus(conn_) != CONNECTION_OK) lost_ = true;
}

// ---- ConnectionPool ----

std::unique_ptr<ConnectionPool> ConnectionPool::open(const std::string& uri, int size,
                                                     const std::vector<Prepared>& statements,
                                                     std::string* error) {
  CREBITO_ASSERT(size >= 1);
  std::unique_ptr<ConnectionPool> pool(new ConnectionPool());
  for (int i = 0; i < size; ++i) {
    std::unique_ptr<Connection> connection = Connection::open(uri, statements, error);
    if (!connection) return nullptr;
    pool->free_.push_back(connection.get());
    pool->connections_.push_back(std::move(connection));
  }
  return pool;
}

ConnectionPool::Lease ConnectionPool::acquire() {
  std::unique_lock<std::mutex> lock(free_mutex_);
  free_changed_.wait(lock, [this] { return !free_.empty(); });
  Connection* connection = free_.back();
  free_.pop_back();
  return Lease(this, connection);
}

void ConnectionPool::release(Connection* connection) {
  // A borrower that left a transaction open (it must not) would hand its locks to the next one.
  if (connection->in_transaction()) connection->rollback();
  {
    std::lock_guard<std::mutex> lock(free_mutex_);
    CREBITO_ASSERT(free_.size() < connections_.size());
    free_.push_back(connection);
  }
  free_changed_.notify_one();
}

}  // namespace store::pg
