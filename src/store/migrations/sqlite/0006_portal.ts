// The enrollment portal (issue 7), SQLite: enrollment links an admin makes belong to no
// integration (integration_id becomes nullable, so the table is rebuilt), portal sessions (only
// the SHA-256 of the cookie's id is stored; a pending TOTP seed is sealed to the session), and
// enrollments held for an admin's approval (not usable for login until approved).
import { rawSqlMigration } from '../raw-sql.js';

export const portal = rawSqlMigration([
  // Per integration: 'open' (whoever holds the link enrolls) or 'admin' (held for approval).
  `ALTER TABLE integrations ADD COLUMN enrollment_approval TEXT NOT NULL DEFAULT 'open' CHECK (enrollment_approval IN ('open', 'admin'))`,

  `CREATE TABLE enroll_tokens_0006 (
    token_hash TEXT PRIMARY KEY,
    integration_id TEXT REFERENCES integrations (id) ON DELETE CASCADE,
    username TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at INTEGER
  ) STRICT`,
  `INSERT INTO enroll_tokens_0006 (token_hash, integration_id, username, created_at, expires_at, used_at)
    SELECT token_hash, integration_id, username, created_at, expires_at, used_at FROM enroll_tokens`,
  `DROP TABLE enroll_tokens`,
  `ALTER TABLE enroll_tokens_0006 RENAME TO enroll_tokens`,

  `CREATE TABLE portal_sessions (
    id_hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    integration_id TEXT REFERENCES integrations (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    proved_at INTEGER,
    pending_totp_sealed TEXT
  ) STRICT`,
  `CREATE INDEX portal_sessions_expiry ON portal_sessions (expires_at)`,

  `CREATE TABLE pending_enrollments (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    integration_id TEXT REFERENCES integrations (id) ON DELETE SET NULL,
    kind TEXT NOT NULL CHECK (kind IN ('totp', 'device')),
    secret_sealed TEXT,
    next_counter INTEGER NOT NULL DEFAULT 0,
    state TEXT NOT NULL CHECK (state IN ('pending', 'approved', 'denied')),
    created_at INTEGER NOT NULL,
    decided_at INTEGER
  ) STRICT`,
  `CREATE INDEX pending_enrollments_state ON pending_enrollments (state, created_at)`,
]);
