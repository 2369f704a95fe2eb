-- crebito's schema for a PostgreSQL store (--store postgresql://...): the same tables and
-- accounts as schema.sql, in PostgreSQL's types. Applied at every start, inside one transaction
-- that holds pg_advisory_xact_lock (src/store/postgres/schema.cpp), so instances starting together
-- do not race; running it again changes nothing.
--
-- Ready for Citus: every ledger statement names one account (accounts.id, transactions.account_id)
-- in its WHERE clause, so both tables can be distributed by account and colocated
-- (docs/SCALING.md). Money is integer cents; 9007199254740991 = 2^53 - 1.

-- ---- Ledger ----

CREATE TABLE IF NOT EXISTS accounts (
  id                bigint PRIMARY KEY,
  limit_cents       bigint NOT NULL CHECK (limit_cents >= 0),
  balance_cents     bigint NOT NULL DEFAULT 0,
  -- How many transactions the account has, hence the seq of its newest one.
  transaction_count bigint NOT NULL DEFAULT 0 CHECK (transaction_count >= 0),
  -- The money invariant, enforced by the database itself.
  CHECK (balance_cents >= -limit_cents),
  CHECK (balance_cents <= 9007199254740991)
);

-- One row per committed credit or debit. seq is the account's transaction_count right after the
-- write, taken in the statement that updates the balance (the row lock on the account serialises
-- an account's writers), so "newest first" is ORDER BY seq DESC, never a clock.
CREATE TABLE IF NOT EXISTS transactions (
  account_id   bigint NOT NULL REFERENCES accounts (id),
  seq          bigint NOT NULL CHECK (seq >= 1),
  amount_cents bigint NOT NULL CHECK (amount_cents BETWEEN 1 AND 9007199254740991),
  kind         text   NOT NULL CHECK (kind IN ('c', 'd')),
  description  text   NOT NULL,
  created_at   text   NOT NULL,  -- UTC, ISO-8601 with microseconds, e.g. 2024-01-17T02:34:38.543030Z
  -- The posting's own id (random, chosen by the instance) and the balance right after it: when the
  -- connection is lost while a posting is in flight, the instance looks the id up to learn whether
  -- it committed, and answers with this balance (src/store/postgres/ledger_store.h, invariant 5).
  post_id      bigint,
  balance_cents bigint,
  PRIMARY KEY (account_id, seq),
  UNIQUE (account_id, post_id)
);

-- A database made before post_id existed gets it here. Checked first, so that a database that has
-- it takes no table lock at a start (ALTER TABLE would block every posting meanwhile).
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM information_schema.columns
                 WHERE table_schema = current_schema() AND table_name = 'transactions'
                   AND column_name = 'post_id') THEN
    ALTER TABLE transactions ADD COLUMN post_id bigint, ADD COLUMN balance_cents bigint,
      ADD UNIQUE (account_id, post_id);
  END IF;
END
$$;

INSERT INTO accounts (id, limit_cents, balance_cents) VALUES
  (1, 100000, 0),
  (2, 80000, 0),
  (3, 1000000, 0),
  (4, 10000000, 0),
  (5, 500000, 0)
ON CONFLICT (id) DO NOTHING;

-- ---- Payments (docs/PAYMENTS.md): the durable queue, the settled payments and the shared
-- health of the processors, as in schema.sql. One row per accepted correlationId, from acceptance
-- to settlement. state: 0 queued (due_ms = not before), 1 leased to a worker (due_ms = lease
-- expiry), 2 settled (processor and requested_at_ms are what that processor recorded).
-- pinned = 1: an attempt's outcome is unknown; the payment stays on `processor` with
-- `requested_at_ms` until that processor answers 200 or 422 (src/payments/forwarding.h).
-- Workers of every instance claim rows with SELECT ... FOR UPDATE SKIP LOCKED
-- (src/store/postgres/payments_store.cpp). Times are Unix milliseconds.
CREATE TABLE IF NOT EXISTS payments (
  id              bigint   GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  correlation_id  text     NOT NULL UNIQUE CHECK (length(correlation_id) = 36),
  amount_cents    bigint   NOT NULL CHECK (amount_cents BETWEEN 1 AND 9007199254740991),
  state           smallint NOT NULL DEFAULT 0 CHECK (state IN (0, 1, 2)),
  pinned          smallint NOT NULL DEFAULT 0 CHECK (pinned IN (0, 1)),
  processor       smallint CHECK (processor IN (0, 1)),
  requested_at_ms bigint,
  attempts        integer  NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  due_ms          bigint   NOT NULL,
  lease_token     bigint   NOT NULL DEFAULT 0,
  accepted_ms     bigint   NOT NULL,
  settled_ms      bigint,
  CHECK (state != 2 OR (processor IS NOT NULL AND requested_at_ms IS NOT NULL AND
                        settled_ms IS NOT NULL))
);

-- A claim takes the most overdue unsettled rows: the first entries of an index on due_ms over the
-- unsettled rows only, whatever the backlog.
CREATE INDEX IF NOT EXISTS payments_due ON payments (due_ms) WHERE state < 2;
-- The summary's count of calls in flight reads the leased rows only.
CREATE INDEX IF NOT EXISTS payments_leased ON payments (requested_at_ms) WHERE state = 1;
-- The summary reads settled rows by requestedAt (an index-only scan once vacuumed).
CREATE INDEX IF NOT EXISTS payments_settled_by_request
  ON payments (requested_at_ms, processor, amount_cents, settled_ms) WHERE state = 2;

-- Named leases between the instances (the health poller's: one instance polls at a time).
CREATE TABLE IF NOT EXISTS payment_leases (
  name     text   PRIMARY KEY,
  owner    text   NOT NULL,
  until_ms bigint NOT NULL
);
INSERT INTO payment_leases (name, owner, until_ms) VALUES ('health', '', 0)
ON CONFLICT (name) DO NOTHING;

-- The last GET /payments/service-health answer per processor (0 default, 1 fallback), written by
-- the lease holder and read by every worker.
CREATE TABLE IF NOT EXISTS processor_health (
  processor       smallint PRIMARY KEY CHECK (processor IN (0, 1)),
  failing         smallint NOT NULL CHECK (failing IN (0, 1)),
  min_response_ms bigint   NOT NULL,
  checked_ms      bigint   NOT NULL
);
INSERT INTO processor_health (processor, failing, min_response_ms, checked_ms)
VALUES (0, 0, 0, 0), (1, 0, 0, 0)
ON CONFLICT (processor) DO NOTHING;
