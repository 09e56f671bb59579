// PostgreSQL: a change and its pg_notify are one statement, so the notification is sent exactly
// when the change commits, to every node. Each Store keeps one dedicated connection LISTENing on
// the channel and delivers payloads (txids) to its local listeners; the local process hears its
// own changes the same way, so each listener fires once per change. A user's pending-push list has
// its own channel (payload: the user id), so a txid and a user id can never be confused.
import pg from 'pg';
import { sql, type Kysely } from 'kysely';
import type { Database } from './schema.js';
import { TxListeners, type TxChange, type TxNotifier } from './notifier.js';

export const TX_CHANNEL = 'tandem_tx';
export const PUSH_CHANNEL = 'tandem_push';

const RECONNECT_FIRST_MS = 250;
const RECONNECT_MAX_MS = 10_000;

export class PostgresTxNotifier implements TxNotifier {
  readonly #listeners = new TxListeners();
  readonly #users = new TxListeners();
  readonly #config: pg.ClientConfig;
  #client: pg.Client | undefined;
  #retryTimer: NodeJS.Timeout | undefined;
  #retryDelay = RECONNECT_FIRST_MS;
  #closed = false;

  private constructor(config: pg.ClientConfig) {
    this.#config = config;
  }

  /** Resolves once LISTEN is in place, so no change made after openStore() returns is missed. */
  static async start(config: pg.ClientConfig): Promise<PostgresTxNotifier> {
    const notifier = new PostgresTxNotifier(config);
    await notifier.#connect();
    return notifier;
  }

  async apply(db: Kysely<Database>, change: TxChange): Promise<boolean> {
    const notified = await db
      .with('changed', () => change)
      .selectFrom('changed')
      .select(sql<string>`pg_notify(${TX_CHANNEL}, changed.txid)`.as('notified'))
      .execute();
    return notified.length > 0;
  }

  subscribe(txid: string, listener: () => void): () => void {
    return this.#listeners.add(txid, listener);
  }

  async announceUser(db: Kysely<Database>, userId: string): Promise<void> {
    await sql`SELECT pg_notify(${PUSH_CHANNEL}, ${userId})`.execute(db);
  }

  subscribeUser(userId: string, listener: () => void): () => void {
    return this.#users.add(userId, listener);
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#retryTimer);
    this.#listeners.clear();
    this.#users.clear();
    const client = this.#client;
    this.#client = undefined;
    await client?.end().catch(() => undefined);
  }

  async #connect(): Promise<void> {
    const client = new pg.Client(this.#config);
    client.on('notification', (msg) => {
      if (!msg.payload) return;
      if (msg.channel === TX_CHANNEL) this.#listeners.fire(msg.payload);
      else if (msg.channel === PUSH_CHANNEL) this.#users.fire(msg.payload);
    });
    // A lost connection surfaces as 'error' and/or 'end'; an unhandled 'error' would crash the process.
    client.on('error', () => this.#lost(client));
    client.on('end', () => this.#lost(client));
    try {
      await client.connect();
      await client.query(`LISTEN ${PUSH_CHANNEL}`);
      await client.query(`LISTEN ${TX_CHANNEL}`);
    } catch (err) {
      await client.end().catch(() => undefined);
      throw err;
    }
    if (this.#closed) {
      await client.end().catch(() => undefined);
      return;
    }
    this.#client = client;
  }

  #lost(client: pg.Client): void {
    if (this.#closed || client !== this.#client) return;
    this.#client = undefined;
    void client.end().catch(() => undefined);
    this.#scheduleReconnect();
  }

  #scheduleReconnect(): void {
    this.#retryTimer = setTimeout(() => {
      this.#connect().then(
        () => {
          this.#retryDelay = RECONNECT_FIRST_MS;
          // Notifications sent while we were not listening are gone: wake every waiter so it
          // re-reads its transaction or push list (a spurious wake-up is harmless; a missed one
          // is not).
          if (!this.#closed) {
            this.#listeners.fireAll();
            this.#users.fireAll();
          }
        },
        () => {
          this.#retryDelay = Math.min(this.#retryDelay * 2, RECONNECT_MAX_MS);
          if (!this.#closed) this.#scheduleReconnect();
        },
      );
    }, this.#retryDelay);
  }
}
