// What the login benchmarks (bench:clients, bench:local) share: the --runs/--json options, the
// statistics of a series of timed logins, and how the entry point runs main().
import { UsageError } from './options.js';

export { UsageError };

export interface RunsOptions {
  runs: number;
  json: boolean;
}

/** `--runs N` / BENCH_RUNS (1..500), `--json` / BENCH_JSON=1; null means --help. */
export function parseRunsOptions(argv: string[], env: Record<string, string | undefined>, defaultRuns: number): RunsOptions | null {
  const o: RunsOptions = { runs: defaultRuns, json: env['BENCH_JSON'] === '1' };
  const runs = (raw: string, from: string): number => {
    if (!/^[0-9]+$/.test(raw) || Number(raw) < 1 || Number(raw) > 500) throw new UsageError(`${from}: expected a whole number 1..500, got ${JSON.stringify(raw)}`);
    return Number(raw);
  };
  if (env['BENCH_RUNS'] !== undefined && env['BENCH_RUNS'] !== '') o.runs = runs(env['BENCH_RUNS'], 'BENCH_RUNS');
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--help' || a === '-h') return null;
    else if (a === '--json') o.json = true;
    else if (a === '--runs') o.runs = runs(argv[++i] ?? '', '--runs');
    else if (a.startsWith('--runs=')) o.runs = runs(a.slice('--runs='.length), '--runs');
    else throw new UsageError(`unknown option ${a}`);
  }
  return o;
}

export interface LoginStats {
  runs: number;
  failures: number;
  /** runs / the sum of the measured runs' times (they run one after another). */
  authsPerSecond: number;
  minMs: number;
  medianMs: number;
  p90Ms: number;
  meanMs: number;
}

/** Nearest-rank percentile of sorted values. */
function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

function median(sorted: number[]): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  return n % 2 === 1 ? sorted[(n - 1) / 2]! : (sorted[n / 2 - 1]! + sorted[n / 2]!) / 2;
}

export const r2 = (x: number): number => Math.round(x * 100) / 100;

/** a / b to two decimals (NaN when b is not positive). */
export const ratio2 = (a: number, b: number): number => (b > 0 ? r2(a / b) : NaN);

export function loginStats(ms: number[], failures: number): LoginStats {
  const s = [...ms].sort((a, b) => a - b);
  const total = ms.reduce((a, b) => a + b, 0);
  return {
    runs: ms.length,
    failures,
    authsPerSecond: total > 0 ? r2((ms.length * 1000) / total) : NaN,
    minMs: r2(s[0] ?? NaN),
    medianMs: r2(median(s)),
    p90Ms: r2(percentile(s, 90)),
    meanMs: r2(total / (ms.length || 1)),
  };
}

/** Runs a benchmark's main and exits with its status (1 and the stack on an exception). */
export function runMain(tag: string, main: () => Promise<number>): void {
  main().then(
    (code) => process.exit(code),
    (e: unknown) => {
      process.stderr.write(`${tag}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      process.exit(1);
    },
  );
}
