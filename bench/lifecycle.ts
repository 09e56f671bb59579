// What a long benchmark run shares: cleanups registered as things start (children, sockets, data
// directories), run newest first exactly once — on success, on failure and on SIGINT/SIGTERM
// (exit 130; a second signal does not wait) — and an exit that does not wait for keep-alive
// sockets or load generators that may still hold the event loop.

export type Cleanups = Array<() => Promise<void> | void>;

const say = (tag: string, s: string): void => void process.stderr.write(`${tag}: ${s}\n`);

export async function runWithCleanup(tag: string, main: (cleanups: Cleanups, signal: AbortSignal) => Promise<number>): Promise<never> {
  const cleanups: Cleanups = [];
  let cleaning: Promise<void> | undefined;
  const cleanup = (): Promise<void> =>
    (cleaning ??= (async () => {
      // Read from the end each time: something registered while cleaning up is still handled.
      for (let c = cleanups.pop(); c; c = cleanups.pop()) {
        try {
          await c();
        } catch (e) {
          say(tag, `cleanup: ${String(e)}`);
        }
      }
    })());
  const abort = new AbortController();
  const onSignal = (sig: NodeJS.Signals): void => {
    say(tag, `${sig}: stopping`);
    abort.abort();
    void cleanup().finally(() => process.exit(130));
    process.once(sig, () => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  let code = 1;
  try {
    code = await main(cleanups, abort.signal);
  } catch (e) {
    if (!abort.signal.aborted) say(tag, e instanceof Error ? (e.stack ?? e.message) : String(e));
  } finally {
    await cleanup();
  }
  process.exit(code);
}
