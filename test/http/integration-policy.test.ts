// Per-integration "factors allowed" and "failmode hint" through signed /auth/v2 requests:
// preauth leaves out what the integration does not allow (no push capability or menu entry, no
// token devices), and denies with no_allowed_factor when nothing is left; auth refuses a
// disallowed passcode or bypass code exactly like a wrong code (and consumes nothing), and push
// with a clear deny; a host's failmode that differs from the hint is recorded in the audit detail
// and counted per host.
import { afterEach, describe, expect, it } from 'vitest';
import { createBypassCodes } from '../../src/core/bypass.js';
import { failmodeMismatchHosts, setPushPolicy } from '../../src/core/integrations.js';
import { addToken } from '../../src/core/tokens.js';
import { createUser } from '../../src/core/users.js';
import { base32Decode } from '../../src/protocol/base32.js';
import { hotp } from '../../src/protocol/hotp.js';
import { totpStep } from '../../src/protocol/totp.js';
import type { AllowedFactor } from '../../src/store/contract.js';
import { call } from '../support/harness.js';
import { LOGIN, auditEntries, deviceFor, listed, startPushHarness, type PushHarness } from '../support/push-harness.js';

let p: PushHarness;
afterEach(async () => p.h.close());

const INCORRECT = { result: 'deny', status: 'deny', status_msg: 'Incorrect passcode. Please try again.' };

async function harness(factors?: AllowedFactor[]): Promise<PushHarness> {
  const r = await startPushHarness();
  if (factors) await setPushPolicy(r.h.deps, r.creds.ikey, { factors });
  return r;
}

/** A user with a push device, a separate TOTP token and one bypass code. */
async function fullyEnrolled(name: string) {
  const device = await deviceFor(p.h, name, 'Pixel');
  const t = await addToken(p.h.deps, name, { type: 'totp' });
  const bypass = (await createBypassCodes(p.h.deps, name, { count: 1, uses: 1 })).codes[0]!;
  return { device, secret: base32Decode(t.secret), tokenId: t.token.tokenId, bypass };
}

const totp = (secret: Buffer): string => hotp(secret, totpStep(p.h.clock.now(), 30), { digits: 6, algorithm: 'sha1' });
const preauth = async (username: string, extra: Record<string, string> = {}) =>
  (await call(p.h, p.creds, 'POST', '/auth/v2/preauth', { username, text_prompt: '1', ...LOGIN, ...extra })).body.response as Record<string, unknown>;
const passcode = async (username: string, code: string) =>
  (await call(p.h, p.creds, 'POST', '/auth/v2/auth', { username, factor: 'passcode', passcode: code, ...LOGIN })).body.response as Record<string, unknown>;
const lastAudit = async (event: string) => (await auditEntries(p.h, event))[0]!;

describe('default: every factor', () => {
  it('preauth offers push and lists the token; TOTP and bypass codes work', async () => {
    p = await harness();
    const u = await fullyEnrolled('alice');
    const pre = await preauth('alice');
    const devices = pre['devices'] as Array<Record<string, unknown>>;
    expect(devices.map((d) => [d['type'], d['capabilities']])).toEqual([['phone', ['auto', 'push']], ['token', []]]);
    expect((pre['prompt'] as { factors: object }).factors).toEqual({ '1': 'push1', default: 'push1' });
    expect(await passcode('alice', totp(u.secret))).toMatchObject({ result: 'allow' });
    expect(await passcode('alice', u.bypass)).toMatchObject({ result: 'allow' });
    expect((await lastAudit('preauth')).detailJson['factorsAllowed']).toBeUndefined();
  });
});

describe('push not allowed', () => {
  it('preauth: no push capability, no menu entry, the phone stays for its codes; auth push is refused with a clear deny', async () => {
    p = await harness(['passcode', 'bypass']);
    const u = await fullyEnrolled('bob');
    const pre = await preauth('bob');
    expect(pre['result']).toBe('auth');
    const devices = pre['devices'] as Array<Record<string, unknown>>;
    expect(devices.map((d) => [d['type'], d['capabilities']])).toEqual([['phone', []], ['token', []]]);
    const prompt = pre['prompt'] as { text: string; factors: object };
    expect(prompt.factors).toEqual({});
    expect(prompt.text).toContain('Enter a passcode: ');
    expect((await lastAudit('preauth')).detailJson['factorsAllowed']).toEqual(['passcode', 'bypass']);

    const tries: Array<Record<string, string>> = [{ factor: 'push', device: 'auto' }, { factor: 'auto' }, { factor: 'prompt', prompt: 'push1' }];
    for (const params of tries) {
      const r = await call(p.h, p.creds, 'POST', '/auth/v2/auth', { username: 'bob', async: '0', ...params, ...LOGIN });
      expect(r.body.response).toEqual({ result: 'deny', status: 'deny', status_msg: 'Push login is not allowed for this host. Enter a passcode instead.' });
      const a = await lastAudit('auth');
      expect([a.result, a.reason]).toEqual(['deny', 'factor_not_allowed']);
    }
    // Nothing reached the device, and an unknown user gets the very same answer.
    expect((await u.device.requests()).requests).toEqual([]);
    const nobody = await call(p.h, p.creds, 'POST', '/auth/v2/auth', { username: 'nobody', factor: 'push', device: 'auto' });
    expect(nobody.body.response).toEqual({ result: 'deny', status: 'deny', status_msg: 'Push login is not allowed for this host. Enter a passcode instead.' });
    // Passcodes still work.
    expect(await passcode('bob', totp(u.secret))).toMatchObject({ result: 'allow' });
  });

  it('a push-only user is denied at preauth with no_allowed_factor', async () => {
    p = await harness(['passcode']);
    await deviceFor(p.h, 'carol');
    // The device's own TOTP token counts as a passcode factor: carol still has one.
    expect((await preauth('carol'))['result']).toBe('auth');
    await setPushPolicy(p.h.deps, p.creds.ikey, { factors: ['bypass'] });
    const pre = await preauth('carol');
    expect(pre).toEqual({ result: 'deny', status_msg: 'None of your login methods is allowed on this host. Contact your administrator.' });
    const a = await lastAudit('preauth');
    expect([a.result, a.reason]).toEqual(['deny', 'no_allowed_factor']);
  });
});

describe('passcode (TOTP) not allowed', () => {
  it('preauth: tokens left out; a valid TOTP is "Incorrect passcode", audited factor_not_allowed, not consumed', async () => {
    p = await harness(['push', 'bypass']);
    const u = await fullyEnrolled('dave');
    const pre = await preauth('dave');
    const devices = pre['devices'] as Array<Record<string, unknown>>;
    expect(devices.map((d) => [d['type'], d['capabilities']])).toEqual([['phone', ['auto', 'push']]]);
    // Bypass codes are still typed at the prompt.
    expect((pre['prompt'] as { text: string }).text).toContain('Passcode or option (1-1)');

    const code = totp(u.secret);
    expect(await passcode('dave', code)).toEqual(INCORRECT);
    const a = await lastAudit('auth');
    expect([a.result, a.reason, a.factor]).toEqual(['deny', 'factor_not_allowed', 'passcode']);
    expect((await p.h.deps.store.getToken(u.tokenId))!.nextCounter).toBe(0);
    // Bypass codes and push still work.
    expect(await passcode('dave', u.bypass)).toMatchObject({ result: 'allow' });
    const push = await call(p.h, p.creds, 'POST', '/auth/v2/auth', { username: 'dave', factor: 'push', device: 'auto', async: '1', ...LOGIN });
    await listed(u.device, push.body.response!['txid'] as string);
  });

  it('a TOTP-only user is denied at preauth with no_allowed_factor', async () => {
    p = await harness(['push', 'bypass']);
    await createUser(p.h.deps, 'erin');
    await addToken(p.h.deps, 'erin', { type: 'totp' });
    expect((await preauth('erin'))['result']).toBe('deny');
    expect((await lastAudit('preauth')).reason).toBe('no_allowed_factor');
  });
});

describe('bypass codes not allowed', () => {
  it('a valid bypass code is "Incorrect passcode", audited factor_not_allowed, and stays usable elsewhere', async () => {
    p = await harness(['push', 'passcode']);
    const u = await fullyEnrolled('fay');
    const pre = await preauth('fay');
    expect((pre['devices'] as unknown[]).length).toBe(2);
    expect(await passcode('fay', u.bypass)).toEqual(INCORRECT);
    const a = await lastAudit('auth');
    expect([a.result, a.reason, a.factor]).toEqual(['deny', 'factor_not_allowed', 'bypass_code']);
    expect(await passcode('fay', '999999999')).toEqual(INCORRECT);
    expect((await lastAudit('auth')).reason).toBe('invalid_passcode');
    expect(await passcode('fay', totp(u.secret))).toMatchObject({ result: 'allow' });
    // Not consumed: the code still works once bypass codes are allowed again.
    await setPushPolicy(p.h.deps, p.creds.ikey, { factors: ['push', 'passcode', 'bypass'] });
    expect(await passcode('fay', u.bypass)).toMatchObject({ result: 'allow' });
  });

  it('a user with only bypass codes is denied at preauth; push-only: the menu does not ask for a passcode', async () => {
    p = await harness(['push', 'passcode']);
    await createUser(p.h.deps, 'gus');
    await createBypassCodes(p.h.deps, 'gus', { count: 2 });
    expect((await preauth('gus'))['result']).toBe('deny');
    expect((await lastAudit('preauth')).reason).toBe('no_allowed_factor');

    await setPushPolicy(p.h.deps, p.creds.ikey, { factors: ['push'] });
    await deviceFor(p.h, 'hal');
    const prompt = (await preauth('hal'))['prompt'] as { text: string; factors: object };
    expect(prompt.text).toContain('Select one of the following options:');
    expect(prompt.text).toContain('Option (1-1): ');
    expect(prompt.factors).toEqual({ '1': 'push1', default: 'push1' });
  });
});

describe('failmode hint', () => {
  it('a preauth whose failmode differs from the hint is marked, and its host counted once', async () => {
    p = await harness();
    await fullyEnrolled('ivy');
    await preauth('ivy', { failmode: 'closed', hostname: 'good.example.org' });
    expect((await lastAudit('preauth')).detailJson).toMatchObject({ failmode: 'closed' });
    expect((await lastAudit('preauth')).detailJson['failmode_mismatch']).toBeUndefined();
    await preauth('ivy', { failmode: 'open', hostname: 'open1.example.org' });
    expect((await lastAudit('preauth')).detailJson).toMatchObject({ failmode: 'open', failmode_mismatch: true });
    await preauth('ivy', { failmode: 'open', hostname: 'open1.example.org' });
    await preauth('ivy', { failmode: 'open', hostname: 'open2.example.org' });
    await preauth('ivy', { hostname: 'silent.example.org' });
    expect(await failmodeMismatchHosts(p.h.deps, p.creds.ikey)).toEqual(['open1.example.org', 'open2.example.org']);

    // With the hint safe, closed is the mismatch; entries older than 7 days no longer count.
    await setPushPolicy(p.h.deps, p.creds.ikey, { failmodeHint: 'safe' });
    await preauth('ivy', { failmode: 'closed', hostname: 'closed.example.org' });
    expect((await lastAudit('preauth')).detailJson).toMatchObject({ failmode: 'closed', failmode_mismatch: true });
    p.h.clock.offsetMs += 8 * 86400_000;
    expect(await failmodeMismatchHosts(p.h.deps, p.creds.ikey)).toEqual([]);
  });
});
