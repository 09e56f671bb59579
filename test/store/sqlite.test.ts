// The conformance suite on SQLite (a new database file per test), plus what only SQLite has:
// the file's permissions and several processes sharing one file.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/open.js';
import { runStoreConformance } from './conformance.js';
import { integration, T0, transaction } from './fixtures.js';

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
