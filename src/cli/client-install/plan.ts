// The install plan and carrying it out: planInstall (what to create, replace or keep, from the
// artifacts and what already exists), describeStep (one line per step, for output), and runStep
// (the account via useradd, directories, atomic file placement with owner/mode, templates created
// with O_EXCL so an existing config is never replaced).
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, closeSync, existsSync, fchmodSync, fchownSync, fsyncSync, lstatSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync, type Stats } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { CliError } from '../io.js';
import { ARTIFACTS, CLIENT_ACCOUNT, HELPER_PATH, LOGIN_CONF_PATH, LOGIN_TANDEM_PATH, PAM_CONF_PATH, USERADD_ARGS, type ClientPaths } from './layout.js';
import { loginConfTemplate, pamConfTemplate } from './templates.js';

// ---------------------------------------------------------------------------------------------
// The plan

export type StepAction = 'account' | 'mkdir' | 'install' | 'template';

export interface Step {
  action: StepAction;
  /** The path (or, for `account`, the account name). */
  target: string;
  /** What happens: create, replace (an existing file), keep (exists; left alone). */
  status: 'create' | 'replace' | 'keep';
  mode?: number;
  owner?: string;
  group?: string;
  source?: string;
  command?: readonly string[];
}

interface Account {
  uid: number;
  gid: number;
}

export function lookupAccount(name: string): Account | null {
  const r = spawnSync('getent', ['passwd', name], { encoding: 'utf8', timeout: 20_000 });
  if (r.status !== 0) return null;
  const f = r.stdout.trim().split(':');
  return { uid: Number(f[2]), gid: Number(f[3]) };
}

function lstatOrNull(path: string): Stats | null {
  try {
    return lstatSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new CliError(`cannot inspect ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
}

/** The missing directories on the way to `dir`, outermost first. */
function missingDirs(dir: string): string[] {
  const out: string[] = [];
  for (let d = dir; ; d = dirname(d)) {
    const st = lstatOrNull(d);
    if (st !== null) {
      if (!st.isDirectory()) throw new CliError(`${d} exists and is not a directory`);
      break;
    }
    out.unshift(d);
    if (dirname(d) === d) break;
  }
  return out;
}

export interface InstallPlan {
  steps: Step[];
  paths: ClientPaths;
  prefix: string;
}

export function planInstall(o: { root: string; prefix: string; pamModuleDir: string; accountExists: boolean }): InstallPlan {
  const at = (p: string): string => (o.prefix === '' ? p : join(o.prefix, p));
  const src = (rel: string): string => join(o.root, rel);
  const missing = Object.values(ARTIFACTS).filter((a) => a !== ARTIFACTS.helperMap && !existsSync(src(a)));
  if (missing.length > 0) {
    throw new CliError(`missing build artifacts: ${missing.map(src).join(', ')}; run npm run build first (it needs libpam0g-dev for pam/)`);
  }
  const paths: ClientPaths = {
    helper: at(HELPER_PATH),
    pamModule: at(join(o.pamModuleDir, 'pam_tandem.so')),
    pamModuleRef: o.prefix === '' ? 'pam_tandem.so' : at(join(o.pamModuleDir, 'pam_tandem.so')),
    loginTandem: at(LOGIN_TANDEM_PATH),
    pamConf: at(PAM_CONF_PATH),
    loginConf: at(LOGIN_CONF_PATH),
  };
  const steps: Step[] = [];
  steps.push(
    o.accountExists
      ? { action: 'account', target: CLIENT_ACCOUNT, status: 'keep' }
      : { action: 'account', target: CLIENT_ACCOUNT, status: 'create', command: ['useradd', ...USERADD_ARGS] },
  );
  const seen = new Set<string>();
  const dirs = (dir: string): void => {
    for (const d of missingDirs(dir)) {
      if (seen.has(d)) continue;
      seen.add(d);
      steps.push({ action: 'mkdir', target: d, status: 'create', mode: 0o755, owner: 'root', group: 'root' });
    }
  };
  const install = (source: string, target: string, mode: number): void => {
    dirs(dirname(target));
    const st = lstatOrNull(target);
    if (st !== null && st.isDirectory()) throw new CliError(`${target} is a directory`);
    steps.push({ action: 'install', target, status: st === null ? 'create' : 'replace', mode, owner: 'root', group: 'root', source });
  };
  install(src(ARTIFACTS.helper), paths.helper, 0o644);
  if (existsSync(src(ARTIFACTS.helperMap))) install(src(ARTIFACTS.helperMap), `${paths.helper}.map`, 0o644);
  install(src(ARTIFACTS.pamModule), paths.pamModule, 0o644);
  install(src(ARTIFACTS.loginTandem), paths.loginTandem, 0o4755);
  const template = (target: string, owner: string): void => {
    dirs(dirname(target));
    steps.push({ action: 'template', target, status: lstatOrNull(target) === null ? 'create' : 'keep', mode: 0o600, owner, group: owner });
  };
  template(paths.pamConf, 'root');
  template(paths.loginConf, CLIENT_ACCOUNT);
  return { steps, paths, prefix: o.prefix };
}

export const octal = (m: number): string => m.toString(8).padStart(4, '0');

export function describeStep(s: Step): string {
  const perms = s.mode === undefined ? '' : `  ${octal(s.mode)} ${s.owner}:${s.group}${s.mode & 0o4000 ? ' (setuid)' : ''}`;
  switch (s.action) {
    case 'account':
      return s.status === 'keep' ? `account   ${s.target} exists` : `account   create ${s.target}: ${s.command!.join(' ')}`;
    case 'mkdir':
      return `mkdir     ${s.target}${perms}`;
    case 'install':
      return `install   ${s.target}${perms}  from ${s.source}${s.status === 'replace' ? ' (replaces the existing file)' : ''}`;
    case 'template':
      return s.status === 'keep' ? `template  ${s.target} exists: kept as it is` : `template  ${s.target}${perms}`;
  }
}

// ---------------------------------------------------------------------------------------------
// Doing it

function fail(what: string, e: unknown): never {
  if (e instanceof CliError) throw e;
  const code = (e as NodeJS.ErrnoException).code;
  throw new CliError(`${what}: ${code ?? (e instanceof Error ? e.message : String(e))}`);
}

/** Writes `data` to a temporary file next to `target`, sets owner and mode, then renames it over. */
function placeFile(target: string, data: Buffer, uid: number, gid: number, mode: number): void {
  const tmp = join(dirname(target), `.${basename(target)}.tandem-${randomBytes(6).toString('hex')}`);
  let fd: number | undefined;
  try {
    fd = openSync(tmp, 'wx', 0o600);
    for (let off = 0; off < data.length; ) off += writeSync(fd, data, off, data.length - off);
    fchownSync(fd, uid, gid);
    // After chown, which clears set-id bits.
    fchmodSync(fd, mode);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(tmp, target);
  } catch (e) {
    if (fd !== undefined) closeSync(fd);
    rmSync(tmp, { force: true });
    fail(`cannot install ${target}`, e);
  }
}

/** Creates a file that must not exist yet (O_EXCL: never follows or replaces anything). */
function createFile(target: string, text: string, uid: number, gid: number, mode: number): void {
  let fd: number | undefined;
  try {
    fd = openSync(target, 'wx', 0o600);
    fchownSync(fd, uid, gid);
    fchmodSync(fd, mode);
    const data = Buffer.from(text, 'utf8');
    for (let off = 0; off < data.length; ) off += writeSync(fd, data, off, data.length - off);
    fsyncSync(fd);
  } catch (e) {
    fail(`cannot create ${target}`, e);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

export function runStep(s: Step): void {
  switch (s.action) {
    case 'account': {
      if (s.status === 'keep') return;
      const useradd = (): SpawnSyncReturns<string> =>
        spawnSync('useradd', [...USERADD_ARGS], { encoding: 'utf8', timeout: 60_000, env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' } });
      let r = useradd();
      // Another program may hold the passwd lock for a moment ("cannot lock /etc/passwd; try again later").
      for (let i = 0; i < 20 && r.status !== 0 && /lock|try again/i.test(r.stderr ?? '') && lookupAccount(CLIENT_ACCOUNT) === null; i++) {
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 250);
        r = useradd();
      }
      if (r.status !== 0 && lookupAccount(CLIENT_ACCOUNT) === null) {
        throw new CliError(`useradd ${USERADD_ARGS.join(' ')} failed (${r.status ?? r.signal ?? r.error?.message}): ${(r.stderr ?? '').trim()}`);
      }
      return;
    }
    case 'mkdir':
      try {
        mkdirSync(s.target, { mode: 0o755 });
        chmodSync(s.target, 0o755);
      } catch (e) {
        fail(`cannot create directory ${s.target}`, e);
      }
      return;
    case 'install': {
      let data: Buffer;
      try {
        data = readFileSync(s.source!);
      } catch (e) {
        fail(`cannot read ${s.source}`, e);
      }
      placeFile(s.target, data, 0, 0, s.mode!);
      return;
    }
    case 'template': {
      if (s.status === 'keep') return;
      const ids = s.owner === 'root' ? { uid: 0, gid: 0 } : lookupAccount(s.owner!);
      if (ids === null) throw new CliError(`account ${s.owner} not found (needed as the owner of ${s.target})`);
      createFile(s.target, s.target.endsWith('login_tandem.conf') ? loginConfTemplate() : pamConfTemplate(), ids.uid, ids.gid, s.mode!);
      return;
    }
  }
}
