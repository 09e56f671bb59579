// Opening the PostgreSQL backend: a pg Pool for queries and one dedicated LISTEN connection.
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { Store } from './contract.js';
import { createKyselyStore } from './kysely-store.js';
import { migrateToLatest } from './migrations/migrate.js';
import { PostgresTxNotifier } from './notifier-postgres.js';
import type { Database } from './schema.js';

const CONNECT_TIMEOUT_MS = 10_000;

// BIGINT (int8) arrives as a string by default; our BIGINTs are millisecond times, counters and
// sequence numbers, all far below 2^53, so they are parsed to numbers. Scoped to our connections
// (not pg's global type table) so other pg users in the process are unaffected.
const INT8 = 20;
const types: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8 && format !== 'binary' ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format)) as pg.CustomTypesConfig['getTypeParser'],
};

/** 23505: unique_violation. */
function isUniqueViolation(err: unknown): boolean {
  return (err as { code?: unknown } | null)?.code === '23505';
}

export async function openPostgres(url: string): Promise<Store> {
  const config: pg.ClientConfig = { connectionString: url, types, connectionTimeoutMillis: CONNECT_TIMEOUT_MS };
  const pool = new pg.Pool(config);
  // An idle pooled connection that dies (server restart, network) is dropped by the pool and
  // replaced on next use; without a listener the 'error' event would crash the process.
  pool.on('error', () => undefined);
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  let notifier: PostgresTxNotifier;
  try {
    await migrateToLatest(db, 'postgres');
    notifier = await PostgresTxNotifier.start(config);
  } catch (err) {
    await db.destroy();
    throw err;
  }
  return createKyselyStore({
    backend: 'postgres',
    db,
    bool: (value) => value,
    isUniqueViolation,
    notifier,
  });
}
