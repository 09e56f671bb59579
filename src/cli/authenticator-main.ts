// Entry point of `tandem-authenticator` (bundled to dist/tandem-authenticator.mjs).
import { main } from './authenticator/run.js';

process.exitCode = await main(process.argv.slice(2));
