// Where `tandem client install` puts things and where it finds them: the dedicated account, the
// host paths (before --prefix), the artifacts relative to the package root, the PAM module
// directory, the package root itself, the paths record the plan fills in, and the check that the
// C launchers were built for these same paths (pam/build/defs.stamp). No writes happen here.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
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

export interface ClientPaths {
  helper: string;
  pamModule: string;
  /** How PAM lines name the module: the bare name when it sits in the PAM module directory. */
  pamModuleRef: string;
  loginTandem: string;
  pamConf: string;
  loginConf: string;
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
