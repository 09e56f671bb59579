// The store contract's conformance suite, run against every backend (sqlite.test.ts,
// postgres.test.ts). `open()` opens a Store on the current test's database: the caller gives each
// test a fresh, empty database (in a beforeEach registered before this suite), and calling open()
// again within a test opens another Store on the same database (another connection, or another
// server node). Every Store opened here is closed after its test.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AUDIT_GENESIS, StoreConflictError, type Store } from '../../src/store/contract.js';
import { describeAdminConformance } from './conformance-admins.js';
import { describePortalConformance } from './conformance-portal.js';
import { describePushConformance } from './conformance-push.js';
import { T0, auditEntry, bypassCode, chainHash, integration, token, transaction, user } from './fixtures.js';

const PARALLEL = 20;

/**
 * `rawSql` runs one statement on the current test's database outside any Store (to plant data
 * the contract cannot write, such as a malformed column).
 */
export function runStoreConformance(name: string, open: () => Promise<Store>, rawSql: (statement: string) => Promise<void>): void {
  describe(`store conformance: ${name}`, () => {
    const opened: Store[] = [];
    const openTracked = async () => {
      const s = await open();
      opened.push(s);
      return s;
    };
    afterEach(async () => {
      await Promise.all(opened.splice(0).map((s) => s.close()));
    });

    describe('migrations', () => {
      it('migrates a new database, and reopening finds nothing to do and keeps the data', async () => {
        const first = await openTracked();
        const int = integration();
        await first.createIntegration(int);
        await first.close();
        const again = await openTracked();
        expect(await again.getIntegrationByIkey(int.ikey)).toEqual(int);
        await again.close();
        const third = await openTracked();
        expect(await third.listIntegrations()).toEqual([int]);
      });

      it('two Stores opening a new database at once both succeed', async () => {
        const [a, b] = await Promise.all([openTracked(), openTracked()]);
        const int = integration();
        await a.createIntegration(int);
        expect(await b.getIntegrationByIkey(int.ikey)).toEqual(int);
      });

      it('close() is idempotent', async () => {
        const s = await openTracked();
        await Promise.all([s.close(), s.close()]);
        await s.close();
      });
    });

    describe('operations', () => {
      let store: Store;
      beforeEach(async () => {
        store = await openTracked();
      });

      // ---------------------------------------------------------------- integrations
      describe('integrations', () => {
        it('creates, reads back every field, lists and deletes', async () => {
          const a = integration({ legacyV1: true, newUserPolicy: 'deny', lastUsedAt: T0 + 5 });
          const b = integration({ prevSkeySealed: 'old', prevSkeyExpiresAt: T0 + 1000, newUserPolicy: 'allow' });
          await store.createIntegration(a);
          await store.createIntegration(b);
          const got = await store.getIntegrationByIkey(a.ikey);
          expect(got).toEqual(a);
          expect(typeof got?.createdAt).toBe('number');
          expect(got?.legacyV1).toBe(true);
          expect(await store.getIntegrationByIkey(b.ikey)).toEqual(b);
          expect(await store.getIntegrationByIkey('DI-unknown')).toBeUndefined();
          expect(await store.listIntegrations()).toEqual([a, b]);
          expect(await store.deleteIntegration(a.ikey)).toBe(true);
          expect(await store.deleteIntegration(a.ikey)).toBe(false);
          expect(await store.listIntegrations()).toEqual([b]);
        });

        it('rejects a duplicate ikey or id with StoreConflictError', async () => {
          const a = integration();
          await store.createIntegration(a);
          await expect(store.createIntegration(integration({ ikey: a.ikey }))).rejects.toBeInstanceOf(StoreConflictError);
          await expect(store.createIntegration(integration({ id: a.id }))).rejects.toBeInstanceOf(StoreConflictError);
          expect(await store.listIntegrations()).toHaveLength(1);
        });

        it('rotates the skey, keeping the previous one with its expiry', async () => {
          const a = integration();
          await store.createIntegration(a);
          expect(await store.rotateSkey(a.ikey, 'new-sealed', a.skeySealed, T0 + 86_400_000)).toBe(true);
          expect(await store.getIntegrationByIkey(a.ikey)).toEqual({
            ...a,
            skeySealed: 'new-sealed',
            prevSkeySealed: a.skeySealed,
            prevSkeyExpiresAt: T0 + 86_400_000,
          });
          expect(await store.rotateSkey('DI-unknown', 'x', 'y', 1)).toBe(false);
        });

        it('sets the new-user policy', async () => {
          const a = integration({ newUserPolicy: 'enroll' });
          await store.createIntegration(a);
          expect(await store.setIntegrationNewUserPolicy(a.ikey, 'deny')).toBe(true);
          expect((await store.getIntegrationByIkey(a.ikey))?.newUserPolicy).toBe('deny');
          expect(await store.setIntegrationNewUserPolicy('DINOPE', 'allow')).toBe(false);
        });

        it('touches lastUsedAt', async () => {
          const a = integration();
          await store.createIntegration(a);
          await store.touchIntegration(a.id, T0 + 42);
          expect((await store.getIntegrationByIkey(a.ikey))?.lastUsedAt).toBe(T0 + 42);
        });

        it('deleting an integration deletes its transactions and enrollment links', async () => {
          const a = integration();
          await store.createIntegration(a);
          const tx = transaction(a.id);
          await store.createTransaction(tx);
          await store.createEnrollToken({ tokenHash: 'h1', integrationId: a.id, username: 'u', createdAt: T0, expiresAt: T0 + 10, usedAt: null });
          await store.deleteIntegration(a.ikey);
          expect(await store.getTransaction(tx.txid)).toBeUndefined();
          expect(await store.consumeEnrollToken('h1', T0)).toBeUndefined();
        });
      });

      // ---------------------------------------------------------------- users
      describe('users', () => {
        it('creates and finds a user by username or any alias, with sorted aliases and fresh counters', async () => {
          const u = user({ username: 'alice', aliases: ['zed', 'al', 'alice@example.org'] });
          await store.createUser(u);
          const expected = { ...u, aliases: ['al', 'alice@example.org', 'zed'], failures: 0, lockedUntil: null, lastLoginAt: null };
          expect(await store.getUser(u.id)).toEqual(expected);
          expect(await store.findUserByName('alice')).toEqual(expected);
          expect(await store.findUserByName('zed')).toEqual(expected);
          expect(await store.findUserByName('alice@example.org')).toEqual(expected);
          expect(await store.findUserByName('bob')).toBeUndefined();
          expect(await store.getUser('nobody')).toBeUndefined();
        });

        it('lists users sorted by username, each with its own aliases', async () => {
          const b = user({ username: 'bob', aliases: ['robert'] });
          const a = user({ username: 'alice' });
          await store.createUser(b);
          await store.createUser(a);
          const list = await store.listUsers();
          expect(list.map((u) => [u.username, u.aliases])).toEqual([['alice', []], ['bob', ['robert']]]);
        });

        it('usernames and aliases share one namespace: every collision is a StoreConflictError and leaves nothing behind', async () => {
          await store.createUser(user({ username: 'alice', aliases: ['al'] }));
          const collisions = [
            user({ username: 'alice' }), // same username
            user({ username: 'al' }), // username = another user's alias
            user({ username: 'carol', aliases: ['alice'] }), // alias = another user's username
            user({ username: 'carol', aliases: ['al'] }), // alias = another user's alias
            user({ username: 'carol', aliases: ['carol'] }), // alias = own username
            user({ username: 'carol', aliases: ['cc', 'cc'] }), // the same alias twice
          ];
          for (const c of collisions) {
            await expect(store.createUser(c), JSON.stringify(c)).rejects.toBeInstanceOf(StoreConflictError);
            expect(await store.getUser(c.id)).toBeUndefined();
          }
          // None of the failed attempts kept any of its names.
          expect(await store.findUserByName('carol')).toBeUndefined();
          expect(await store.findUserByName('cc')).toBeUndefined();
          expect((await store.listUsers()).map((u) => u.username)).toEqual(['alice']);
          // A duplicate id is a conflict too.
          const first = (await store.findUserByName('alice'))!;
          await expect(store.createUser(user({ id: first.id, username: 'dave' }))).rejects.toBeInstanceOf(StoreConflictError);
          expect(await store.findUserByName('dave')).toBeUndefined();
        });

        it('adds and removes aliases in the shared namespace; the username is never removed as an alias', async () => {
          const u = user({ aliases: ['a1'] });
          const other = user();
          await store.createUser(u);
          await store.createUser(other);
          expect(await store.addUserAlias(u.id, 'a0')).toBe(true);
          expect((await store.getUser(u.id))?.aliases).toEqual(['a0', 'a1']);
          expect((await store.findUserByName('a0'))?.id).toBe(u.id);
          await expect(store.addUserAlias(u.id, other.username)).rejects.toBeInstanceOf(StoreConflictError);
          await expect(store.addUserAlias(other.id, 'a1')).rejects.toBeInstanceOf(StoreConflictError);
          expect(await store.addUserAlias('nobody', 'fresh')).toBe(false);
          expect(await store.findUserByName('fresh')).toBeUndefined();
          expect(await store.removeUserAlias(u.id, u.username)).toBe(false);
          expect(await store.removeUserAlias(other.id, 'a1')).toBe(false);
          expect(await store.removeUserAlias(u.id, 'a1')).toBe(true);
          expect((await store.getUser(u.id))?.aliases).toEqual(['a0']);
          expect(await store.findUserByName('a1')).toBeUndefined();
          expect(await store.addUserAlias(other.id, 'a1')).toBe(true);
        });

        it('sets status', async () => {
          const u = user();
          await store.createUser(u);
          expect(await store.setUserStatus(u.id, 'disabled')).toBe(true);
          expect((await store.getUser(u.id))?.status).toBe('disabled');
          expect(await store.setUserStatus('nobody', 'active')).toBe(false);
          // Duo's bypass status (migration 0008 widened the CHECK), and back to active.
          expect(await store.setUserStatus(u.id, 'bypass')).toBe(true);
          expect((await store.getUser(u.id))?.status).toBe('bypass');
          expect((await store.findUserByName(u.username))?.status).toBe('bypass');
          expect(await store.setUserStatus(u.id, 'active')).toBe(true);
          expect((await store.getUser(u.id))?.status).toBe('active');
          // Any other word is still refused by the database itself.
          await expect(rawSql(`UPDATE users SET status = 'sideways' WHERE id = '${u.id}'`)).rejects.toThrow();
          expect((await store.getUser(u.id))?.status).toBe('active');
        });

        it('deleting a user deletes its names, tokens and bypass codes, and frees its names', async () => {
          const int = integration();
          await store.createIntegration(int);
          const u = user({ username: 'alice', aliases: ['al'] });
          await store.createUser(u);
          const t = token(u.id);
          await store.addToken(t);
          await store.addBypassCodes(u.id, [bypassCode(u.id)], false);
          const tx = transaction(int.id, { userId: u.id, username: 'alice' });
          await store.createTransaction(tx);

          expect(await store.deleteUser(u.id)).toBe(true);
          expect(await store.deleteUser(u.id)).toBe(false);
          expect(await store.getUser(u.id)).toBeUndefined();
          expect(await store.findUserByName('al')).toBeUndefined();
          expect(await store.getToken(t.id)).toBeUndefined();
          expect(await store.listTokens(u.id)).toEqual([]);
          expect(await store.listBypassCodes(u.id)).toEqual([]);
          // The transaction stays (it is history) but no longer points at the user.
          expect((await store.getTransaction(tx.txid))?.userId).toBeNull();
          // The names can be taken again.
          await store.createUser(user({ username: 'al', aliases: ['alice'] }));
        });

        it('counts failures and locks at the threshold; success and unlock reset', async () => {
          const u = user();
          await store.createUser(u);
          const lockMs = 300_000;
          expect(await store.recordFailure(u.id, T0 + 1, 3, lockMs)).toEqual({ failures: 1, lockedUntil: null });
          expect(await store.recordFailure(u.id, T0 + 2, 3, lockMs)).toEqual({ failures: 2, lockedUntil: null });
          expect(await store.recordFailure(u.id, T0 + 3, 3, lockMs)).toEqual({ failures: 3, lockedUntil: T0 + 3 + lockMs });
          expect(await store.getUser(u.id)).toMatchObject({ failures: 3, lockedUntil: T0 + 3 + lockMs });

          await store.recordSuccess(u.id, T0 + 10);
          expect(await store.getUser(u.id)).toMatchObject({ failures: 0, lockedUntil: null, lastLoginAt: T0 + 10 });

          await store.recordFailure(u.id, T0 + 11, 1, lockMs);
          expect(await store.getUser(u.id)).toMatchObject({ failures: 1, lockedUntil: T0 + 11 + lockMs });
          expect(await store.unlockUser(u.id)).toBe(true);
          expect(await store.getUser(u.id)).toMatchObject({ failures: 0, lockedUntil: null, lastLoginAt: T0 + 10 });
          expect(await store.unlockUser('nobody')).toBe(false);
        });

        it(`${PARALLEL} parallel failures each count once, and exactly the one reaching the threshold locks`, async () => {
          const u = user();
          await store.createUser(u);
          const results = await Promise.all(
            Array.from({ length: PARALLEL }, () => store.recordFailure(u.id, T0, PARALLEL, 60_000)),
          );
          expect(results.map((r) => r.failures).sort((a, b) => a - b)).toEqual(Array.from({ length: PARALLEL }, (_, i) => i + 1));
          expect(results.filter((r) => r.lockedUntil !== null)).toEqual([{ failures: PARALLEL, lockedUntil: T0 + 60_000 }]);
          expect((await store.getUser(u.id))?.failures).toBe(PARALLEL);
        });
      });

      // ---------------------------------------------------------------- tokens
      describe('OTP tokens', () => {
        let userId: string;
        beforeEach(async () => {
          const u = user();
          await store.createUser(u);
          userId = u.id;
        });

        it('adds, lists, gets and removes tokens', async () => {
          const totp = token(userId);
          const hotp = token(userId, { type: 'hotp', period: null, nextCounter: 0, digits: 8, algorithm: 'sha512' });
          await store.addToken(totp);
          await store.addToken(hotp);
          await expect(store.addToken(token(userId, { id: totp.id }))).rejects.toBeInstanceOf(StoreConflictError);
          expect(await store.listTokens(userId)).toEqual([totp, hotp]);
          expect(await store.getToken(hotp.id)).toEqual(hotp);
          expect(await store.removeToken(totp.id)).toBe(true);
          expect(await store.removeToken(totp.id)).toBe(false);
          expect(await store.listTokens(userId)).toEqual([hotp]);
        });

        it('accepts a value once, never below nextCounter, and moves nextCounter past it', async () => {
          const t = token(userId, { nextCounter: 100 });
          await store.addToken(t);
          expect(await store.acceptOtp(t.id, 99)).toBe(false);
          expect(await store.acceptOtp(t.id, 100)).toBe(true);
          expect(await store.acceptOtp(t.id, 100)).toBe(false);
          expect((await store.getToken(t.id))?.nextCounter).toBe(101);
          expect(await store.acceptOtp(t.id, 105)).toBe(true);
          expect(await store.acceptOtp(t.id, 103)).toBe(false);
          expect(await store.acceptOtp(t.id, 105)).toBe(false);
          expect((await store.getToken(t.id))?.nextCounter).toBe(106);
          expect(await store.acceptOtp('no-such-token', 1_000)).toBe(false);
        });

        it('resyncs a counter', async () => {
          const t = token(userId, { type: 'hotp', period: null, nextCounter: 10 });
          await store.addToken(t);
          expect(await store.setTokenCounter(t.id, 3)).toBe(true);
          expect(await store.acceptOtp(t.id, 3)).toBe(true);
          expect(await store.setTokenCounter('no-such-token', 3)).toBe(false);
        });

        it(`${PARALLEL} parallel accepts of the same value: exactly one succeeds`, async () => {
          const t = token(userId);
          await store.addToken(t);
          const value = t.nextCounter + 1;
          const results = await Promise.all(Array.from({ length: PARALLEL }, () => store.acceptOtp(t.id, value)));
          expect(results.filter(Boolean)).toHaveLength(1);
          expect((await store.getToken(t.id))?.nextCounter).toBe(value + 1);
        });

        it('two Stores on one database racing the same values: each value is accepted at most once', async () => {
          const other = await openTracked();
          const t = token(userId, { nextCounter: 0 });
          await store.addToken(t);
          const values = Array.from({ length: 10 }, (_, i) => i);
          const race = (s: Store) => Promise.all(values.flatMap((v) => [s.acceptOtp(t.id, v), s.acceptOtp(t.id, v)]));
          const [mine, theirs] = await Promise.all([race(store), race(other)]);
          for (const [i] of values.entries()) {
            const wins = [mine[2 * i], mine[2 * i + 1], theirs[2 * i], theirs[2 * i + 1]].filter(Boolean);
            expect(wins.length, `value ${i}`).toBeLessThanOrEqual(1);
          }
          expect([...mine, ...theirs].filter(Boolean).length).toBeGreaterThanOrEqual(1);
          expect(await store.acceptOtp(t.id, 9)).toBe(false);
        });
      });

      // ---------------------------------------------------------------- bypass codes
      describe('bypass codes', () => {
        let userId: string;
        beforeEach(async () => {
          const u = user();
          await store.createUser(u);
          userId = u.id;
        });

        it('a single-use code works once and is then gone', async () => {
          const c = bypassCode(userId, { usesRemaining: 1 });
          await store.addBypassCodes(userId, [c], false);
          expect(await store.listBypassCodes(userId)).toEqual([c]);
          expect(await store.consumeBypassCode(userId, c.codeHmac, T0)).toBe(true);
          expect(await store.consumeBypassCode(userId, c.codeHmac, T0)).toBe(false);
          expect(await store.listBypassCodes(userId)).toEqual([]);
        });

        it('a multi-use code counts down and is deleted when used up', async () => {
          const c = bypassCode(userId, { usesRemaining: 3 });
          await store.addBypassCodes(userId, [c], false);
          expect(await store.consumeBypassCode(userId, c.codeHmac, T0)).toBe(true);
          expect((await store.listBypassCodes(userId))[0]?.usesRemaining).toBe(2);
          expect(await store.consumeBypassCode(userId, c.codeHmac, T0)).toBe(true);
          expect(await store.consumeBypassCode(userId, c.codeHmac, T0)).toBe(true);
          expect(await store.consumeBypassCode(userId, c.codeHmac, T0)).toBe(false);
          expect(await store.listBypassCodes(userId)).toEqual([]);
        });

        it('an unlimited (null) code keeps working and stays unlimited', async () => {
          const c = bypassCode(userId, { usesRemaining: null });
          await store.addBypassCodes(userId, [c], false);
          for (let i = 0; i < 5; i++) expect(await store.consumeBypassCode(userId, c.codeHmac, T0)).toBe(true);
          expect(await store.listBypassCodes(userId)).toEqual([c]);
        });

        it('an expired code, another user\'s code and an unknown code are refused', async () => {
          const other = user();
          await store.createUser(other);
          const expiring = bypassCode(userId, { usesRemaining: null, expiresAt: T0 + 1000 });
          const theirs = bypassCode(other.id);
          await store.addBypassCodes(userId, [expiring], false);
          await store.addBypassCodes(other.id, [theirs], false);
          expect(await store.consumeBypassCode(userId, expiring.codeHmac, T0 + 999)).toBe(true);
          expect(await store.consumeBypassCode(userId, expiring.codeHmac, T0 + 1000)).toBe(false);
          expect(await store.consumeBypassCode(userId, expiring.codeHmac, T0 + 5000)).toBe(false);
          expect(await store.consumeBypassCode(userId, theirs.codeHmac, T0)).toBe(false);
          expect(await store.consumeBypassCode(userId, 'hmac-unknown', T0)).toBe(false);
          // The refused attempt on the other user's code did not use it.
          expect(await store.listBypassCodes(other.id)).toEqual([theirs]);
        });

        it('adds with or without replacing, and clears', async () => {
          const a = bypassCode(userId);
          const b = bypassCode(userId);
          const c = bypassCode(userId);
          await store.addBypassCodes(userId, [a], false);
          await store.addBypassCodes(userId, [b], false);
          expect(await store.listBypassCodes(userId)).toEqual([a, b]);
          await store.addBypassCodes(userId, [c], true);
          expect(await store.listBypassCodes(userId)).toEqual([c]);
          // A failing replace (duplicate HMAC within the batch) changes nothing.
          await expect(store.addBypassCodes(userId, [bypassCode(userId, { codeHmac: 'dup' }), bypassCode(userId, { codeHmac: 'dup' })], true))
            .rejects.toBeInstanceOf(StoreConflictError);
          expect(await store.listBypassCodes(userId)).toEqual([c]);
          await store.addBypassCodes(userId, [], true);
          expect(await store.listBypassCodes(userId)).toEqual([]);
          await store.addBypassCodes(userId, [a, b], false);
          expect(await store.clearBypassCodes(userId)).toBe(2);
          expect(await store.clearBypassCodes(userId)).toBe(0);
        });

        it(`${PARALLEL} parallel uses of a single-use code: exactly one succeeds`, async () => {
          const c = bypassCode(userId, { usesRemaining: 1 });
          await store.addBypassCodes(userId, [c], false);
          const results = await Promise.all(Array.from({ length: PARALLEL }, () => store.consumeBypassCode(userId, c.codeHmac, T0)));
          expect(results.filter(Boolean)).toHaveLength(1);
          expect(await store.listBypassCodes(userId)).toEqual([]);
        });

        it(`${PARALLEL} parallel uses of a three-use code: exactly three succeed`, async () => {
          const c = bypassCode(userId, { usesRemaining: 3 });
          await store.addBypassCodes(userId, [c], false);
          const results = await Promise.all(Array.from({ length: PARALLEL }, () => store.consumeBypassCode(userId, c.codeHmac, T0)));
          expect(results.filter(Boolean)).toHaveLength(3);
        });
      });

      // ---------------------------------------------------------------- transactions
      describe('transactions', () => {
        let integrationId: string;
        beforeEach(async () => {
          const int = integration();
          await store.createIntegration(int);
          integrationId = int.id;
        });

        it(`counts status polls, ${PARALLEL} parallel polls each once`, async () => {
          const tx = transaction(integrationId);
          await store.createTransaction(tx);
          expect(await store.countStatusPoll(tx.txid)).toBe(1);
          const counts = await Promise.all(Array.from({ length: PARALLEL }, () => store.countStatusPoll(tx.txid)));
          expect([...counts].sort((a, b) => a - b)).toEqual(Array.from({ length: PARALLEL }, (_, i) => i + 2));
          expect(await store.countStatusPoll('tx-unknown')).toBe(0);
        });

        it('creates and reads back every field', async () => {
          const u = user();
          await store.createUser(u);
          const tx = transaction(integrationId, { userId: u.id });
          await store.createTransaction(tx);
          expect(await store.getTransaction(tx.txid)).toEqual(tx);
          expect(await store.getTransaction('tx-unknown')).toBeUndefined();
          await expect(store.createTransaction(tx)).rejects.toBeInstanceOf(StoreConflictError);
        });

        it('settles exactly once, bumping the version', async () => {
          const tx = transaction(integrationId);
          await store.createTransaction(tx);
          const outcome = { state: 'allow', status: 'allow', statusMsg: 'Success. Logging you in...', at: T0 + 5 } as const;
          expect(await store.settleTransaction(tx.txid, outcome)).toBe(true);
          expect(await store.settleTransaction(tx.txid, { ...outcome, state: 'deny', status: 'deny' })).toBe(false);
          expect(await store.getTransaction(tx.txid)).toEqual({
            ...tx, state: 'allow', status: 'allow', statusMsg: outcome.statusMsg, settledAt: T0 + 5, version: 1,
          });
          expect(await store.settleTransaction('tx-unknown', outcome)).toBe(false);
        });

        it('updates the status of a pending transaction only', async () => {
          const tx = transaction(integrationId);
          await store.createTransaction(tx);
          expect(await store.updatePendingStatus(tx.txid, 'calling', 'Dialing...')).toBe(true);
          expect(await store.getTransaction(tx.txid)).toMatchObject({ state: 'pending', status: 'calling', statusMsg: 'Dialing...', version: 1 });
          await store.settleTransaction(tx.txid, { state: 'timeout', status: 'timeout', statusMsg: 'Timed out', at: T0 });
          expect(await store.updatePendingStatus(tx.txid, 'answered', 'x')).toBe(false);
          expect(await store.getTransaction(tx.txid)).toMatchObject({ state: 'timeout', status: 'timeout', version: 2 });
          expect(await store.updatePendingStatus('tx-unknown', 'x', 'y')).toBe(false);
        });

        it(`${PARALLEL} parallel settles: exactly one succeeds`, async () => {
          const tx = transaction(integrationId);
          await store.createTransaction(tx);
          const states = ['allow', 'deny', 'fraud', 'timeout'] as const;
          const results = await Promise.all(Array.from({ length: PARALLEL }, (_, i) =>
            store.settleTransaction(tx.txid, { state: states[i % 4]!, status: String(i), statusMsg: '', at: T0 + i })));
          expect(results.filter(Boolean)).toHaveLength(1);
          const winner = results.indexOf(true);
          expect(await store.getTransaction(tx.txid)).toMatchObject({ state: states[winner % 4], status: String(winner), version: 1 });
        });

        it('lists expired pending transactions, oldest first, up to the limit', async () => {
          const a = transaction(integrationId, { expiresAt: T0 + 30 });
          const b = transaction(integrationId, { expiresAt: T0 + 10 });
          const c = transaction(integrationId, { expiresAt: T0 + 20 });
          const settled = transaction(integrationId, { expiresAt: T0 });
          const notYet = transaction(integrationId, { expiresAt: T0 + 100 });
          for (const tx of [a, b, c, settled, notYet]) await store.createTransaction(tx);
          await store.settleTransaction(settled.txid, { state: 'deny', status: 'deny', statusMsg: '', at: T0 });
          expect(await store.listExpiredPending(T0 + 30, 10)).toEqual([b.txid, c.txid, a.txid]);
          expect(await store.listExpiredPending(T0 + 30, 2)).toEqual([b.txid, c.txid]);
          expect(await store.listExpiredPending(T0 + 9, 10)).toEqual([]);
        });

        it('lists pending, unexpired transactions oldest first (the dashboard), with a limit', async () => {
          const a = transaction(integrationId, { createdAt: T0 + 2, expiresAt: T0 + 100 });
          const b = transaction(integrationId, { createdAt: T0 + 1, expiresAt: T0 + 100 });
          const expired = transaction(integrationId, { createdAt: T0, expiresAt: T0 + 10 });
          const settled = transaction(integrationId, { createdAt: T0, expiresAt: T0 + 100 });
          for (const tx of [a, b, expired, settled]) await store.createTransaction(tx);
          await store.settleTransaction(settled.txid, { state: 'deny', status: 'deny', statusMsg: '', at: T0 });
          expect((await store.listPendingTransactions(T0 + 20, 10)).map((t) => t.txid)).toEqual([b.txid, a.txid]);
          expect((await store.listPendingTransactions(T0 + 20, 1)).map((t) => t.txid)).toEqual([b.txid]);
          expect(await store.listPendingTransactions(T0 + 20, 10)).toContainEqual(a);
          expect(await store.listPendingTransactions(T0 + 100, 10)).toEqual([]);
        });

        it('purges settled transactions older than the cutoff, never pending ones', async () => {
          const old = transaction(integrationId);
          const recent = transaction(integrationId);
          const pending = transaction(integrationId, { createdAt: T0 - 1_000_000 });
          for (const tx of [old, recent, pending]) await store.createTransaction(tx);
          await store.settleTransaction(old.txid, { state: 'allow', status: 'allow', statusMsg: '', at: T0 + 1 });
          await store.settleTransaction(recent.txid, { state: 'allow', status: 'allow', statusMsg: '', at: T0 + 100 });
          expect(await store.purgeTransactions(T0 + 50)).toBe(1);
          expect(await store.getTransaction(old.txid)).toBeUndefined();
          expect(await store.getTransaction(recent.txid)).toBeDefined();
          expect(await store.getTransaction(pending.txid)).toBeDefined();
          expect(await store.purgeTransactions(T0 + 50)).toBe(0);
        });

        it('notifies subscribers of that txid only, once per change, until they unsubscribe', async () => {
          const watched = transaction(integrationId);
          const other = transaction(integrationId);
          await store.createTransaction(watched);
          await store.createTransaction(other);
          let calls = 0;
          let otherCalls = 0;
          const unsubscribe = store.onTransactionChange(watched.txid, () => calls++);
          store.onTransactionChange(other.txid, () => otherCalls++);

          await store.updatePendingStatus(watched.txid, 'pushed', 'again');
          await until(() => calls === 1);
          await fence(store, integrationId);
          expect(calls).toBe(1);
          expect(otherCalls).toBe(0);

          await store.settleTransaction(watched.txid, { state: 'allow', status: 'allow', statusMsg: '', at: T0 });
          await until(() => calls === 2);
          // A refused change (already settled) notifies nobody.
          await store.settleTransaction(watched.txid, { state: 'deny', status: 'deny', statusMsg: '', at: T0 });
          await store.updatePendingStatus(watched.txid, 'x', 'y');
          await fence(store, integrationId);
          expect(calls).toBe(2);
          expect(otherCalls).toBe(0);

          unsubscribe();
          await store.settleTransaction(other.txid, { state: 'deny', status: 'deny', statusMsg: '', at: T0 });
          await until(() => otherCalls === 1);
          await fence(store, integrationId);
          expect(calls).toBe(2);
        });

        it('two listeners on one txid each fire once; a throwing listener does not stop the other', async () => {
          const tx = transaction(integrationId);
          await store.createTransaction(tx);
          const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
          try {
            let good = 0;
            store.onTransactionChange(tx.txid, () => {
              throw new Error('listener bug');
            });
            store.onTransactionChange(tx.txid, () => good++);
            await store.settleTransaction(tx.txid, { state: 'allow', status: 'allow', statusMsg: '', at: T0 });
            await until(() => good === 1);
            await fence(store, integrationId);
            expect(good).toBe(1);
            expect(warn).toHaveBeenCalledTimes(1);
            expect(String(warn.mock.calls[0]?.[0])).toContain('listener bug');
          } finally {
            warn.mockRestore();
          }
        });
      });

      // ---------------------------------------------------------------- enrollment
      describe('enrollment links', () => {
        let integrationId: string;
        beforeEach(async () => {
          const int = integration();
          await store.createIntegration(int);
          integrationId = int.id;
        });
        const link = (integrationId: string, tokenHash: string) =>
          ({ tokenHash, integrationId, username: 'newbie', createdAt: T0, expiresAt: T0 + 1000, usedAt: null });

        it('consumes a link once, before it expires', async () => {
          await store.createEnrollToken(link(integrationId, 'h-once'));
          await store.createEnrollToken(link(integrationId, 'h-late'));
          await expect(store.createEnrollToken(link(integrationId, 'h-once'))).rejects.toBeInstanceOf(StoreConflictError);
          expect(await store.consumeEnrollToken('h-once', T0 + 10)).toEqual({ ...link(integrationId, 'h-once'), usedAt: T0 + 10 });
          expect(await store.consumeEnrollToken('h-once', T0 + 11)).toBeUndefined();
          expect(await store.consumeEnrollToken('h-late', T0 + 1000)).toBeUndefined();
          expect(await store.consumeEnrollToken('h-unknown', T0)).toBeUndefined();
        });

        it(`${PARALLEL} parallel uses of one link: exactly one succeeds`, async () => {
          await store.createEnrollToken(link(integrationId, 'h-race'));
          const results = await Promise.all(Array.from({ length: PARALLEL }, () => store.consumeEnrollToken('h-race', T0)));
          expect(results.filter(Boolean)).toHaveLength(1);
        });
      });

      // ---------------------------------------------------------------- devices and push
      describe('devices and push', () => {
        describePushConformance({ store: () => store, openTracked, rawSql });
      });

      // ---------------------------------------------------------------- console admins
      describe('console admins', () => {
        describeAdminConformance({ store: () => store });
      });

      // ---------------------------------------------------------------- enrollment portal
      describe('enrollment portal', () => {
        describePortalConformance({ store: () => store });
      });

      // ---------------------------------------------------------------- request records
      describe('request records', () => {
        const record = (key: string, expiresAt = T0 + 300_000) =>
          ({ key, integrationId: 'int-x', peer: '192.0.2.7', createdAt: T0, expiresAt });

        it('remembers a request once and returns the existing record afterwards', async () => {
          expect(await store.rememberRequest(record('k1'))).toBe('inserted');
          expect(await store.rememberRequest({ ...record('k1'), peer: 'elsewhere' }))
            .toEqual({ ...record('k1'), response: null, delivered: false });
          await store.setRequestResponse('k1', '{"stat":"OK"}');
          await store.markRequestDelivered('k1');
          const expected = { ...record('k1'), response: '{"stat":"OK"}', delivered: true };
          expect(await store.getRequest('k1')).toEqual(expected);
          expect(await store.rememberRequest(record('k1'))).toEqual(expected);
          expect(await store.getRequest('k-unknown')).toBeUndefined();
        });

        it('purges records whose expiry is before the cutoff', async () => {
          await store.rememberRequest(record('old', T0 + 10));
          await store.rememberRequest(record('new', T0 + 1000));
          expect(await store.purgeRequests(T0 + 500)).toBe(1);
          expect(await store.getRequest('old')).toBeUndefined();
          expect(await store.getRequest('new')).toBeDefined();
          expect(await store.rememberRequest(record('old', T0 + 10))).toBe('inserted');
        });

        it(`${PARALLEL} parallel copies of one request: exactly one is 'inserted'`, async () => {
          const results = await Promise.all(Array.from({ length: PARALLEL }, () => store.rememberRequest(record('k-race'))));
          expect(results.filter((r) => r === 'inserted')).toHaveLength(1);
        });

        it('restarts a record for a new request with the same key', async () => {
          await store.rememberRequest(record('k2'));
          await store.setRequestResponse('k2', '{"stat":"OK"}');
          await store.markRequestDelivered('k2');
          const again = { ...record('k2'), peer: '192.0.2.8', createdAt: T0 + 5, expiresAt: T0 + 10_000 };
          await store.restartRequest(again);
          expect(await store.getRequest('k2')).toEqual({ ...again, response: null, delivered: false });
        });
      });

      // ---------------------------------------------------------------- audit
      describe('audit log', () => {
        it('appends per node, chaining prevHash to the previous hash from the genesis hash', async () => {
          const a1 = await store.appendAudit(auditEntry('node-a', { time: T0 + 1 }), chainHash);
          const b1 = await store.appendAudit(auditEntry('node-b', { time: T0 + 2 }), chainHash);
          const a2 = await store.appendAudit(auditEntry('node-a', { time: T0 + 3, txid: 'tx-1', factor: null }), chainHash);
          expect(a1).toEqual({ ...auditEntry('node-a', { time: T0 + 1 }), seq: 1, prevHash: AUDIT_GENESIS, hash: chainHash(AUDIT_GENESIS, 1) });
          expect(b1).toMatchObject({ nodeId: 'node-b', seq: 1, prevHash: AUDIT_GENESIS });
          expect(a2).toMatchObject({ seq: 2, prevHash: a1.hash, hash: chainHash(a1.hash, 2), txid: 'tx-1', factor: null });
          expect(await store.readAuditChain('node-a', 0, 10)).toEqual([a1, a2]);
          expect(await store.readAuditChain('node-a', 1, 10)).toEqual([a2]);
          expect(await store.readAuditChain('node-a', 0, 1)).toEqual([a1]);
          expect(await store.readAuditChain('node-a', 2, 10)).toEqual([]);
          expect(await store.readAuditChain('node-c', 0, 10)).toEqual([]);
          expect(await store.listAuditNodes()).toEqual(['node-a', 'node-b']);
        });

        it('a failing hash function appends nothing', async () => {
          await store.appendAudit(auditEntry('n'), chainHash);
          await expect(store.appendAudit(auditEntry('n'), () => {
            throw new Error('boom');
          })).rejects.toThrow('boom');
          const next = await store.appendAudit(auditEntry('n'), chainHash);
          expect(next.seq).toBe(2);
          expect(await store.readAuditChain('n', 0, 10)).toHaveLength(2);
        });

        it('queries newest first, filtered by username, event and time, with a limit', async () => {
          await store.appendAudit(auditEntry('a', { time: T0 + 1, username: 'alice', event: 'auth' }), chainHash);
          await store.appendAudit(auditEntry('b', { time: T0 + 2, username: 'bob', event: 'auth' }), chainHash);
          await store.appendAudit(auditEntry('a', { time: T0 + 3, username: 'alice', event: 'preauth' }), chainHash);
          await store.appendAudit(auditEntry('b', { time: T0 + 4, username: null, event: 'admin' }), chainHash);
          const times = (entries: { time: number }[]) => entries.map((e) => e.time - T0);
          expect(times(await store.queryAudit({}))).toEqual([4, 3, 2, 1]);
          expect(times(await store.queryAudit({ username: 'alice' }))).toEqual([3, 1]);
          expect(times(await store.queryAudit({ event: 'auth' }))).toEqual([2, 1]);
          expect(times(await store.queryAudit({ since: T0 + 2 }))).toEqual([4, 3, 2]);
          expect(times(await store.queryAudit({ limit: 2 }))).toEqual([4, 3]);
          expect(times(await store.queryAudit({ username: 'alice', event: 'auth', since: T0 }))).toEqual([1]);
        });

        it('filters by integration, result, factor and an end time (hostile values are just values)', async () => {
          await store.appendAudit(auditEntry('a', { time: T0 + 1, integration: 'DI1', result: 'allow', factor: 'push' }), chainHash);
          await store.appendAudit(auditEntry('a', { time: T0 + 2, integration: 'DI2', result: 'deny', factor: 'passcode' }), chainHash);
          await store.appendAudit(auditEntry('a', { time: T0 + 3, integration: 'DI1', result: 'deny', factor: null }), chainHash);
          await store.appendAudit(auditEntry('a', { time: T0 + 4, integration: "x' OR '1'='1", result: 'allow', factor: 'passcode' }), chainHash);
          const times = (entries: { time: number }[]) => entries.map((e) => e.time - T0);
          expect(times(await store.queryAudit({ integration: 'DI1' }))).toEqual([3, 1]);
          expect(times(await store.queryAudit({ result: 'deny' }))).toEqual([3, 2]);
          expect(times(await store.queryAudit({ factor: 'passcode' }))).toEqual([4, 2]);
          expect(times(await store.queryAudit({ until: T0 + 2 }))).toEqual([2, 1]);
          expect(times(await store.queryAudit({ since: T0 + 2, until: T0 + 3 }))).toEqual([3, 2]);
          expect(times(await store.queryAudit({ integration: 'DI1', result: 'deny' }))).toEqual([3]);
          expect(times(await store.queryAudit({ integration: "x' OR '1'='1" }))).toEqual([4]);
          expect(times(await store.queryAudit({ integration: "' OR 1=1 --" }))).toEqual([]);
        });

        it('counts entries per time bucket, result and factor in the database', async () => {
          const H = 3_600_000;
          const base = Math.floor(T0 / H) * H;
          await store.appendAudit(auditEntry('a', { time: base + 1, result: 'allow', factor: 'push' }), chainHash);
          await store.appendAudit(auditEntry('b', { time: base + 2, result: 'allow', factor: 'push' }), chainHash);
          await store.appendAudit(auditEntry('a', { time: base + 3, result: 'deny', factor: 'passcode' }), chainHash);
          await store.appendAudit(auditEntry('a', { time: base + H + 5, result: 'allow', factor: null }), chainHash);
          await store.appendAudit(auditEntry('a', { time: base + H + 6, event: 'admin', result: 'allow', factor: null }), chainHash);
          await store.appendAudit(auditEntry('a', { time: base + 3 * H, result: 'allow', factor: 'push' }), chainHash);
          expect(await store.countAudit({ since: base, until: base + 2 * H, bucketMs: H, events: ['auth'] })).toEqual([
            { bucket: base, result: 'allow', factor: 'push', count: 2 },
            { bucket: base, result: 'deny', factor: 'passcode', count: 1 },
            { bucket: base + H, result: 'allow', factor: null, count: 1 },
          ]);
          expect(await store.countAudit({ since: base, until: base + 4 * H, bucketMs: 24 * H, events: ['admin'] })).toEqual([
            { bucket: Math.floor((base + H + 6) / (24 * H)) * 24 * H, result: 'allow', factor: null, count: 1 },
          ]);
          expect(await store.countAudit({ since: base, until: base + 4 * H, bucketMs: H, events: [] })).toEqual([]);
        });

        it(`${PARALLEL} parallel appends on one node: seqs 1..${PARALLEL} in one unbroken chain`, async () => {
          const appended = await Promise.all(Array.from({ length: PARALLEL }, (_, i) =>
            store.appendAudit(auditEntry('busy', { time: T0 + i }), chainHash)));
          expect(appended.map((e) => e.seq).sort((a, b) => a - b)).toEqual(Array.from({ length: PARALLEL }, (_, i) => i + 1));
          expectUnbrokenChain(await store.readAuditChain('busy', 0, 1000), PARALLEL);
        });

        it('two Stores on one database appending to one node: one unbroken chain', async () => {
          const other = await openTracked();
          await Promise.all(Array.from({ length: PARALLEL }, (_, i) =>
            (i % 2 ? store : other).appendAudit(auditEntry('shared', { time: T0 + i }), chainHash)));
          expectUnbrokenChain(await other.readAuditChain('shared', 0, 1000), PARALLEL);
        });
      });
    });
  });
}

/** seq 1..n, each prevHash the previous hash, each hash recomputable. */
export function expectUnbrokenChain(chain: { seq: number; prevHash: string; hash: string }[], n: number): void {
  expect(chain.map((e) => e.seq)).toEqual(Array.from({ length: n }, (_, i) => i + 1));
  let prev = AUDIT_GENESIS;
  for (const e of chain) {
    expect(e.prevHash).toBe(prev);
    expect(e.hash).toBe(chainHash(e.prevHash, e.seq));
    prev = e.hash;
  }
}

/** Polls until `cond` holds (notifications may arrive asynchronously, e.g. through LISTEN). */
export async function until(cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

/**
 * Waits until every notification caused so far has been delivered: changes a fresh transaction
 * and waits for its own notification. Notifications arrive in commit order, so anything an
 * earlier change could have triggered (such as a duplicate) has arrived by then.
 */
export async function fence(store: Store, integrationId: string): Promise<void> {
  const tx = transaction(integrationId);
  await store.createTransaction(tx);
  let heard = false;
  const off = store.onTransactionChange(tx.txid, () => (heard = true));
  await store.updatePendingStatus(tx.txid, 'fence', '');
  await until(() => heard);
  off();
}
