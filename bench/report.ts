// The benchmark's output: one table for people, one JSON object for tools.
import { cpus, release } from 'node:os';
import type { LoadResult } from './load.js';

export interface Machine {
  node: string;
  cpu: string;
  cores: number;
  os: string;
}

export function machine(): Machine {
  const c = cpus();
  return { node: process.version, cpu: c[0]?.model.trim() ?? 'unknown', cores: c.length, os: `${process.platform} ${release()}` };
}

export interface Report {
  date: string;
  machine: Machine;
  settings: { connections: number; durationSeconds: number; warmupSeconds: number; store: 'sqlite' };
  tls: { protocol: string; cipher: string };
  setup: { users: number; userSetupSeconds: number; probeRps: number | null; codesIssued: number; codesExhausted: number };
  tandem: LoadResult & { allows: number };
  baseline: LoadResult;
  /** tandem / baseline. */
  ratio: { rps: number; p50: number; p99: number; serverCpuPerResponse: number | null };
}

const f1 = (n: number): string => (Number.isFinite(n) ? n.toFixed(1) : '-');
const f2 = (n: number): string => (Number.isFinite(n) ? n.toFixed(2) : '-');
const f3 = (n: number): string => (Number.isFinite(n) ? n.toFixed(3) : '-');

export function ratio(a: number, b: number): number {
  return b > 0 ? a / b : NaN;
}

/** Errors of a measured run: connection errors/timeouts, non-2xx and unexpected bodies. */
export function problems(r: LoadResult): number {
  return r.errors + r.non2xx + r.bad;
}

export function formatTable(rep: Report): string {
  const rows: string[][] = [
    ['', 'req/s (mean)', 'p50 ms', 'p99 ms', 'server CPU ms/resp', 'responses', 'errors', 'non-2xx', 'wrong body'],
    ...([['Tandem  POST /auth/v2/auth (passcode)', rep.tandem], ['Fastify GET / hello-world (baseline)', rep.baseline]] as const).map(([label, r]) => [
      label, f1(r.rpsMean), f2(r.latencyMs.p50), f2(r.latencyMs.p99), r.serverCpuMsPerResponse === null ? '-' : f3(r.serverCpuMsPerResponse),
      String(r.responses), String(r.errors), String(r.non2xx), String(r.bad),
    ]),
    ['Tandem / baseline', f3(rep.ratio.rps), `${f1(rep.ratio.p50)}x`, `${f1(rep.ratio.p99)}x`, rep.ratio.serverCpuPerResponse === null ? '-' : `${f1(rep.ratio.serverCpuPerResponse)}x`, '', '', '', ''],
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const line = (r: string[]): string => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ').trimEnd();
  const m = rep.machine;
  const out = [
    `Tandem benchmark ${rep.date}`,
    `machine: node ${m.node}, ${m.cpu}, ${m.cores} cores, ${m.os}`,
    `load: autocannon, ${rep.settings.connections} connections, pipelining 1, ${rep.settings.durationSeconds} s per measurement after ${rep.settings.warmupSeconds} s warm-up; ${rep.tls.protocol} ${rep.tls.cipher} on 127.0.0.1; store ${rep.settings.store}`,
    '',
    line(rows[0]!),
    ...rows.slice(1).map(line),
    '',
    `p50/p99 without each connection's first response (TLS set-up): Tandem ${f2(rep.tandem.steadyLatencyMs.p50)}/${f2(rep.tandem.steadyLatencyMs.p99)} ms, baseline ${f2(rep.baseline.steadyLatencyMs.p50)}/${f2(rep.baseline.steadyLatencyMs.p99)} ms;` +
      ` first responses p50/max: Tandem ${f1(rep.tandem.firstResponseMs.p50)}/${f1(rep.tandem.firstResponseMs.max)} ms, baseline ${f1(rep.baseline.firstResponseMs.p50)}/${f1(rep.baseline.firstResponseMs.max)} ms`,
    `Tandem: ${rep.tandem.allows} allow of ${rep.tandem.responses} measured responses; ${rep.setup.users} users (created in ${f1(rep.setup.userSetupSeconds)} s${rep.setup.probeRps !== null ? `, sized from a probe at ${f1(rep.setup.probeRps)} req/s` : ''}); ${rep.setup.codesIssued} codes issued`,
  ];
  if (rep.setup.codesExhausted > 0) out.push(`ERROR: ran out of fresh codes for ${rep.setup.codesExhausted} requests (sent with a wrong code); raise --users`);
  for (const [name, r] of [['Tandem', rep.tandem], ['baseline', rep.baseline]] as const) {
    if (problems(r) > 0) {
      out.push(`ERROR: ${name}: ${r.errors} connection errors/timeouts, ${r.non2xx} non-2xx, ${r.bad} unexpected responses`);
      for (const s of r.badSamples) out.push(`  ${s}`);
    }
  }
  out.push('Figures are only meaningful as a ratio to the baseline of the same run.');
  return out.join('\n');
}
