// Prepares the shared database file: WAL mode and schema.sql (compiled in from the repository
// root). Safe to run from both instances at the same moment on an empty data directory: the mode
// switch retries while the other instance holds the file, and the schema is applied inside one
// BEGIN IMMEDIATE transaction with statements that change nothing the second time. A file in an
// earlier layout is migrated in that same transaction, keeping every row and its order.
#pragma once

#include <string>

#include "store/status.h"

namespace store {

// Creates the file if it is missing. ok, or why not (naming the path): busy when the other
// instance kept the file past limits::schema_busy_timeout_ms, unavailable otherwise (for example a
// missing directory or a file that is not a database).
Status apply_schema(const std::string& path);

}  // namespace store
