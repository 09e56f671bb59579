#!/usr/bin/env node
// The `tandem` command. The code lives in dist/, built by `npm ci` (prepare) or `npm run build`.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const bundle = fileURLToPath(new URL('../dist/tandem.mjs', import.meta.url));
if (!existsSync(bundle)) {
  process.stderr.write(`tandem: ${bundle} is missing; run "npm run build" first\n`);
  process.exit(2);
}
await import(bundle);
