// Initial schema, SQLite. STRICT tables reject values of the wrong type; booleans are 0/1;
// times are integer milliseconds. Foreign keys need `PRAGMA foreign_keys=ON` (set on open).
import { rawSqlMigration } from '../raw-sql.js';

export const initial = rawSqlMigration([
  `CREATE TABLE integrations (
    id TEXT PRIMARY KEY,
    ikey TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    skey_sealed TEXT NOT NULL,
    prev_skey_sealed TEXT,
    prev_skey_expires_at INTEGER,
    new_user_policy TEXT NOT NULL CHECK (new_user_policy IN ('enroll', 'allow', 'deny')),
    legacy_v1 INTEGER NOT NULL CHECK (legacy_v1 IN (0, 1)),
    created_at INTEGER NOT NULL,
    last_used_at INTEGER
  ) STRICT`,

  `CREATE TABLE users (
    id TEXT PRIMARY KEY,
    username TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('active', 'disabled')),
    failures INTEGER NOT NULL DEFAULT 0,
    locked_until INTEGER,
    created_at INTEGER NOT NULL,
    last_login_at INTEGER
  ) STRICT`,

  // Usernames and aliases in one table: the primary key is what makes the namespace shared.
  `CREATE TABLE user_names (
    name TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    is_alias INTEGER NOT NULL CHECK (is_alias IN (0, 1))
  ) STRICT`,
  `CREATE INDEX user_names_user ON user_names (user_id)`,

  `CREATE TABLE tokens (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    type TEXT NOT NULL CHECK (type IN ('totp', 'hotp')),
    secret_sealed TEXT NOT NULL,
    digits INTEGER NOT NULL CHECK (digits IN (6, 8)),
    algorithm TEXT NOT NULL CHECK (algorithm IN ('sha1', 'sha256', 'sha512')),
    period INTEGER,
    next_counter INTEGER NOT NULL,
    created_at INTEGER NOT NULL
  ) STRICT`,
  `CREATE INDEX tokens_user ON tokens (user_id)`,

  // UNIQUE (user_id, code_hmac): consumeBypassCode's UPDATE then touches at most one row.
  `CREATE TABLE bypass_codes (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hmac TEXT NOT NULL,
    uses_remaining INTEGER CHECK (uses_remaining IS NULL OR uses_remaining >= 0),
    expires_at INTEGER,
    created_at INTEGER NOT NULL,
    UNIQUE (user_id, code_hmac)
  ) STRICT`,

  `CREATE TABLE transactions (
    txid TEXT PRIMARY KEY,
    integration_id TEXT NOT NULL REFERENCES integrations (id) ON DELETE CASCADE,
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
    context TEXT NOT NULL
  ) STRICT`,
  `CREATE INDEX transactions_state_expiry ON transactions (state, expires_at)`,
  `CREATE INDEX transactions_settled ON transactions (settled_at)`,

  `CREATE TABLE enroll_tokens (
    token_hash TEXT PRIMARY KEY,
    integration_id TEXT NOT NULL REFERENCES integrations (id) ON DELETE CASCADE,
    username TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at INTEGER
  ) STRICT`,

  // No foreign key: a short-lived replay cache, purged by time, written on the hot path.
  `CREATE TABLE request_records (
    key TEXT PRIMARY KEY,
    integration_id TEXT NOT NULL,
    peer TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    response TEXT,
    delivered INTEGER NOT NULL DEFAULT 0 CHECK (delivered IN (0, 1))
  ) STRICT`,
  `CREATE INDEX request_records_expiry ON request_records (expires_at)`,

  // The primary key is the UNIQUE (node_id, seq) that backs the chain's append-once property.
  `CREATE TABLE audit_log (
    node_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    time INTEGER NOT NULL,
    event TEXT NOT NULL,
    integration TEXT,
    username TEXT,
    factor TEXT,
    result TEXT NOT NULL,
    reason TEXT NOT NULL,
    ipaddr TEXT,
    hostname TEXT,
    txid TEXT,
    detail TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL,
    PRIMARY KEY (node_id, seq)
  ) STRICT`,
  `CREATE INDEX audit_log_time ON audit_log (time)`,
  `CREATE INDEX audit_log_username_time ON audit_log (username, time)`,

  `CREATE TABLE audit_heads (
    node_id TEXT PRIMARY KEY,
    seq INTEGER NOT NULL,
    hash TEXT NOT NULL
  ) STRICT`,
]);
