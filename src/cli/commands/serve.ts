// `tandem serve`: run the server until SIGINT/SIGTERM, then close it cleanly.
import { loadSettings } from '../../config/load.js';
import { createLogger } from '../../server/logger.js';
import { serve } from '../../server/serve.js';
import type { CommandDef } from '../args.js';

/**
 * Resolves on SIGINT, SIGTERM or `signal`'s abort, whichever comes first; `cancel` removes the
 * listeners (when the server never started).
 */
function stopRequested(signal: AbortSignal | undefined): { done: Promise<string>; cancel: () => void } {
  let finish: (why: string) => void = () => undefined;
  const done = new Promise<string>((resolve) => {
    finish = (why: string): void => {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
      signal?.removeEventListener('abort', onAbort);
      resolve(why);
    };
    const onInt = (): void => finish('SIGINT');
    const onTerm = (): void => finish('SIGTERM');
    const onAbort = (): void => finish('abort');
    process.once('SIGINT', onInt);
    process.once('SIGTERM', onTerm);
    if (signal?.aborted) finish('abort');
    else signal?.addEventListener('abort', onAbort, { once: true });
  });
  return { done, cancel: () => finish('cancelled') };
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
    // Listen for SIGINT/SIGTERM before starting, so a signal that arrives while the server starts
    // (or right after it says it is listening) stops it cleanly instead of killing the process.
    const stop = stopRequested(ctx.io.signal);
    let server: Awaited<ReturnType<typeof serve>>;
    try {
      server = await serve({ dataDir, env: ctx.io.env, overrides, log, say: ctx.json ? () => undefined : (line) => ctx.out(line) });
    } catch (e) {
      stop.cancel();
      throw e;
    }
    if (ctx.json) ctx.printJson({ url: server.url, consoleUrl: server.consoleUrl, cafile: server.runtime.paths.caCert, hosts: server.runtime.deps.settings.hosts });
    const why = await stop.done;
    log.info('tandem serve stopping', { reason: why });
    await server.close();
    return 0;
  },
};
