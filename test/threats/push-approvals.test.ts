// Attacks on push approvals (docs/push.md §3): a decision counts only when it is the push's own
// device's signature over the server's record of that push, made for that txid, before expiry,
// with the right number, and only the first one settles. Each case checks the answer, the
// transaction afterwards and the audit reason.
import { webcrypto } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { approvalMessage } from '../../src/protocol/approval.js';
import { call } from '../support/harness.js';
import type { ScriptedDevice } from '../support/device.js';
import { ScriptedDevice as Device } from '../support/device.js';
import { asyncPush, auditEntries, authStatus, deviceFor, listed, startPushHarness, type PushHarness } from '../support/push-harness.js';

let p: PushHarness;
afterEach(async () => p.h.close());

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function pushFor(device: ScriptedDevice, username: string, extra: Record<string, string> = {}) {
  const r = await asyncPush(p, username, extra);
  const txid = r.body.response!['txid'] as string;
  return { txid, code: r.body.response!['verification_code'] as string | undefined, entry: await listed(device, txid) };
}

async function lastPushAudit(txid: string) {
  const entries = (await auditEntries(p.h, 'push')).filter((e) => e.txid === txid);
  return entries[0]!; // newest first
}

async function txState(txid: string) {
  return (await p.h.deps.store.getTransaction(txid))!.state;
}

const REFUSED = [409, { error: 'refused' }];
const lenient = { pushDenialThreshold: 1000, pushMaxPending: 20 };

describe('forged and tampered approvals', () => {
  it('a signature by another key is refused and denies the push (own device)', async () => {
    p = await startPushHarness(lenient);
    const device = await deviceFor(p.h, 'alice');
    const { txid, entry } = await pushFor(device, 'alice');
    const other = await Device.newKey();
    const sig = await webcrypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, other.key, device.approvalFor(entry, 'approve'));
    const r = await device.signedFetch('POST', '/app/api/decide', { txid, decision: 'approve', number: '', signature: Buffer.from(sig).toString('base64url') });
    expect([r.status, r.json]).toEqual(REFUSED);
    expect(await txState(txid)).toBe('deny');
    expect((await lastPushAudit(txid)).reason).toBe('bad_signature');
    // Garbage in the signature field is the same refusal.
    const second = await pushFor(device, 'alice');
    const g = await device.signedFetch('POST', '/app/api/decide', { txid: second.txid, decision: 'approve', number: '', signature: 'A'.repeat(86) });
    expect([g.status, g.json]).toEqual(REFUSED);
    expect(await txState(second.txid)).toBe('deny');
  });

  it.each([
    ['hostname', (e: Record<string, unknown>) => ({ ...e, hostname: 'trusted.example.org' })],
    ['ipaddr', (e: Record<string, unknown>) => ({ ...e, ipaddr: '10.0.0.1' })],
    ['pushinfo', (e: Record<string, unknown>) => ({ ...e, pushinfo: 'Server+IP=192.0.2.2&Command=true' })],
    ['username', (e: Record<string, unknown>) => ({ ...e, username: 'root' })],
    ['nonce', (e: Record<string, unknown>) => ({ ...e, nonce: 'A'.repeat(22) })],
    ['expiry', (e: Record<string, unknown>) => ({ ...e, expiresAt: (e['expiresAt'] as number) + 3_600_000 })],
    ['integration', (e: Record<string, unknown>) => ({ ...e, integration: 'DIXXXXXXXXXXXXXXXXXX' })],
  ])('an approval signed over a different %s is refused and denies the push', async (_field, tamper) => {
    p = await startPushHarness(lenient);
    const device = await deviceFor(p.h, 'bob');
    const { txid, entry } = await pushFor(device, 'bob');
    const r = await device.decide(tamper(entry) as typeof entry, 'approve');
    expect([r.status, r.json]).toEqual(REFUSED);
    expect(await txState(txid)).toBe('deny');
    expect((await lastPushAudit(txid)).reason).toBe('bad_signature');
  });

  it('a decision or number in the body other than the one signed is refused and denies the push', async () => {
    p = await startPushHarness(lenient, { verifiedPush: 'required' });
    const device = await deviceFor(p.h, 'carol');
    const declared = { client_supports_verified_push: '1' };

    // Signed "deny", sent as "approve".
    const a = await pushFor(device, 'carol', declared);
    const denySig = await device.sign(device.approvalFor(a.entry, 'deny', a.code));
    const r1 = await device.signedFetch('POST', '/app/api/decide', { txid: a.txid, decision: 'approve', number: a.code, signature: denySig });
    expect([r1.status, r1.json]).toEqual(REFUSED);
    expect(await txState(a.txid)).toBe('deny');
    expect((await lastPushAudit(a.txid)).reason).toBe('bad_signature');

    // Signed with the right number, sent with another.
    const b = await pushFor(device, 'carol', declared);
    const sig = await device.sign(device.approvalFor(b.entry, 'approve', b.code));
    const other = b.code === '999' ? '998' : String(Number(b.code) + 1).padStart(3, '0');
    const r2 = await device.signedFetch('POST', '/app/api/decide', { txid: b.txid, decision: 'approve', number: other, signature: sig });
    expect([r2.status, r2.json]).toEqual(REFUSED);
    expect(await txState(b.txid)).toBe('deny');

    // A correctly signed wrong number.
    const c = await pushFor(device, 'carol', declared);
    const r3 = await device.decide(c.entry, 'approve', c.code === '123' ? '321' : '123');
    expect([r3.status, r3.json]).toEqual(REFUSED);
    expect(await txState(c.txid)).toBe('deny');
    expect((await lastPushAudit(c.txid)).reason).toBe('wrong_number');

    // No number at all when one is required.
    const d = await pushFor(device, 'carol', declared);
    const r4 = await device.decide(d.entry, 'approve');
    expect([r4.status, r4.json]).toEqual(REFUSED);
    expect(await txState(d.txid)).toBe('deny');
  });

  it('malformed decide bodies are 400 and leave the push alone', async () => {
    p = await startPushHarness(lenient);
    const device = await deviceFor(p.h, 'dan');
    const { txid, entry } = await pushFor(device, 'dan');
    const sig = await device.sign(device.approvalFor(entry, 'approve'));
    const bodies: unknown[] = [
      { txid, decision: 'allow', number: '', signature: sig },
      { txid, decision: 'approve', number: 12, signature: sig },
      { txid, decision: 'approve', number: '', signature: sig, extra: 1 },
      { txid: 'not-a-txid', decision: 'approve', number: '', signature: sig },
      { decision: 'approve', signature: sig },
      [txid, 'approve', sig],
      null,
    ];
    for (const b of bodies) {
      const r = await device.signedFetch('POST', '/app/api/decide', b);
      expect([JSON.stringify(b), r.status]).toEqual([JSON.stringify(b), 400]);
    }
    const big = await device.signedFetch('POST', '/app/api/decide', { txid, decision: 'approve', number: '', signature: sig, pad: 'x'.repeat(17_000) });
    expect(big.status).toBe(400);
    expect(await txState(txid)).toBe('pending');
  });
});

describe('replays and stale approvals', () => {
  it('an approval replayed after settlement is refused; the same approval for another txid is refused and denies that push', async () => {
    p = await startPushHarness(lenient);
    const device = await deviceFor(p.h, 'erin');
    const first = await pushFor(device, 'erin');
    const sig = await device.sign(device.approvalFor(first.entry, 'approve'));
    const body = { txid: first.txid, decision: 'approve', number: '', signature: sig };
    expect((await device.signedFetch('POST', '/app/api/decide', body)).json).toEqual({ result: 'allow' });
    const replay = await device.signedFetch('POST', '/app/api/decide', body);
    expect([replay.status, replay.json]).toEqual(REFUSED);
    expect(await txState(first.txid)).toBe('allow');
    expect((await lastPushAudit(first.txid)).reason).toBe('already_settled');

    // The captured approval aimed at the next push of the same user.
    const second = await pushFor(device, 'erin');
    const moved = await device.signedFetch('POST', '/app/api/decide', { ...body, txid: second.txid });
    expect([moved.status, moved.json]).toEqual(REFUSED);
    expect(await txState(second.txid)).toBe('deny');
    expect((await lastPushAudit(second.txid)).reason).toBe('bad_signature');
  });

  it('an approval after the push expired is refused as stale; the push ends as timeout', async () => {
    p = await startPushHarness({ ...lenient, pushTimeoutSeconds: 1 });
    const device = await deviceFor(p.h, 'fred');
    const { txid, entry } = await pushFor(device, 'fred');
    await sleep(1100);
    const r = await device.decide(entry, 'approve');
    expect([r.status, r.json]).toEqual(REFUSED);
    expect(await txState(txid)).toBe('timeout');
    expect(await authStatus(p, txid)).toEqual({ result: 'deny', status: 'timeout', status_msg: 'Login timed out.' });
    const reasons = (await auditEntries(p.h, 'push')).filter((e) => e.txid === txid).map((e) => e.reason);
    expect(reasons.sort()).toEqual(['stale', 'timeout']);
  });
});

describe('devices that are not the push’s', () => {
  it("another user's device is refused and cannot touch the push; the owner's device still can", async () => {
    p = await startPushHarness(lenient);
    const alice = await deviceFor(p.h, 'alice');
    const mallory = await deviceFor(p.h, 'mallory');
    const { txid, entry } = await pushFor(alice, 'alice');
    expect((await mallory.requests()).requests).toEqual([]);
    for (const decision of ['approve', 'deny', 'fraud'] as const) {
      const r = await mallory.decide(entry, decision);
      expect([r.status, r.json]).toEqual(REFUSED);
    }
    // Even a forged "bad signature" from mallory does not deny alice's login.
    const garbage = await mallory.signedFetch('POST', '/app/api/decide', { txid, decision: 'approve', number: '', signature: 'A'.repeat(86) });
    expect([garbage.status, garbage.json]).toEqual(REFUSED);
    expect(await txState(txid)).toBe('pending');
    expect((await lastPushAudit(txid)).reason).toBe('wrong_user');
    expect((await p.h.deps.store.findUserByName('alice'))!.lockedUntil).toBeNull();
    expect((await alice.decide(entry, 'approve')).json).toEqual({ result: 'allow' });
  });

  it('a push sent to one device is refused from the same user’s other device, untouched', async () => {
    p = await startPushHarness(lenient);
    const phone = await deviceFor(p.h, 'gina', 'phone');
    const tablet = await deviceFor(p.h, 'gina', 'tablet');
    const r = await call(p.h, p.creds, 'POST', '/auth/v2/auth', { username: 'gina', factor: 'push', device: phone.deviceId, async: '1' });
    const txid = r.body.response!['txid'] as string;
    const entry = await listed(phone, txid);
    expect((await tablet.requests()).requests).toEqual([]);
    const refused = await tablet.decide(entry, 'approve');
    expect([refused.status, refused.json]).toEqual(REFUSED);
    expect(await txState(txid)).toBe('pending');
    expect((await lastPushAudit(txid)).reason).toBe('wrong_device');
    expect((await phone.decide(entry, 'approve')).json).toEqual({ result: 'allow' });
  });

  it('an approval signed for another device id does not verify', async () => {
    p = await startPushHarness(lenient);
    const device = await deviceFor(p.h, 'hal');
    const { txid, entry } = await pushFor(device, 'hal');
    const message = approvalMessage({
      txid,
      username: entry.username,
      integration: entry.integration,
      hostname: entry.hostname ?? '',
      ipaddr: entry.ipaddr ?? '',
      pushinfoSha256: (await import('node:crypto')).createHash('sha256').update(entry.pushinfo ?? '').digest('hex'),
      decision: 'approve',
      deviceId: 'DPOTHERDEVICE0000000',
      nonce: entry.nonce,
      expiresAt: entry.expiresAt,
      number: '',
    });
    const r = await device.signedFetch('POST', '/app/api/decide', { txid, decision: 'approve', number: '', signature: await device.sign(message) });
    expect([r.status, r.json]).toEqual(REFUSED);
    expect(await txState(txid)).toBe('deny');
  });
});

describe('racing decisions', () => {
  it('approve and deny racing 20× in parallel: exactly one settles, and the final state is the winner’s', async () => {
    p = await startPushHarness(lenient);
    const device = await deviceFor(p.h, 'ivy');
    const winners: string[] = [];
    for (let round = 0; round < 3; round++) {
      const { txid, entry } = await pushFor(device, 'ivy');
      const decisions = Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? 'approve' : 'deny') as 'approve' | 'deny');
      const answers = await Promise.all(decisions.map((d) => device.decide(entry, d)));
      const ok = answers.filter((a) => a.status === 200);
      expect(ok).toHaveLength(1);
      expect(answers.filter((a) => a.status === 409)).toHaveLength(19);
      const won = ok[0]!.json.result as string;
      winners.push(won);
      expect(await txState(txid)).toBe(won);
      expect((await authStatus(p, txid))['result']).toBe(won);
      const settled = (await auditEntries(p.h, 'push')).filter((e) => e.txid === txid && e.result !== 'refused');
      expect(settled).toHaveLength(1);
      expect(settled[0]!.result).toBe(won);
    }
    expect(winners.every((w) => w === 'allow' || w === 'deny')).toBe(true);
  });
});
