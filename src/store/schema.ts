// Kysely table types: the shape of the rows as the database holds them (snake_case).
// Times are integer milliseconds (INTEGER in SQLite, BIGINT in PostgreSQL, parsed to numbers).
// Booleans are 0/1 in SQLite and BOOLEAN in PostgreSQL; StoreContext.bool() encodes them.
import type { Generated, ColumnType } from 'kysely';

type Bool = ColumnType<boolean | number, boolean | number, boolean | number>;

export interface IntegrationsTable {
  id: string;
  ikey: string;
  name: string;
  skey_sealed: string;
  prev_skey_sealed: string | null;
  prev_skey_expires_at: number | null;
  new_user_policy: string;
  /** JSON text of a PushPolicy (default '{}'). */
  push_policy: ColumnType<string, string | undefined, string>;
  legacy_v1: Bool;
  /** 'open' | 'admin' (migration 0006). */
  enrollment_approval: ColumnType<string, string | undefined, string>;
  created_at: number;
  last_used_at: number | null;
}

export interface UsersTable {
  id: string;
  username: string;
  status: string;
  failures: ColumnType<number, number | undefined, number>;
  locked_until: number | null;
  created_at: number;
  last_login_at: number | null;
}

/** One namespace for usernames and aliases: the primary key makes a name belong to one user. */
export interface UserNamesTable {
  name: string;
  user_id: string;
  is_alias: Bool;
}

export interface TokensTable {
  id: string;
  user_id: string;
  type: string;
  secret_sealed: string;
  digits: number;
  algorithm: string;
  period: number | null;
  next_counter: number;
  created_at: number;
}

export interface BypassCodesTable {
  id: string;
  user_id: string;
  code_hmac: string;
  uses_remaining: number | null;
  expires_at: number | null;
  created_at: number;
}

export interface TransactionsTable {
  txid: string;
  /** Null for a push the enrollment portal started from an admin's link (migration 0007). */
  integration_id: string | null;
  user_id: string | null;
  username: string;
  factor: string;
  state: string;
  status: string;
  status_msg: string;
  version: number;
  created_at: number;
  expires_at: number;
  settled_at: number | null;
  context: string;
  status_polls: Generated<number>;
}

export interface DevicesTable {
  id: string;
  user_id: string;
  name: string;
  public_key_jwk: string;
  token_id: string;
  push_subscription: string | null;
  created_at: number;
  last_seen_at: number | null;
}

/** A passkey (WebAuthn credential) of one device (docs/push.md §8). */
export interface PasskeysTable {
  credential_id: string;
  device_id: string;
  user_id: string;
  /** base64url of the COSE public key. */
  public_key: string;
  counter: number;
  /** JSON text array of transport names. */
  transports: string;
  created_at: number;
}

export interface ActivationsTable {
  code_hash: string;
  user_id: string;
  created_at: number;
  expires_at: number;
  used_at: number | null;
  device_id: string | null;
}

export interface PushChallengesTable {
  txid: string;
  user_id: string;
  device_id: string | null;
  nonce: string;
  match_code: string | null;
  created_at: number;
  expires_at: number;
}

/** Consecutive push denials per user, and the pause they caused. */
export interface PushFatigueTable {
  user_id: string;
  denials: number;
  paused_until: number | null;
}

export interface ServerSecretsTable {
  name: string;
  sealed: string;
  created_at: number;
}

export interface EnrollTokensTable {
  token_hash: string;
  integration_id: string | null;
  username: string;
  created_at: number;
  expires_at: number;
  used_at: number | null;
}

export interface AdminsTable {
  id: string;
  name: string;
  password_hash: string | null;
  totp_sealed: string;
  totp_next_step: number;
  status: string;
  failures: ColumnType<number, number | undefined, number>;
  locked_until: number | null;
  created_at: number;
  setup_token_hash: string | null;
  setup_expires_at: number | null;
  setup_used_at: number | null;
}

export interface AdminSessionsTable {
  id_hash: string;
  admin_id: string;
  created_at: number;
  last_seen_at: number;
  expires_at: number;
  reauth_at: number | null;
}

export interface PortalSessionsTable {
  id_hash: string;
  user_id: string;
  integration_id: string | null;
  created_at: number;
  expires_at: number;
  proved_at: number | null;
  pending_totp_sealed: string | null;
}

export interface PendingEnrollmentsTable {
  id: string;
  user_id: string;
  integration_id: string | null;
  kind: string;
  secret_sealed: string | null;
  next_counter: number;
  state: string;
  created_at: number;
  decided_at: number | null;
}

export interface RequestRecordsTable {
  key: string;
  integration_id: string;
  peer: string;
  created_at: number;
  expires_at: number;
  response: string | null;
  delivered: Bool;
}

export interface AuditLogTable {
  node_id: string;
  seq: number;
  time: number;
  event: string;
  integration: string | null;
  username: string | null;
  factor: string | null;
  result: string;
  reason: string;
  ipaddr: string | null;
  hostname: string | null;
  txid: string | null;
  detail: string;
  prev_hash: string;
  hash: string;
}

/** The head of each node's chain, locked by appendAudit so two writers cannot take one seq. */
export interface AuditHeadsTable {
  node_id: string;
  seq: number;
  hash: string;
}

export interface Database {
  integrations: IntegrationsTable;
  users: UsersTable;
  user_names: UserNamesTable;
  tokens: TokensTable;
  bypass_codes: BypassCodesTable;
  transactions: TransactionsTable;
  devices: DevicesTable;
  passkeys: PasskeysTable;
  activations: ActivationsTable;
  push_challenges: PushChallengesTable;
  push_fatigue: PushFatigueTable;
  server_secrets: ServerSecretsTable;
  enroll_tokens: EnrollTokensTable;
  request_records: RequestRecordsTable;
  audit_log: AuditLogTable;
  audit_heads: AuditHeadsTable;
  portal_sessions: PortalSessionsTable;
  pending_enrollments: PendingEnrollmentsTable;
  admins: AdminsTable;
  admin_sessions: AdminSessionsTable;
}
