// The one way to get a Store: opens the backend and applies pending migrations.
import type { Store } from './contract.js';
import { openPostgres } from './postgres.js';
import { openSqlite } from './sqlite.js';

export type StoreOptions = { kind: 'sqlite'; file: string } | { kind: 'postgres'; url: string };

export function openStore(opts: StoreOptions): Promise<Store> {
  return opts.kind === 'sqlite' ? openSqlite(opts.file) : openPostgres(opts.url);
}
