// Dropping root before the network: once the helper has read its config (which only root and the
// dedicated account can read) and resolved the user's groups, it becomes `_tandem` for good.
// There is no reversible drop: hybrid mode keeps root in a parent process instead (pam_tandem:
// local/network-child.ts; login_tandem: the launcher's offline-check run).
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
