// The conformance cases for console administrators and their sessions (issue 7). Registered by
// runStoreConformance inside its 'operations' block, so each test has a fresh database.
import { beforeEach, describe, expect, it } from 'vitest';
import { StoreConflictError, type AdminRow, type AdminSessionRow, type Store } from '../../src/store/contract.js';
import { T0 } from './fixtures.js';

const PARALLEL = 20;
let n = 0;

export function adminRow(over: Partial<AdminRow> = {}): AdminRow {
  n++;
  return {
    id: `adm-${n}`,
    name: `admin-${n}`,
    passwordHash: null,
    totpSealed: `sealed-seed-${n}`,
    totpNextStep: 0,
    status: 'pending',
    failures: 0,
    lockedUntil: null,
    createdAt: T0 + n,
    setupTokenHash: `setup-hash-${n}`,
    setupExpiresAt: T0 + 86_400_000,
    setupUsedAt: null,
    ...over,
  };
}

const sessionRow = (adminId: string, over: Partial<AdminSessionRow> = {}): AdminSessionRow => ({
  idHash: `sess-${++n}`,
  adminId,
  createdAt: T0,
  lastSeenAt: T0,
  expiresAt: T0 + 8 * 3600_000,
  reauthAt: null,
  ...over,
});

export function describeAdminConformance(c: { store(): Store }): void {
  let store: Store;
  beforeEach(() => {
    store = c.store();
  });

  describe('admins', () => {
    it('creates, reads back every field by id, name and setup token, lists by name; a taken name conflicts', async () => {
      const b = adminRow({ name: 'zoe', status: 'active', passwordHash: 'scrypt$15$8$1$x$y', totpNextStep: 58_333_333, failures: 2, lockedUntil: T0 + 5 });
      const a = adminRow({ name: 'alice' });
      await store.createAdmin(b);
      await store.createAdmin(a);
      expect(await store.getAdmin(b.id)).toEqual(b);
      expect(await store.findAdminByName('alice')).toEqual(a);
      expect(await store.findAdminBySetupToken(a.setupTokenHash!)).toEqual(a);
      expect(await store.findAdminByName('nobody')).toBeUndefined();
      expect((await store.listAdmins()).map((x) => x.name)).toEqual(['alice', 'zoe']);
      await expect(store.createAdmin(adminRow({ name: 'alice' }))).rejects.toBeInstanceOf(StoreConflictError);
    });

    it('a setup token is used once, only before it expires, and only for a pending admin', async () => {
      const a = adminRow();
      await store.createAdmin(a);
      expect(await store.completeAdminSetup(a.setupTokenHash!, a.setupExpiresAt!, 'hash', 7)).toBeUndefined(); // expired at that instant
      expect(await store.completeAdminSetup('unknown', T0, 'hash', 7)).toBeUndefined();
      const done = await store.completeAdminSetup(a.setupTokenHash!, T0 + 10, 'hash', 7);
      expect(done).toMatchObject({ id: a.id, status: 'active', passwordHash: 'hash', totpNextStep: 7, setupUsedAt: T0 + 10 });
      expect(await store.completeAdminSetup(a.setupTokenHash!, T0 + 11, 'other', 9)).toBeUndefined();
      expect((await store.getAdmin(a.id))?.passwordHash).toBe('hash');
      // Still findable, so the page can say "already used".
      expect((await store.findAdminBySetupToken(a.setupTokenHash!))?.setupUsedAt).toBe(T0 + 10);
    });

    it('N concurrent uses of one setup token: exactly one wins', async () => {
      const a = adminRow();
      await store.createAdmin(a);
      const results = await Promise.all(Array.from({ length: PARALLEL }, (_, i) => store.completeAdminSetup(a.setupTokenHash!, T0 + 1, `hash-${i}`, i)));
      expect(results.filter((r) => r !== undefined)).toHaveLength(1);
    });

    it('reset: new token and seed, password cleared, pending, lock cleared, sessions gone', async () => {
      const a = adminRow({ status: 'active', passwordHash: 'h', setupUsedAt: T0, failures: 9, lockedUntil: T0 + 99 });
      await store.createAdmin(a);
      const s = sessionRow(a.id);
      await store.createAdminSession(s);
      expect(await store.resetAdmin(a.id, { tokenHash: 'new-hash', expiresAt: T0 + 1000, totpSealed: 'new-seed' })).toBe(true);
      expect(await store.getAdmin(a.id)).toEqual({ ...a, status: 'pending', passwordHash: null, totpSealed: 'new-seed', totpNextStep: 0, failures: 0, lockedUntil: null, setupTokenHash: 'new-hash', setupExpiresAt: T0 + 1000, setupUsedAt: null });
      expect(await store.findAdminBySetupToken(a.setupTokenHash!)).toBeUndefined();
      expect(await store.touchAdminSession(s.idHash, T0 + 1, 60_000)).toBeUndefined();
      expect(await store.resetAdmin('nobody', { tokenHash: 'x', expiresAt: 1, totpSealed: 'y' })).toBe(false);
    });

    it('disable deletes the sessions; enable again; a pending admin cannot be enabled', async () => {
      const a = adminRow({ status: 'active' });
      const p = adminRow();
      await store.createAdmin(a);
      await store.createAdmin(p);
      const s = sessionRow(a.id);
      await store.createAdminSession(s);
      expect(await store.setAdminStatus(a.id, 'disabled')).toBe(true);
      expect((await store.getAdmin(a.id))?.status).toBe('disabled');
      expect(await store.touchAdminSession(s.idHash, T0 + 1, 60_000)).toBeUndefined();
      expect(await store.setAdminStatus(a.id, 'active')).toBe(true);
      expect(await store.setAdminStatus(p.id, 'active')).toBe(false);
      expect((await store.getAdmin(p.id))?.status).toBe('pending');
      expect(await store.setAdminStatus(p.id, 'disabled')).toBe(true);
      expect(await store.completeAdminSetup(p.setupTokenHash!, T0, 'h', 1)).toBeUndefined();
    });

    it('a TOTP step is accepted once, and never an older one; N racing accepts: one wins', async () => {
      const a = adminRow({ status: 'active', totpNextStep: 100 });
      await store.createAdmin(a);
      expect(await store.acceptAdminTotp(a.id, 99)).toBe(false);
      expect(await store.acceptAdminTotp(a.id, 101)).toBe(true);
      expect(await store.acceptAdminTotp(a.id, 101)).toBe(false);
      expect(await store.acceptAdminTotp(a.id, 100)).toBe(false);
      const wins = await Promise.all(Array.from({ length: PARALLEL }, () => store.acceptAdminTotp(a.id, 200)));
      expect(wins.filter(Boolean)).toHaveLength(1);
      expect((await store.getAdmin(a.id))?.totpNextStep).toBe(201);
    });

    it('failures count atomically and lock at the threshold; clearing resets', async () => {
      const a = adminRow({ status: 'active' });
      await store.createAdmin(a);
      const results = await Promise.all(Array.from({ length: 5 }, () => store.recordAdminFailure(a.id, T0, 5, 1000)));
      expect(results.map((r) => r.failures).sort((x, y) => x - y)).toEqual([1, 2, 3, 4, 5]);
      expect((await store.getAdmin(a.id))?.lockedUntil).toBe(T0 + 1000);
      expect(await store.clearAdminFailures(a.id)).toBe(true);
      expect(await store.getAdmin(a.id)).toMatchObject({ failures: 0, lockedUntil: null });
      expect(await store.recordAdminFailure('nobody', T0, 5, 1000)).toEqual({ failures: 0, lockedUntil: null });
    });
  });

  describe('admin sessions', () => {
    let admin: AdminRow;
    beforeEach(async () => {
      admin = adminRow({ status: 'active' });
      await store.createAdmin(admin);
    });

    it('touch moves last-seen while live; idle and absolute expiry end it', async () => {
      const s = sessionRow(admin.id, { expiresAt: T0 + 10_000 });
      await store.createAdminSession(s);
      expect(await store.touchAdminSession(s.idHash, T0 + 4000, 5000)).toEqual({ ...s, lastSeenAt: T0 + 4000 });
      expect(await store.touchAdminSession(s.idHash, T0 + 8000, 5000)).toMatchObject({ lastSeenAt: T0 + 8000 });
      expect(await store.touchAdminSession(s.idHash, T0 + 10_000, 5000)).toBeUndefined(); // absolute
      const idle = sessionRow(admin.id);
      await store.createAdminSession(idle);
      expect(await store.touchAdminSession(idle.idHash, T0 + 5000, 5000)).toBeUndefined(); // idle
      expect(await store.touchAdminSession('unknown', T0, 5000)).toBeUndefined();
    });

    it('re-authentication time, delete, purge, and deletion with the admin', async () => {
      const s = sessionRow(admin.id);
      await store.createAdminSession(s);
      expect(await store.setAdminSessionReauth(s.idHash, T0 + 3)).toBe(true);
      expect((await store.touchAdminSession(s.idHash, T0 + 4, 60_000))?.reauthAt).toBe(T0 + 3);
      expect(await store.deleteAdminSession(s.idHash)).toBe(true);
      expect(await store.deleteAdminSession(s.idHash)).toBe(false);
      expect(await store.touchAdminSession(s.idHash, T0 + 5, 60_000)).toBeUndefined();
      await expect(store.createAdminSession(sessionRow('no-such-admin'))).rejects.toThrow();

      const old = sessionRow(admin.id, { lastSeenAt: T0 - 10_000 });
      const ended = sessionRow(admin.id, { lastSeenAt: T0 + 100, expiresAt: T0 + 50 });
      const live = sessionRow(admin.id, { lastSeenAt: T0 + 100 });
      for (const x of [old, ended, live]) await store.createAdminSession(x);
      expect(await store.purgeAdminSessions(T0 + 60, T0)).toBe(2);
      expect(await store.touchAdminSession(live.idHash, T0 + 200, 60_000)).toBeDefined();
    });

    it('a session id hash is unique', async () => {
      const s = sessionRow(admin.id);
      await store.createAdminSession(s);
      await expect(store.createAdminSession({ ...s })).rejects.toBeInstanceOf(StoreConflictError);
    });
  });
}
