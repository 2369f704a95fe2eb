// store::Status is the one shape of every call's outcome across the store's seams
// (store/ledger_store.h, store/payments_store.h), whichever engine answers it (SQLite,
// store/sqlite/; PostgreSQL, store/postgres/), of the opens and schema calls behind them
// (open_ledger_store, open_payments_store, apply_schema), and of the layers under them (the SQLite
// core's and libpq's calls):
//   - a code (Status::Code): what happened, the part callers decide on;
//   - a message, owned by the status: why it failed, for the log. Set on every failure (busy,
//     unavailable, conflict, unknown), empty for ok and refused.
// Errors are values: no exception crosses a seam, no call answers through a bool and a
// std::string* out-parameter, and no engine keeps a last_error() to be asked afterwards. An open
// returns its Status and hands the opened object over through its last parameter, as LevelDB's
// DB::Open does. (Only the opens of the parts under a store, a connection, a pool, the writer
// lock, the checkpointer, still answer nullptr and a message: their callers are the stores.)
//
// A Status converts to its code, so callers compare and switch on it as on the code
// (`status == Status::busy`, `switch (status)`), and a code converts to a Status without a
// message (`return Status::refused;`). Two statuses compare by code only.
//
// Every status other than ok and refused means nothing was written, except unknown.
#pragma once

#include <cstddef>
#include <iterator>
#include <string>
#include <utility>

namespace store {

class [[nodiscard]] Status {
 public:
  enum class Code {
    ok,
    refused,      // The conditional write matched no row (nothing was written), or nothing found.
    busy,         // The write lock stayed with another writer past the busy timeout.
    unavailable,  // I/O error, disk full, read-only or vanished file; nothing was written.
    conflict,     // PostgreSQL store only: a constraint (unique, check, foreign key) refused the
                  // statement; nothing of it was written. Our writes stay inside the schema's
                  // constraints, so only a caller that relies on one (a duplicate key) sees it.
    unknown,      // PostgreSQL store only: a write was sent, the connection was lost, and whether
                  // it committed could not be learnt in time. It may have been written.
  };
  static constexpr Code ok = Code::ok;
  static constexpr Code refused = Code::refused;
  static constexpr Code busy = Code::busy;
  static constexpr Code unavailable = Code::unavailable;
  static constexpr Code conflict = Code::conflict;
  static constexpr Code unknown = Code::unknown;

  Status(Code code = Code::ok) : code_(code) {}  // NOLINT: a code is a Status without a message.
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}

  Code code() const { return code_; }
  operator Code() const { return code_; }  // NOLINT: compared and switched on as its code.
  // Why it failed, for the log; empty for ok and refused.
  const std::string& message() const { return message_; }

 private:
  Code code_;
  std::string message_;
};

// The status as a word, for logs and test messages.
inline const char* status_name(Status::Code code) {
  constexpr const char* names[] = {"ok", "refused", "busy", "unavailable", "conflict", "unknown"};
  static_assert(std::size(names) == static_cast<size_t>(Status::Code::unknown) + 1);
  return names[static_cast<size_t>(code)];
}

}  // namespace store
