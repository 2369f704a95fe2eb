// store::Status is the outcome of every call across the store's seams (store/ledger_store.h,
// store/payments_store.h), whichever engine answers it (SQLite, store/sqlite/; PostgreSQL,
// store/postgres/). Errors are values: no exception crosses a seam. A call that fails also says
// why in a message for the log (its std::string* error_text, or its engine's last_error()).
//
// Every status other than ok and refused means nothing was written, except unknown.
#pragma once

namespace store {

enum class [[nodiscard]] Status{
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

// The status as a word, for logs and test messages.
inline const char* status_name(Status status) {
  switch (status) {
    case Status::ok:
      return "ok";
    case Status::refused:
      return "refused";
    case Status::busy:
      return "busy";
    case Status::unavailable:
      return "unavailable";
    case Status::conflict:
      return "conflict";
    case Status::unknown:
      return "unknown";
  }
  return "?";
}

}  // namespace store
