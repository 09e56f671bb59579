// Integrations: the ikey/skey pairs Unix hosts sign their requests with.
import type { IntegrationRow, NewUserPolicy, PushPolicy } from '../store/contract.js';
import { appendAudit } from './audit.js';
import type { Deps } from './deps.js';
import { CoreError } from './errors.js';
import { newIkey, newIntegrationId, newSkey } from './ids.js';
import { checkName } from './names.js';

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
  /** What applies: the integration's values over the site defaults (push* settings). */
  effective: Required<PushPolicy>;
}

/** Bounds as in config/schema.ts for the site defaults. */
const POLICY_BOUNDS = { maxPending: [1, 100], denialThreshold: [1, 1000], cooldownSeconds: [1, 30 * 86400] } as const;

function policyView(deps: Deps, r: IntegrationRow): PushPolicyView {
  const s = deps.settings;
  const p = r.pushPolicy ?? {};
  return {
    ikey: r.ikey,
    policy: p,
    effective: {
      verifiedPush: p.verifiedPush ?? s.pushVerifiedDefault,
      maxPending: p.maxPending ?? s.pushMaxPending,
      denialThreshold: p.denialThreshold ?? s.pushDenialThreshold,
      cooldownSeconds: p.cooldownSeconds ?? s.pushCooldownSeconds,
      fraudLocks: p.fraudLocks ?? true,
      approvalAuth: p.approvalAuth ?? 'device-key',
    },
  };
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
