-- The ledger's audit: every account with its balance, the sum of its transactions, and whether the
-- two agree and the limit holds. Every row must end in 1|1.
--   sqlite3 data/crebito.db < load-test/audit.sql
SELECT a.id,
       a.balance_cents,
       COALESCE(SUM(CASE t.kind WHEN 'c' THEN t.amount_cents ELSE -t.amount_cents END), 0) AS sum_cents,
       a.balance_cents = COALESCE(SUM(CASE t.kind WHEN 'c' THEN t.amount_cents ELSE -t.amount_cents END), 0) AS agrees,
       a.balance_cents >= -a.limit_cents AS within_limit
FROM accounts a LEFT JOIN transactions t ON t.account_id = a.id
GROUP BY a.id ORDER BY a.id;
