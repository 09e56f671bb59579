// Every PostgreSQL migration, by name (applied in name order). Listed statically, not globbed,
// because the server is bundled into one file.
import type { Migration } from 'kysely';
import { initial } from './0001_initial.js';
import { statusPolls } from './0002_status_polls.js';
import { devicesPush } from './0003_devices_push.js';
import { passkeys } from './0004_passkeys.js';
import { admins } from './0005_admins.js';
import { portal } from './0006_portal.js';
import { portalPush } from './0007_portal_push.js';
import { userBypass } from './0008_user_bypass.js';

export const postgresMigrations: Record<string, Migration> = {
  '0001_initial': initial,
  '0002_status_polls': statusPolls,
  '0003_devices_push': devicesPush,
  '0004_passkeys': passkeys,
  '0005_admins': admins,
  '0006_portal': portal,
  '0007_portal_push': portalPush,
  '0008_user_bypass': userBypass,
};
