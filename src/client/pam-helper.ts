// Entry point of dist/tandem-pam-helper.mjs (scripts/build.mjs). All logic is in helper-main.ts.
import { main } from './helper-main.js';

process.exitCode = await main();
