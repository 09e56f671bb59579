// Passkeys (docs/push.md §8), PostgreSQL: WebAuthn credentials registered by a Tandem Authenticator.
// A passkey belongs to one device (it covers that device's approvals) and goes with it, and with
// its user (ON DELETE CASCADE).
import { rawSqlMigration } from '../raw-sql.js';

export const passkeys = rawSqlMigration([
  // public_key: the credential's COSE public key, base64url. counter: the authenticator's
  // signature counter as last accepted (0 for authenticators that do not count).
  // transports: JSON text array of the transports the browser reported.
  `CREATE TABLE passkeys (
    credential_id TEXT PRIMARY KEY,
    device_id TEXT NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    public_key TEXT NOT NULL,
    counter BIGINT NOT NULL CHECK (counter >= 0),
    transports TEXT NOT NULL DEFAULT '[]',
    created_at BIGINT NOT NULL
  )`,
  `CREATE INDEX passkeys_device ON passkeys (device_id)`,
  `CREATE INDEX passkeys_user ON passkeys (user_id)`,
]);
