#include "ledger/ledger.h"

#include <cstdio>

#include "check.h"
#include "clock.h"
#include "crebito_limits.h"

namespace ledger {

std::unique_ptr<Ledger> Ledger::open(const store::Location& location,
                                     const store::OpenOptions& options, std::string* error) {
  std::unique_ptr<store::LedgerStore> store;
  const store::Status opened = store::open_ledger_store(location, options, &store);
  if (opened != store::Status::ok) {
    *error = opened.message();
    return nullptr;
  }

  std::vector<store::AccountRow> rows;
  const store::Status read = store->read_accounts(&rows);
  if (read != store::Status::ok) {
    *error = location.describe() + ": " + read.message();
    return nullptr;
  }
  if (rows.empty()) {
    *error = location.describe() + ": no accounts";
    return nullptr;
  }
  std::vector<Account> accounts;
  for (const store::AccountRow& row : rows) accounts.push_back({row.id, row.limit_cents});
  return std::unique_ptr<Ledger>(new Ledger(std::move(store), std::move(accounts)));
}

std::unique_ptr<Ledger> Ledger::open(const store::Options& options, int connections,
                                     std::string* error) {
  const store::Location location{store::Location::Kind::sqlite, options.path, ""};
  return open(location, store::OpenOptions{options.busy_timeout_ms, connections}, error);
}

Ledger::Ledger(std::unique_ptr<store::LedgerStore> store, std::vector<Account> accounts)
    : store_(std::move(store)), accounts_(std::move(accounts)) {}

const Account* Ledger::find(int64_t account_id) const {
  for (const Account& account : accounts_) {
    if (account.id == account_id) return &account;
  }
  return nullptr;
}

bool Ledger::has_account(int64_t account_id) const { return find(account_id) != nullptr; }

// Storage faults are logged by the store, once when they start and once when they end; a lock
// wait that ran out is logged here, per request.
Outcome Ledger::unavailable(const store::Status& status, const char* what) {
  if (status == store::Status::busy) {
    std::fprintf(stderr, "crebito: %s failed, answering 503: %s\n", what, status.message().c_str());
  }
  return Outcome::unavailable;
}

Outcome Ledger::apply(int64_t account_id, const TransactionRequest& request, Balance* after) {
  const Account* account = find(account_id);
  CREBITO_ASSERT(account != nullptr);
  CREBITO_ASSERT(request_valid(request));

  store::Posting posting;
  posting.account_id = account_id;
  posting.amount_cents = request.amount_cents;
  posting.kind = static_cast<char>(request.kind);
  posting.delta_cents = request.kind == Kind::credit ? request.amount_cents : -request.amount_cents;
  posting.description = request.description;
  // Taken before the lock so the lock is held for database work only; order comes from ids.
  posting.created_at = clocks::wall_iso_us();

  store::AccountRow row;
  const store::Status status = store_->post(posting, &row);
  switch (status) {
    case store::Status::ok:
      break;
    case store::Status::refused:
      return Outcome::refused;
    case store::Status::unknown:
      std::fprintf(stderr, "crebito: transaction outcome unknown, answering 504: %s\n",
                   status.message().c_str());
      return Outcome::unknown;
    case store::Status::busy:
    case store::Status::unavailable:
    case store::Status::conflict:  // Not reached: a posting stays inside the constraints.
      return unavailable(status, "transaction");
  }
  CREBITO_ASSERT(row.limit_cents == account->limit_cents);
  CREBITO_ASSERT(row.balance_cents >= -row.limit_cents);
  *after = {row.limit_cents, row.balance_cents};
  return Outcome::ok;
}

Outcome Ledger::statement(int64_t account_id, Statement* out) {
  CREBITO_ASSERT(has_account(account_id));
  store::AccountRow row;
  std::vector<store::EntryRow> rows;
  const store::Status status =
      store_->read_statement(account_id, limits::statement_entries_max, &row, &rows);
  switch (status) {
    case store::Status::ok:
      break;
    case store::Status::refused:
      return Outcome::no_such_account;
    case store::Status::busy:
    case store::Status::unavailable:
    case store::Status::conflict:  // Not reached: a read meets no constraint.
    case store::Status::unknown:   // Not reached: a read writes nothing.
      return unavailable(status, "statement");
  }
  CREBITO_ASSERT(rows.size() <= limits::statement_entries_max);
  CREBITO_ASSERT(row.balance_cents >= -row.limit_cents);
  out->balance_cents = row.balance_cents;
  out->limit_cents = row.limit_cents;
  out->taken_at = clocks::wall_iso_us();
  out->entries.clear();
  for (store::EntryRow& entry : rows) {
    CREBITO_ASSERT(entry.kind == 'c' || entry.kind == 'd');
    out->entries.push_back({entry.amount_cents, static_cast<Kind>(entry.kind),
                            std::move(entry.description), std::move(entry.created_at)});
  }
  return Outcome::ok;
}

Outcome Ledger::health() {
  const store::Status status = store_->health(accounts_.front().id);
  if (status != store::Status::ok) return unavailable(status, "health check");
  return Outcome::ok;
}

}  // namespace ledger
