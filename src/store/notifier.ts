// Change notification: who is waiting on which txid (or on which user's pending pushes), and how
// a change reaches them.
import type { Kysely, UpdateQueryBuilder } from 'kysely';
import type { Database } from './schema.js';

/** An UPDATE of `transactions` that returns the txid of the row it changed (if any). */
export type TxChange = UpdateQueryBuilder<Database, 'transactions', 'transactions', { txid: string }>;

export interface TxNotifier {
  /**
   * Runs `change`; if it changed a row, every listener of that txid (on every node that shares
   * the database, for PostgreSQL) hears about it exactly once. Returns whether a row changed.
   */
  apply(db: Kysely<Database>, change: TxChange): Promise<boolean>;
  subscribe(txid: string, listener: () => void): () => void;
  /**
   * Tells every listener of `userId`'s pending pushes (on every node, for PostgreSQL) that the
   * list may have changed. Called after the change committed. A separate registry from txids, so
   * no txid can ever be mistaken for a user id.
   */
  announceUser(db: Kysely<Database>, userId: string): Promise<void>;
  subscribeUser(userId: string, listener: () => void): () => void;
  close(): Promise<void>;
}

/** The in-process listener registry both notifiers deliver into (keys: txids, or user ids). */
export class TxListeners {
  readonly #byTxid = new Map<string, Set<() => void>>();

  add(txid: string, listener: () => void): () => void {
    // A fresh wrapper per subscription, so subscribing the same function twice is two listeners.
    const entry = () => listener();
    let set = this.#byTxid.get(txid);
    if (!set) this.#byTxid.set(txid, (set = new Set()));
    set.add(entry);
    return () => {
      const current = this.#byTxid.get(txid);
      if (!current) return;
      current.delete(entry);
      if (current.size === 0) this.#byTxid.delete(txid);
    };
  }

  fire(txid: string): void {
    const set = this.#byTxid.get(txid);
    if (set) for (const listener of [...set]) call(listener);
  }

  /** Wakes every listener: used when changes may have been missed (see notifier-postgres.ts). */
  fireAll(): void {
    for (const set of [...this.#byTxid.values()]) for (const listener of [...set]) call(listener);
  }

  clear(): void {
    this.#byTxid.clear();
  }
}

function call(listener: () => void): void {
  try {
    listener();
  } catch (err) {
    // One broken listener must not stop the others or the store operation that notified.
    process.emitWarning(`transaction listener threw: ${String(err)}`, 'TandemStoreWarning');
  }
}
