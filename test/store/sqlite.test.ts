// The conformance suite on SQLite (a new database file per test), plus what only SQLite has:
// the file's permissions and several processes sharing one file.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/open.js';
import { runStoreConformance } from './conformance.js';
import { integration, push, T0, transaction, user } from './fixtures.js';

let dir: string;
let file: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tandem-store-'));
  file = join(dir, 'tandem.db');
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

runStoreConformance('sqlite', () => openStore({ kind: 'sqlite', file }), async (statement) => {
  const db = new Database(file);
  try {
    db.pragma('busy_timeout = 5000');
    db.exec(statement);
  } finally {
    db.close();
  }
});

describe('sqlite specifics', () => {
  it('migration 0007 (rebuilding transactions) keeps every transaction and its push challenge', async () => {
    let store = await openStore({ kind: 'sqlite', file });
    const int = integration();
    const u = user();
    const p = push(int.id, u.id, { tx: { expiresAt: T0 + 600_000 }, challenge: { expiresAt: T0 + 600_000, matchCode: '042' } });
    const settled = transaction(int.id, { state: 'deny', status: 'deny', settledAt: T0 + 5 });
    try {
      await store.createIntegration(int);
      await store.createUser(u);
      expect(await store.createPushTransaction(p.tx, p.challenge, 5, T0)).toBe('created');
      await store.createTransaction(settled);
    } finally {
      await store.close();
    }
    // Run 0007 again over this data, as an upgrade from 0006 would (and the later ones after it).
    const db = new Database(file);
    try {
      db.prepare(`DELETE FROM tandem_migrations WHERE name >= '0007_portal_push'`).run();
    } finally {
      db.close();
    }
    store = await openStore({ kind: 'sqlite', file });
    try {
      expect(await store.getTransaction(p.tx.txid)).toEqual(p.tx);
      expect(await store.getTransaction(settled.txid)).toEqual(settled);
      expect(await store.getPushChallenge(p.tx.txid)).toEqual(p.challenge);
      expect((await store.listPendingPushes(u.id, T0 + 1)).map((x) => [x.tx.txid, x.ikey])).toEqual([[p.tx.txid, int.ikey]]);
      // The foreign keys still hold: deleting the integration takes its transactions and challenges.
      expect(await store.deleteIntegration(int.ikey)).toBe(true);
      expect(await store.getPushChallenge(p.tx.txid)).toBeUndefined();
    } finally {
      await store.close();
    }
    const check = new Database(file);
    try {
      expect(check.pragma('foreign_key_check')).toEqual([]);
      expect(check.prepare(`SELECT name FROM sqlite_master WHERE name LIKE '%_0007'`).all()).toEqual([]);
    } finally {
      check.close();
    }
  });

  it('migration 0008 (users.status may be bypass) keeps every user, their status and what references them', async () => {
    let store = await openStore({ kind: 'sqlite', file });
    const off = user({ username: 'off', aliases: ['off2'] });
    const on = user({ username: 'on' });
    try {
      await store.createUser(off);
      await store.createUser(on);
      await store.setUserStatus(off.id, 'disabled');
      await store.setUserStatus(on.id, 'bypass');
    } finally {
      await store.close();
    }
    // Run 0008 again over this data, as an upgrade from 0007 would.
    const db = new Database(file);
    try {
      db.prepare(`DELETE FROM tandem_migrations WHERE name = '0008_user_bypass'`).run();
    } finally {
      db.close();
    }
    store = await openStore({ kind: 'sqlite', file });
    try {
      expect((await store.getUser(off.id))?.status).toBe('disabled');
      expect((await store.findUserByName('off2'))?.id).toBe(off.id);
      expect((await store.getUser(on.id))?.status).toBe('bypass');
      // The foreign keys still hold: deleting a user takes its names.
      await store.deleteUser(off.id);
      expect(await store.findUserByName('off2')).toBeUndefined();
    } finally {
      await store.close();
    }
    const check = new Database(file);
    try {
      expect(check.pragma('foreign_key_check')).toEqual([]);
      expect(() => check.prepare(`UPDATE users SET status = 'sideways'`).run()).toThrow(/CHECK/);
      expect(check.prepare(`SELECT name FROM pragma_table_info('users') WHERE name LIKE '%_0008'`).all()).toEqual([]);
    } finally {
      check.close();
    }
  });

  it('creates the database, WAL and shared-memory files with mode 0600', async () => {
    const store = await openStore({ kind: 'sqlite', file });
    try {
      await store.createIntegration(integration());
      for (const f of [file, `${file}-wal`, `${file}-shm`]) {
        expect((statSync(f).mode & 0o777).toString(8), f).toBe('600');
      }
    } finally {
      await store.close();
    }
  });

  it('opens an in-memory database', async () => {
    const store = await openStore({ kind: 'sqlite', file: ':memory:' });
    try {
      const int = integration();
      await store.createIntegration(int);
      expect(await store.listIntegrations()).toEqual([int]);
    } finally {
      await store.close();
    }
  });

  it('notifies in-process listeners synchronously with the change', async () => {
    const store = await openStore({ kind: 'sqlite', file });
    try {
      const int = integration();
      await store.createIntegration(int);
      const tx = transaction(int.id);
      await store.createTransaction(tx);
      let calls = 0;
      store.onTransactionChange(tx.txid, () => calls++);
      await store.settleTransaction(tx.txid, { state: 'allow', status: 'allow', statusMsg: '', at: T0 });
      expect(calls).toBe(1);
    } finally {
      await store.close();
    }
  });
});
