// auth(factor, device, passcode | push, context) → txid: pending → allow | deny | timeout
//
// The pipeline, in order:
//   rateLimit → loadUser → standing → verifyFactor (acceptOnce inside) → record (failures,
//   lockout, last login) → transaction (a passcode's is recorded settled; a device factor's is
//   created pending and settled by its channel) → audit → answer (sync: final; async: txid)
// A user in Duo's bypass status (and neither disabled nor locked) skips verifyFactor: whatever the
// factor, the transaction is recorded settled as allow with status `bypass` (clients that skip
// preauth), audited as user_bypass. Such a user is meant to differ from the others.
// A wrong code, a replayed code, an unknown user, a disabled and a locked user all get the same
// answer and the same work (see verify-passcode.ts); only the audit log knows which it was.
import { parsePromptChoice } from '../protocol/duo-prompt.js';
import { parseForm } from '../protocol/form.js';
import { appendAudit } from './audit.js';
import type { LoginContext, RequestContext, UserRef } from './context.js';
import type { Deps } from './deps.js';
import { CoreError } from './errors.js';
import type { RateLimiter } from './rate-limit.js';
import type { TransactionRow, UserRow } from '../store/contract.js';
import { failmodeDetail } from './integrations.js';
import { effectivePushPolicy, startPush, type DeviceParam } from './push.js';
import { STATUS, createTransaction, expireTransaction, settle, txStatus, waitForChange, type TxStatus } from './transactions.js';
import { REFUSAL_REASON, isBypass, lockMs, loadUser, standing } from './user-state.js';
import { verifyPasscode } from './verify-passcode.js';

/** An id no user has: bookkeeping writes against it change nothing. */
const NOBODY = 'DU00000000000000NOBODY';

export type FactorParam = 'auto' | 'push' | 'passcode' | 'phone' | 'sms' | 'prompt';

export interface AuthRequest extends LoginContext {
  user: UserRef;
  factor: FactorParam;
  passcode: string | null;
  /** duo_unix's factor=prompt&prompt=<push1 | phone1 | sms1 | typed passcode> */
  prompt: string | null;
  device: string | null;
  async: boolean;
  pushinfo: string | null;
  type: string | null;
  displayUsername: string | null;
  /** Duo's client_supports_verified_push=1: the client can show a verification code. */
  clientSupportsVerifiedPush?: boolean;
  /** The txid preauth answered with (duo_unix sends it back with verified_push = yes). */
  txid?: string | null;
}

/** `verification_code` is a Tandem extension (Duo clients ignore unknown fields). */
export type AuthResponse = TxStatus | { txid: string; verification_code?: string };

type Resolved = { kind: 'passcode'; passcode: string } | { kind: 'device'; factor: 'push' | 'phone' | 'sms' | 'auto'; index: number | null };

function resolveFactor(req: AuthRequest): Resolved {
  switch (req.factor) {
    case 'passcode':
      if (req.passcode === null) throw new CoreError('bad_request', 'passcode is required for factor=passcode');
      return { kind: 'passcode', passcode: req.passcode };
    case 'prompt': {
      if (req.prompt === null) throw new CoreError('bad_request', 'prompt is required for factor=prompt');
      const choice = parsePromptChoice(req.prompt);
      return choice.kind === 'passcode' ? choice : { kind: 'device', factor: choice.factor, index: choice.device };
    }
    default:
      return { kind: 'device', factor: req.factor, index: null };
  }
}

/**
 * pushinfo is itself form-encoded text (`Server+IP=192.0.2.2&Command=sudo%20ls`), sent as one
 * parameter and so encoded twice on the wire (duo_unix.md §3.2): decode it a second time into
 * the key/value rows an approver is shown. Undecodable text is kept as it came.
 */
export function decodePushinfo(raw: string | null): Array<[string, string]> | string | null {
  if (raw === null) return null;
  try {
    return parseForm(raw);
  } catch {
    return raw;
  }
}

const UNAVAILABLE: Record<'push' | 'phone' | 'sms' | 'auto', string> = {
  push: 'Push login is not available for this account. Enter a passcode instead.',
  phone: 'Phone call login is not available for this account. Enter a passcode instead.',
  sms: 'SMS passcodes are not available for this account. Enter a passcode instead.',
  auto: 'Automatic login (push or phone call) is not available for this account. Enter a passcode instead.',
};

const PUSH_NOT_ALLOWED = 'Push login is not allowed for this host. Enter a passcode instead.';
const PUSH_NOT_ALLOWED_ONLY = 'Push login is not allowed for this host. Contact your administrator.';

/** A UUID-shaped txid, as preauth hands out when the client declares verified push. */
const PREAUTH_TXID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The client can show a verification code: it said so (client_supports_verified_push=1), or it
 * passed back the txid preauth gives such clients. Claiming it falsely gains nothing: the code
 * is still required, and only this client is ever told it.
 */
export function declaresVerifiedPush(req: Pick<AuthRequest, 'clientSupportsVerifiedPush' | 'txid'>): boolean {
  return req.clientSupportsVerifiedPush === true || (typeof req.txid === 'string' && PREAUTH_TXID.test(req.txid));
}

function deviceParam(req: AuthRequest, index: number | null): DeviceParam {
  if (index !== null) return { kind: 'index', n: index };
  if (req.device === null || req.device === 'auto') return { kind: 'any' };
  return { kind: 'id', id: req.device };
}

export async function auth(deps: Deps, limiter: RateLimiter, ctx: RequestContext, req: AuthRequest, signal?: AbortSignal): Promise<AuthResponse> {
  const name = 'username' in req.user ? req.user.username : req.user.userId;
  const factor = resolveFactor(req);
  const retry = limiter.hit(`user:${name}`, deps.settings.rateLimitUserPerMinute);
  if (retry !== null) throw new CoreError('rate_limited', 'too many requests for this user', retry);

  const user = await loadUser(deps, req.user);
  const st = standing(user, deps.clock.now());
  const context = { ipaddr: req.ipaddr, hostname: req.hostname, pushinfo: decodePushinfo(req.pushinfo), type: req.type, display_username: req.displayUsername, peer: ctx.peer };
  const base = { integrationId: ctx.integration.id, userId: user?.id ?? null, username: user?.username ?? name, context };

  const factors = effectivePushPolicy(deps, ctx.integration).factors;
  let tx: TransactionRow;
  let auditFactor: string;
  let reason: string;
  let allowed = false;
  let matchCode: string | null = null;
  if (user && isBypass(user, st)) {
    // Nothing is checked or consumed: the passcode, if any, is ignored (Duo does the same).
    auditFactor = factor.kind === 'passcode' ? 'passcode' : factor.factor;
    reason = 'user_bypass';
    allowed = true;
    await deps.store.recordSuccess(user.id, deps.clock.now());
    tx = await createTransaction(deps, { ...base, factor: auditFactor, state: 'allow', status: STATUS.bypass.status, statusMsg: STATUS.bypass.msg });
  } else if (factor.kind === 'passcode') {
    // Factors the integration does not allow: refused like a wrong code (same answer, same
    // work, a failed attempt), audited as factor_not_allowed; the code is not consumed.
    const outcome = await verifyPasscode(deps, user, st === 'active', factor.passcode, { passcode: factors.includes('passcode'), bypass: factors.includes('bypass') });
    auditFactor = outcome.ok || outcome.reason === 'factor_not_allowed' ? outcome.factor : 'passcode';
    allowed = outcome.ok;
    reason = outcome.ok ? 'valid_passcode' : st === 'active' ? outcome.reason : REFUSAL_REASON[st];
    // Exactly one bookkeeping write on every path (a no-op against a nobody id for users who may
    // not log in), so the work done does not tell the cases apart.
    if (allowed && user) {
      await deps.store.recordSuccess(user.id, deps.clock.now());
    } else {
      const counted = user && st === 'active' ? user.id : NOBODY;
      const after = await deps.store.recordFailure(counted, deps.clock.now(), deps.settings.lockoutThreshold, lockMs(deps));
      if (counted !== NOBODY && after.lockedUntil !== null) reason += '; user_locked_out';
    }
    // The decision is made: the transaction is recorded already settled (allow | deny).
    const final = allowed ? STATUS.allow : STATUS.deny;
    tx = await createTransaction(deps, { ...base, factor: 'passcode', state: allowed ? 'allow' : 'deny', status: final.status, statusMsg: final.msg });
  } else if ((factor.factor === 'push' || factor.factor === 'auto') && !factors.includes('push')) {
    // The integration does not allow push: the same clear refusal for every user (it says
    // nothing about the account), settled at once as a deny and audited.
    auditFactor = factor.factor;
    reason = 'factor_not_allowed';
    tx = await createTransaction(deps, { ...base, factor: factor.factor, state: 'deny', status: 'deny', statusMsg: factors.length > 0 ? PUSH_NOT_ALLOWED : PUSH_NOT_ALLOWED_ONLY });
  } else {
    // factor=auto picks push: it is the only device factor there is.
    const pushed = (factor.factor === 'push' || factor.factor === 'auto') && st === 'active' && user ? await startPushFor(deps, ctx, req, user, factor.index, context) : null;
    if (pushed) {
      // Pending until the app answers or it expires (core/push.ts); a refusal (paused, limit,
      // client without verified push, no such device) is already settled as a deny.
      auditFactor = 'push';
      tx = pushed.tx;
      reason = pushed.reason;
      matchCode = pushed.matchCode;
    } else {
      // Phone and SMS do not exist, nor push for a user without a device (or who may not log
      // in): they settle at once as a deny through the same state machine, and like every
      // device factor's refusal do not count as a failed attempt.
      auditFactor = factor.factor;
      reason = st === 'active' ? 'factor_not_available' : REFUSAL_REASON[st];
      tx = await createTransaction(deps, { ...base, factor: factor.factor, status: 'pending', statusMsg: 'Preparing login request...' });
      await settle(deps, tx.txid, 'deny', 'deny', UNAVAILABLE[factor.factor]);
    }
  }

  await appendAudit(deps, {
    event: 'auth',
    integration: ctx.integration.ikey,
    username: user?.username ?? name,
    factor: auditFactor,
    result: allowed ? 'allow' : tx.state === 'pending' ? 'waiting' : 'deny',
    reason,
    ipaddr: req.ipaddr,
    hostname: req.hostname,
    txid: tx.txid,
    // pushinfo (e.g. sudo's command) is kept with the decision it came with: untrusted text,
    // stored as JSON and only ever shown as text.
    detail: { peer: ctx.peer, async: req.async, ...failmodeDetail(deps, ctx.integration, req.failmode), ...(context.pushinfo ? { pushinfo: context.pushinfo } : {}) },
  });

  if (req.async) return matchCode !== null ? { txid: tx.txid, verification_code: matchCode } : { txid: tx.txid };
  if (tx.state !== 'pending') return txStatus(tx);
  // Sync: hold until the transaction settles; at its expiry waitForChange settles it as timeout.
  const final = await waitForChange(deps, tx.txid, Number.MAX_SAFE_INTEGER, Math.max(tx.expiresAt - deps.clock.now(), 0) + 1000, signal);
  return txStatus(final!);
}

/**
 * Start a push for an active user, or record its refusal as a settled deny. Returns the
 * transaction, the audit reason and, with number matching, the code the login shows.
 */
async function startPushFor(
  deps: Deps,
  ctx: RequestContext,
  req: AuthRequest,
  user: UserRow,
  index: number | null,
  context: Record<string, unknown>,
): Promise<{ tx: TransactionRow; reason: string; matchCode: string | null } | null> {
  const policy = effectivePushPolicy(deps, ctx.integration);
  const pushCtx = { ...context, pushinfo_raw: req.pushinfo, ipaddr: req.ipaddr, hostname: req.hostname, type: req.type, display_username: req.displayUsername };
  const r = await startPush(deps, ctx, user, deviceParam(req, index), pushCtx, policy, declaresVerifiedPush(req));
  if (r.kind === 'pushed') return { tx: r.tx, reason: 'pushed', matchCode: r.matchCode };
  // No device at all: exactly what a passcode-only user got before push existed.
  if (r.reason === 'factor_not_available') return null;
  const tx = await createTransaction(deps, {
    integrationId: ctx.integration.id,
    userId: user.id,
    username: user.username,
    factor: 'push',
    state: 'deny',
    status: 'deny',
    statusMsg: r.statusMsg,
    context: pushCtx,
  });
  return { tx, reason: r.reason, matchCode: null };
}

/** auth_status: long-poll one transaction. The first poll of a version answers at once. */
/**
 * duo_unix polls at most 20 times, and 1.11.3 and 2.2.3 treat a 20th poll still without a result
 * as SUCCESS. Whatever the timers, a transaction polled this often is settled as `timeout` first.
 */
export const MAX_STATUS_POLLS = 15;

export type AuthStatusResponse = TxStatus & { verification_code?: string };

export async function authStatus(deps: Deps, lastSeen: Map<string, number>, ctx: RequestContext, txid: string, signal?: AbortSignal): Promise<AuthStatusResponse> {
  const row = await deps.store.getTransaction(txid);
  // Another integration's txid is as unknown as a made-up one.
  if (!row || row.integrationId !== ctx.integration.id) throw new CoreError('bad_request', 'unknown or expired txid');
  if (row.state === 'pending' && (await deps.store.countStatusPoll(txid)) >= MAX_STATUS_POLLS) {
    await expireTransaction(deps, txid);
    return txStatus((await deps.store.getTransaction(txid)) ?? row);
  }
  const seen = lastSeen.get(txid) ?? 0;
  const now = row.state === 'pending' && row.version <= seen ? await waitForChange(deps, txid, seen, deps.settings.longPollSeconds * 1000, signal) : row;
  const current = now ?? row;
  if (current.state === 'pending') {
    lastSeen.set(txid, current.version);
    if (lastSeen.size > 50_000) lastSeen.delete(lastSeen.keys().next().value!);
  } else {
    lastSeen.delete(txid);
  }
  return withVerificationCode(deps, current);
}

/**
 * A pending push with number matching carries its code (`verification_code`, a Tandem
 * extension); its status_msg already says it. Only clients that declared they show it ever get
 * a push with a code, so this is never news to the client asking.
 */
async function withVerificationCode(deps: Deps, row: TransactionRow): Promise<AuthStatusResponse> {
  const status = txStatus(row);
  if (row.state !== 'pending' || row.factor !== 'push') return status;
  const challenge = await deps.store.getPushChallenge(row.txid);
  return challenge?.matchCode ? { ...status, verification_code: challenge.matchCode } : status;
}
