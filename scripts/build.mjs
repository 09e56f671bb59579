// Bundles our TypeScript into dist/ with esbuild so nothing needs a TypeScript runtime:
//   node scripts/build.mjs          the `tandem` CLI/server (dist/tandem.mjs) and the client
//                                   helper for pam_tandem/login_tandem (dist/tandem-pam-helper.mjs)
//                                   and tandem-authenticator (dist/tandem-authenticator.mjs)
//   node scripts/build.mjs --bench  also the benchmark and its baseline server (dist/bench*.mjs)
// Packages stay external (native better-sqlite3, pg, autocannon); only our own code is bundled.
//
// Outputs are written only when their bytes change, each through a temporary file and a rename:
// test workers rebuild while other workers run the CLI and servers from dist/, and must never
// see a half-written (or, for a moment, empty) bundle.
import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { iconPng } from './app-icons.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));

/** Write `contents` to `path` unless it already holds exactly that; atomically when it does not. */
function emit(path, contents) {
  try {
    if (Buffer.compare(readFileSync(path), Buffer.from(contents)) === 0) return;
  } catch {
    // missing: write it
  }
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, contents);
  renameSync(tmp, path);
}

async function bundle(options) {
  const result = await build({ ...options, absWorkingDir: root, write: false });
  for (const f of result.outputFiles) emit(f.path, f.contents);
}

const entryPoints = { tandem: 'src/cli/main.ts', 'tandem-pam-helper': 'src/client/pam-helper.ts', 'tandem-authenticator': 'src/cli/authenticator-main.ts' };
if (process.argv.includes('--bench')) Object.assign(entryPoints, { bench: 'bench/run.ts', 'bench-baseline': 'bench/baseline-server.ts', 'bench-clients': 'bench/clients.ts', 'bench-local': 'bench/local-mode.ts', 'bench-push': 'bench/push.ts' });

await bundle({
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
  const src = join(root, 'web/app');
  const out = join(root, 'dist/web/app');
  const web = { bundle: true, platform: 'browser', format: 'esm', target: 'es2022', legalComments: 'none', logLevel: 'warning' };
  await bundle({ ...web, entryPoints: ['web/app/src/main.ts'], outfile: 'dist/web/app/app.js' });
  for (const f of ['index.html', 'app.css', 'manifest.webmanifest', 'icon.svg']) emit(join(out, f), readFileSync(join(src, f)));
  emit(join(out, 'icon-192.png'), iconPng(192));
  emit(join(out, 'icon-512.png'), iconPng(512));
  // The worker's cache name follows the shell's contents, so a new build replaces the old cache.
  const shell = createHash('sha256');
  for (const f of ['index.html', 'app.js', 'app.css', 'manifest.webmanifest', 'icon.svg', 'icon-192.png', 'icon-512.png']) shell.update(readFileSync(join(out, f)));
  await bundle({ ...web, entryPoints: ['web/app/sw.ts'], outfile: 'dist/web/app/sw.js', define: { __SHELL_VERSION__: JSON.stringify(shell.digest('hex').slice(0, 16)) } });
}
