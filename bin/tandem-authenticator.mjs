#!/usr/bin/env node
// The `tandem-authenticator` command (google-authenticator compatible enrolment). The code lives
// in dist/, built by `npm ci` (prepare) or `npm run build`.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const bundle = fileURLToPath(new URL('../dist/tandem-authenticator.mjs', import.meta.url));
if (!existsSync(bundle)) {
  process.stderr.write(`tandem-authenticator: ${bundle} is missing; run "npm run build" first\n`);
  process.exit(2);
}
await import(bundle);
