// A posting as the ledger hands it to a store, for the store tests: its delta follows from its
// kind, and every posting carries the same created_at (posting_created_at).
#pragma once

#include <cstdint>
#include <string>

#include "store/ledger_rows.h"

inline constexpr const char* posting_created_at = "2024-01-17T02:34:38.543030Z";

// kind is 'c' or 'd'.
inline store::Posting posting(int64_t account_id, char kind, int64_t amount_cents,
                              const std::string& description) {
  store::Posting p;
  p.account_id = account_id;
  p.kind = kind;
  p.amount_cents = amount_cents;
  p.delta_cents = kind == 'c' ? amount_cents : -amount_cents;
  p.description = description;
  p.created_at = posting_created_at;
  return p;
}
