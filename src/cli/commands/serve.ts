// `tandem serve`: run the server until SIGINT/SIGTERM, then close it cleanly.
import { loadSettings } from '../../config/load.js';
import { createLogger } from '../../server/logger.js';
import { serve } from '../../server/serve.js';
import type { CommandDef } from '../args.js';

/** Resolves on SIGINT, SIGTERM or `signal`'s abort, whichever comes first. */
function stopRequested(signal: AbortSignal | undefined): Promise<string> {
  return new Promise((resolve) => {
    const done = (why: string): void => {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
      signal?.removeEventListener('abort', onAbort);
      resolve(why);
    };
    const onInt = (): void => done('SIGINT');
    const onTerm = (): void => done('SIGTERM');
    const onAbort = (): void => done('abort');
    process.once('SIGINT', onInt);
    process.once('SIGTERM', onTerm);
    if (signal?.aborted) done('abort');
    else signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export const serveCommand: CommandDef = {
  path: ['serve'],
  summary: 'Run the server (creates the data directory first if needed); stops on SIGINT/SIGTERM',
  flags: [
    { name: 'listen', kind: 'string', value: 'ADDR:PORT', description: 'address and port to listen on, e.g. 0.0.0.0:8443 or [::]:8443 (overrides the listen setting)' },
    { name: 'console-listen', kind: 'string', value: 'ADDR:PORT', description: 'address and port of the admin console (default: the listen address, the next port)' },
  ],
  async run(ctx) {
    const dataDir = ctx.dataDir();
    const listen = ctx.str('listen');
    const consoleListen = ctx.str('console-listen');
    const overrides = { ...(listen !== undefined ? { listen } : {}), ...(consoleListen !== undefined ? { consoleListen } : {}) };
    // Validates the configuration up front and gives the server log its level.
    const settings = loadSettings({ dataDir, env: ctx.io.env, overrides });
    const log = createLogger(settings.logLevel, () => Date.now(), (line) => ctx.io.stderr.write(line));
    const server = await serve({ dataDir, env: ctx.io.env, overrides, log, say: ctx.json ? () => undefined : (line) => ctx.out(line) });
    if (ctx.json) ctx.printJson({ url: server.url, consoleUrl: server.consoleUrl, cafile: server.runtime.paths.caCert, hosts: server.runtime.deps.settings.hosts });
    const why = await stopRequested(ctx.io.signal);
    log.info('tandem serve stopping', { reason: why });
    await server.close();
    return 0;
  },
};
