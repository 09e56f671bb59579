// The one table of commands: dispatch and every help text are built from it.
import type { CommandDef } from '../args.js';
import { adminCommands } from './admin.js';
import { auditVerifyCommand } from './audit.js';
import { bypassCommands } from './bypass.js';
import { certCommands } from './cert.js';
import { clientCommands } from './client.js';
import { deviceCommands } from './device.js';
import { enrollmentCommands } from './enrollment.js';
import { initCommand } from './init.js';
import { integrationCommands } from './integration.js';
import { logCommand } from './log.js';
import { serveCommand } from './serve.js';
import { tokenCommands } from './token.js';
import { userCommands } from './user.js';

export const COMMANDS: readonly CommandDef[] = [
  initCommand,
  serveCommand,
  ...integrationCommands,
  ...certCommands,
  ...userCommands,
  ...tokenCommands,
  ...deviceCommands,
  ...enrollmentCommands,
  ...bypassCommands,
  logCommand,
  auditVerifyCommand,
  ...clientCommands,
  ...adminCommands,
];
