// A migration written as plain DDL statements for one backend, run in order. Each backend has its
// own files because the types differ (INTEGER vs BIGINT, 0/1 vs BOOLEAN, STRICT tables).
import { sql, type Kysely, type Migration } from 'kysely';

export function rawSqlMigration(statements: readonly string[]): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      for (const statement of statements) await sql.raw(statement).execute(db);
    },
  };
}
