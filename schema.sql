-- crebito's ledger schema: the single source of the tables and the five accounts.
-- Applied at every start inside one write transaction; running it again changes nothing. A file of
-- an earlier layout is brought to this one first, in the same transaction (src/store/schema.cpp).
-- Money is integer cents. 9007199254740991 = 2^53 - 1, the largest integer every JSON reader keeps exact.

CREATE TABLE IF NOT EXISTS accounts (
  id                INTEGER PRIMARY KEY,
  limit_cents       INTEGER NOT NULL CHECK (limit_cents >= 0),
  balance_cents     INTEGER NOT NULL DEFAULT 0,
  -- How many transactions the account has, hence the seq of its newest one.
  transaction_count INTEGER NOT NULL DEFAULT 0 CHECK (transaction_count >= 0),
  -- The money invariant, enforced by the database itself: no code path can commit a violation.
  CHECK (balance_cents >= -limit_cents),
  CHECK (balance_cents <= 9007199254740991)
) STRICT;

-- One row per committed credit or debit, stored by account and, within it, in commit order: seq
-- is the account's transaction_count right after the write, taken in the same statement that
-- updates the balance (writers are serialised), so "newest first" is ORDER BY seq DESC, never a
-- clock. Clustered by (account_id, seq), an account's rows sit together: a posting writes one
-- b-tree and a statement reads a page or two.
CREATE TABLE IF NOT EXISTS transactions (
  account_id   INTEGER NOT NULL REFERENCES accounts (id),
  seq          INTEGER NOT NULL CHECK (seq >= 1),
  amount_cents INTEGER NOT NULL CHECK (amount_cents BETWEEN 1 AND 9007199254740991),
  kind         TEXT    NOT NULL CHECK (kind IN ('c', 'd')),
  description  TEXT    NOT NULL,
  created_at   TEXT    NOT NULL,  -- UTC, ISO-8601 with microseconds, e.g. 2024-01-17T02:34:38.543030Z
  PRIMARY KEY (account_id, seq)
) STRICT, WITHOUT ROWID;

INSERT OR IGNORE INTO accounts (id, limit_cents, balance_cents) VALUES
  (1, 100000, 0),
  (2, 80000, 0),
  (3, 1000000, 0),
  (4, 10000000, 0),
  (5, 500000, 0);

-- ---- Payments (docs/PAYMENTS.md): the durable queue, the settled payments and the shared
-- health of the processors. One row per accepted correlationId, from acceptance to settlement.
-- state: 0 queued (due_ms = not before), 1 leased to a worker (due_ms = lease expiry),
-- 2 settled (processor and requested_at_ms are what that processor recorded).
-- pinned = 1: an attempt's outcome is unknown; the payment stays on `processor` with
-- `requested_at_ms` until that processor answers 200 or 422 (src/payments/forwarding.h).
CREATE TABLE IF NOT EXISTS payments (
  id              INTEGER PRIMARY KEY,
  correlation_id  TEXT    NOT NULL UNIQUE CHECK (length(correlation_id) = 36),
  amount_cents    INTEGER NOT NULL CHECK (amount_cents BETWEEN 1 AND 9007199254740991),
  state           INTEGER NOT NULL DEFAULT 0 CHECK (state IN (0, 1, 2)),
  pinned          INTEGER NOT NULL DEFAULT 0 CHECK (pinned IN (0, 1)),
  processor       INTEGER CHECK (processor IN (0, 1)),
  requested_at_ms INTEGER,
  attempts        INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  due_ms          INTEGER NOT NULL,
  lease_token     INTEGER NOT NULL DEFAULT 0,
  accepted_ms     INTEGER NOT NULL,
  settled_ms      INTEGER,
  CHECK (state != 2 OR (processor IS NOT NULL AND requested_at_ms IS NOT NULL))
) STRICT;

-- Workers take the most overdue unsettled row: the first entry of an index on due_ms over the
-- unsettled rows only. (An index led by state could not give due_ms order across queued and
-- leased rows, so every claim sorted the whole backlog under the write lock.)
DROP INDEX IF EXISTS payments_unsettled;
CREATE INDEX IF NOT EXISTS payments_due ON payments (due_ms) WHERE state < 2;
-- The summary's count of calls in flight reads the leased rows only.
CREATE INDEX IF NOT EXISTS payments_leased ON payments (requested_at_ms) WHERE state = 1;
-- The summary reads settled rows by requestedAt, without touching the table (settled_ms: it counts
-- what had settled when it was asked, see Payments::summary).
DROP INDEX IF EXISTS payments_settled;
CREATE INDEX IF NOT EXISTS payments_settled_by_request
  ON payments (requested_at_ms, processor, amount_cents, settled_ms) WHERE state = 2;

-- Named leases between the instances (the health poller's: one instance polls at a time).
CREATE TABLE IF NOT EXISTS payment_leases (
  name     TEXT    PRIMARY KEY,
  owner    TEXT    NOT NULL,
  until_ms INTEGER NOT NULL
) STRICT;
INSERT OR IGNORE INTO payment_leases (name, owner, until_ms) VALUES ('health', '', 0);

-- The last GET /payments/service-health answer per processor (0 default, 1 fallback), written by
-- the lease holder and read by every worker.
CREATE TABLE IF NOT EXISTS processor_health (
  processor       INTEGER PRIMARY KEY CHECK (processor IN (0, 1)),
  failing         INTEGER NOT NULL CHECK (failing IN (0, 1)),
  min_response_ms INTEGER NOT NULL,
  checked_ms      INTEGER NOT NULL
) STRICT;
INSERT OR IGNORE INTO processor_health VALUES (0, 0, 0, 0), (1, 0, 0, 0);
