// Benchmark settings from flags (--connections 64) or the environment (BENCH_CONNECTIONS=64).
// Every value is bounded so a typo cannot start an hour-long run.

export interface BenchOptions {
  /** Concurrent connections (autocannon), the same for Tandem and the baseline. */
  connections: number;
  /** Seconds of each measured run. */
  duration: number;
  /** Seconds of each warm-up run (results discarded). */
  warmup: number;
  /** Users to create; 0 = size from a short probe of the server's throughput. */
  users: number;
  /** Print one JSON object instead of the table. */
  json: boolean;
  /** Directory for a V8 CPU profile of the Tandem server (node --cpu-prof), or null. */
  cpuProfDir: string | null;
}

interface IntSpec {
  key: 'connections' | 'duration' | 'warmup' | 'users';
  flag: string;
  env: string;
  min: number;
  max: number;
  default: number;
  help: string;
}

const INTS: IntSpec[] = [
  { key: 'connections', flag: '--connections', env: 'BENCH_CONNECTIONS', min: 1, max: 1024, default: 64, help: 'concurrent connections' },
  { key: 'duration', flag: '--duration', env: 'BENCH_DURATION', min: 1, max: 120, default: 10, help: 'seconds per measurement' },
  { key: 'warmup', flag: '--warmup', env: 'BENCH_WARMUP', min: 0, max: 60, default: 2, help: 'seconds of warm-up before each measurement' },
  { key: 'users', flag: '--users', env: 'BENCH_USERS', min: 0, max: 500_000, default: 0, help: 'users to create (0 = sized from a probe)' },
];

export const USAGE = [
  'Usage: npm run bench [-- options]',
  '',
  'Signed POST /auth/v2/auth (passcode, valid codes, distinct users) against Tandem on SQLite,',
  'and a bare Fastify hello-world over the same TLS key and certificate, in the same run.',
  '',
  ...INTS.map((s) => `  ${(s.flag + ' N').padEnd(20)} ${s.help} (default ${s.default}, ${s.min}..${s.max}; env ${s.env})`),
  `  ${'--json'.padEnd(20)} print one JSON object instead of the table (env BENCH_JSON=1)`,
  `  ${'--cpu-prof DIR'.padEnd(20)} write a V8 CPU profile of the Tandem server into DIR (env BENCH_CPU_PROF)`,
  `  ${'--help'.padEnd(20)} this text`,
].join('\n');

export class UsageError extends Error {}

function parseInt10(raw: string, s: IntSpec, from: string): number {
  if (!/^[0-9]+$/.test(raw)) throw new UsageError(`${from}: expected a whole number, got ${JSON.stringify(raw)}`);
  const n = Number(raw);
  if (n < s.min || n > s.max) throw new UsageError(`${from}: must be ${s.min}..${s.max}, got ${n}`);
  return n;
}

/** Flags win over the environment, which wins over the defaults. Returns null for --help. */
export function parseOptions(argv: string[], env: Record<string, string | undefined>): BenchOptions | null {
  const o: BenchOptions = { connections: 64, duration: 10, warmup: 2, users: 0, json: false, cpuProfDir: null };
  for (const s of INTS) {
    o[s.key] = s.default;
    const v = env[s.env];
    if (v !== undefined && v !== '') o[s.key] = parseInt10(v, s, s.env);
  }
  if (env['BENCH_JSON'] === '1') o.json = true;
  if (env['BENCH_CPU_PROF']) o.cpuProfDir = env['BENCH_CPU_PROF'];

  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const eq = arg.indexOf('=');
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    const inline = eq > 0 ? arg.slice(eq + 1) : undefined;
    const value = (): string => {
      if (inline !== undefined) return inline;
      const next = argv[++i];
      if (next === undefined) throw new UsageError(`${name} needs a value`);
      return next;
    };
    if (name === '--help' || name === '-h') return null;
    if (name === '--json') {
      o.json = true;
      continue;
    }
    if (name === '--cpu-prof') {
      o.cpuProfDir = value();
      continue;
    }
    const spec = INTS.find((s) => s.flag === name);
    if (!spec) throw new UsageError(`unknown option ${arg}`);
    o[spec.key] = parseInt10(value(), spec, spec.flag);
  }
  return o;
}
