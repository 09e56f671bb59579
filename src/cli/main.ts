// The `tandem` executable's entry point (bundled into dist/tandem.mjs). It only runs the CLI;
// everything else lives in ./cli.ts, which tests import without running anything.
import { main } from './cli.js';

process.exitCode = await main(process.argv.slice(2));
