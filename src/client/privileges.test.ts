import { describe, expect, it } from 'vitest';
import { dropPrivileges, PrivilegeError, type ProcessIds } from './privileges.js';
import type { PasswdEntry } from './users.js';

const TANDEM: PasswdEntry = { name: '_tandem', uid: 991, gid: 991, gecos: '', home: '/nonexistent', shell: '/usr/sbin/nologin' };

function fakeProcess(start: { uid: number; gid: number; groups: number[] }, broken: Partial<Record<'setgroups' | 'setuid-no-effect' | 'regain', boolean>> = {}): ProcessIds & { calls: string[] } {
  let uid = start.uid;
  let gid = start.gid;
  let groups = [...start.groups];
  const calls: string[] = [];
  return {
    calls,
    getuid: () => uid,
    geteuid: () => uid,
    getgid: () => gid,
    getegid: () => gid,
    getgroups: () => groups,
    setgroups: (g) => {
      calls.push(`setgroups ${JSON.stringify(g)}`);
      if (broken.setgroups) throw new Error('EPERM');
      groups = g;
    },
    setgid: (g) => {
      calls.push(`setgid ${g}`);
      gid = g;
    },
    setuid: (u) => {
      calls.push(`setuid ${u}`);
      if (u === 0 && uid !== 0 && !broken.regain) throw new Error('EPERM');
      if (!broken['setuid-no-effect']) uid = u;
    },
  };
}

const lookup = async (name: string) => (name === '_tandem' ? TANDEM : null);

describe('dropPrivileges', () => {
  it('root: clears groups, then setgid, then setuid, and checks root cannot be regained', async () => {
    const p = fakeProcess({ uid: 0, gid: 0, groups: [0, 4, 27] });
    expect(await dropPrivileges(lookup, p)).toBe('dropped');
    expect(p.calls).toEqual(['setgroups []', 'setgid 991', 'setuid 991', 'setuid 0']);
    expect(p.getuid()).toBe(991);
  });

  it('not root: nothing to do', async () => {
    const p = fakeProcess({ uid: 1000, gid: 1000, groups: [1000] });
    expect(await dropPrivileges(lookup, p)).toBe('not-root');
    expect(p.calls).toEqual([]);
  });

  it('no _tandem account: reported, nothing changed', async () => {
    const p = fakeProcess({ uid: 0, gid: 0, groups: [0] });
    expect(await dropPrivileges(async () => null, p)).toBe('no-account');
    expect(p.calls).toEqual([]);
  });

  it('failures are errors', async () => {
    await expect(dropPrivileges(lookup, fakeProcess({ uid: 0, gid: 0, groups: [0] }, { setgroups: true }))).rejects.toThrow(PrivilegeError);
    await expect(dropPrivileges(lookup, fakeProcess({ uid: 0, gid: 0, groups: [0] }, { 'setuid-no-effect': true }))).rejects.toThrow(/not fully dropped/);
    await expect(dropPrivileges(lookup, fakeProcess({ uid: 0, gid: 0, groups: [0] }, { regain: true }))).rejects.toThrow(/regained/);
    await expect(dropPrivileges(async () => ({ ...TANDEM, uid: 0 }), fakeProcess({ uid: 0, gid: 0, groups: [0] }))).rejects.toThrow(/uid or gid 0/);
  });
});

describe('dropPrivileges on the real process', () => {
  // The suite runs as root (it also drives PAM and sshd); anywhere else this fails by name.
  it('a root child process ends up as the account, unable to regain root', async () => {
    if (process.getuid?.() !== 0) throw new Error('this test drops privileges for real and must run as root');
    const { build } = await import('esbuild');
    const { execFileSync } = await import('node:child_process');
    const nobody = { name: 'nobody', uid: 65534, gid: 65534, gecos: '', home: '/nonexistent', shell: '/usr/sbin/nologin' };
    const out = await build({
      stdin: {
        contents: `import { dropPrivileges } from './privileges.ts';
          const r = await dropPrivileges(async () => (${JSON.stringify(nobody)}));
          console.log(JSON.stringify({ r, uid: process.getuid(), euid: process.geteuid(), gid: process.getgid(), groups: process.getgroups() }));`,
        resolveDir: import.meta.dirname,
        loader: 'ts',
      },
      bundle: true,
      platform: 'node',
      format: 'esm',
      write: false,
    });
    const stdout = execFileSync(process.execPath, ['--input-type=module', '-e', out.outputFiles[0]!.text], { encoding: 'utf8' });
    const got = JSON.parse(stdout) as { groups: number[] };
    expect(got).toMatchObject({ r: 'dropped', uid: 65534, euid: 65534, gid: 65534 });
    // getgroups() may list the effective gid itself; nothing else may remain.
    expect(got.groups.every((g) => g === 65534)).toBe(true);
  });
});
