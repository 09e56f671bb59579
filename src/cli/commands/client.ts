// `tandem client install`: puts Tandem's own Unix clients in place on this host — the dedicated
// account the helper runs as, the bundled helper, pam_tandem.so in the distribution's PAM module
// directory, the setuid-root login_tandem, and config templates that are never overwritten. It
// never edits /etc/pam.d or sshd_config: it prints the lines to add (the README has the same).
// The artifacts come from this package (`npm run build`, which bundles the helper, and
// `make -C pam`, which builds the C pieces), found relative to the package root as bin/tandem.mjs
// finds dist/.
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, closeSync, existsSync, fchmodSync, fchownSync, fsyncSync, lstatSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync, type Stats } from 'node:fs';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CommandDef } from '../args.js';
import { CliError } from '../io.js';

/** The unprivileged account the helper runs as; it alone can read login_tandem.conf. */
export const CLIENT_ACCOUNT = '_tandem';
export const USERADD_ARGS = ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', '--user-group', CLIENT_ACCOUNT] as const;

/** Where things go on the host (before --prefix). */
export const HELPER_DIR = '/usr/lib/tandem';
export const HELPER_PATH = `${HELPER_DIR}/tandem-pam-helper.mjs`;
export const LOGIN_TANDEM_PATH = '/usr/sbin/login_tandem';
export const CONFIG_DIR = '/etc/tandem';
export const PAM_CONF_PATH = `${CONFIG_DIR}/pam_tandem.conf`;
export const LOGIN_CONF_PATH = `${CONFIG_DIR}/login_tandem.conf`;

/** The artifacts, relative to the package root. */
export const ARTIFACTS = {
  helper: 'dist/tandem-pam-helper.mjs',
  helperMap: 'dist/tandem-pam-helper.mjs.map',
  pamModule: 'pam/build/pam_tandem.so',
  loginTandem: 'pam/build/login_tandem',
} as const;

const MULTIARCH: Record<string, string> = {
  x64: 'x86_64-linux-gnu',
  arm64: 'aarch64-linux-gnu',
  arm: 'arm-linux-gnueabihf',
  ia32: 'i386-linux-gnu',
  ppc64: 'powerpc64le-linux-gnu',
  s390x: 's390x-linux-gnu',
  riscv64: 'riscv64-linux-gnu',
};

/** The directory holding pam_unix.so: dpkg's answer on Debian/Ubuntu, else the usual places. */
export function detectPamModuleDir(): string {
  const dpkg = spawnSync('dpkg', ['-L', 'libpam-modules'], { encoding: 'utf8', timeout: 20_000 });
  if (dpkg.status === 0) {
    const hit = dpkg.stdout.split('\n').find((l) => l.endsWith('/security/pam_unix.so') && existsSync(l));
    if (hit !== undefined) return dirname(hit);
  }
  const triplet = MULTIARCH[process.arch];
  const candidates = [
    ...(triplet ? [`/lib/${triplet}/security`, `/usr/lib/${triplet}/security`] : []),
    '/lib64/security',
    '/usr/lib64/security',
    '/lib/security',
    '/usr/lib/security',
  ];
  const dir = candidates.find((d) => existsSync(join(d, 'pam_unix.so')));
  if (dir === undefined) throw new CliError(`cannot find the PAM module directory: no pam_unix.so in ${candidates.join(', ')}`);
  return dir;
}

/** The package root: the nearest directory above this module whose package.json is ours. */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, 'utf8')) as { name?: unknown }).name === 'tandem') return dir;
      } catch {
        // not ours; keep looking
      }
    }
    const up = dirname(dir);
    if (up === dir) throw new CliError('cannot find the tandem package root (package.json) above the running code');
    dir = up;
  }
}

// ---------------------------------------------------------------------------------------------
// Config templates

const CONF_HEAD = [
  '; Fill in ikey, skey, host and cafile from `tandem integration create` (run on the Tandem server)',
  '; and copy the server\'s CA (data/ca.pem) to the cafile path. The keys are those of pam_duo.conf /',
  '; login_duo.conf. Until ikey, skey and host are set every login is DENIED (no failmode applies).',
];
const CONF_BODY = [
  '[duo]',
  'failmode = secure',
  'ikey =',
  'skey =',
  '; host name exactly as in the server certificate (tandem cert show), optionally :port',
  'host =',
  `cafile = ${CONFIG_DIR}/ca.pem`,
  '; groups = users,!wheel',
  '; pushinfo = yes',
  '; autopush = no',
  '; prompts = 3',
  '',
  '[tandem]',
  '; yes only to allow noverify / an empty cafile (TLS without certificate checks): never in production',
  'allow_insecure_tls = no',
  '',
];

export function pamConfTemplate(): string {
  return ['; pam_tandem.so configuration. Mode 0600, owned by root.', ...CONF_HEAD, ...CONF_BODY].join('\n');
}

export function loginConfTemplate(): string {
  return [
    `; login_tandem configuration. Mode 0600, owned by ${CLIENT_ACCOUNT}: login_tandem reads it as that account.`,
    ...CONF_HEAD,
    ...CONF_BODY.slice(0, -1),
    '; motd = yes',
    '; accept_env_factor = no',
    '',
  ].join('\n');
}

// ---------------------------------------------------------------------------------------------
// The lines to add by hand (also in the README)

export interface ClientPaths {
  helper: string;
  pamModule: string;
  /** How PAM lines name the module: the bare name when it sits in the PAM module directory. */
  pamModuleRef: string;
  loginTandem: string;
  pamConf: string;
  loginConf: string;
}

export function nextStepsText(p: ClientPaths): string {
  const tandem = `auth required  ${p.pamModuleRef} conf=${p.pamConf}`;
  return [
    'Nothing in /etc/pam.d or /etc/ssh/sshd_config was changed. Fill in the config files, then add the',
    'lines for the logins you want to protect. Keep a root shell open while you change PAM or sshd,',
    'and try a new login before closing it.',
    '',
    'SSH, password + 2FA: /etc/ssh/sshd_config',
    '    UsePAM yes',
    '    KbdInteractiveAuthentication yes',
    '  and in /etc/pam.d/sshd, in place of "@include common-auth":',
    '    auth requisite pam_unix.so nullok',
    `    ${tandem}`,
    '',
    'SSH, public key + 2FA: /etc/ssh/sshd_config',
    '    UsePAM yes',
    '    KbdInteractiveAuthentication yes',
    '    AuthenticationMethods publickey,keyboard-interactive',
    '  and in /etc/pam.d/sshd, in place of "@include common-auth":',
    `    ${tandem}`,
    '',
    'SSH, or instead wrap every session with login_tandem: /etc/ssh/sshd_config',
    `    ForceCommand ${p.loginTandem}`,
    '    PermitUserRC no',
    '    PermitTunnel no',
    '    AllowTcpForwarding no',
    '    AllowStreamLocalForwarding no',
    '    AllowAgentForwarding no',
    '    X11Forwarding no',
    `  login_tandem reads ${p.loginConf}.`,
    '',
    'sudo: /etc/pam.d/sudo, after "@include common-auth" (pushinfo = yes sends the command):',
    `    ${tandem}`,
    'su: /etc/pam.d/su, after "@include common-auth" (su to root asks the invoking user, su to',
    'anyone else asks the target user):',
    `    ${tandem}`,
  ].join('\n');
}

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

function lookupAccount(name: string): Account | null {
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

/**
 * What the C launchers were compiled to use (pam/build/defs.stamp, written by pam/Makefile), when
 * it differs from what this installer puts in place: login_tandem takes no paths at run time, so
 * a mismatch would leave it reading a file nobody filled in (it then denies every login).
 */
export function buildMismatches(root: string): string[] {
  let stamp: string;
  try {
    stamp = readFileSync(join(root, 'pam/build/defs.stamp'), 'utf8');
  } catch {
    return [];
  }
  const built = new Map<string, string>();
  for (const m of stamp.matchAll(/-D(TANDEM_[A-Z_]+)=(?:'?"?)([^'"\s]+)/g)) built.set(m[1]!, m[2]!);
  const expected: Array<[string, string, string]> = [
    ['TANDEM_HELPER', HELPER_PATH, 'runs the helper'],
    ['TANDEM_LOGIN_CONF', LOGIN_CONF_PATH, 'reads its config'],
    ['TANDEM_PRIVSEP_USER', CLIENT_ACCOUNT, 'runs the helper as'],
  ];
  const out: string[] = [];
  for (const [name, want, what] of expected) {
    const got = built.get(name);
    if (got !== undefined && got !== want) out.push(`login_tandem was built so that it ${what} ${got}, not ${want} (pam/Makefile ${name}); rebuild with make -C pam ${name}=${want}`);
  }
  const node = built.get('TANDEM_NODE');
  if (node !== undefined && !existsSync(node)) out.push(`the launchers were built to run ${node}, which does not exist here (pam/Makefile TANDEM_NODE)`);
  return out;
}

const octal = (m: number): string => m.toString(8).padStart(4, '0');

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

function runStep(s: Step): void {
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

export const clientCommands: CommandDef[] = [
  {
    path: ['client', 'install'],
    summary: 'Install pam_tandem.so, login_tandem (setuid root), their helper and config templates on this host',
    details: [
      `Creates the system account ${CLIENT_ACCOUNT} if missing, installs the helper in ${HELPER_DIR}, pam_tandem.so`,
      `in the PAM module directory, login_tandem as ${LOGIN_TANDEM_PATH} (mode 4755), and config templates`,
      `${PAM_CONF_PATH} (root) and ${LOGIN_CONF_PATH} (${CLIENT_ACCOUNT}), mode 0600, only where none exists.`,
      'It never edits /etc/pam.d or sshd_config: it prints the lines to add. Needs root (except --dry-run)',
      'and the build artifacts (npm run build).',
    ],
    flags: [
      { name: 'dry-run', kind: 'boolean', description: 'print the steps without doing anything' },
      { name: 'prefix', kind: 'string', value: 'DIR', description: 'install under DIR instead of / (the account is still created)' },
    ],
    async run(ctx) {
      const dryRun = ctx.bool('dry-run');
      const prefixFlag = ctx.str('prefix');
      const prefix = prefixFlag === undefined ? '' : resolve(ctx.io.cwd, prefixFlag);
      if (prefix !== '' && (!isAbsolute(prefix) || prefix === '/')) throw new CliError(`--prefix must name a directory other than / (got ${prefixFlag})`);
      if (!dryRun && process.getuid?.() !== 0) throw new CliError('tandem client install must run as root (try --dry-run to see what it would do)');

      const root = packageRoot();
      const plan = planInstall({ root, prefix, pamModuleDir: detectPamModuleDir(), accountExists: lookupAccount(CLIENT_ACCOUNT) !== null });
      const next = nextStepsText(plan.paths);
      const warnings = buildMismatches(root);
      if (!dryRun) for (const s of plan.steps) runStep(s);

      if (ctx.json) {
        ctx.printJson({
          dryRun,
          prefix: prefix === '' ? null : prefix,
          steps: plan.steps.map((s) => ({ ...s, ...(s.mode === undefined ? {} : { mode: octal(s.mode) }) })),
          paths: plan.paths,
          warnings,
          next,
        });
        for (const w of warnings) ctx.io.stderr.write(`tandem: warning: ${w}\n`);
        return 0;
      }
      for (const w of warnings) ctx.io.stderr.write(`tandem: warning: ${w}\n`);
      ctx.out(dryRun ? 'Dry run: these steps would be taken (nothing was changed):' : 'Done:');
      for (const s of plan.steps) ctx.out(`  ${describeStep(s)}`);
      ctx.out();
      ctx.out(next);
      return 0;
    },
  },
];
