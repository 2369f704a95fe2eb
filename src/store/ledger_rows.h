// The ledger's rows as they cross the store's seam (store/ledger_store.h): an account, one entry of
// its history, and one credit or debit to write. Plain values, the same for every engine.
#pragma once

#include <cstdint>
#include <string>

#include "crebito_limits.h"

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

// What every engine asserts of a posting it is asked to write: a credit ('c') or a debit ('d') of
// limits::amount_cents_min..amount_cents_max, whose delta_cents is +amount or -amount.
inline bool well_formed(const Posting& posting) {
  return (posting.kind == 'c' || posting.kind == 'd') &&
         posting.amount_cents >= limits::amount_cents_min &&
         posting.amount_cents <= limits::amount_cents_max &&
         posting.delta_cents ==
             (posting.kind == 'c' ? posting.amount_cents : -posting.amount_cents);
}

}  // namespace store
