// The conformance suite on PostgreSQL (a new database per test on the run's cluster, see
// test/support/global-setup.ts), plus what only PostgreSQL has: several server nodes hearing
// each other's transaction changes through LISTEN/NOTIFY.
import { beforeEach, describe, expect, inject, it } from 'vitest';
import pg from 'pg';
import { openStore } from '../../src/store/open.js';
import { freshPostgresDatabase } from '../support/postgres.js';
import { fence, runStoreConformance, until } from './conformance.js';
import { integration, push, T0, transaction, user } from './fixtures.js';

const baseUrl = inject('pgUrl');
let url: string;
beforeEach(async () => {
  url = await freshPostgresDatabase(baseUrl);
});

runStoreConformance('postgres', () => openStore({ kind: 'postgres', url }), async (statement) => {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
});

describe('postgres specifics', () => {
  it('a change on one node wakes listeners on every node, once each', async () => {
    const nodeA = await openStore({ kind: 'postgres', url });
    const nodeB = await openStore({ kind: 'postgres', url });
    try {
      const int = integration();
      await nodeA.createIntegration(int);
      const tx = transaction(int.id);
      await nodeA.createTransaction(tx);
      let onA = 0;
      let onB = 0;
      nodeA.onTransactionChange(tx.txid, () => onA++);
      nodeB.onTransactionChange(tx.txid, () => onB++);

      await nodeA.updatePendingStatus(tx.txid, 'pushed', 'again');
      await until(() => onA === 1 && onB === 1);
      expect(await nodeB.settleTransaction(tx.txid, { state: 'allow', status: 'allow', statusMsg: '', at: T0 })).toBe(true);
      await until(() => onA === 2 && onB === 2);
      await fence(nodeA, int.id);
      await fence(nodeB, int.id);
      expect([onA, onB]).toEqual([2, 2]);
    } finally {
      await Promise.all([nodeA.close(), nodeB.close()]);
    }
  });

  it('a user\'s push change on one node wakes that user\'s listeners on every node, once each', async () => {
    const nodeA = await openStore({ kind: 'postgres', url });
    const nodeB = await openStore({ kind: 'postgres', url });
    try {
      const int = integration();
      await nodeA.createIntegration(int);
      const u = user();
      await nodeA.createUser(u);
      let onA = 0;
      let onB = 0;
      let txOnB = 0;
      nodeA.onUserPushChange(u.id, () => onA++);
      nodeB.onUserPushChange(u.id, () => onB++);

      const p = push(int.id, u.id);
      // A user id that happens to equal a txid is still only a user id (separate channels).
      nodeB.onTransactionChange(u.id, () => txOnB++);
      expect(await nodeA.createPushTransaction(p.tx, p.challenge, 1, T0)).toBe('created');
      await until(() => onA === 1 && onB === 1);
      await nodeB.announcePushChange(u.id);
      await until(() => onA === 2 && onB === 2);
      await fence(nodeA, int.id);
      await fence(nodeB, int.id);
      expect([onA, onB, txOnB]).toEqual([2, 2, 0]);
    } finally {
      await Promise.all([nodeA.close(), nodeB.close()]);
    }
  });

  it('re-LISTENs after losing its listener connection, waking waiters in case they missed a change', async () => {
    const store = await openStore({ kind: 'postgres', url });
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    try {
      const int = integration();
      await store.createIntegration(int);
      const tx = transaction(int.id);
      await store.createTransaction(tx);
      let calls = 0;
      let userCalls = 0;
      store.onTransactionChange(tx.txid, () => calls++);
      store.onUserPushChange('some-user', () => userCalls++);

      const killed = await admin.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
         WHERE datname = current_database() AND query = 'LISTEN tandem_tx'`);
      expect(killed.rowCount).toBe(1);
      await until(() => calls === 1 && userCalls === 1); // the wake-ups after reconnecting
      await store.settleTransaction(tx.txid, { state: 'deny', status: 'deny', statusMsg: '', at: T0 });
      await until(() => calls === 2);
    } finally {
      await admin.end();
      await store.close();
    }
  });

  it('reports an unreachable server as an error from openStore', async () => {
    const dead = new URL(baseUrl);
    dead.port = '1';
    await expect(openStore({ kind: 'postgres', url: dead.toString() })).rejects.toThrow();
  });
});
