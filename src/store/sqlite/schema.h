// Prepares the shared database file: WAL mode and schema.sql (compiled in from the repository
// root). Safe to run from both instances at the same moment on an empty data directory: the mode
// switch retries while the other instance holds the file, and the schema is applied inside one
// BEGIN IMMEDIATE transaction with statements that change nothing the second time. A file in an
// earlier layout is migrated in that same transaction, keeping every row and its order.
#pragma once

#include <string>

namespace store {

// Creates the file if it is missing. Returns false and fills *error on failure (for example a
// missing directory or a file that is not a database).
bool apply_schema(const std::string& path, std::string* error);

}  // namespace store
