// The conformance cases for devices, activations, push transactions, anti-fatigue and server
// secrets (docs/push.md). Registered by runStoreConformance inside its 'operations' block, so each
// test gets a fresh database and `store()` is that test's Store.
import { beforeEach, describe, expect, it } from 'vitest';
import { StoreConflictError, type Store } from '../../src/store/contract.js';
import { fence, until } from './conformance.js';
import { T0, activation, deviceWithToken, integration, passkey, push, token, transaction, user } from './fixtures.js';

const PARALLEL = 20;

export interface PushConformanceContext {
  store(): Store;
  /** Another Store on the same database (another connection, or another server node). */
  openTracked(): Promise<Store>;
  /** Runs one SQL statement on the test's database, outside the Store (to plant bad data). */
  rawSql(statement: string): Promise<void>;
}

export function describePushConformance(c: PushConformanceContext): void {
  let store: Store;
  let userId: string;
  let integrationId: string;
  beforeEach(async () => {
    store = c.store();
    const u = user();
    await store.createUser(u);
    userId = u.id;
    const int = integration();
    await store.createIntegration(int);
    integrationId = int.id;
  });

  describe('push policy', () => {
    it('round-trips through createIntegration and setIntegrationPushPolicy', async () => {
      const policy = { verifiedPush: 'required', maxPending: 2, denialThreshold: 5, cooldownSeconds: 60, fraudLocks: false, approvalAuth: 'passkey' } as const;
      const a = integration({ pushPolicy: policy });
      await store.createIntegration(a);
      expect(await store.getIntegrationByIkey(a.ikey)).toEqual(a);
      expect(await store.setIntegrationPushPolicy(a.ikey, { maxPending: 3 })).toBe(true);
      expect((await store.getIntegrationByIkey(a.ikey))?.pushPolicy).toEqual({ maxPending: 3 });
      expect(await store.setIntegrationPushPolicy(a.ikey, {})).toBe(true);
      expect((await store.listIntegrations()).find((i) => i.ikey === a.ikey)?.pushPolicy).toEqual({});
      expect(await store.setIntegrationPushPolicy('DI-unknown', {})).toBe(false);
    });

    it('keeps the factors allowed and the failmode hint with the push settings', async () => {
      const a = integration({ pushPolicy: { factors: ['push', 'passcode'], failmodeHint: 'safe' } });
      await store.createIntegration(a);
      expect((await store.getIntegrationByIkey(a.ikey))?.pushPolicy).toEqual({ factors: ['push', 'passcode'], failmodeHint: 'safe' });
      expect(await store.setIntegrationPushPolicy(a.ikey, { maxPending: 2, factors: ['bypass'], failmodeHint: 'secure' })).toBe(true);
      expect((await store.listIntegrations()).find((i) => i.ikey === a.ikey)?.pushPolicy).toEqual({ maxPending: 2, factors: ['bypass'], failmodeHint: 'secure' });
    });

    it('a malformed stored push_policy reads as {} (and a mistyped field is dropped)', async () => {
      const a = integration();
      await store.createIntegration(a);
      const cases: [string, object][] = [
        ['not json', {}],
        ['[1, 2]', {}],
        ['null', {}],
        ['"required"', {}],
        ['{"maxPending": "2", "verifiedPush": "sometimes", "fraudLocks": true, "cooldownSeconds": -1}', { fraudLocks: true }],
        ['{"approvalAuth": "webauthn", "maxPending": 2}', { maxPending: 2 }],
        ['{"approvalAuth": true}', {}],
        ['{"approvalAuth": "passkey"}', { approvalAuth: 'passkey' }],
        // Factors allowed and the failmode hint share the JSON: unknown factors dropped, order canonical.
        ['{"factors": ["bypass", "sms", "push"], "failmodeHint": "safe"}', { factors: ['push', 'bypass'], failmodeHint: 'safe' }],
        ['{"factors": "push", "failmodeHint": "open"}', {}],
        ['{"factors": ["sms"]}', { factors: [] }],
      ];
      for (const [text, expected] of cases) {
        await c.rawSql(`UPDATE integrations SET push_policy = '${text.replace(/'/g, "''")}' WHERE ikey = '${a.ikey}'`);
        expect((await store.getIntegrationByIkey(a.ikey))?.pushPolicy, text).toEqual(expected);
      }
    });
  });

  describe('activations and devices', () => {
    it('uses an activation once, creating the device and its token; expired and unknown codes fail', async () => {
      const act = activation(userId, { expiresAt: T0 + 1000 });
      await store.createActivation(act);
      await expect(store.createActivation(activation(userId, { codeHash: act.codeHash }))).rejects.toBeInstanceOf(StoreConflictError);
      expect(await store.getActivation(act.codeHash)).toEqual(act);
      expect(await store.getActivation('unknown')).toBeUndefined();

      const { device, token: t } = deviceWithToken(userId);
      const used = await store.consumeActivation(act.codeHash, T0 + 10, device, t);
      expect(used).toEqual({ ...act, usedAt: T0 + 10, deviceId: device.id });
      expect(await store.getActivation(act.codeHash)).toEqual(used);
      expect(await store.getDevice(device.id)).toEqual(device);
      expect(await store.getToken(t.id)).toEqual(t);

      const again = deviceWithToken(userId);
      expect(await store.consumeActivation(act.codeHash, T0 + 11, again.device, again.token)).toBeUndefined();
      const late = activation(userId, { expiresAt: T0 + 1000 });
      await store.createActivation(late);
      expect(await store.consumeActivation(late.codeHash, T0 + 1000, again.device, again.token)).toBeUndefined();
      expect(await store.consumeActivation('unknown', T0, again.device, again.token)).toBeUndefined();
      // Nothing of the refused attempts was created.
      expect(await store.getDevice(again.device.id)).toBeUndefined();
      expect(await store.getToken(again.token.id)).toBeUndefined();
      expect(await store.getActivation(late.codeHash)).toEqual(late);
    });

    it('a device for another user than the activation\'s is refused and leaves the code unused', async () => {
      const other = user();
      await store.createUser(other);
      const act = activation(userId);
      await store.createActivation(act);
      const { device, token: t } = deviceWithToken(other.id);
      await expect(store.consumeActivation(act.codeHash, T0, device, t)).rejects.toThrow();
      expect(await store.getActivation(act.codeHash)).toEqual(act);
      expect(await store.getDevice(device.id)).toBeUndefined();
      expect(await store.getToken(t.id)).toBeUndefined();
    });

    it('a device id that already exists is a StoreConflictError and leaves the code unused', async () => {
      const first = activation(userId);
      const second = activation(userId);
      await store.createActivation(first);
      await store.createActivation(second);
      const a = deviceWithToken(userId);
      await store.consumeActivation(first.codeHash, T0, a.device, a.token);
      const b = deviceWithToken(userId, { id: a.device.id });
      await expect(store.consumeActivation(second.codeHash, T0, b.device, b.token)).rejects.toBeInstanceOf(StoreConflictError);
      expect(await store.getActivation(second.codeHash)).toEqual(second);
      expect(await store.getToken(b.token.id)).toBeUndefined();
    });

    it(`${PARALLEL} parallel uses of one activation code: exactly one succeeds`, async () => {
      const act = activation(userId);
      await store.createActivation(act);
      const other = await c.openTracked();
      const attempts = Array.from({ length: PARALLEL }, () => deviceWithToken(userId));
      const results = await Promise.all(attempts.map(({ device, token: t }, i) =>
        (i % 2 ? store : other).consumeActivation(act.codeHash, T0, device, t)));
      const winners = results.flatMap((r, i) => (r ? [i] : []));
      expect(winners).toHaveLength(1);
      const winner = attempts[winners[0]!]!;
      expect(await store.listDevices(userId)).toEqual([winner.device]);
      expect(await store.listTokens(userId)).toEqual([winner.token]);
      expect((await store.getActivation(act.codeHash))?.deviceId).toBe(winner.device.id);
    });

    it('lists, subscribes, touches and removes devices (with their tokens)', async () => {
      const a = deviceWithToken(userId);
      const b = deviceWithToken(userId);
      for (const { device, token: t } of [a, b]) {
        const act = activation(userId);
        await store.createActivation(act);
        await store.consumeActivation(act.codeHash, T0, device, t);
      }
      const plain = token(userId);
      await store.addToken(plain);
      expect(await store.listDevices(userId)).toEqual([a.device, b.device]);
      expect(await store.listDevices('nobody')).toEqual([]);

      const sub = JSON.stringify({ endpoint: 'https://push.example/1', keys: { p256dh: 'p', auth: 'a' } });
      expect(await store.setDeviceSubscription(a.device.id, sub)).toBe(true);
      await store.touchDevice(a.device.id, T0 + 99);
      expect(await store.getDevice(a.device.id)).toEqual({ ...a.device, pushSubscription: sub, lastSeenAt: T0 + 99 });
      expect(await store.setDeviceSubscription(a.device.id, null)).toBe(true);
      expect((await store.getDevice(a.device.id))?.pushSubscription).toBeNull();
      expect(await store.setDeviceSubscription('DP-unknown', sub)).toBe(false);
      await store.touchDevice('DP-unknown', T0);

      expect(await store.removeDevice(a.device.id)).toBe(true);
      expect(await store.removeDevice(a.device.id)).toBe(false);
      expect(await store.getDevice(a.device.id)).toBeUndefined();
      expect(await store.getToken(a.token.id)).toBeUndefined();
      expect(await store.listDevices(userId)).toEqual([b.device]);
      expect(await store.listTokens(userId)).toEqual([b.token, plain]);
    });
  });

  describe('passkeys', () => {
    async function activated(owner = userId) {
      const d = deviceWithToken(owner);
      const act = activation(owner);
      await store.createActivation(act);
      await store.consumeActivation(act.codeHash, T0, d.device, d.token);
      return d.device;
    }

    it('adds, gets and lists a device\'s passkeys; a taken credential id is a StoreConflictError', async () => {
      const a = await activated();
      const b = await activated();
      const first = passkey(a.id, userId, { createdAt: T0 + 1 });
      const second = passkey(a.id, userId, { createdAt: T0 + 2, transports: [], counter: 4_000_000_000 });
      const theirs = passkey(b.id, userId);
      for (const k of [second, first, theirs]) await store.addPasskey(k);
      expect(await store.getPasskey(first.credentialId)).toEqual(first);
      expect(await store.getPasskey(second.credentialId)).toEqual(second);
      expect(await store.getPasskey('cred-unknown')).toBeUndefined();
      expect(await store.listPasskeys(a.id)).toEqual([first, second]);
      expect(await store.listPasskeys(b.id)).toEqual([theirs]);
      expect(await store.listPasskeys('DP-unknown')).toEqual([]);
      // A credential belongs to one device: registering it again (here or on another device) fails.
      await expect(store.addPasskey({ ...first, createdAt: T0 + 9 })).rejects.toBeInstanceOf(StoreConflictError);
      await expect(store.addPasskey({ ...first, deviceId: b.id })).rejects.toBeInstanceOf(StoreConflictError);
      expect(await store.getPasskey(first.credentialId)).toEqual(first);
    });

    it('refuses a passkey for an unknown device or for a device of another user', async () => {
      const other = user();
      await store.createUser(other);
      const theirDevice = await activated(other.id);
      await expect(store.addPasskey(passkey('DP-unknown', userId))).rejects.toThrow();
      const k = passkey(theirDevice.id, userId);
      await expect(store.addPasskey(k)).rejects.toThrow();
      expect(await store.getPasskey(k.credentialId)).toBeUndefined();
    });

    it('the counter only moves forward; 0 → 0 is accepted for authenticators that do not count', async () => {
      const d = await activated();
      const counting = passkey(d.id, userId, { counter: 5 });
      const zero = passkey(d.id, userId, { counter: 0 });
      await store.addPasskey(counting);
      await store.addPasskey(zero);
      expect(await store.updatePasskeyCounter(counting.credentialId, 5)).toBe(false);
      expect(await store.updatePasskeyCounter(counting.credentialId, 4)).toBe(false);
      expect(await store.updatePasskeyCounter(counting.credentialId, 0)).toBe(false);
      expect(await store.updatePasskeyCounter(counting.credentialId, 6)).toBe(true);
      expect(await store.updatePasskeyCounter(counting.credentialId, 4_294_967_295)).toBe(true);
      expect((await store.getPasskey(counting.credentialId))?.counter).toBe(4_294_967_295);
      expect(await store.updatePasskeyCounter(zero.credentialId, 0)).toBe(true);
      expect(await store.updatePasskeyCounter(zero.credentialId, 0)).toBe(true);
      // Once it counted, it never goes back to 0.
      expect(await store.updatePasskeyCounter(zero.credentialId, 1)).toBe(true);
      expect(await store.updatePasskeyCounter(zero.credentialId, 0)).toBe(false);
      expect(await store.updatePasskeyCounter('cred-unknown', 7)).toBe(false);
      expect(await store.updatePasskeyCounter(zero.credentialId, -1)).toBe(false);
      expect(await store.updatePasskeyCounter(zero.credentialId, 1.5)).toBe(false);
      expect((await store.getPasskey(zero.credentialId))?.counter).toBe(1);
    });

    it(`${PARALLEL} parallel uses of one counter value (two Stores): exactly one is accepted`, async () => {
      const d = await activated();
      const k = passkey(d.id, userId, { counter: 10 });
      await store.addPasskey(k);
      const other = await c.openTracked();
      const results = await Promise.all(Array.from({ length: PARALLEL }, (_, i) => (i % 2 ? store : other).updatePasskeyCounter(k.credentialId, 11)));
      expect(results.filter(Boolean)).toHaveLength(1);
      expect((await store.getPasskey(k.credentialId))?.counter).toBe(11);
    });

    it('removing the device removes its passkeys (and only its); deleting the user removes the rest', async () => {
      const a = await activated();
      const b = await activated();
      const ka = passkey(a.id, userId);
      const kb = passkey(b.id, userId);
      await store.addPasskey(ka);
      await store.addPasskey(kb);
      expect(await store.removeDevice(a.id)).toBe(true);
      expect(await store.getPasskey(ka.credentialId)).toBeUndefined();
      expect(await store.listPasskeys(a.id)).toEqual([]);
      expect(await store.getPasskey(kb.credentialId)).toEqual(kb);
      expect(await store.deleteUser(userId)).toBe(true);
      expect(await store.getPasskey(kb.credentialId)).toBeUndefined();
    });

    it('malformed stored transports read as no transports', async () => {
      const d = await activated();
      const k = passkey(d.id, userId);
      await store.addPasskey(k);
      for (const text of ['not json', '{"a":1}', '[1, "usb"]']) {
        await c.rawSql(`UPDATE passkeys SET transports = '${text}' WHERE credential_id = '${k.credentialId}'`);
        expect((await store.getPasskey(k.credentialId))?.transports, text).toEqual([]);
      }
    });
  });

  describe('push transactions', () => {
    it('creates the transaction and its challenge; lists pending, unexpired pushes oldest first', async () => {
      const int = (await store.listIntegrations()).find((i) => i.id === integrationId)!;
      const older = push(integrationId, userId, { tx: { createdAt: T0 - 10 }, challenge: { createdAt: T0 - 10, deviceId: 'DP1', matchCode: '123' } });
      const newer = push(integrationId, userId, { tx: { createdAt: T0 } });
      const settled = push(integrationId, userId);
      const expired = push(integrationId, userId, { tx: { createdAt: T0 + 1, expiresAt: T0 + 5 } });
      for (const p of [newer, older, settled, expired]) {
        expect(await store.createPushTransaction(p.tx, p.challenge, 10, T0)).toBe('created');
      }
      expect(await store.getTransaction(older.tx.txid)).toEqual(older.tx);
      expect(await store.getPushChallenge(older.tx.txid)).toEqual(older.challenge);
      expect(await store.getPushChallenge('tx-unknown')).toBeUndefined();
      await store.settleTransaction(settled.tx.txid, { state: 'deny', status: 'deny', statusMsg: '', at: T0 + 1 });

      const pending = await store.listPendingPushes(userId, T0 + 5);
      expect(pending).toEqual([older, newer].map((p) => ({ ...p, ikey: int.ikey, integrationName: int.name })));
      expect((await store.listPendingPushes(userId, T0 + 4)).map((p) => p.tx.txid)).toEqual([older, newer, expired].map((p) => p.tx.txid));
      expect(await store.listPendingPushes('nobody', T0)).toEqual([]);
      // Plain transactions (no challenge) are not pushes.
      await store.createTransaction(transaction(integrationId, { userId }));
      expect(await store.listPendingPushes(userId, T0 + 5)).toHaveLength(2);
    });

    it('refuses beyond maxPending, counting only pending, unexpired pushes at `at`', async () => {
      const first = push(integrationId, userId, { tx: { expiresAt: T0 + 100 } });
      expect(await store.createPushTransaction(first.tx, first.challenge, 1, T0)).toBe('created');
      const second = push(integrationId, userId);
      expect(await store.createPushTransaction(second.tx, second.challenge, 1, T0)).toBe('too_many');
      expect(await store.getTransaction(second.tx.txid)).toBeUndefined();
      expect(await store.getPushChallenge(second.tx.txid)).toBeUndefined();
      // Another user's pushes are their own.
      const other = user();
      await store.createUser(other);
      const theirs = push(integrationId, other.id);
      expect(await store.createPushTransaction(theirs.tx, theirs.challenge, 1, T0)).toBe('created');
      // Once the first has expired (even if not yet swept), or is settled, there is room again.
      expect(await store.createPushTransaction(second.tx, second.challenge, 1, T0 + 100)).toBe('created');
      await store.settleTransaction(second.tx.txid, { state: 'allow', status: 'allow', statusMsg: '', at: T0 + 101 });
      const third = push(integrationId, userId);
      expect(await store.createPushTransaction(third.tx, third.challenge, 1, T0 + 101)).toBe('created');
    });

    it('rejects a duplicate txid with StoreConflictError, and a challenge for another txid or user', async () => {
      const p = push(integrationId, userId);
      await store.createPushTransaction(p.tx, p.challenge, 5, T0);
      await expect(store.createPushTransaction(p.tx, p.challenge, 5, T0)).rejects.toBeInstanceOf(StoreConflictError);
      const q = push(integrationId, userId);
      await expect(store.createPushTransaction(q.tx, { ...q.challenge, txid: 'tx-other' }, 5, T0)).rejects.toThrow();
      await expect(store.createPushTransaction(q.tx, { ...q.challenge, userId: 'someone-else' }, 5, T0)).rejects.toThrow();
      expect(await store.getTransaction(q.tx.txid)).toBeUndefined();
    });

    for (const maxPending of [1, 2]) {
      it(`${PARALLEL} parallel pushes for one user with maxPending=${maxPending} (two Stores): exactly ${maxPending} created`, async () => {
        const other = await c.openTracked();
        const pushes = Array.from({ length: PARALLEL }, () => push(integrationId, userId));
        const results = await Promise.all(pushes.map((p, i) =>
          (i % 2 ? store : other).createPushTransaction(p.tx, p.challenge, maxPending, T0)));
        expect(results.filter((r) => r === 'created')).toHaveLength(maxPending);
        expect(results.filter((r) => r === 'too_many')).toHaveLength(PARALLEL - maxPending);
        expect(await store.listPendingPushes(userId, T0)).toHaveLength(maxPending);
      });
    }

    it('announces a user\'s push changes to that user\'s listeners: on create and on announce', async () => {
      const other = user();
      await store.createUser(other);
      let mine = 0;
      let theirs = 0;
      const off = store.onUserPushChange(userId, () => mine++);
      store.onUserPushChange(other.id, () => theirs++);

      const p = push(integrationId, userId);
      await store.createPushTransaction(p.tx, p.challenge, 1, T0);
      await until(() => mine === 1);
      // A refused push changes nothing and announces nothing.
      const refused = push(integrationId, userId);
      expect(await store.createPushTransaction(refused.tx, refused.challenge, 1, T0)).toBe('too_many');
      await store.announcePushChange(userId);
      await until(() => mine === 2);
      await fence(store, integrationId);
      expect([mine, theirs]).toEqual([2, 0]);
      // Transaction listeners of the push's txid hear settling as before; user listeners hear
      // it only when core announces it.
      let txCalls = 0;
      store.onTransactionChange(p.tx.txid, () => txCalls++);
      await store.settleTransaction(p.tx.txid, { state: 'allow', status: 'allow', statusMsg: '', at: T0 });
      await until(() => txCalls === 1);
      await store.announcePushChange(other.id);
      await until(() => theirs === 1);

      off();
      await store.announcePushChange(userId);
      await fence(store, integrationId);
      expect([mine, theirs, txCalls]).toEqual([2, 1, 1]);
    });
  });

  describe('anti-fatigue and locking', () => {
    it('counts denials, pausing at the threshold and starting over; an approval clears the count', async () => {
      const cooldown = 900_000;
      expect(await store.getPushPause(userId)).toBeNull();
      expect(await store.recordPushDenial(userId, T0 + 1, 3, cooldown)).toEqual({ denials: 1, pausedUntil: null });
      expect(await store.recordPushDenial(userId, T0 + 2, 3, cooldown)).toEqual({ denials: 2, pausedUntil: null });
      expect(await store.recordPushDenial(userId, T0 + 3, 3, cooldown)).toEqual({ denials: 0, pausedUntil: T0 + 3 + cooldown });
      expect(await store.getPushPause(userId)).toBe(T0 + 3 + cooldown);
      // The count starts over; the pause stays until the threshold is reached again.
      expect(await store.recordPushDenial(userId, T0 + 4, 3, cooldown)).toEqual({ denials: 1, pausedUntil: T0 + 3 + cooldown });
      await store.clearPushDenials(userId);
      expect(await store.recordPushDenial(userId, T0 + 5, 3, cooldown)).toEqual({ denials: 1, pausedUntil: T0 + 3 + cooldown });
      expect(await store.recordPushDenial(userId, T0 + 6, 2, cooldown)).toEqual({ denials: 0, pausedUntil: T0 + 6 + cooldown });
      expect(await store.getPushPause(userId)).toBe(T0 + 6 + cooldown);
    });

    it('a threshold of 1 pauses on the first denial; an unknown user gets no row; clearing nothing is fine', async () => {
      expect(await store.recordPushDenial(userId, T0, 1, 60_000)).toEqual({ denials: 0, pausedUntil: T0 + 60_000 });
      expect(await store.recordPushDenial('nobody', T0, 3, 60_000)).toEqual({ denials: 0, pausedUntil: null });
      expect(await store.getPushPause('nobody')).toBeNull();
      await store.clearPushDenials('nobody');
    });

    it(`${PARALLEL} parallel denials each count once, and exactly the one reaching the threshold pauses`, async () => {
      const other = await c.openTracked();
      const results = await Promise.all(Array.from({ length: PARALLEL }, (_, i) =>
        (i % 2 ? store : other).recordPushDenial(userId, T0, PARALLEL, 1000)));
      expect(results.filter((r) => r.pausedUntil !== null)).toEqual([{ denials: 0, pausedUntil: T0 + 1000 }]);
      expect(results.filter((r) => r.pausedUntil === null).map((r) => r.denials).sort((a, b) => a - b))
        .toEqual(Array.from({ length: PARALLEL - 1 }, (_, i) => i + 1));
    });

    it('locks a user until a time whatever the failure count; unlock clears it', async () => {
      expect(await store.lockUser(userId, T0 + 5000)).toBe(true);
      expect(await store.getUser(userId)).toMatchObject({ failures: 0, lockedUntil: T0 + 5000 });
      expect(await store.lockUser('nobody', T0)).toBe(false);
      expect(await store.unlockUser(userId)).toBe(true);
      expect((await store.getUser(userId))?.lockedUntil).toBeNull();
    });
  });

  describe('deleting a user', () => {
    it('deletes its devices (and their tokens), activations, push challenges and denial count', async () => {
      const act = activation(userId);
      await store.createActivation(act);
      const { device, token: t } = deviceWithToken(userId);
      await store.consumeActivation(act.codeHash, T0, device, t);
      const unused = activation(userId);
      await store.createActivation(unused);
      const p = push(integrationId, userId);
      await store.createPushTransaction(p.tx, p.challenge, 1, T0);
      await store.recordPushDenial(userId, T0, 1, 1000);

      expect(await store.deleteUser(userId)).toBe(true);
      expect(await store.getDevice(device.id)).toBeUndefined();
      expect(await store.getToken(t.id)).toBeUndefined();
      expect(await store.getActivation(act.codeHash)).toBeUndefined();
      expect(await store.getActivation(unused.codeHash)).toBeUndefined();
      expect(await store.getPushChallenge(p.tx.txid)).toBeUndefined();
      expect(await store.listPendingPushes(userId, T0)).toEqual([]);
      expect(await store.getPushPause(userId)).toBeNull();
      // The transaction stays (history) without its user, like any other.
      expect((await store.getTransaction(p.tx.txid))?.userId).toBeNull();
    });

    it('purging a settled push transaction deletes its challenge', async () => {
      const p = push(integrationId, userId);
      await store.createPushTransaction(p.tx, p.challenge, 1, T0);
      await store.settleTransaction(p.tx.txid, { state: 'timeout', status: 'timeout', statusMsg: '', at: T0 + 1 });
      expect(await store.purgeTransactions(T0 + 2)).toBe(1);
      expect(await store.getPushChallenge(p.tx.txid)).toBeUndefined();
    });
  });

  describe('server secrets', () => {
    it('stores a secret once: later and concurrent puts get the first value back', async () => {
      expect(await store.putSecretIfAbsent('vapid', 'sealed-1', T0)).toBe('sealed-1');
      expect(await store.putSecretIfAbsent('vapid', 'sealed-2', T0 + 1)).toBe('sealed-1');
      const other = await c.openTracked();
      const results = await Promise.all(Array.from({ length: PARALLEL }, (_, i) =>
        (i % 2 ? store : other).putSecretIfAbsent('race', `v${i}`, T0)));
      expect(new Set(results).size).toBe(1);
      expect(await store.putSecretIfAbsent('race', 'late', T0)).toBe(results[0]);
    });
  });
}
