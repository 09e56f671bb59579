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
if (process.argv.includes('--bench')) Object.assign(entryPoints, { bench: 'bench/run.ts', 'bench-baseline': 'bench/baseline-server.ts', 'bench-clients': 'bench/clients.ts', 'bench-local': 'bench/local-mode.ts', 'bench-push': 'bench/push.ts' });

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

// The Tandem Authenticator web app (web/app/, served at /app by src/server/routes/app-static.ts):
// browser bundles app.js and sw.js plus the static files, all in dist/web/app/.
{
  const { createHash } = await import('node:crypto');
  const { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { iconPng } = await import('./app-icons.mjs');
  const src = join(root, 'web/app');
  const out = join(root, 'dist/web/app');
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const web = { absWorkingDir: root, bundle: true, platform: 'browser', format: 'esm', target: 'es2022', legalComments: 'none', logLevel: 'warning' };
  await build({ ...web, entryPoints: ['web/app/src/main.ts'], outfile: 'dist/web/app/app.js' });
  for (const f of ['index.html', 'app.css', 'manifest.webmanifest', 'icon.svg']) copyFileSync(join(src, f), join(out, f));
  writeFileSync(join(out, 'icon-192.png'), iconPng(192));
  writeFileSync(join(out, 'icon-512.png'), iconPng(512));
  // The worker's cache name follows the shell's contents, so a new build replaces the old cache.
  const shell = createHash('sha256');
  for (const f of ['index.html', 'app.js', 'app.css', 'manifest.webmanifest', 'icon.svg', 'icon-192.png', 'icon-512.png']) shell.update(readFileSync(join(out, f)));
  await build({ ...web, entryPoints: ['web/app/sw.ts'], outfile: 'dist/web/app/sw.js', define: { __SHELL_VERSION__: JSON.stringify(shell.digest('hex').slice(0, 16)) } });
}
