-- crebito's ledger schema: the single source of the tables and the five accounts.
-- Applied at every start inside one write transaction; running it again changes nothing.
-- Money is integer cents. 9007199254740991 = 2^53 - 1, the largest integer every JSON reader keeps exact.

CREATE TABLE IF NOT EXISTS accounts (
  id            INTEGER PRIMARY KEY,
  limit_cents   INTEGER NOT NULL CHECK (limit_cents >= 0),
  balance_cents INTEGER NOT NULL DEFAULT 0,
  -- The money invariant, enforced by the database itself: no code path can commit a violation.
  CHECK (balance_cents >= -limit_cents),
  CHECK (balance_cents <= 9007199254740991)
) STRICT;

-- One row per committed credit or debit. The id is assigned in commit order (writers are
-- serialised), so "newest first" is ORDER BY id DESC, never a clock.
CREATE TABLE IF NOT EXISTS transactions (
  id           INTEGER PRIMARY KEY,
  account_id   INTEGER NOT NULL REFERENCES accounts (id),
  amount_cents INTEGER NOT NULL CHECK (amount_cents BETWEEN 1 AND 9007199254740991),
  kind         TEXT    NOT NULL CHECK (kind IN ('c', 'd')),
  description  TEXT    NOT NULL,
  created_at   TEXT    NOT NULL  -- UTC, ISO-8601 with microseconds, e.g. 2024-01-17T02:34:38.543030Z
) STRICT;

CREATE INDEX IF NOT EXISTS transactions_by_account ON transactions (account_id, id);

INSERT OR IGNORE INTO accounts (id, limit_cents, balance_cents) VALUES
  (1, 100000, 0),
  (2, 80000, 0),
  (3, 1000000, 0),
  (4, 10000000, 0),
  (5, 500000, 0);
