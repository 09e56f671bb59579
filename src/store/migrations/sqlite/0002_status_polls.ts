// Counts auth_status polls per transaction: duo_unix 1.11.3 (and 2.2.3) treat a 20th poll that
// still has no result as SUCCESS, so the server settles a transaction before any client gets there.
import { rawSqlMigration } from '../raw-sql.js';

export const statusPolls = rawSqlMigration([`ALTER TABLE transactions ADD COLUMN status_polls INTEGER NOT NULL DEFAULT 0`]);
