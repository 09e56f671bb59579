// The conformance cases for the enrollment portal's rows (migrations 0006 and 0007): enrollment
// links without an integration, portal sessions, enrollments held for an admin (decided once; a
// held TOTP approved together with its token in one transaction), the integration's approval
// policy, and push transactions that belong to no integration. Registered by runStoreConformance
// inside its 'operations' block, so each test has a fresh database, on SQLite and PostgreSQL.
import { beforeEach, describe, expect, it } from 'vitest';
import { StoreConflictError, type EnrollTokenRow, type PendingEnrollmentRow, type PortalSessionRow, type Store } from '../../src/store/contract.js';
import { T0, integration, push, token, user } from './fixtures.js';

const PARALLEL = 20;
let n = 0;

const enrollToken = (over: Partial<EnrollTokenRow> = {}): EnrollTokenRow => ({
  tokenHash: `link-hash-${++n}`,
  integrationId: null,
  username: `someone${n}`,
  createdAt: T0,
  expiresAt: T0 + 900_000,
  usedAt: null,
  ...over,
});

const session = (userId: string, over: Partial<PortalSessionRow> = {}): PortalSessionRow => ({
  idHash: `portal-sess-${++n}`,
  userId,
  integrationId: null,
  createdAt: T0,
  expiresAt: T0 + 900_000,
  provedAt: null,
  pendingTotpSealed: null,
  ...over,
});

const held = (userId: string, over: Partial<PendingEnrollmentRow> = {}): PendingEnrollmentRow => ({
  id: `DE${String(++n).padStart(18, '0')}`,
  userId,
  integrationId: null,
  kind: 'totp',
  secretSealed: `held-seed-${n}`,
  nextCounter: 58_333_334,
  state: 'pending',
  createdAt: T0 + n,
  decidedAt: null,
  ...over,
});

export function describePortalConformance(c: { store(): Store }): void {
  let store: Store;
  beforeEach(() => {
    store = c.store();
  });

  async function newUser(): Promise<string> {
    const u = user();
    await store.createUser(u);
    return u.id;
  }

  describe('enrollment links', () => {
    it('a link without an integration round-trips; reading does not use it; it is used once, only unexpired', async () => {
      const int = integration();
      await store.createIntegration(int);
      const admin = enrollToken();
      const login = enrollToken({ integrationId: int.id, expiresAt: T0 + 10 });
      await store.createEnrollToken(admin);
      await store.createEnrollToken(login);
      expect(await store.getEnrollToken(admin.tokenHash)).toEqual(admin);
      expect(await store.getEnrollToken(admin.tokenHash)).toEqual(admin);
      expect(await store.consumeEnrollToken(login.tokenHash, T0 + 10)).toBeUndefined();
      expect(await store.consumeEnrollToken(login.tokenHash, T0 + 9)).toEqual({ ...login, usedAt: T0 + 9 });
      const results = await Promise.all(Array.from({ length: PARALLEL }, () => store.consumeEnrollToken(admin.tokenHash, T0 + 1)));
      expect(results.filter((r) => r !== undefined)).toEqual([{ ...admin, usedAt: T0 + 1 }]);
      expect((await store.getEnrollToken(admin.tokenHash))?.usedAt).toBe(T0 + 1);
      expect(await store.getEnrollToken('unknown')).toBeUndefined();
    });
  });

  describe('portal sessions', () => {
    it('round-trip every field, only while unexpired; proved; deleted; gone with their user', async () => {
      const int = integration();
      await store.createIntegration(int);
      const userId = await newUser();
      const s = session(userId, { integrationId: int.id, provedAt: T0 + 3, pendingTotpSealed: 'sealed' });
      await store.createPortalSession(s);
      await expect(store.createPortalSession(s)).rejects.toBeInstanceOf(StoreConflictError);
      expect(await store.getPortalSession(s.idHash, T0 + 899_999)).toEqual(s);
      expect(await store.getPortalSession(s.idHash, T0 + 900_000)).toBeUndefined();

      const t = session(userId);
      await store.createPortalSession(t);
      expect(await store.setPortalProved(t.idHash, T0 + 7)).toBe(true);
      expect((await store.getPortalSession(t.idHash, T0))?.provedAt).toBe(T0 + 7);
      expect(await store.setPortalProved('unknown', T0)).toBe(false);
      expect(await store.deletePortalSession(t.idHash)).toBe(true);
      expect(await store.deletePortalSession(t.idHash)).toBe(false);
      expect(await store.getPortalSession(t.idHash, T0)).toBeUndefined();

      expect(await store.deleteUser(userId)).toBe(true);
      expect(await store.getPortalSession(s.idHash, T0)).toBeUndefined();
    });

    it('a pending TOTP seed is taken once, and only while it is the one given', async () => {
      const s = session(await newUser());
      await store.createPortalSession(s);
      expect(await store.setPortalPendingTotp(s.idHash, 'seed-a')).toBe(true);
      expect(await store.setPortalPendingTotp(s.idHash, 'seed-b')).toBe(true);
      expect(await store.takePortalPendingTotp(s.idHash, 'seed-a')).toBe(false);
      const results = await Promise.all(Array.from({ length: PARALLEL }, () => store.takePortalPendingTotp(s.idHash, 'seed-b')));
      expect(results.filter(Boolean)).toHaveLength(1);
      expect((await store.getPortalSession(s.idHash, T0))?.pendingTotpSealed).toBeNull();
      expect(await store.setPortalPendingTotp(s.idHash, null)).toBe(true);
    });
  });

  describe('held enrollments', () => {
    it('round-trip, list oldest first (pending only unless all), decided once with the row as it was', async () => {
      const int = integration();
      await store.createIntegration(int);
      const userId = await newUser();
      const a = held(userId, { integrationId: int.id });
      const b = held(userId, { kind: 'device', secretSealed: null, nextCounter: 0 });
      await store.createPendingEnrollment(b);
      await store.createPendingEnrollment(a);
      await expect(store.createPendingEnrollment(a)).rejects.toBeInstanceOf(StoreConflictError);
      expect(await store.getPendingEnrollment(a.id)).toEqual(a);
      // Oldest first (a was made first), whatever the insertion order.
      expect((await store.listPendingEnrollments()).map((r) => r.id)).toEqual([a.id, b.id]);

      const results = await Promise.all(Array.from({ length: PARALLEL }, () => store.decidePendingEnrollment(b.id, 'denied', T0 + 50)));
      expect(results.filter((r) => r !== undefined)).toEqual([b]);
      expect(await store.getPendingEnrollment(b.id)).toEqual({ ...b, state: 'denied', decidedAt: T0 + 50 });
      expect(await store.decidePendingEnrollment(b.id, 'approved', T0 + 60)).toBeUndefined();
      expect((await store.listPendingEnrollments()).map((r) => r.id)).toEqual([a.id]);
      expect((await store.listPendingEnrollments(true)).map((r) => r.id).sort()).toEqual([a.id, b.id].sort());

      // Deleting the integration keeps the held enrollment, without its integration.
      expect(await store.deleteIntegration(int.ikey)).toBe(true);
      expect((await store.getPendingEnrollment(a.id))?.integrationId).toBeNull();
    });

    it('approving a held TOTP adds its token in the same transaction, exactly once', async () => {
      const userId = await newUser();
      const a = held(userId);
      await store.createPendingEnrollment(a);
      const tokens = Array.from({ length: PARALLEL }, () => token(userId, { nextCounter: a.nextCounter }));
      const results = await Promise.all(tokens.map((t) => store.approvePendingTotp(a.id, t, T0 + 70)));
      const won = results.flatMap((r, i) => (r === undefined ? [] : [i]));
      expect(won).toHaveLength(1);
      expect(results[won[0]!]).toEqual(a);
      expect(await store.listTokens(userId)).toEqual([tokens[won[0]!]]);
      expect(await store.getPendingEnrollment(a.id)).toEqual({ ...a, state: 'approved', decidedAt: T0 + 70 });
      expect(await store.approvePendingTotp(a.id, token(userId), T0 + 80)).toBeUndefined();
      expect(await store.listTokens(userId)).toHaveLength(1);
    });

    it('a failed token insert leaves the enrollment pending; only a pending TOTP of the token’s user is approved', async () => {
      const userId = await newUser();
      const other = await newUser();
      const existing = token(userId);
      await store.addToken(existing);
      const a = held(userId);
      const dev = held(userId, { kind: 'device', secretSealed: null });
      await store.createPendingEnrollment(a);
      await store.createPendingEnrollment(dev);
      // The token id is taken: the whole approval rolls back.
      await expect(store.approvePendingTotp(a.id, token(userId, { id: existing.id }), T0 + 90)).rejects.toBeInstanceOf(StoreConflictError);
      expect(await store.getPendingEnrollment(a.id)).toEqual(a);
      expect(await store.listTokens(userId)).toEqual([existing]);
      // Another user's token, a device enrollment, an unknown id: nothing happens.
      expect(await store.approvePendingTotp(a.id, token(other), T0 + 90)).toBeUndefined();
      expect(await store.approvePendingTotp(dev.id, token(userId), T0 + 90)).toBeUndefined();
      expect(await store.approvePendingTotp('DE-unknown', token(userId), T0 + 90)).toBeUndefined();
      expect(await store.getPendingEnrollment(a.id)).toEqual(a);
      expect(await store.getPendingEnrollment(dev.id)).toEqual(dev);
      expect(await store.listTokens(other)).toEqual([]);
      expect(await store.listTokens(userId)).toEqual([existing]);
      // Now it works.
      expect(await store.approvePendingTotp(a.id, token(userId), T0 + 91)).toEqual(a);
      expect(await store.listTokens(userId)).toHaveLength(2);
    });
  });

  describe('integration enrollment policy', () => {
    it('is open by default, set by ikey; an unknown ikey changes nothing', async () => {
      const int = integration({ enrollmentApproval: undefined });
      await store.createIntegration(int);
      expect((await store.getIntegrationByIkey(int.ikey))?.enrollmentApproval).toBe('open');
      expect(await store.setIntegrationEnrollmentApproval(int.ikey, 'admin')).toBe(true);
      expect((await store.getIntegrationByIkey(int.ikey))?.enrollmentApproval).toBe('admin');
      expect(await store.setIntegrationEnrollmentApproval('DI-unknown', 'admin')).toBe(false);
    });
  });

  describe('push without an integration (0007)', () => {
    it('a portal push of a session from an admin link round-trips with no integration and is listed', async () => {
      const userId = await newUser();
      const p = push('unused', userId, { tx: { integrationId: null } });
      expect(await store.createPushTransaction(p.tx, p.challenge, 5, T0)).toBe('created');
      expect(await store.getTransaction(p.tx.txid)).toMatchObject({ txid: p.tx.txid, integrationId: null, state: 'pending' });
      const listed = await store.listPendingPushes(userId, T0 + 1);
      expect(listed.map((x) => [x.tx.txid, x.tx.integrationId, x.ikey, x.integrationName])).toEqual([[p.tx.txid, null, '', '']]);
      expect(await store.settleTransaction(p.tx.txid, { state: 'allow', status: 'allow', statusMsg: 'ok', at: T0 + 2 })).toBe(true);
    });
  });
}
