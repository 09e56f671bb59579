// Duo's `bypass` user status (issue 7), SQLite: users.status may now be 'bypass'. Its CHECK is a
// column constraint, and SQLite cannot change one in place; rebuilding `users` would cascade to
// every table that references it (foreign keys stay on during migrations). So the column is
// replaced instead: a new column with the wider CHECK, the values copied, the old column (and its
// column CHECK with it) dropped, the new one renamed. Nothing indexes users.status.
import { rawSqlMigration } from '../raw-sql.js';

export const userBypass = rawSqlMigration([
  `ALTER TABLE users ADD COLUMN status_0008 TEXT NOT NULL DEFAULT 'active' CHECK (status_0008 IN ('active', 'bypass', 'disabled'))`,
  `UPDATE users SET status_0008 = status`,
  `ALTER TABLE users DROP COLUMN status`,
  `ALTER TABLE users RENAME COLUMN status_0008 TO status`,
]);
