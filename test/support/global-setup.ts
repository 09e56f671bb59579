// vitest globalSetup: one PostgreSQL cluster for the whole run, shared by every test file that
// needs it (each such file or test makes its own database with freshPostgresDatabase).
// A missing PostgreSQL fails the run with the component's name; store tests never skip.
import type { TestProject } from 'vitest/node';
import { startPostgres } from './postgres.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Superuser URL of the run's PostgreSQL cluster (database `postgres`). */
    pgUrl: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const pg = await startPostgres();
  project.provide('pgUrl', pg.url);
  return () => pg.stop();
}
