// `tandem serve`: bootstrap the data directory if needed, open the store, listen over TLS, and run
// the periodic jobs (expire pending transactions, purge old records, log audit chain heads, warn
// about an expiring certificate).
import { readFileSync } from 'node:fs';
import type { Settings } from '../config/settings.js';
import { verifyAudit } from '../core/audit.js';
import { expirePending } from '../core/transactions.js';
import { buildApp } from './app.js';
import { portalBase } from '../core/preauth.js';
import { openDevicePusher } from './push-delivery.js';
import { certificateExpiryWarning } from './cert-expiry.js';
import { ensureDataDir } from './bootstrap.js';
import type { ServerLogger } from './logger.js';
import { openRuntime, systemClock, systemRandom, type Runtime } from './runtime.js';
import { consoleListen } from '../core/admins.js';
import { startConsole, type RunningConsole } from './console/listen.js';

/** Settled transactions and request records are kept this long for auth_status and forensics. */
const KEEP_SETTLED_MS = 10 * 60_000;
const DAY_MS = 86400_000;

export interface ServeOptions {
  dataDir: string;
  env: Record<string, string | undefined>;
  overrides?: Partial<Record<keyof Settings, unknown>>;
  log: ServerLogger;
  /** Lines for the operator (first-run instructions), printed to stdout by the CLI. */
  say: (line: string) => void;
}

export interface RunningServer {
  url: string;
  /** The admin console's URL (its own listener). */
  consoleUrl: string;
  runtime: Runtime;
  close(): Promise<void>;
}

export async function serve(o: ServeOptions): Promise<RunningServer> {
  const boot = await ensureDataDir({ dataDir: o.dataDir, env: o.env, random: systemRandom, now: new Date() });
  for (const p of boot.created) o.say(`created ${p}`);
  for (const n of boot.notes) o.say(n);
  const runtime = await openRuntime({ dataDir: o.dataDir, env: o.env, overrides: o.overrides ?? {}, log: o.log });
  const { deps, core, paths } = runtime;
  const s = deps.settings;
  const tls = { key: readFileSync(paths.serverKey, 'utf8'), cert: readFileSync(paths.serverCert, 'utf8') };
  const app = buildApp({ core, log: o.log, tls });
  let adminConsole: RunningConsole;
  try {
    await app.listen({ host: s.listen.host, port: s.listen.port });
    // The admin console: its own listener, so its own origin (resolved before port 0 is replaced).
    adminConsole = await startConsole({ core, log: o.log, tls, caCert: paths.caCert, at: consoleListen(s) });
  } catch (e) {
    await app.close();
    await runtime.close();
    throw e;
  }
  const port = (app.server.address() as { port: number }).port;
  if (s.listen.port === 0) {
    // Listening on "any free port": links the server hands out must carry the real one.
    // From the current settings, not `s`: startConsole has already recorded the console's real port.
    deps.settings = Object.freeze({ ...deps.settings, listen: Object.freeze({ host: s.listen.host, port }) });
  }
  // Web Push (docs/push.md §4); the VAPID contact is the server's public URL.
  deps.pusher = await openDevicePusher(deps, portalBase(deps));
  const hostForUrl = s.listen.host.includes(':') ? `[${s.listen.host}]` : s.listen.host;
  const url = `https://${hostForUrl}:${port}`;

  const timers: NodeJS.Timeout[] = [];
  const every = (ms: number, job: () => Promise<unknown>): void => {
    const t = setInterval(() => void job().catch((e: unknown) => o.log.error('background job failed', { error: String(e) })), ms);
    t.unref();
    timers.push(t);
  };
  every(Math.min(s.transactionTimeoutSeconds * 1000, 5000), () => expirePending(deps));
  every(60_000, async () => {
    const before = systemClock.now() - KEEP_SETTLED_MS;
    await deps.store.purgeTransactions(before);
    await deps.store.purgeRequests(systemClock.now());
  });
  // Chain heads in the server log let a truncated chain be noticed later.
  const logHeads = async (): Promise<void> => {
    const v = await verifyAudit(deps);
    for (const c of v.chains) o.log.info('audit chain head', { node: c.nodeId, seq: c.headSeq, hash: c.headHash });
    if (!v.ok) o.log.error('audit chain broken', { ...v.broken });
  };
  const checkCert = async (): Promise<void> => {
    const w = certificateExpiryWarning(readFileSync(paths.serverCert, 'utf8'), systemClock.now());
    if (w) o.log.warn(w.msg, { notAfter: w.notAfter, daysLeft: w.daysLeft });
  };
  await logHeads();
  await checkCert();
  every(s.auditHeadLogSeconds * 1000, logHeads);
  every(DAY_MS, checkCert);

  o.log.info('tandem serve listening', { url, node: s.nodeId, store: deps.store.backend });
  o.log.info('admin console listening', { url: adminConsole.url });
  o.say(`Tandem is listening on ${url}`);
  o.say(`Admin console: ${adminConsole.url}   (first admin: npx tandem admin create NAME)`);
  o.say(`Clients trust this server with: cafile = ${paths.caCert}`);
  o.say(`API host names in the certificate: ${s.hosts.join(', ')}`);
  o.say(`Next: npx tandem integration create --name my-hosts   (prints a ready-to-paste client config)`);

  return {
    url,
    consoleUrl: adminConsole.url,
    runtime,
    async close() {
      for (const t of timers) clearInterval(t);
      await adminConsole.close();
      await app.close();
      await runtime.close();
    },
  };
}
