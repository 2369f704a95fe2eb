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
