// Bundles the benchmark (bench/run.ts) and its baseline server into dist/ with esbuild, like
// scripts/build.mjs does for the CLI. Packages stay external (autocannon, fastify, better-sqlite3).
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
await build({
  absWorkingDir: root,
  entryPoints: { bench: 'bench/run.ts', 'bench-baseline': 'bench/baseline-server.ts' },
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
