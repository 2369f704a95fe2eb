// The audit of the ledger, in one place for every test: each account's balance equals the sum of
// its transactions (credits minus debits) and is not below minus its limit. load-test/audit.sql is
// the query, for an operator's sqlite3 or psql alike: it reads the same on both stores.
#pragma once

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>

#include <cstdint>
#include <string>
#include <vector>

#include "audit_sql.h"
#include "support/stack.h"

// The ids of the accounts that break the audit; empty when every balance is sound. The query is
// load-test/audit.sql's (audit_sql.h), so what the tests check is what an operator runs.
inline const std::string audit_failures_sql = std::string("SELECT id FROM (") + audit_sql +
                                              "\n) AS audit WHERE NOT (agrees AND within_limit)";

inline std::vector<int64_t> audit_failures(SQLite::Database& db) {
  SQLite::Statement audit(db, audit_failures_sql);
  std::vector<int64_t> failures;
  while (audit.executeStep()) failures.push_back(audit.getColumn(0).getInt64());
  return failures;
}

inline std::vector<int64_t> audit_failures(const std::string& db_path) {
  SQLite::Database db(db_path);
  return audit_failures(db);
}

// The same on a Stack's store, SQLite or PostgreSQL (Stack::query).
inline std::vector<int64_t> audit_failures(const Stack& stack) {
  std::vector<int64_t> failures;
  for (const std::vector<std::string>& row : stack.query(audit_failures_sql)) {
    failures.push_back(std::stoll(row.at(0)));
  }
  return failures;
}
