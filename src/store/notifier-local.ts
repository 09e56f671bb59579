// SQLite: changes are announced in-process, right after the UPDATE that made them. (Another
// process sharing the file does not hear them; only `tandem serve` waits on transactions.)
import type { Kysely } from 'kysely';
import type { Database } from './schema.js';
import { TxListeners, type TxChange, type TxNotifier } from './notifier.js';

export class LocalTxNotifier implements TxNotifier {
  readonly #listeners = new TxListeners();
  readonly #users = new TxListeners();

  async apply(_db: Kysely<Database>, change: TxChange): Promise<boolean> {
    const changed = await change.execute();
    for (const { txid } of changed) this.#listeners.fire(txid);
    return changed.length > 0;
  }

  subscribe(txid: string, listener: () => void): () => void {
    return this.#listeners.add(txid, listener);
  }

  async announceUser(_db: Kysely<Database>, userId: string): Promise<void> {
    this.#users.fire(userId);
  }

  subscribeUser(userId: string, listener: () => void): () => void {
    return this.#users.add(userId, listener);
  }

  async close(): Promise<void> {
    this.#listeners.clear();
    this.#users.clear();
  }
}
