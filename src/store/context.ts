// What every group of store operations shares: the Kysely instance and the few places where the
// two backends differ (boolean encoding, unique-violation errors, change notification).
import type { Kysely } from 'kysely';
import { StoreConflictError } from './contract.js';
import type { TxNotifier } from './notifier.js';
import type { Database } from './schema.js';

export interface StoreContext {
  readonly backend: 'sqlite' | 'postgres';
  readonly db: Kysely<Database>;
  /** SQLite has no boolean type (0/1); PostgreSQL columns are BOOLEAN. */
  bool(value: boolean): boolean | number;
  /** True for a primary-key or unique-index violation. */
  isUniqueViolation(err: unknown): boolean;
  readonly notifier: TxNotifier;
}

/** Runs an insert, turning a unique violation into StoreConflictError(what). */
export async function orConflict<T>(ctx: StoreContext, what: string, insert: () => Promise<T>): Promise<T> {
  try {
    return await insert();
  } catch (err) {
    if (ctx.isUniqueViolation(err)) throw new StoreConflictError(what);
    throw err;
  }
}

/** Kysely reports affected rows as bigint. */
export function changed(result: { numUpdatedRows: bigint } | { numDeletedRows: bigint }): number {
  return Number('numUpdatedRows' in result ? result.numUpdatedRows : result.numDeletedRows);
}

/** Sort by UTF-16 code units: the same order on both backends whatever the database collation. */
export function byCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
