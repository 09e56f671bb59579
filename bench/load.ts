// One load run with autocannon: fixed concurrency, pipelining 1, over TLS to a loopback server.
// Latency percentiles come from every response's own time (sub-millisecond), not from
// autocannon's histogram, which rounds to whole milliseconds.
import autocannon from 'autocannon';
import { cpuSeconds } from './processes.js';

export interface LoadSpec {
  title: string;
  url: URL;
  connections: number;
  /** Run for this many seconds... */
  seconds?: number;
  /** ...or until this many requests were sent (stopped after `seconds` or 60 s anyway). */
  amount?: number;
  /** Site CA (PEM) and the name the certificate is checked against. */
  ca: string;
  servername: string;
  method: 'GET' | 'POST';
  path: string;
  /** Static headers (GET) or a fresh request per call (POST). */
  headers: Record<string, string>;
  /**
   * A fresh request; `ctx` is the connection's context for this request, handed to `answered`
   * with its response (pipelining 1: one request per connection at a time).
   */
  build?: (ctx: Record<string, unknown>) => { headers: Record<string, string>; body: string };
  answered?: (ctx: Record<string, unknown>) => void;
  /** Whether a response is the expected one (e.g. an allow); others are counted as bad. */
  check: (status: number, body: string) => boolean;
  /** The server's pid, to measure the CPU time it spends (Linux). */
  serverPid: number;
}

export interface LoadResult {
  title: string;
  seconds: number;
  connections: number;
  /** Completed responses. */
  responses: number;
  /** autocannon's mean of the per-second request counts. */
  rpsMean: number;
  /** responses / (start to last response), which is also right for amount-bounded runs. */
  rpsOverall: number;
  latencyMs: { p50: number; p90: number; p99: number; mean: number; max: number };
  /**
   * The same without each connection's first response, which also waits for the TCP and TLS
   * set-up (autocannon opens all connections at the start of the run).
   */
  steadyLatencyMs: { p50: number; p99: number };
  /** Each connection's first response (connection set-up included). */
  firstResponseMs: { p50: number; max: number };
  /** Connection errors and timeouts (autocannon `errors`, which include `timeouts`). */
  errors: number;
  timeouts: number;
  non2xx: number;
  /** Responses the check accepted / refused. */
  good: number;
  bad: number;
  /** Up to 5 refused responses, for diagnosis. */
  badSamples: string[];
  /**
   * CPU milliseconds per response of the server process and of this (load-generating) process,
   * user + system. Less sensitive to other load on the machine than requests per second; null
   * where /proc is not available.
   */
  serverCpuMsPerResponse: number | null;
  clientCpuMsPerResponse: number;
}

const HARD_LIMIT_SECONDS = 60;

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

export function runLoad(spec: LoadSpec): Promise<LoadResult> {
  let good = 0;
  let bad = 0;
  const badSamples: string[] = [];
  const latencies: number[] = [];
  const firsts: number[] = [];
  const steady: number[] = [];
  const seen = new WeakSet<object>();
  const request: autocannon.Request = {
    method: spec.method,
    path: spec.path,
    headers: spec.headers,
    onResponse: (status: number, body: string, ctx: object) => {
      spec.answered?.(ctx as Record<string, unknown>);
      if (spec.check(status, body)) good++;
      else {
        bad++;
        if (badSamples.length < 5) badSamples.push(`${status} ${body.slice(0, 300)}`);
      }
    },
  };
  const build = spec.build;
  if (build) {
    request.setupRequest = (req, ctx) => {
      const r = build(ctx as Record<string, unknown>);
      return { ...req, headers: r.headers, body: r.body };
    };
  }
  const limit = Math.min(HARD_LIMIT_SECONDS, spec.seconds ?? HARD_LIMIT_SECONDS);
  const started = performance.now();
  let lastAnswer = started;
  const serverCpu0 = cpuSeconds(spec.serverPid);
  const clientCpu0 = process.cpuUsage();
  return new Promise<LoadResult>((resolve, reject) => {
    // autocannon may call back synchronously (bad options), before the guard exists.
    const timer: { guard?: NodeJS.Timeout } = {};
    const instance = autocannon(
      {
        title: spec.title,
        url: spec.url.origin,
        connections: spec.connections,
        pipelining: 1,
        ...(spec.amount !== undefined ? { amount: spec.amount } : { duration: limit }),
        timeout: 10,
        servername: spec.servername,
        // autocannon itself connects with rejectUnauthorized: false; the run checks the chain
        // once beforehand with a verifying client (see preflight in run.ts).
        tlsOptions: { ca: spec.ca },
        requests: [request],
      },
      (err: unknown, r: autocannon.Result) => {
        clearTimeout(timer.guard);
        if (err) return reject(err instanceof Error ? err : new Error(String(err)));
        const serverCpu1 = cpuSeconds(spec.serverPid);
        const clientCpu = process.cpuUsage(clientCpu0);
        const n = latencies.length;
        const sorted = Float64Array.from(latencies).sort();
        const sortedSteady = Float64Array.from(steady).sort();
        const sortedFirsts = Float64Array.from(firsts).sort();
        let sum = 0;
        for (const v of sorted) sum += v;
        resolve({
          title: spec.title,
          seconds: r.duration,
          connections: spec.connections,
          responses: latencies.length,
          rpsMean: r.requests.mean,
          rpsOverall: n > 0 ? n / ((lastAnswer - started) / 1000) : 0,
          latencyMs: {
            p50: percentile(sorted, 50),
            p90: percentile(sorted, 90),
            p99: percentile(sorted, 99),
            mean: sorted.length ? sum / sorted.length : NaN,
            max: sorted.length ? sorted[sorted.length - 1]! : NaN,
          },
          steadyLatencyMs: { p50: percentile(sortedSteady, 50), p99: percentile(sortedSteady, 99) },
          firstResponseMs: { p50: percentile(sortedFirsts, 50), max: sortedFirsts.length ? sortedFirsts[sortedFirsts.length - 1]! : NaN },
          errors: r.errors,
          timeouts: r.timeouts,
          non2xx: r.non2xx,
          good,
          bad,
          badSamples,
          serverCpuMsPerResponse: serverCpu0 !== null && serverCpu1 !== null && n > 0 ? ((serverCpu1 - serverCpu0) * 1000) / n : null,
          clientCpuMsPerResponse: n > 0 ? (clientCpu.user + clientCpu.system) / 1000 / n : NaN,
        });
      },
    );
    instance.on('response', (client: autocannon.Client, _status: number, _bytes: number, responseTime: number) => {
      latencies.push(responseTime);
      lastAnswer = performance.now();
      if (seen.has(client)) steady.push(responseTime);
      else {
        seen.add(client);
        firsts.push(responseTime);
      }
    });
    // amount-bounded runs stop after `seconds` too; duration runs end by themselves (backstop).
    timer.guard = setTimeout(() => instance.stop(), (spec.amount !== undefined ? limit : limit + 10) * 1000);
  });
}
