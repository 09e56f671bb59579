// Whose second factor is asked for, and what the system knows about that account.
//
// Selection (duo_unix.md §6.1, duo_unix 2.0.0+):
//   - PAM service `su` or `su-l` with a target of uid 0 (`su`, `su -`): the INVOKING user (the
//     real uid of the calling process); with any other target (`su bob`): the target;
//   - any other PAM service (`sshd`, `sudo`, `login`, …): PAM_USER (sudo sets it to the invoker);
//   - login_tandem: the account of the real uid that ran it.
// Lookups go through NSS with the system's own tools, so LDAP/SSSD users work: `getent passwd`
// and `id -Gn`, by absolute path, with an empty environment, never through a shell.
import { execFile } from 'node:child_process';

export interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  gecos: string;
  home: string;
  shell: string;
}

export class UserLookupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UserLookupError';
  }
}

const GETENT = '/usr/bin/getent';
const ID = '/usr/bin/id';
const LOOKUP_TIMEOUT_MS = 10_000;
const MAX_OUTPUT = 64 * 1024;

/** A user name as NSS could hold it, and safe to pass as one argument: no controls, no ':' or ','. */
export function isPlausibleUserName(name: string): boolean {
  // eslint-disable-next-line no-control-regex -- controls are exactly what is refused
  return name.length > 0 && name.length <= 255 && !/[\u0000-\u001f\u007f:,\s]/.test(name) && !name.startsWith('-');
}

export interface CommandResult {
  code: number;
  stdout: string;
}
export type RunCommand = (file: string, args: string[]) => Promise<CommandResult>;

export const runCommand: RunCommand = (file, args) =>
  new Promise((resolve, reject) => {
    execFile(
      file,
      args,
      { env: { LC_ALL: 'C' }, timeout: LOOKUP_TIMEOUT_MS, maxBuffer: MAX_OUTPUT, encoding: 'utf8', windowsHide: true },
      (err, stdout) => {
        if (err === null) return resolve({ code: 0, stdout });
        const code = (err as { code?: unknown }).code;
        // A non-zero exit is an answer (e.g. getent's 2 = not found); anything else is a failure.
        if (typeof code === 'number') return resolve({ code, stdout });
        reject(new UserLookupError(`${file} failed: ${typeof code === 'string' ? code : err.message}`));
      },
    );
  });

/** `name:x:uid:gid:gecos:home:shell` */
export function parsePasswdLine(line: string): PasswdEntry | null {
  const f = line.replace(/\n$/, '').split(':');
  if (f.length !== 7) return null;
  const [name, , uid, gid, gecos, home, shell] = f as [string, string, string, string, string, string, string];
  if (!/^[0-9]{1,10}$/.test(uid) || !/^[0-9]{1,10}$/.test(gid) || name === '') return null;
  return { name, uid: Number(uid), gid: Number(gid), gecos, home, shell };
}

/** getent passwd by name or by numeric uid; null when NSS has no such entry (exit status 2). */
export async function lookupPasswd(key: string | number, run: RunCommand = runCommand): Promise<PasswdEntry | null> {
  const arg = typeof key === 'number' ? String(key) : key;
  if (typeof key === 'number' ? !Number.isSafeInteger(key) || key < 0 : !isPlausibleUserName(key)) return null;
  // A name made only of digits would be read by getent as a uid.
  if (typeof key === 'string' && /^[0-9]+$/.test(key)) return null;
  const r = await run(GETENT, ['passwd', arg]);
  if (r.code === 2) return null;
  if (r.code !== 0) throw new UserLookupError(`getent passwd exited with status ${r.code}`);
  const lines = r.stdout.split('\n').filter((l) => l !== '');
  const entry = lines.length === 1 ? parsePasswdLine(lines[0]!) : null;
  if (entry === null) throw new UserLookupError('getent passwd printed something unexpected');
  if (typeof key === 'number' ? entry.uid !== key : entry.name !== key) throw new UserLookupError('getent passwd answered for another account');
  return entry;
}

/**
 * The names of the user's primary and supplementary groups (getgrouplist + getgrgid, as
 * duo_unix). Any group without a name is an error, as in duo_unix HEAD: a groups check that
 * silently skipped it could bypass 2FA.
 */
export async function lookupGroupNames(userName: string, run: RunCommand = runCommand): Promise<string[]> {
  if (!isPlausibleUserName(userName)) throw new UserLookupError('invalid user name');
  const r = await run(ID, ['-Gn', '--', userName]);
  if (r.code !== 0) throw new UserLookupError(`Couldn't get groups (id exited with status ${r.code})`);
  const names = r.stdout.trim().split(/\s+/).filter((n) => n !== '');
  if (names.length === 0) throw new UserLookupError("Couldn't get groups (none listed)");
  return names;
}

export interface SelectUserInput {
  mode: 'pam' | 'login';
  service: string | null;
  /** PAM_USER (pam), or the ITEM user of login_tandem. */
  pamUser: string | null;
  /** The real uid of the calling process. */
  realUid: number | null;
}

/** Which account is checked: groups, GECOS and (unless `-f`) the Duo user name come from it. */
export async function selectUser(input: SelectUserInput, lookup: (key: string | number) => Promise<PasswdEntry | null> = (k) => lookupPasswd(k)): Promise<PasswdEntry> {
  if (input.mode === 'login') {
    if (input.realUid !== null) {
      const pw = await lookup(input.realUid);
      if (pw === null) throw new UserLookupError('Who are you? (no account for the real uid)');
      return pw;
    }
    if (input.pamUser === null) throw new UserLookupError('Who are you? (no uid and no user given)');
    const pw = await lookup(input.pamUser);
    if (pw === null) throw new UserLookupError('unknown user');
    return pw;
  }
  if (input.pamUser === null || input.pamUser === '') throw new UserLookupError('no PAM user');
  const target = await lookup(input.pamUser);
  if (target === null) throw new UserLookupError('unknown user');
  if ((input.service === 'su' || input.service === 'su-l') && target.uid === 0) {
    if (input.realUid === null) throw new UserLookupError('su to root without the caller\'s uid');
    const caller = await lookup(input.realUid);
    if (caller === null) throw new UserLookupError('unknown calling user');
    return caller;
  }
  return target;
}
