// What "nothing lost" means, checked against the store (the SQLite file or the PostgreSQL database,
// read through Stack::query with the same SQL) after a reliability test.
//
// Every request a test sends carries a unique descricao, and the test records what each one was
// answered. A Journal collects those records (one per load thread, merged on the test thread:
// Catch2's assertions are not thread-safe); check_ledger() then compares them with the rows
// (the first five points are compare_postings(), for a test that reads the rows itself):
//   - every request answered 200 is in the transactions table exactly once, with its account,
//     amount and kind;
//   - every request answered 422 (a refused debit) or 503 (database unavailable, or haproxy with no
//     instance to send it to) is not there at all;
//   - no descricao is there twice (a replayed POST would be);
//   - every row is one the test sent (an unanswered request may or may not have committed: a
//     crash between COMMIT and the answer; such rows are counted, not failed);
//   - the audit query holds (balance == sum of transactions, balance >= -limit, per account);
//   - each instance's statement agrees with the accounts table and lists the newest rows.
#pragma once

#include <httplib.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "support/stack.h"

struct Sent {
  std::string description;
  int account = 0;
  int64_t amount_cents = 0;
  char kind = 'c';
  int status = 0;  // 0: no answer (connection cut, timeout).
  std::chrono::steady_clock::time_point started;
  std::chrono::steady_clock::time_point answered;
};

struct Journal {
  std::vector<Sent> sent;
  void merge(std::vector<Sent> more) {
    sent.insert(sent.end(), std::make_move_iterator(more.begin()),
                std::make_move_iterator(more.end()));
  }
  size_t count_status(int status) const;
  // Answers that are neither 200 nor 422: 0 (no answer), 502, 503, 504.
  size_t count_failed() const;
};

// The outcome of check_ledger(); the test asserts on the fields and prints the figures.
struct LedgerCheck {
  size_t rows = 0;                      // Rows in the transactions table.
  size_t acknowledged = 0;              // Requests answered 200.
  size_t acknowledged_missing = 0;      // ...whose row is absent: must be 0.
  size_t acknowledged_mismatch = 0;     // ...whose row differs (account, amount, kind): must be 0.
  size_t refused_present = 0;           // Requests answered 422 whose row exists: must be 0.
  size_t unavailable_present = 0;       // Requests answered 503 whose row exists: must be 0.
  size_t duplicated = 0;                // Descriptions present more than once: must be 0.
  size_t unknown_rows = 0;              // Rows no request of the test sent: must be 0.
  size_t unanswered_committed = 0;      // Requests without an answer whose row exists: allowed.
  std::vector<int64_t> audit_failures;  // Accounts breaking the audit query: must be empty.
  std::vector<std::string> statement_errors;  // Statements disagreeing with the table.
  bool ok() const;
  std::string describe() const;
};

// The transactions rows by descricao: the posting (from its first row) and how many rows carry
// the descricao.
struct PostedRow {
  int account = 0;
  int64_t amount_cents = 0;
  char kind = 0;
  int copies = 0;
};
using PostedRows = std::map<std::string, PostedRow>;

// The query whose result posted_rows() reads.
inline constexpr const char* posted_rows_sql =
    "SELECT description, account_id, amount_cents, kind FROM transactions";
PostedRows posted_rows(const std::vector<std::vector<std::string>>& found);

// The journal against the rows: fills rows, acknowledged and every count up to
// unanswered_committed. A row whose descricao is in `not_sent` (written by the test's set-up) is
// not unknown.
LedgerCheck compare_postings(const Journal& journal, const PostedRows& rows,
                             const std::set<std::string>& not_sent = {});

// REQUIRES: the instances are up (statements are read from each, straight) and no load is running.
LedgerCheck check_ledger(const Stack& stack, const Journal& journal);

// A unique descricao of at most 10 characters: "<prefix><thread><sequence>" in base 36.
std::string unique_description(char prefix, int thread, int sequence);
