// Starts the console on its own listener (settings.consoleListen, else the main host and the
// port after the main one) with the server's certificate, whose SANs cover the hosts.
import { consoleListen } from '../../core/admins.js';
import type { Core } from '../../core/service.js';
import type { ServerLogger } from '../logger.js';
import { buildConsoleApp } from './app.js';

export interface RunningConsole {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** `at`: where to listen, resolved before the main listener's port 0 was replaced by the real one. */
export async function startConsole(o: { core: Core; log: ServerLogger; tls: { key: string; cert: string }; caCert: string; at?: { host: string; port: number } }): Promise<RunningConsole> {
  const deps = o.core.deps;
  const at = o.at ?? consoleListen(deps.settings);
  const app = buildConsoleApp({ core: o.core, log: o.log, tls: o.tls, caCert: o.caCert });
  await app.listen({ host: at.host, port: at.port });
  const port = (app.server.address() as { port: number }).port;
  // Links (setup links from this process) must carry the port really used.
  if (at.port !== port || deps.settings.consoleListen === null) {
    deps.settings = Object.freeze({ ...deps.settings, consoleListen: Object.freeze({ host: at.host, port }) });
  }
  const host = deps.settings.hosts[0] ?? 'localhost';
  const url = `https://${host.includes(':') ? `[${host}]` : host}:${port}/console/`;
  return { url, port, close: () => app.close() };
}
