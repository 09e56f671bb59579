// Applies pending migrations on open, with Kysely's Migrator and a static provider (the bundle
// has no migrations folder to read). Concurrent openers are serialized by the migration lock:
// PostgreSQL takes an advisory lock; SQLite runs the migration in a BEGIN IMMEDIATE transaction
// (see sqlite-dialect.ts), so a second process waits for the first and then finds nothing to do.
import { Migrator, type Kysely, type Migration } from 'kysely';
import type { Database } from '../schema.js';
import { postgresMigrations } from './postgres/index.js';
import { sqliteMigrations } from './sqlite/index.js';

export async function migrateToLatest(db: Kysely<Database>, backend: 'sqlite' | 'postgres'): Promise<void> {
  const migrations: Record<string, Migration> = backend === 'sqlite' ? sqliteMigrations : postgresMigrations;
  const migrator = new Migrator({
    db,
    provider: { getMigrations: () => Promise.resolve(migrations) },
    migrationTableName: 'tandem_migrations',
    migrationLockTableName: 'tandem_migrations_lock',
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error !== undefined) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName;
    const where = failed ? ` (migration ${failed})` : '';
    throw new Error(`${backend} store migration failed${where}: ${String(error)}`, { cause: error });
  }
}
