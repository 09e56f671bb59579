import { describe, expect, it } from 'vitest';
import { isPlausibleUserName, lookupGroupNames, lookupPasswd, parsePasswdLine, runCommand, selectUser, type PasswdEntry, type RunCommand } from './users.js';

const ROOT: PasswdEntry = { name: 'root', uid: 0, gid: 0, gecos: 'root', home: '/root', shell: '/bin/bash' };
const ALICE: PasswdEntry = { name: 'alice', uid: 1000, gid: 1000, gecos: 'Alice,,,', home: '/home/alice', shell: '/bin/bash' };
const BOB: PasswdEntry = { name: 'bob', uid: 1001, gid: 1001, gecos: '', home: '/home/bob', shell: '/bin/sh' };
const DB = [ROOT, ALICE, BOB];
const lookup = async (k: string | number) => DB.find((p) => (typeof k === 'number' ? p.uid === k : p.name === k)) ?? null;

describe('selectUser (duo_unix 2.x, reference §6.1)', () => {
  it.each([
    // [service, PAM user, real uid, expected]
    ['su', 'root', 1000, 'alice'], // su / su - → the caller
    ['su-l', 'root', 1000, 'alice'],
    ['su', 'bob', 1000, 'bob'], // su bob → the target
    ['su-l', 'bob', 1000, 'bob'],
    ['sudo', 'alice', 0, 'alice'], // sudo: PAM_USER is the invoker
    ['sshd', 'bob', 0, 'bob'],
    ['login', 'root', 0, 'root'], // only su/su-l remap
    ['sudo', 'root', 1000, 'root'],
  ] as const)('service %s, PAM user %s, uid %d → %s', async (service, user, uid, expected) => {
    const pw = await selectUser({ mode: 'pam', service, pamUser: user, realUid: uid }, lookup);
    expect(pw.name).toBe(expected);
  });

  it('login_tandem: the account of the real uid, whatever ITEM user says', async () => {
    expect((await selectUser({ mode: 'login', service: null, pamUser: 'root', realUid: 1001 }, lookup)).name).toBe('bob');
    expect((await selectUser({ mode: 'login', service: null, pamUser: 'alice', realUid: null }, lookup)).name).toBe('alice');
  });

  it('unknown users and missing data are errors', async () => {
    await expect(selectUser({ mode: 'pam', service: 'sshd', pamUser: 'nobody-here', realUid: 0 }, lookup)).rejects.toThrow(/unknown user/);
    await expect(selectUser({ mode: 'pam', service: 'sshd', pamUser: null, realUid: 0 }, lookup)).rejects.toThrow(/no PAM user/);
    await expect(selectUser({ mode: 'pam', service: 'su', pamUser: 'root', realUid: null }, lookup)).rejects.toThrow();
    await expect(selectUser({ mode: 'pam', service: 'su', pamUser: 'root', realUid: 4242 }, lookup)).rejects.toThrow(/unknown calling user/);
    await expect(selectUser({ mode: 'login', service: null, pamUser: null, realUid: 4242 }, lookup)).rejects.toThrow(/Who are you/);
  });
});

describe('passwd and group lookups', () => {
  it('parsePasswdLine', () => {
    expect(parsePasswdLine('alice:x:1000:1000:Alice,,,:/home/alice:/bin/bash\n')).toEqual(ALICE);
    expect(parsePasswdLine('bad:x:1000')).toBeNull();
    expect(parsePasswdLine('bad:x:u:1000:g:/h:/s')).toBeNull();
  });

  it('calls getent and id by absolute path, with the name as one argument', async () => {
    const calls: Array<[string, string[]]> = [];
    const run: RunCommand = async (file, args) => {
      calls.push([file, args]);
      if (file === '/usr/bin/getent') return { code: 0, stdout: 'alice:x:1000:1000:Alice,,,:/home/alice:/bin/bash\n' };
      return { code: 0, stdout: 'alice sudo users\n' };
    };
    expect(await lookupPasswd('alice', run)).toEqual(ALICE);
    expect(await lookupGroupNames('alice', run)).toEqual(['alice', 'sudo', 'users']);
    expect(calls).toEqual([
      ['/usr/bin/getent', ['passwd', 'alice']],
      ['/usr/bin/id', ['-Gn', '--', 'alice']],
    ]);
  });

  it('not found, wrong answers and failures', async () => {
    expect(await lookupPasswd('ghost', async () => ({ code: 2, stdout: '' }))).toBeNull();
    await expect(lookupPasswd('alice', async () => ({ code: 0, stdout: 'mallory:x:0:0::/:/bin/sh\n' }))).rejects.toThrow(/another account/);
    await expect(lookupPasswd('alice', async () => ({ code: 1, stdout: '' }))).rejects.toThrow();
    await expect(lookupGroupNames('alice', async () => ({ code: 1, stdout: 'alice 4242\n' }))).rejects.toThrow(/Couldn't get groups/);
    // names that could be options or several arguments never reach the command
    const never: RunCommand = async () => {
      throw new Error('must not run');
    };
    expect(await lookupPasswd('-x', never)).toBeNull();
    expect(await lookupPasswd('a b', never)).toBeNull();
    expect(await lookupPasswd('1000', never)).toBeNull();
    expect(isPlausibleUserName('alice\n')).toBe(false);
  });

  it('real NSS: root exists, by name and by uid', async () => {
    const byName = await lookupPasswd('root');
    expect(byName?.uid).toBe(0);
    expect((await lookupPasswd(0))?.name).toBe('root');
    expect(await lookupPasswd('no-such-user-tandem-test')).toBeNull();
    expect(await lookupGroupNames('root')).toContain('root');
    expect((await runCommand('/usr/bin/getent', ['passwd', 'no-such-user-tandem-test'])).code).toBe(2);
  });
});
