// Proof by an approved push in the enrollment portal (issue 7), PostgreSQL: a push started from a
// portal session opened by an admin's link belongs to no integration.
import { rawSqlMigration } from '../raw-sql.js';

export const portalPush = rawSqlMigration([`ALTER TABLE transactions ALTER COLUMN integration_id DROP NOT NULL`]);
