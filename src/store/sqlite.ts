// Opening the SQLite backend: one better-sqlite3 connection per Store, WAL so readers never wait
// for the writer, and a busy timeout so the CLI and the server can share the file.
import { closeSync, constants, openSync, realpathSync } from 'node:fs';
import Database from 'better-sqlite3';
import { Kysely } from 'kysely';
import type { Store } from './contract.js';
import { createKyselyStore } from './kysely-store.js';
import { migrateToLatest } from './migrations/migrate.js';
import { LocalTxNotifier } from './notifier-local.js';
import type { Database as Schema } from './schema.js';
import { SharedFileSqliteDialect, withStatementCache } from './sqlite-dialect.js';

const BUSY_TIMEOUT_MS = 5000;
let memoryDatabases = 0;

export async function openSqlite(file: string): Promise<Store> {
  const inMemory = file === ':memory:';
  // Create it ourselves so it is 0600 from the start (it holds sealed secrets and the audit log);
  // SQLite gives the -wal and -shm files the database file's permissions.
  if (!inMemory) closeSync(openSync(file, constants.O_RDWR | constants.O_CREAT, 0o600));
  const sqlite = new Database(file);
  try {
    sqlite.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    const mode = sqlite.pragma('journal_mode = WAL', { simple: true });
    if (!inMemory && mode !== 'wal') throw new Error(`SQLite refused WAL mode for ${file} (got ${String(mode)})`);
    sqlite.pragma('foreign_keys = ON');
  } catch (err) {
    sqlite.close();
    throw err;
  }
  // Each in-memory database is its own; a file is known by its real path (symlinks, ./ etc.).
  const key = inMemory ? `:memory:${++memoryDatabases}` : realpathSync(file);
  const db = new Kysely<Schema>({ dialect: new SharedFileSqliteDialect({ database: withStatementCache(sqlite) }, key) });
  try {
    await migrateToLatest(db, 'sqlite');
  } catch (err) {
    await db.destroy();
    throw err;
  }
  return createKyselyStore({
    backend: 'sqlite',
    db,
    bool: (value) => (value ? 1 : 0),
    isUniqueViolation: (err) => {
      const code = (err as { code?: unknown } | null)?.code;
      return code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === 'SQLITE_CONSTRAINT_UNIQUE';
    },
    notifier: new LocalTxNotifier(),
  });
}
