// `npm test`: typecheck, lint, build, then every test. CI runs exactly this.
import { spawnSync } from 'node:child_process';

const steps = [
  ['typecheck', 'npx', ['tsc', '--noEmit', '-p', '.']],
  ['typecheck web', 'npx', ['tsc', '--noEmit', '-p', 'web']],
  ['lint', 'npx', ['eslint', '--max-warnings=0', '.']],
  ['build', 'node', ['scripts/build.mjs']],
  // The C launchers once, before tests that use them run in parallel (make is then a no-op).
  ['build pam', 'make', ['-s', '-C', 'pam']],
  ['tests', 'npx', ['vitest', 'run', ...process.argv.slice(2)]],
];
for (const [name, cmd, args] of steps) {
  process.stdout.write(`\n== ${name} ==\n`);
  const r = spawnSync(cmd, args, { stdio: 'inherit' });
  if (r.status !== 0) {
    process.stderr.write(`\nnpm test: ${name} failed\n`);
    process.exit(r.status ?? 1);
  }
}
