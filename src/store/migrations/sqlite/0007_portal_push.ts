// Proof by an approved push in the enrollment portal (issue 7), SQLite: a push started from a
// portal session opened by an admin's link belongs to no integration, so transactions.integration_id
// becomes nullable. SQLite cannot drop NOT NULL: the table is rebuilt. Dropping the old table
// deletes its push challenges (ON DELETE CASCADE; foreign keys stay on during migrations), so
// they are kept aside and put back once the new table has the old name.
import { rawSqlMigration } from '../raw-sql.js';

export const portalPush = rawSqlMigration([
  `CREATE TABLE transactions_0007 (
    txid TEXT PRIMARY KEY,
    integration_id TEXT REFERENCES integrations (id) ON DELETE CASCADE,
    user_id TEXT REFERENCES users (id) ON DELETE SET NULL,
    username TEXT NOT NULL,
    factor TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'allow', 'deny', 'timeout', 'fraud')),
    status TEXT NOT NULL,
    status_msg TEXT NOT NULL,
    version INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    settled_at INTEGER,
    context TEXT NOT NULL,
    status_polls INTEGER NOT NULL DEFAULT 0
  ) STRICT`,
  `INSERT INTO transactions_0007 (txid, integration_id, user_id, username, factor, state, status, status_msg, version, created_at, expires_at, settled_at, context, status_polls)
    SELECT txid, integration_id, user_id, username, factor, state, status, status_msg, version, created_at, expires_at, settled_at, context, status_polls FROM transactions`,
  `CREATE TABLE push_challenges_0007 AS SELECT * FROM push_challenges`,
  `DROP TABLE transactions`,
  `ALTER TABLE transactions_0007 RENAME TO transactions`,
  `INSERT INTO push_challenges SELECT * FROM push_challenges_0007`,
  `DROP TABLE push_challenges_0007`,
  `CREATE INDEX transactions_state_expiry ON transactions (state, expires_at)`,
  `CREATE INDEX transactions_settled ON transactions (settled_at)`,
]);
