// Duo's `bypass` user status (issue 7), PostgreSQL: users.status may now be 'bypass'.
import { rawSqlMigration } from '../raw-sql.js';

export const userBypass = rawSqlMigration([
  `ALTER TABLE users DROP CONSTRAINT users_status_check`,
  `ALTER TABLE users ADD CONSTRAINT users_status_check CHECK (status IN ('active', 'bypass', 'disabled'))`,
]);
