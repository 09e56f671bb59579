// preauth(user, integration, ip, host) → allow | deny | enroll(url) | auth(devices, factors, prompt)
//
// Unlike /auth, preauth necessarily tells an enrolled user from an unknown or denied one: that is
// its purpose (duo_unix shows the enrollment link or the menu). Every answer is audited.
import { createHash } from 'node:crypto';
import { buildPrompt, type PromptOption } from '../protocol/duo-prompt.js';
import { appendAudit } from './audit.js';
import type { LoginContext, RequestContext, UserRef } from './context.js';
import type { Deps } from './deps.js';
import { CoreError } from './errors.js';
import { newLinkToken, newTxid } from './ids.js';
import { failmodeDetail } from './integrations.js';
import { effectivePushPolicy, pushDevices } from './push.js';
import type { RateLimiter } from './rate-limit.js';
import { isBypass, loadUser, standing } from './user-state.js';

export interface PreauthRequest extends LoginContext {
  user: UserRef;
  textPrompt: boolean;
  /** Duo's client_supports_verified_push=1: the client can show a verification code. */
  clientSupportsVerifiedPush?: boolean;
}

export interface PreauthDevice {
  device: string;
  type: 'phone' | 'token';
  name: string;
  display_name: string;
  capabilities: string[];
}

export type PreauthResponse =
  | { result: 'auth'; status_msg: string; devices: PreauthDevice[]; prompt?: { text: string; factors: Record<string, string> }; txid?: string }
  | { result: 'allow' | 'deny'; status_msg: string }
  | { result: 'enroll'; status_msg: string; enroll_portal_url: string };

export const MSG = {
  active: 'Account is active',
  enrolledAllow: 'Two-factor authentication is not required for this account.',
  bypass: 'Two-factor authentication is bypassed for this account.',
  deny: 'Access denied. Contact your administrator.',
  locked: 'Your account is locked out after too many failed attempts. Contact your administrator.',
  noAllowedFactor: 'None of your login methods is allowed on this host. Contact your administrator.',
} as const;

export function portalBase(deps: Deps): string {
  const s = deps.settings;
  if (s.publicUrl) return s.publicUrl.replace(/\/+$/, '');
  const host = s.hosts[0] ?? 'localhost';
  return `https://${host.includes(':') ? `[${host}]` : host}${s.listen.port === 443 ? '' : `:${s.listen.port}`}`;
}

/** A fresh, single-use, expiring enrollment link; only its SHA-256 is stored. */
async function enrollLink(deps: Deps, ctx: RequestContext, username: string): Promise<string> {
  const token = newLinkToken(deps.random);
  const now = deps.clock.now();
  await deps.store.createEnrollToken({
    tokenHash: createHash('sha256').update(token).digest('hex'),
    integrationId: ctx.integration.id,
    username,
    createdAt: now,
    expiresAt: now + deps.settings.enrollLinkSeconds * 1000,
    usedAt: null,
  });
  return `${portalBase(deps)}/portal/enroll/${token}`;
}

export async function preauth(deps: Deps, limiter: RateLimiter, ctx: RequestContext, req: PreauthRequest): Promise<PreauthResponse> {
  const name = 'username' in req.user ? req.user.username : req.user.userId;
  const retry = limiter.hit(`user:${name}`, deps.settings.rateLimitUserPerMinute);
  if (retry !== null) throw new CoreError('rate_limited', 'too many requests for this user', retry);

  const user = await loadUser(deps, req.user);
  const now = deps.clock.now();
  const st = standing(user, now);
  const tokens = user ? await deps.store.listTokens(user.id) : [];
  const bypass = user ? await deps.store.listBypassCodes(user.id) : [];
  const enrolled = tokens.length > 0 || bypass.some((b) => b.expiresAt === null || b.expiresAt > now);

  let response: PreauthResponse;
  let reason: string;
  const detail: Record<string, unknown> = {};
  if (st === 'disabled') {
    response = { result: 'deny', status_msg: MSG.deny };
    reason = 'user_disabled';
  } else if (st === 'locked_out') {
    response = { result: 'deny', status_msg: MSG.locked };
    reason = 'locked_out';
  } else if (user && isBypass(user, st)) {
    // Duo's bypass status: allow with no second factor, whatever the integration's policy and
    // whether the user is enrolled (after the disabled and locked checks above: those still deny).
    response = { result: 'allow', status_msg: MSG.bypass };
    reason = 'user_bypass';
  } else if (st === 'unknown' || !enrolled) {
    // Duo's new-user policy applies to unknown users and to known users with no factor yet.
    const policy = ctx.integration.newUserPolicy;
    if (policy === 'allow') {
      response = { result: 'allow', status_msg: MSG.enrolledAllow };
      reason = 'allow_unenrolled_user';
    } else if (policy === 'deny') {
      response = { result: 'deny', status_msg: MSG.deny };
      reason = 'deny_unenrolled_user';
    } else {
      const url = await enrollLink(deps, ctx, user?.username ?? name);
      response = { result: 'enroll', status_msg: `Enroll in Tandem two-factor authentication at ${url}`, enroll_portal_url: url };
      reason = 'enroll_required';
    }
  } else {
    // Push devices (the Tandem Authenticator) first, in the order auth's `pushN` counts them;
    // their TOTP tokens are the devices themselves, not separate tokens.
    const phones = await pushDevices(deps, user!.id);
    const policy = effectivePushPolicy(deps, ctx.integration);
    // Factors the integration does not allow are left out (Duo's allowed_auth_list).
    const pushAllowed = policy.factors.includes('push');
    const passcodeAllowed = policy.factors.includes('passcode');
    const bypassAllowed = policy.factors.includes('bypass');
    const declared = req.clientSupportsVerifiedPush === true;
    // A client that cannot show the verification code is not offered push at all (docs/push.md §6).
    const withheld = pushAllowed && phones.length > 0 && policy.verifiedPush === 'required' && !declared;
    // The audit entry says why: verified push is required and the client did not declare it.
    if (withheld) detail['pushWithheld'] = 'verified_push_unsupported_client';
    const offerPush = pushAllowed && !withheld;
    const deviceTokens = new Set(phones.map((d) => d.tokenId));
    const otherTokens = tokens.filter((t) => !deviceTokens.has(t.id));
    const usableBypass = bypass.some((b) => (b.expiresAt === null || b.expiresAt > now) && (b.usesRemaining === null || b.usesRemaining > 0));
    const usable = (offerPush && phones.length > 0) || (passcodeAllowed && tokens.length > 0) || (bypassAllowed && usableBypass);
    if (!pushAllowed || !passcodeAllowed || !bypassAllowed) detail['factorsAllowed'] = policy.factors;
    if (!usable) {
      response = { result: 'deny', status_msg: MSG.noAllowedFactor };
      reason = 'no_allowed_factor';
    } else {
      const devices: PreauthDevice[] = [
        // A phone stays listed while it can do something here: push, or its codes as passcodes.
        ...phones
          .filter(() => pushAllowed || passcodeAllowed)
          .map((d): PreauthDevice => ({ device: d.id, type: 'phone', name: d.name, display_name: d.name, capabilities: offerPush ? ['auto', 'push'] : [] })),
        ...(passcodeAllowed ? otherTokens : []).map((t): PreauthDevice => ({ device: t.id, type: 'token', name: t.type.toUpperCase(), display_name: `${t.type.toUpperCase()} token`, capabilities: [] })),
      ];
      response = { result: 'auth', status_msg: MSG.active, devices };
      const options: PromptOption[] = offerPush ? phones.map((d, i) => ({ factor: 'push', device: i + 1, label: `Tandem Push to ${d.name}` })) : [];
      if (req.textPrompt) response.prompt = buildPrompt({ username: user!.username, options, passcode: passcodeAllowed || bypassAllowed });
      // duo_unix with verified_push = yes sends this txid back with auth: a second declaration.
      if (declared) response.txid = newTxid(deps.random);
      reason = 'enrolled';
    }
  }

  await appendAudit(deps, {
    event: 'preauth',
    integration: ctx.integration.ikey,
    username: user?.username ?? name,
    factor: null,
    result: response.result,
    reason,
    ipaddr: req.ipaddr,
    hostname: req.hostname,
    txid: null,
    detail: { peer: ctx.peer, ...failmodeDetail(deps, ctx.integration, req.failmode), ...detail },
  });
  return response;
}
