// Where Tandem keeps its state. One directory holds the configuration, the SQLite database, the
// site CA and the server certificate; the master key may live elsewhere (kept out of backups).
import { isAbsolute, join, resolve } from 'node:path';
import { ConfigError } from './load.js';

export interface DataPaths {
  dir: string;
  config: string;
  sqlite: string;
  masterKey: string;
  caCert: string;
  caKey: string;
  serverCert: string;
  serverKey: string;
}

/** `--data DIR` > `$TANDEM_DATA` > `./data`, made absolute against `cwd`. */
export function resolveDataDir({ flag, env, cwd }: { flag?: string | undefined; env: Record<string, string | undefined>; cwd: string }): string {
  if (flag !== undefined) {
    // `--data "$UNSET_VAR"` must not quietly become ./data, where init would mint a new master
    // key and CA beside the real ones.
    if (flag === '') throw new ConfigError(['--data: must not be empty']);
    return resolve(cwd, flag);
  }
  const fromEnv = env.TANDEM_DATA;
  return resolve(cwd, fromEnv !== undefined && fromEnv !== '' ? fromEnv : 'data');
}

export function dataPaths(dataDir: string, env: Record<string, string | undefined>): DataPaths {
  const dir = resolve(dataDir);
  const keyFile = env.TANDEM_MASTER_KEY_FILE;
  let masterKey = join(dir, 'master.key');
  if (keyFile !== undefined && keyFile !== '') {
    // Relative to what? The CLI's cwd and the service's differ; an absolute path is unambiguous.
    if (!isAbsolute(keyFile)) throw new ConfigError(['TANDEM_MASTER_KEY_FILE: must be an absolute path']);
    masterKey = resolve(keyFile);
  }
  return {
    dir,
    config: join(dir, 'config.json'),
    sqlite: join(dir, 'tandem.db'),
    masterKey,
    caCert: join(dir, 'ca.pem'),
    caKey: join(dir, 'ca.key'),
    serverCert: join(dir, 'server.pem'),
    serverKey: join(dir, 'server.key'),
  };
}
