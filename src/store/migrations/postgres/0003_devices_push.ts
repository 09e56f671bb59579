// Push approvals (docs/push.md), PostgreSQL: per-integration push policy, the Tandem
// Authenticator's devices and activation codes, push challenges, the anti-fatigue counter and
// server-wide secrets.
// Everything a user owns goes with the user (ON DELETE CASCADE), like tokens and bypass codes.
import { rawSqlMigration } from '../raw-sql.js';

export const devicesPush = rawSqlMigration([
  // JSON text of a PushPolicy; '{}' is "the server defaults".
  `ALTER TABLE integrations ADD COLUMN push_policy TEXT NOT NULL DEFAULT '{}'`,

  // token_id: the device's TOTP token. UNIQUE (one device per token) also indexes the cascade:
  // the device goes with its token, so no device is left pointing at a missing one.
  `CREATE TABLE devices (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    public_key_jwk TEXT NOT NULL,
    token_id TEXT NOT NULL UNIQUE REFERENCES tokens (id) ON DELETE CASCADE,
    push_subscription TEXT,
    created_at BIGINT NOT NULL,
    last_seen_at BIGINT
  )`,
  `CREATE INDEX devices_user ON devices (user_id)`,

  // device_id has no foreign key: it is history (enroll_status), and the device may be removed.
  `CREATE TABLE activations (
    code_hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT,
    device_id TEXT
  )`,
  `CREATE INDEX activations_user ON activations (user_id)`,

  // device_id has no foreign key on purpose: a push aimed at a device that is then removed must
  // stay aimed at it (and so be approvable by no one), not turn into "any device" (SET NULL).
  `CREATE TABLE push_challenges (
    txid TEXT PRIMARY KEY REFERENCES transactions (txid) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    device_id TEXT,
    nonce TEXT NOT NULL,
    match_code TEXT,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
  )`,
  `CREATE INDEX push_challenges_user ON push_challenges (user_id)`,

  `CREATE TABLE push_fatigue (
    user_id TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    denials INTEGER NOT NULL,
    paused_until BIGINT
  )`,

  `CREATE TABLE server_secrets (
    name TEXT PRIMARY KEY,
    sealed TEXT NOT NULL,
    created_at BIGINT NOT NULL
  )`,
]);
