// The enrollment portal (issue 7), PostgreSQL: enrollment links an admin makes belong to no
// integration, portal sessions (only the SHA-256 of the cookie's id is stored; a pending TOTP
// seed is sealed to the session), and enrollments held for an admin's approval.
import { rawSqlMigration } from '../raw-sql.js';

export const portal = rawSqlMigration([
  // Per integration: 'open' (whoever holds the link enrolls) or 'admin' (held for approval).
  `ALTER TABLE integrations ADD COLUMN enrollment_approval TEXT NOT NULL DEFAULT 'open' CHECK (enrollment_approval IN ('open', 'admin'))`,

  `ALTER TABLE enroll_tokens ALTER COLUMN integration_id DROP NOT NULL`,

  `CREATE TABLE portal_sessions (
    id_hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    integration_id TEXT REFERENCES integrations (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    proved_at BIGINT,
    pending_totp_sealed TEXT
  )`,
  `CREATE INDEX portal_sessions_expiry ON portal_sessions (expires_at)`,

  `CREATE TABLE pending_enrollments (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    integration_id TEXT REFERENCES integrations (id) ON DELETE SET NULL,
    kind TEXT NOT NULL CHECK (kind IN ('totp', 'device')),
    secret_sealed TEXT,
    next_counter BIGINT NOT NULL DEFAULT 0,
    state TEXT NOT NULL CHECK (state IN ('pending', 'approved', 'denied')),
    created_at BIGINT NOT NULL,
    decided_at BIGINT
  )`,
  `CREATE INDEX pending_enrollments_state ON pending_enrollments (state, created_at)`,
]);
