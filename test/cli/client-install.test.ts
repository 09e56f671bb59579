// `tandem client install`: the exact plan of --dry-run (nothing changed), a real install under
// --prefix (files, modes, the setuid bit, owners, the dedicated account), config templates that
// are never overwritten, and the refusals (not root, artifacts missing). It never touches
// /etc/pam.d or sshd_config. Runs as root with the real build artifacts (built here if missing).
import { execFile, execFileSync } from 'node:child_process';
import { cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadClientConfig } from '../../src/client/config/load.js';
import { buildMismatches, CLIENT_ACCOUNT } from '../../src/cli/client-install/layout.js';
import { loginConfTemplate, pamConfTemplate } from '../../src/cli/client-install/templates.js';
import { ensureClientArtifacts, HELPER_BUNDLE, LOGIN_TANDEM_BUILD, PAM_TANDEM_BUILD } from '../support/own-clients.js';
import { ROOT } from '../support/server-process.js';
import { snapshotDir } from '../support/sshd.js';
import { runCli, STACK } from './run-cli.js';

const PAM_DIR = '/lib/x86_64-linux-gnu/security';
const BIN = join(ROOT, 'bin/tandem.mjs');

function accountIds(name: string): { uid: number; gid: number; shell: string; home: string } | null {
  try {
    const f = execFileSync('getent', ['passwd', name], { encoding: 'utf8' }).trim().split(':');
    return { uid: Number(f[2]), gid: Number(f[3]), home: f[5]!, shell: f[6]! };
  } catch {
    return null;
  }
}

const pamBefore = snapshotDir('/etc/pam.d');
const sshBefore = snapshotDir('/etc/ssh');
const scratch: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'tandem-client-install-'));
  scratch.push(d);
  return d;
}

beforeAll(async () => {
  if (process.getuid?.() !== 0) throw new Error('the client install tests must run as root (chown, setuid, useradd)');
  await ensureClientArtifacts();
}, 300_000);

afterAll(() => {
  for (const d of scratch) rmSync(d, { recursive: true, force: true });
  expect(snapshotDir('/etc/pam.d')).toEqual(pamBefore);
  expect(snapshotDir('/etc/ssh')).toEqual(sshBefore);
});

/** stderr holds nothing but `tandem: warning:` lines (checked on their own below). */
function onlyWarnings(stderr: string): void {
  expect(stderr.split('\n').filter((l) => l !== '' && !l.startsWith('tandem: warning: '))).toEqual([]);
}

/** The plan lines for an install into `prefix` (which does not exist yet). */
function expectedPlan(prefix: string, accountExists: boolean): string[] {
  const p = (x: string): string => `${prefix}${x}`;
  const dir = (x: string): string => `  mkdir     ${p(x)}  0755 root:root`;
  /** `/a/b/c` → the directories `/a`, `/a/b`, `/a/b/c`. */
  const chain = (x: string): string[] => {
    const parts = x.split('/').filter(Boolean);
    return parts.map((_, i) => `/${parts.slice(0, i + 1).join('/')}`);
  };
  return [
    accountExists ? `  account   ${CLIENT_ACCOUNT} exists` : `  account   create ${CLIENT_ACCOUNT}: useradd --system --no-create-home --shell /usr/sbin/nologin --user-group ${CLIENT_ACCOUNT}`,
    dir(''),
    ...chain('/usr/lib/tandem').map(dir),
    `  install   ${p('/usr/lib/tandem/tandem-pam-helper.mjs')}  0644 root:root  from ${HELPER_BUNDLE}`,
    ...(existsSync(`${HELPER_BUNDLE}.map`) ? [`  install   ${p('/usr/lib/tandem/tandem-pam-helper.mjs.map')}  0644 root:root  from ${HELPER_BUNDLE}.map`] : []),
    ...chain(PAM_DIR).map(dir),
    `  install   ${p(`${PAM_DIR}/pam_tandem.so`)}  0644 root:root  from ${PAM_TANDEM_BUILD}`,
    dir('/usr/sbin'),
    `  install   ${p('/usr/sbin/login_tandem')}  4755 root:root (setuid)  from ${LOGIN_TANDEM_BUILD}`,
    ...chain('/etc/tandem').map(dir),
    `  template  ${p('/etc/tandem/pam_tandem.conf')}  0600 root:root`,
    `  template  ${p('/etc/tandem/login_tandem.conf')}  0600 ${CLIENT_ACCOUNT}:${CLIENT_ACCOUNT}`,
  ];
}

describe('tandem client install --dry-run', () => {
  it('prints the exact plan and the lines to add, and changes nothing', async () => {
    const prefix = join(tempDir(), 'root');
    const accountBefore = accountIds(CLIENT_ACCOUNT);
    const r = await runCli(['client', 'install', '--dry-run', '--prefix', prefix]);
    onlyWarnings(r.stderr);
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toBe('Dry run: these steps would be taken (nothing was changed):');
    const plan = lines.slice(1, lines.indexOf(''));
    expect(plan).toEqual(expectedPlan(prefix, accountBefore !== null));
    // Nothing was made, and the account is as it was.
    expect(existsSync(prefix)).toBe(false);
    expect(accountIds(CLIENT_ACCOUNT)).toEqual(accountBefore);

    const next = lines.slice(lines.indexOf('') + 1).join('\n');
    const pamLine = `auth required  ${prefix}${PAM_DIR}/pam_tandem.so conf=${prefix}/etc/tandem/pam_tandem.conf`;
    expect(next).toContain('Nothing in /etc/pam.d or /etc/ssh/sshd_config was changed.');
    expect(next).toContain('Keep a root shell open');
    expect(next).toContain(`auth requisite pam_unix.so nullok\n    ${pamLine}`);
    expect(next).toContain('AuthenticationMethods publickey,keyboard-interactive');
    expect(next).toContain(`ForceCommand ${prefix}/usr/sbin/login_tandem`);
    for (const s of ['PermitUserRC no', 'PermitTunnel no', 'AllowTcpForwarding no', 'AllowStreamLocalForwarding no', 'AllowAgentForwarding no', 'X11Forwarding no']) {
      expect(next).toContain(`    ${s}\n`);
    }
    expect(next).toMatch(/sudo: \/etc\/pam\.d\/sudo/);
    expect(next).toMatch(/su: \/etc\/pam\.d\/su/);
    expect(next.split(pamLine).length - 1).toBe(4); // password+2FA, publickey+2FA, sudo, su
  });

  it('without --prefix: the system paths, the PAM module directory of pam_unix.so, the bare module name', async () => {
    const r = await runCli(['client', 'install', '--dry-run', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout) as { dryRun: boolean; prefix: string | null; steps: Array<{ action: string; target: string; status: string; mode?: string }>; paths: Record<string, string>; next: string };
    expect(j.dryRun).toBe(true);
    expect(j.prefix).toBeNull();
    expect(j.paths).toEqual({
      helper: '/usr/lib/tandem/tandem-pam-helper.mjs',
      pamModule: `${PAM_DIR}/pam_tandem.so`,
      pamModuleRef: 'pam_tandem.so',
      loginTandem: '/usr/sbin/login_tandem',
      pamConf: '/etc/tandem/pam_tandem.conf',
      loginConf: '/etc/tandem/login_tandem.conf',
    });
    expect(existsSync(`${PAM_DIR}/pam_unix.so`)).toBe(true);
    const installs = j.steps.filter((s) => s.action === 'install').map((s) => [s.target, s.mode]);
    expect(installs).toEqual(expect.arrayContaining([
      ['/usr/lib/tandem/tandem-pam-helper.mjs', '0644'],
      [`${PAM_DIR}/pam_tandem.so`, '0644'],
      ['/usr/sbin/login_tandem', '4755'],
    ]));
    expect(j.next).toContain('auth required  pam_tandem.so conf=/etc/tandem/pam_tandem.conf');
    expect(j.next).toContain('ForceCommand /usr/sbin/login_tandem');
  });
});

describe('tandem client install --prefix', () => {
  let prefix: string;
  beforeAll(() => {
    prefix = join(tempDir(), 'root');
  });

  it('installs the helper, pam_tandem.so, login_tandem (setuid root) and the templates, and creates the account', async () => {
    const r = await runCli(['client', 'install', '--prefix', prefix]);
    onlyWarnings(r.stderr);
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')[0]).toBe('Done:');

    const acct = accountIds(CLIENT_ACCOUNT);
    expect(acct, 'the _tandem account exists').not.toBeNull();
    expect(acct!.uid).toBeLessThan(1000); // a system account
    expect(acct!.shell).toBe('/usr/sbin/nologin');
    expect(existsSync(acct!.home)).toBe(false);
    expect(execFileSync('getent', ['group', CLIENT_ACCOUNT], { encoding: 'utf8' }).split(':')[2]).toBe(String(acct!.gid));

    const check = (path: string, mode: number, uid: number, gid: number, same?: string): void => {
      const st = lstatSync(path);
      expect(st.isFile() || st.isDirectory(), path).toBe(true);
      expect((st.mode & 0o7777).toString(8), path).toBe(mode.toString(8));
      expect([st.uid, st.gid], path).toEqual([uid, gid]);
      if (same !== undefined) expect(readFileSync(path).equals(readFileSync(same)), `${path} = ${same}`).toBe(true);
    };
    check(join(prefix, 'usr/lib/tandem'), 0o755, 0, 0);
    check(join(prefix, 'usr/lib/tandem/tandem-pam-helper.mjs'), 0o644, 0, 0, HELPER_BUNDLE);
    if (existsSync(`${HELPER_BUNDLE}.map`)) check(join(prefix, 'usr/lib/tandem/tandem-pam-helper.mjs.map'), 0o644, 0, 0, `${HELPER_BUNDLE}.map`);
    check(join(prefix, PAM_DIR, 'pam_tandem.so'), 0o644, 0, 0, PAM_TANDEM_BUILD);
    check(join(prefix, 'usr/sbin/login_tandem'), 0o4755, 0, 0, LOGIN_TANDEM_BUILD);
    expect(statSync(join(prefix, 'usr/sbin/login_tandem')).mode & 0o4000).toBe(0o4000);
    check(join(prefix, 'etc/tandem'), 0o755, 0, 0);
    check(join(prefix, 'etc/tandem/pam_tandem.conf'), 0o600, 0, 0);
    check(join(prefix, 'etc/tandem/login_tandem.conf'), 0o600, acct!.uid, acct!.gid);
    expect(readFileSync(join(prefix, 'etc/tandem/pam_tandem.conf'), 'utf8')).toBe(pamConfTemplate());
    expect(readFileSync(join(prefix, 'etc/tandem/login_tandem.conf'), 'utf8')).toBe(loginConfTemplate());
    // No temporary files left behind.
    for (const d of ['usr/lib/tandem', PAM_DIR, 'usr/sbin', 'etc/tandem']) {
      expect(readdirSync(join(prefix, d)).filter((n) => n.startsWith('.'))).toEqual([]);
    }
  });

  it('the templates are denied as they stand (no host, ikey, skey yet) — fail closed until filled in', () => {
    for (const [f, prog] of [['pam_tandem.conf', 'pam'], ['login_tandem.conf', 'login']] as const) {
      expect(() => loadClientConfig(join(prefix, 'etc/tandem', f), prog)).toThrow(/Missing host, ikey, or skey/);
    }
  });

  it('a second run replaces the programs but never overwrites a config file', async () => {
    const pamConf = join(prefix, 'etc/tandem/pam_tandem.conf');
    const loginConf = join(prefix, 'etc/tandem/login_tandem.conf');
    writeFileSync(pamConf, '[duo]\n; edited by the admin\n');
    writeFileSync(loginConf, '[duo]\n; edited too\n');
    const helper = join(prefix, 'usr/lib/tandem/tandem-pam-helper.mjs');
    writeFileSync(helper, '// stale\n');
    const r = await runCli(['client', 'install', '--prefix', prefix]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`  template  ${pamConf} exists: kept as it is\n`);
    expect(r.stdout).toContain(`  template  ${loginConf} exists: kept as it is\n`);
    expect(r.stdout).toContain(`  install   ${helper}  0644 root:root  from ${HELPER_BUNDLE} (replaces the existing file)\n`);
    expect(r.stdout).toContain(`  account   ${CLIENT_ACCOUNT} exists\n`);
    expect(readFileSync(pamConf, 'utf8')).toBe('[duo]\n; edited by the admin\n');
    expect(readFileSync(loginConf, 'utf8')).toBe('[duo]\n; edited too\n');
    expect(readFileSync(helper).equals(readFileSync(HELPER_BUNDLE))).toBe(true);
  });

  it('a config path that is a symbolic link is left alone, never followed', async () => {
    const p2 = join(tempDir(), 'root');
    const victim = join(tempDir(), 'victim');
    writeFileSync(victim, 'untouched\n', { mode: 0o644 });
    mkdirSync(join(p2, 'etc/tandem'), { recursive: true, mode: 0o755 });
    symlinkSync(victim, join(p2, 'etc/tandem/pam_tandem.conf'));
    const r = await runCli(['client', 'install', '--prefix', p2]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`template  ${p2}/etc/tandem/pam_tandem.conf exists: kept as it is`);
    expect(readFileSync(victim, 'utf8')).toBe('untouched\n');
    expect((statSync(victim).mode & 0o777).toString(8)).toBe('644');
  });
});

describe('the build matches the install', () => {
  it('login_tandem was built for the installed helper, config and account (pam/build/defs.stamp)', () => {
    // login_tandem takes no paths at run time: built for other paths, it would read a config
    // this installer never wrote (and deny every login).
    expect(buildMismatches(ROOT)).toEqual([]);
  });

  it('a mismatch is reported, naming the make variable to fix', () => {
    const fake = tempDir();
    mkdirSync(join(fake, 'pam/build'), { recursive: true });
    writeFileSync(join(fake, 'pam/build/defs.stamp'), `-DTANDEM_NODE=/nonexistent/node -DTANDEM_HELPER=/usr/lib/tandem/tandem-pam-helper.mjs -DTANDEM_PRIVSEP_USER=sshd -DTANDEM_LOGIN_CONF=/etc/security/login_duo.conf\n`);
    expect(buildMismatches(fake)).toEqual([
      'login_tandem was built so that it reads its config /etc/security/login_duo.conf, not /etc/tandem/login_tandem.conf (pam/Makefile TANDEM_LOGIN_CONF); rebuild with make -C pam TANDEM_LOGIN_CONF=/etc/tandem/login_tandem.conf',
      'login_tandem was built so that it runs the helper as sshd, not _tandem (pam/Makefile TANDEM_PRIVSEP_USER); rebuild with make -C pam TANDEM_PRIVSEP_USER=_tandem',
      'the launchers were built to run /nonexistent/node, which does not exist here (pam/Makefile TANDEM_NODE)',
    ]);
  });
});

describe('tandem client install refuses', () => {
  it('to run as a non-root user without --dry-run (exit 1); --dry-run works for anyone', async () => {
    const run = (args: string[]): Promise<{ code: number; stdout: string; stderr: string }> =>
      new Promise((resolve) => {
        execFile('/usr/bin/setpriv', ['--reuid=nobody', '--regid=nogroup', '--clear-groups', process.execPath, BIN, 'client', 'install', ...args], { cwd: '/', env: { PATH: '/usr/bin:/bin' }, timeout: 60_000 }, (err, stdout, stderr) =>
          resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
        );
      });
    // Somewhere nobody may look (a fresh mkdtemp directory is 0700): a path that does not exist.
    const prefix = join(tmpdir(), `tandem-client-install-none-${process.pid}-${Date.now()}`, 'root');
    const r = await run(['--prefix', prefix]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/must run as root/);
    expect(r.stderr).not.toMatch(STACK);
    expect(existsSync(prefix)).toBe(false);
    const d = await run(['--dry-run', '--prefix', prefix]);
    expect(d.code, d.stderr).toBe(0);
    expect(d.stdout).toMatch(/^Dry run:/);
  });

  it('when the build artifacts are missing: "run npm run build first" (exit 1)', async () => {
    // A copy of the package without the artifacts (same code, node_modules linked).
    const pkg = tempDir();
    cpSync(join(ROOT, 'package.json'), join(pkg, 'package.json'));
    mkdirSync(join(pkg, 'bin'));
    mkdirSync(join(pkg, 'dist'));
    cpSync(BIN, join(pkg, 'bin/tandem.mjs'));
    cpSync(join(ROOT, 'dist/tandem.mjs'), join(pkg, 'dist/tandem.mjs'));
    symlinkSync(join(ROOT, 'node_modules'), join(pkg, 'node_modules'));
    const prefix = join(tempDir(), 'root');
    for (const args of [['--prefix', prefix], ['--dry-run']]) {
      const r = await new Promise<{ code: number; stderr: string }>((resolve) => {
        execFile(process.execPath, [join(pkg, 'bin/tandem.mjs'), 'client', 'install', ...args], { cwd: pkg, timeout: 60_000 }, (err, _o, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stderr }));
      });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('run npm run build first');
      expect(r.stderr).toContain(join(pkg, 'pam/build/pam_tandem.so'));
      expect(r.stderr).not.toMatch(STACK);
    }
    expect(existsSync(prefix)).toBe(false);
  });
});
