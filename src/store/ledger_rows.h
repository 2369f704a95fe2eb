// The ledger's rows as they cross the store's seam (store/ledger_store.h): an account, one entry of
// its history, and one credit or debit to write. Plain values, the same for every engine.
#pragma once

#include <cstdint>
#include <string>

namespace store {

struct AccountRow {
  int64_t id = 0;
  int64_t limit_cents = 0;
  int64_t balance_cents = 0;
};

struct EntryRow {
  int64_t amount_cents = 0;
  char kind = 0;  // 'c' or 'd'
  std::string description;
  std::string created_at;
};

// One credit or debit as the store writes it. delta_cents is +amount for a credit and -amount
// for a debit.
struct Posting {
  int64_t account_id = 0;
  int64_t delta_cents = 0;
  int64_t amount_cents = 0;
  char kind = 0;
  std::string description;
  std::string created_at;
};

}  // namespace store
