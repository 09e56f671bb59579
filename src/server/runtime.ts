// Opening a data directory for use: settings, master key, keyring, store and the core. `serve`
// and every CLI command go through here, so they see the same configuration the same way.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { dataPaths, type DataPaths } from '../config/data-dir.js';
import { loadSettings } from '../config/load.js';
import { loadMasterKey } from '../config/master-key.js';
import type { Settings } from '../config/settings.js';
import type { Clock, Deps, Logger, Random } from '../core/deps.js';
import { CoreError } from '../core/errors.js';
import { createKeyring } from '../core/keyring.js';
import { Core } from '../core/service.js';
import { openStore } from '../store/open.js';

export const systemClock: Clock = { now: () => Date.now() };
export const systemRandom: Random = { bytes: (n) => randomBytes(n) };

export interface Runtime {
  deps: Deps;
  core: Core;
  paths: DataPaths;
  close(): Promise<void>;
}

export interface OpenOptions {
  dataDir: string;
  env: Record<string, string | undefined>;
  overrides?: Partial<Record<keyof Settings, unknown>>;
  log: Logger;
  clock?: Clock;
  random?: Random;
}

export async function openRuntime(o: OpenOptions): Promise<Runtime> {
  const paths = dataPaths(o.dataDir, o.env);
  if (!existsSync(paths.config) && !existsSync(paths.masterKey)) {
    throw new CoreError('not_found', `${paths.dir} is not a Tandem data directory; run "tandem init" first (or pass --data DIR)`);
  }
  const settings = loadSettings({ dataDir: paths.dir, env: o.env, overrides: o.overrides ?? {} });
  const random = o.random ?? systemRandom;
  const keyring = createKeyring(loadMasterKey(paths.masterKey), random);
  const store = await openStore(settings.databaseUrl ? { kind: 'postgres', url: settings.databaseUrl } : { kind: 'sqlite', file: paths.sqlite });
  const deps: Deps = { store, settings, keyring, clock: o.clock ?? systemClock, random, log: o.log };
  return { deps, core: new Core(deps), paths, close: () => store.close() };
}
