// Dropping root before the network: once the helper has read its config (which only root and the
// dedicated account can read) and resolved the user's groups, it becomes `_tandem` for good.
import type { PasswdEntry } from './users.js';

export const SERVICE_ACCOUNT = '_tandem';

export class PrivilegeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PrivilegeError';
  }
}

/** The parts of `process` this needs (injectable for tests). */
export interface ProcessIds {
  getuid(): number;
  geteuid(): number;
  getgid(): number;
  getegid(): number;
  getgroups(): number[];
  setgroups(groups: number[]): void;
  setgid(id: number): void;
  setuid(id: number): void;
}

export type DropResult = 'dropped' | 'not-root' | 'no-account';

/**
 * If running as root (real or effective uid 0): clear the supplementary groups, then setgid and
 * setuid to the service account, and verify that all of it took and that root cannot be taken
 * back. Not root: nothing to do. No such account: stay as we are (the caller logs it).
 */
export async function dropPrivileges(lookup: (name: string) => Promise<PasswdEntry | null>, p: ProcessIds = process as unknown as ProcessIds): Promise<DropResult> {
  if (p.getuid() !== 0 && p.geteuid() !== 0) return 'not-root';
  const pw = await lookup(SERVICE_ACCOUNT);
  if (pw === null) return 'no-account';
  if (pw.uid === 0 || pw.gid === 0) throw new PrivilegeError(`${SERVICE_ACCOUNT} must not have uid or gid 0`);
  try {
    p.setgroups([]);
    p.setgid(pw.gid);
    p.setuid(pw.uid);
  } catch (e) {
    throw new PrivilegeError(`couldn't drop privileges: ${(e as Error).message}`);
  }
  const groups = p.getgroups();
  if (p.getuid() !== pw.uid || p.geteuid() !== pw.uid || p.getgid() !== pw.gid || p.getegid() !== pw.gid || groups.some((g) => g !== pw.gid)) {
    throw new PrivilegeError('privileges were not fully dropped');
  }
  let regained = false;
  try {
    p.setuid(0);
    regained = true;
  } catch {
    /* expected */
  }
  if (regained) throw new PrivilegeError('root could be regained after dropping privileges');
  return 'dropped';
}

/** The parts of `process` a reversible drop needs (injectable for tests). */
export interface EffectiveIds {
  getuid(): number;
  geteuid(): number;
  getegid(): number;
  getgroups(): number[];
  setgroups(groups: number[]): void;
  setegid(id: number): void;
  seteuid(id: number): void;
}

/**
 * `[tandem] offline_fallback = local` only: the network is still spoken as the service account,
 * but only the effective ids change (the real and saved uid stay 0), so that root can be taken
 * back for the local code file check after an unreachable server. This is weaker than
 * dropPrivileges (code running in the helper could take root back), which is why only the
 * offline fallback uses it. `regain` restores root's effective ids and groups.
 */
export async function dropEffectivePrivileges(
  lookup: (name: string) => Promise<PasswdEntry | null>,
  p: EffectiveIds = process as unknown as EffectiveIds,
): Promise<{ result: DropResult; regain: () => void }> {
  const nothing = (): void => undefined;
  if (p.geteuid() !== 0) return { result: 'not-root', regain: nothing };
  const pw = await lookup(SERVICE_ACCOUNT);
  if (pw === null) return { result: 'no-account', regain: nothing };
  if (pw.uid === 0 || pw.gid === 0) throw new PrivilegeError(`${SERVICE_ACCOUNT} must not have uid or gid 0`);
  const saved = { egid: p.getegid(), groups: p.getgroups() };
  try {
    p.setgroups([pw.gid]);
    p.setegid(pw.gid);
    p.seteuid(pw.uid);
  } catch (e) {
    throw new PrivilegeError(`couldn't drop privileges: ${(e as Error).message}`);
  }
  if (p.geteuid() !== pw.uid || p.getegid() !== pw.gid) throw new PrivilegeError('privileges were not dropped');
  return {
    result: 'dropped',
    regain: () => {
      p.seteuid(0);
      p.setegid(saved.egid);
      p.setgroups(saved.groups);
    },
  };
}
