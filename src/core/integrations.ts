// Integrations: the ikey/skey pairs Unix hosts sign their requests with.
import { ALLOWED_FACTORS, type AllowedFactor, type FailmodeHint, type IntegrationRow, type NewUserPolicy, type PushPolicy } from '../store/contract.js';
import { appendAudit } from './audit.js';
import type { Deps } from './deps.js';
import { CoreError } from './errors.js';
import { newIkey, newIntegrationId, newSkey } from './ids.js';
import { checkName } from './names.js';
import { effectivePushPolicy } from './push-outcome.js';

const POLICIES: readonly NewUserPolicy[] = ['enroll', 'allow', 'deny'];
/** `integration delete` refuses an integration used this recently unless forced. */
export const RECENT_USE_MS = 24 * 3600_000;

const skeyAad = (ikey: string): string => `integration/${ikey}/skey`;

export interface IntegrationView {
  ikey: string;
  name: string;
  newUserPolicy: NewUserPolicy;
  legacyV1: boolean;
  createdAt: number;
  lastUsedAt: number | null;
  previousSkeyValidUntil: number | null;
}

const view = (r: IntegrationRow): IntegrationView => ({
  ikey: r.ikey,
  name: r.name,
  newUserPolicy: r.newUserPolicy,
  legacyV1: r.legacyV1,
  createdAt: r.createdAt,
  lastUsedAt: r.lastUsedAt,
  previousSkeyValidUntil: r.prevSkeyExpiresAt,
});

export function parseNewUserPolicy(v: unknown): NewUserPolicy {
  if (typeof v === 'string' && (POLICIES as readonly string[]).includes(v)) return v as NewUserPolicy;
  throw new CoreError('bad_request', `new-user policy must be one of ${POLICIES.join(', ')}`);
}

export async function createIntegration(
  deps: Deps,
  opts: { name: string; newUserPolicy?: NewUserPolicy; legacyV1?: boolean },
): Promise<{ integration: IntegrationView; skey: string }> {
  const name = checkName('name', opts.name);
  const ikey = newIkey(deps.random);
  const skey = newSkey(deps.random);
  const row: IntegrationRow = {
    id: newIntegrationId(deps.random),
    ikey,
    name,
    skeySealed: deps.keyring.seal('integration-skey', skeyAad(ikey), skey),
    prevSkeySealed: null,
    prevSkeyExpiresAt: null,
    newUserPolicy: opts.newUserPolicy ?? 'enroll',
    pushPolicy: {},
    legacyV1: opts.legacyV1 ?? false,
    createdAt: deps.clock.now(),
    lastUsedAt: null,
  };
  await deps.store.createIntegration(row);
  await adminAudit(deps, 'integration_created', { ikey, name, newUserPolicy: row.newUserPolicy });
  return { integration: view(row), skey };
}

export async function listIntegrations(deps: Deps): Promise<IntegrationView[]> {
  return (await deps.store.listIntegrations()).map(view);
}

async function mustGet(deps: Deps, ikey: string): Promise<IntegrationRow> {
  const row = await deps.store.getIntegrationByIkey(ikey);
  if (!row) throw new CoreError('not_found', `no integration with ikey ${ikey}`);
  return row;
}

export async function showIntegration(deps: Deps, ikey: string): Promise<IntegrationView> {
  return view(await mustGet(deps, ikey));
}

export async function deleteIntegration(deps: Deps, ikey: string, force: boolean): Promise<void> {
  const row = await mustGet(deps, ikey);
  const now = deps.clock.now();
  if (!force && row.lastUsedAt !== null && now - row.lastUsedAt < RECENT_USE_MS) {
    throw new CoreError('refused', `integration ${ikey} was used in the last 24 hours; hosts using it would be locked out (use --force)`);
  }
  await deps.store.deleteIntegration(ikey);
  await adminAudit(deps, 'integration_deleted', { ikey, forced: force });
}

/** `tandem integration set IKEY --new-user-policy` and the console. */
export async function setNewUserPolicy(deps: Deps, ikey: string, policy: string): Promise<void> {
  const p = parseNewUserPolicy(policy);
  if (!(await deps.store.setIntegrationNewUserPolicy(ikey, p))) throw new CoreError('not_found', `no integration with ikey ${ikey}`);
  await adminAudit(deps, 'new_user_policy_set', { ikey, newUserPolicy: p });
}

/** New skey; the previous one keeps working for settings.skeyOverlapSeconds. */
export async function rotateSkey(deps: Deps, ikey: string): Promise<{ skey: string; previousValidUntil: number }> {
  const row = await mustGet(deps, ikey);
  const skey = newSkey(deps.random);
  const previousValidUntil = deps.clock.now() + deps.settings.skeyOverlapSeconds * 1000;
  const prev = deps.keyring.unseal('integration-skey', skeyAad(ikey), row.skeySealed).toString('utf8');
  await deps.store.rotateSkey(
    ikey,
    deps.keyring.seal('integration-skey', skeyAad(ikey), skey),
    deps.keyring.seal('integration-skey', skeyAad(ikey), prev),
    previousValidUntil,
  );
  await adminAudit(deps, 'integration_skey_rotated', { ikey, previousValidUntil });
  return { skey, previousValidUntil };
}

/** The integration and every skey currently valid for it (current first), for signature checks. */
export async function integrationKeys(deps: Deps, ikey: string): Promise<{ integration: IntegrationRow; skeys: string[] } | undefined> {
  const row = await deps.store.getIntegrationByIkey(ikey);
  if (!row) return undefined;
  const skeys = [deps.keyring.unseal('integration-skey', skeyAad(ikey), row.skeySealed).toString('utf8')];
  if (row.prevSkeySealed && row.prevSkeyExpiresAt !== null && row.prevSkeyExpiresAt > deps.clock.now()) {
    skeys.push(deps.keyring.unseal('integration-skey', skeyAad(ikey), row.prevSkeySealed).toString('utf8'));
  }
  return { integration: row, skeys };
}

export interface PushPolicyView {
  ikey: string;
  /** What the integration sets (absent fields: the site default). */
  policy: PushPolicy;
  /** What applies: the integration's values over the site defaults (push* settings, all factors, secure). */
  effective: Required<PushPolicy>;
}

/** Bounds as in config/schema.ts for the site defaults. */
const POLICY_BOUNDS = { maxPending: [1, 100], denialThreshold: [1, 1000], cooldownSeconds: [1, 30 * 86400] } as const;

function policyView(deps: Deps, r: IntegrationRow): PushPolicyView {
  return { ikey: r.ikey, policy: r.pushPolicy ?? {}, effective: effectivePushPolicy(deps, r) };
}

/** `push,passcode` (the CLI's --factors) → the factors in canonical order; unknown names refused. */
export function parseFactors(v: string): AllowedFactor[] {
  const names = v.split(',').map((x) => x.trim()).filter((x) => x !== '');
  for (const n of names) {
    if (!(ALLOWED_FACTORS as readonly string[]).includes(n)) throw new CoreError('bad_request', `factors must be some of ${ALLOWED_FACTORS.join(', ')}`);
  }
  return ALLOWED_FACTORS.filter((f) => names.includes(f));
}

/**
 * What duo_unix sends in preauth (`failmode=open|closed`, duo_api.md §2.4) against the
 * integration's hint: true when the host says something else (e.g. fails open while the hint is
 * secure). Nothing sent: nothing to compare.
 */
export function failmodeMismatch(hint: FailmodeHint, sent: string | undefined): boolean {
  if (sent === undefined) return false;
  return sent !== (hint === 'safe' ? 'open' : 'closed');
}

/**
 * The audit detail for the failmode a host sent: `failmode_mismatch: true` when it differs from
 * the integration's hint, so an admin can find hosts configured to fail open.
 */
export function failmodeDetail(deps: Pick<Deps, 'settings'>, integration: Pick<IntegrationRow, 'pushPolicy'>, failmode: string | undefined): Record<string, unknown> {
  if (failmode === undefined || failmode === '') return {};
  return failmodeMismatch(effectivePushPolicy(deps, integration).failmodeHint, failmode) ? { failmode, failmode_mismatch: true } : { failmode };
}

/** How far back the console and the CLI look for hosts whose failmode differs from the hint. */
export const FAILMODE_WINDOW_MS = 7 * 86400_000;
/** At most this many recent preauth entries are read for it (newest first). */
const FAILMODE_SCAN_LIMIT = 20_000;

/** The distinct hostnames whose preauth said another failmode than the hint, in the last 7 days. */
export async function failmodeMismatchHosts(deps: Deps, ikey: string): Promise<string[]> {
  const entries = await deps.store.queryAudit({ integration: ikey, event: 'preauth', since: deps.clock.now() - FAILMODE_WINDOW_MS, limit: FAILMODE_SCAN_LIMIT });
  const hosts = new Set<string>();
  for (const e of entries) {
    let d: unknown;
    try {
      d = JSON.parse(e.detail);
    } catch {
      continue;
    }
    if (d !== null && typeof d === 'object' && (d as Record<string, unknown>)['failmode_mismatch'] === true) hosts.add(e.hostname ?? '(no hostname)');
  }
  return [...hosts].sort();
}

export async function showPushPolicy(deps: Deps, ikey: string): Promise<PushPolicyView> {
  return policyView(deps, await mustGet(deps, ikey));
}

/** Changes the fields given (the others keep their value), validated; audited when anything changed. */
export async function setPushPolicy(deps: Deps, ikey: string, changes: PushPolicy): Promise<PushPolicyView> {
  const row = await mustGet(deps, ikey);
  if (changes.verifiedPush !== undefined && changes.verifiedPush !== 'off' && changes.verifiedPush !== 'required') {
    throw new CoreError('bad_request', 'verified push must be off or required');
  }
  for (const k of ['maxPending', 'denialThreshold', 'cooldownSeconds'] as const) {
    const v = changes[k];
    const [min, max] = POLICY_BOUNDS[k];
    if (v !== undefined && (!Number.isSafeInteger(v) || v < min || v > max)) throw new CoreError('bad_request', `${k} must be an integer from ${min} to ${max}`);
  }
  if (changes.fraudLocks !== undefined && typeof changes.fraudLocks !== 'boolean') throw new CoreError('bad_request', 'fraudLocks must be true or false');
  if (changes.approvalAuth !== undefined && changes.approvalAuth !== 'device-key' && changes.approvalAuth !== 'passkey') {
    throw new CoreError('bad_request', 'approval must be device-key or passkey');
  }
  if (changes.factors !== undefined) {
    if (!Array.isArray(changes.factors) || changes.factors.some((f) => !(ALLOWED_FACTORS as readonly unknown[]).includes(f))) {
      throw new CoreError('bad_request', `factors must be some of ${ALLOWED_FACTORS.join(', ')}`);
    }
    if (changes.factors.length === 0) throw new CoreError('bad_request', 'at least one factor must be allowed');
    changes = { ...changes, factors: ALLOWED_FACTORS.filter((f) => changes.factors!.includes(f)) };
  }
  if (changes.failmodeHint !== undefined && changes.failmodeHint !== 'secure' && changes.failmodeHint !== 'safe') {
    throw new CoreError('bad_request', 'failmode hint must be secure or safe');
  }
  const policy: PushPolicy = { ...(row.pushPolicy ?? {}) };
  for (const [k, v] of Object.entries(changes) as [keyof PushPolicy, PushPolicy[keyof PushPolicy]][]) {
    if (v !== undefined) (policy as Record<string, unknown>)[k] = v;
  }
  if (JSON.stringify(policy) !== JSON.stringify(row.pushPolicy ?? {})) {
    if (!(await deps.store.setIntegrationPushPolicy(ikey, policy))) throw new CoreError('not_found', `no integration with ikey ${ikey}`);
    await adminAudit(deps, 'integration_push_policy_set', { ikey, policy });
  }
  return policyView(deps, { ...row, pushPolicy: policy });
}

/** Operator actions go into the same hash chain as authentication decisions. */
export async function adminAudit(deps: Deps, action: string, detail: Record<string, unknown>, username: string | null = null): Promise<void> {
  await appendAudit(deps, {
    event: 'admin',
    integration: typeof detail['ikey'] === 'string' ? (detail['ikey'] as string) : null,
    username,
    factor: null,
    result: 'ok',
    reason: action,
    ipaddr: null,
    hostname: null,
    txid: null,
    detail: deps.actor === undefined ? detail : { ...detail, actor: deps.actor },
  });
}
