// Bundles our TypeScript into dist/ with esbuild so nothing needs a TypeScript runtime:
//   node scripts/build.mjs          the `tandem` CLI/server (dist/tandem.mjs) and the client
//                                   helper for pam_tandem/login_tandem (dist/tandem-pam-helper.mjs)
//                                   and tandem-authenticator (dist/tandem-authenticator.mjs)
//   node scripts/build.mjs --bench  also the benchmark and its baseline server (dist/bench*.mjs)
// Packages stay external (native better-sqlite3, pg, autocannon); only our own code is bundled.
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const entryPoints = { tandem: 'src/cli/main.ts', 'tandem-pam-helper': 'src/client/pam-helper.ts', 'tandem-authenticator': 'src/cli/authenticator-main.ts' };
if (process.argv.includes('--bench')) Object.assign(entryPoints, { bench: 'bench/run.ts', 'bench-baseline': 'bench/baseline-server.ts', 'bench-clients': 'bench/clients.ts', 'bench-local': 'bench/local-mode.ts' });

await build({
  absWorkingDir: root,
  entryPoints,
  outdir: 'dist',
  outExtension: { '.js': '.mjs' },
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  sourcemap: 'linked',
  logLevel: 'warning',
});
