// The `tandem` executable's entry point (bundled into dist/tandem.mjs). It only runs the CLI;
// everything else lives in ./cli.ts, which tests import without running anything.
import { main } from './cli.js';

// `tandem log | head` closes the pipe early: that is the reader's choice, not an error.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw e;
});

process.exitCode = await main(process.argv.slice(2));
