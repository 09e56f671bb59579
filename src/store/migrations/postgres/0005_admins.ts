// Console administrators and their sessions (issue 7), PostgreSQL. An admin is created with a
// one-time setup link (only its SHA-256 is stored) and a TOTP seed sealed like token seeds; the
// password (scrypt, parameters and salt in the encoded hash) is set through the link. Sessions
// are stored by the SHA-256 of their cookie value and go with their admin.
import { rawSqlMigration } from '../raw-sql.js';

export const admins = rawSqlMigration([
  `CREATE TABLE admins (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    password_hash TEXT,
    totp_sealed TEXT NOT NULL,
    totp_next_step BIGINT NOT NULL DEFAULT 0 CHECK (totp_next_step >= 0),
    status TEXT NOT NULL CHECK (status IN ('pending', 'active', 'disabled')),
    failures INTEGER NOT NULL DEFAULT 0,
    locked_until BIGINT,
    created_at BIGINT NOT NULL,
    setup_token_hash TEXT UNIQUE,
    setup_expires_at BIGINT,
    setup_used_at BIGINT
  )`,
  `CREATE TABLE admin_sessions (
    id_hash TEXT PRIMARY KEY,
    admin_id TEXT NOT NULL REFERENCES admins (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    reauth_at BIGINT
  )`,
  `CREATE INDEX admin_sessions_admin ON admin_sessions (admin_id)`,
]);
