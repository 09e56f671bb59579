// Everything the helper touches outside itself (config files, passwd, the network, privileges,
// the clock of local mode), gathered so tests can replace parts; defaultDeps are the real ones.
import { readFileSync } from 'node:fs';
import { localHostname, localIpv4 } from './address.js';
import { loadClientConfig, readCaFile } from './config/load.js';
import type { ClientConfig, ClientProgram, LoadedConfig } from './config/types.js';
import { DuoClient, type DuoApi } from './http/duo-client.js';
import type { ClientLogger } from './log.js';
import { dropPrivileges, PrivilegeError, SERVICE_ACCOUNT, type DropResult } from './privileges.js';
import { lookupGroupNames, lookupPasswd, type PasswdEntry } from './users.js';
import type { LocalDeps } from './local/ga-local.js';
import { spawnNetworkChild, type NetworkChild, type NetworkJob } from './local/network-child.js';

export const HELPER_VERSION = '0.1.0';
const MOTD = '/etc/motd';
const MAX_MOTD = 64 * 1024;

/** Everything the helper touches outside itself; tests replace parts. */
export interface HelperDeps {
  loadConfig: (path: string, program: ClientProgram) => LoadedConfig;
  readCa: (path: string) => string;
  lookupPasswd: (key: string | number) => Promise<PasswdEntry | null>;
  lookupGroups: (name: string) => Promise<string[]>;
  dropPrivileges: () => Promise<DropResult>;
  /**
   * pam_tandem with offline_fallback = local: start the network phase in a child process as
   * `_tandem` (local/network-child.ts), or say why not. Absent: everything in this process.
   */
  startNetworkChild?: (job: NetworkJob) => Promise<NetworkChild | 'not-root' | 'no-account'>;
  localIp: () => Promise<string | null>;
  hostname: () => string;
  openApi: (config: ClientConfig, ca: string | null, program: ClientProgram, log: ClientLogger) => DuoApi;
  readMotd: () => string | null;
  /** pam_tandem `mode=local` (google-authenticator files); defaults to the real clock and ids. */
  local?: LocalDeps;
}

export const defaultDeps: HelperDeps = {
  loadConfig: loadClientConfig,
  readCa: readCaFile,
  lookupPasswd: (k) => lookupPasswd(k),
  lookupGroups: (n) => lookupGroupNames(n),
  dropPrivileges: () => dropPrivileges((n) => lookupPasswd(n)),
  startNetworkChild: async (job) => {
    if (process.getuid?.() !== 0 && process.geteuid?.() !== 0) return 'not-root';
    const pw = await lookupPasswd(SERVICE_ACCOUNT);
    if (pw === null) return 'no-account';
    if (pw.uid === 0 || pw.gid === 0) throw new PrivilegeError(`${SERVICE_ACCOUNT} must not have uid or gid 0`);
    return spawnNetworkChild(job, { uid: pw.uid, gid: pw.gid });
  },
  localIp: localIpv4,
  hostname: localHostname,
  openApi: (config, ca, program, log) =>
    new DuoClient({
      host: config.host,
      port: config.port,
      ca,
      verify: config.tlsVerify,
      proxy: config.httpProxy,
      userAgent: `${program === 'pam' ? 'pam_tandem' : 'login_tandem'}/${HELPER_VERSION} (duo_unix compatible)`,
      ikey: config.ikey,
      skey: config.skey,
      httpsTimeoutMs: config.httpsTimeoutMs,
      log: (msg) => log.log('debug', msg),
    }),
  readMotd: () => {
    try {
      const text = readFileSync(MOTD, 'utf8');
      return text.length > MAX_MOTD ? text.slice(0, MAX_MOTD) : text;
    } catch {
      return null;
    }
  },
};
