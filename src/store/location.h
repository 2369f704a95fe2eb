// store::Location says which store an instance uses, as the --store setting names it:
//   sqlite:PATH            the SQLite file shared by the instances of one machine (the default);
//   postgresql://...       a PostgreSQL database, as a libpq connection URI (postgres:// too),
//                          e.g. postgresql:///crebito?host=/run/postgresql&user=crebito.
// Parsing only: nothing is opened here. Pure functions; thread-safe.
#pragma once

#include <string>

namespace store {

struct Location {
  enum class Kind { sqlite, postgresql };
  Kind kind = Kind::sqlite;
  std::string sqlite_path;     // kind == sqlite: the database file.
  std::string postgresql_uri;  // kind == postgresql: the libpq URI, as given.

  bool is_postgresql() const { return kind == Kind::postgresql; }
  // For logs: "sqlite:PATH", or the URI with any password replaced by "***".
  std::string describe() const;
};

// How the store a Location names is opened, for either face.
struct OpenOptions {
  // SQLite: how long a write waits for the other process's write lock before answering busy.
  int busy_timeout_ms = 0;
  // Connections to lend. SQLite: one per thread that may borrow at once (the ledger's event-loop
  // threads, the payments face's threads). PostgreSQL: --store-connections; a borrower that finds
  // none free waits for one.
  int connections = 1;
};

// Parses "sqlite:PATH" (PATH not empty) or "postgresql://..." / "postgres://...". false and
// *error (naming the two accepted forms) for anything else.
bool parse_location(const std::string& text, Location* location, std::string* error);

// The URI with the password of its user-info part ("//user:password@") replaced by "***", and the
// value of any password=... query parameter too.
std::string redact_uri(const std::string& uri);

}  // namespace store
