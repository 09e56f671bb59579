// Kysely's SQLite dialect with two changes that make one database file safe to share between
// processes (the CLI and the server) and between Store instances inside one process:
//
// 1. Transactions start with BEGIN IMMEDIATE. A deferred BEGIN takes the write lock only at the
//    first write, so two processes could both read the same audit head and one would then fail
//    with SQLITE_BUSY_SNAPSHOT; IMMEDIATE takes the write lock first and waits (busy_timeout).
//    With transactional DDL switched on, Kysely's Migrator also runs inside such a transaction.
//
// 2. Connections to the same file inside one process take turns (a process-wide queue per file).
//    better-sqlite3 waits for a lock synchronously, blocking the event loop; if another connection
//    of this same process held the write lock across an `await`, it could never reach COMMIT and
//    the waiter would fail after busy_timeout. Other processes are unaffected by this queue and
//    are handled by SQLite's own locking.
import { CompiledQuery, SqliteAdapter, SqliteDialect, SqliteDriver } from 'kysely';
import type { DatabaseConnection, DialectAdapter, Driver, SqliteDatabase, SqliteDialectConfig, SqliteStatement } from 'kysely';

/** Distinct SQL texts are few (queries are built from fixed shapes); this bounds a surprise. */
const STATEMENT_CACHE_SIZE = 256;

/**
 * Kysely's driver prepares every statement anew on each call, which was 13% of the server's CPU
 * per passcode auth (bench/README.md). Statements are reusable: Kysely runs each one to
 * completion synchronously (all/run; we never stream), so one cached statement per SQL text is
 * safe to share.
 */
export function withStatementCache(db: SqliteDatabase): SqliteDatabase {
  const cache = new Map<string, SqliteStatement>();
  return {
    close: () => db.close(),
    prepare(sql: string): SqliteStatement {
      let stmt = cache.get(sql);
      if (!stmt) {
        stmt = db.prepare(sql);
        if (cache.size >= STATEMENT_CACHE_SIZE) cache.delete(cache.keys().next().value!);
        cache.set(sql, stmt);
      }
      return stmt;
    },
  };
}

/** A FIFO async lock. */
class Queue {
  #tail: Promise<void> = Promise.resolve();

  async acquire(): Promise<() => void> {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const previous = this.#tail;
    this.#tail = previous.then(() => held);
    await previous;
    return release;
  }
}

const queues = new Map<string, { queue: Queue; users: number }>();

function useQueue(key: string): Queue {
  const entry = queues.get(key) ?? { queue: new Queue(), users: 0 };
  entry.users += 1;
  queues.set(key, entry);
  return entry.queue;
}

function releaseQueue(key: string): void {
  const entry = queues.get(key);
  if (entry && --entry.users === 0) queues.delete(key);
}

class SharedFileSqliteDriver extends SqliteDriver {
  readonly #key: string;
  readonly #queue: Queue;
  #release: (() => void) | undefined;

  constructor(config: SqliteDialectConfig, key: string) {
    super(config);
    this.#key = key;
    this.#queue = useQueue(key);
  }

  override async acquireConnection(): Promise<DatabaseConnection> {
    const release = await this.#queue.acquire();
    this.#release = release;
    return super.acquireConnection();
  }

  override async releaseConnection(): Promise<void> {
    await super.releaseConnection();
    const release = this.#release;
    this.#release = undefined;
    release?.();
  }

  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }

  override async destroy(): Promise<void> {
    releaseQueue(this.#key);
    await super.destroy();
  }
}

class TransactionalDdlSqliteAdapter extends SqliteAdapter {
  // SQLite does run DDL inside transactions; Kysely's default (false) would run migrations
  // unlocked, letting two processes opening a new file both apply the same migration.
  override get supportsTransactionalDdl(): boolean {
    return true;
  }
}

export class SharedFileSqliteDialect extends SqliteDialect {
  readonly #config: SqliteDialectConfig;
  readonly #key: string;

  /** `key` names the database file (its real path): connections with the same key take turns. */
  constructor(config: SqliteDialectConfig, key: string) {
    super(config);
    this.#config = config;
    this.#key = key;
  }

  override createDriver(): Driver {
    return new SharedFileSqliteDriver(this.#config, this.#key);
  }

  override createAdapter(): DialectAdapter {
    return new TransactionalDdlSqliteAdapter();
  }
}
