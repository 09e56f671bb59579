import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { parseClientConfig } from './config/parse.js';
import { ClientConfigError, type ClientConfig } from './config/types.js';
import { BadArgument, parseHelperArgs } from './helper-args.js';
import type { HelperDeps } from './helper-deps.js';
import { runHelper } from './helper-main.js';
import type { AuthAnswer, AuthParams, DuoApi, PreauthAnswer, PreauthParams, StatusAnswer } from './http/duo-client.js';
import type { PasswdEntry } from './users.js';

const CONF = '[duo]\nhost = tandem.example.com\nikey = IKEY\nskey = SKEY-SECRET-VALUE\ncafile = /ca.pem\n';
const PEOPLE: PasswdEntry[] = [
  { name: 'root', uid: 0, gid: 0, gecos: 'root', home: '/root', shell: '/bin/bash' },
  { name: 'alice', uid: 1000, gid: 1000, gecos: 'Alice Example,Room 1,alice-duo', home: '/home/alice', shell: '/bin/bash' },
  { name: 'bob', uid: 1001, gid: 1001, gecos: '', home: '/home/bob', shell: '/bin/bash' },
];

class Api implements DuoApi {
  authSent = false;
  readonly preauths: PreauthParams[] = [];
  readonly auths: AuthParams[] = [];
  async ping(): Promise<void> {}
  async preauth(p: PreauthParams): Promise<PreauthAnswer> {
    this.preauths.push(p);
    return { result: 'auth', promptText: 'Passcode or option (1-1): ', factors: { '1': 'push1', default: 'push1' } };
  }
  async auth(p: AuthParams): Promise<AuthAnswer> {
    this.authSent = true;
    this.auths.push(p);
    return { kind: 'final', result: p.prompt === '123456' || p.prompt === 'push1' ? 'allow' : 'deny', statusMsg: 'Done.' };
  }
  async authStatus(): Promise<StatusAnswer> {
    return { result: 'allow', statusMsg: 'ok' };
  }
  close(): void {}
}

function deps(over: Partial<HelperDeps> & { conf?: string; groups?: string[] } = {}): HelperDeps & { api: Api; events: string[]; configs: ClientConfig[] } {
  const api = new Api();
  const events: string[] = [];
  const configs: ClientConfig[] = [];
  return {
    api,
    events,
    configs,
    loadConfig: (path, program) => {
      events.push(`load ${path} ${program}`);
      const r = parseClientConfig(over.conf ?? CONF, path, program);
      configs.push(r.config);
      return r;
    },
    readCa: () => '-----BEGIN CERTIFICATE-----',
    lookupPasswd: async (k) => PEOPLE.find((p) => (typeof k === 'number' ? p.uid === k : p.name === k)) ?? null,
    lookupGroups: async (name) => {
      events.push(`groups ${name}`);
      return over.groups ?? [name];
    },
    dropPrivileges: async () => {
      events.push('drop');
      return 'dropped';
    },
    localIp: async () => '192.0.2.2',
    hostname: () => 'vm',
    openApi: () => {
      events.push('openApi');
      return api;
    },
    readMotd: () => 'Welcome\n',
    ...over,
  };
}

async function helper(lines: string[], d: HelperDeps, answers: string[] = []) {
  const stdin = new PassThrough();
  const stdout = new PassThrough();
  const out: string[] = [];
  const log: string[] = [];
  let buffered = '';
  stdout.on('data', (c: Buffer) => {
    buffered += c.toString();
    let nl: number;
    while ((nl = buffered.indexOf('\n')) !== -1) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      out.push(line);
      if (line.startsWith('PROMPT_')) stdin.write(answers.length > 0 ? `ANSWER ${answers.shift()}\n` : 'NOANSWER\n');
    }
  });
  stdin.write(lines.join('\n') + '\n');
  const code = await runHelper({ stdin, stdout, logLine: (l) => log.push(l.trimEnd()) }, d);
  return { code, out, log };
}

const PAM = (...extra: string[]) => ['TANDEM-PAM 1', 'ITEM user alice', 'ITEM service sudo', 'ITEM uid 1000', ...extra, 'END'];

describe('parseHelperArgs', () => {
  it('knows conf=, debug, timeout=, and login_tandem options', () => {
    expect(parseHelperArgs(['conf=/x.conf', 'debug', 'timeout=30', 'helper=/usr/lib/tandem/tandem-pam-helper.mjs', 'node=/usr/bin/node'], 'pam')).toEqual({ conf: '/x.conf', debug: true, user: null, host: null, command: null });
    expect(parseHelperArgs(['user=bob', 'host=1.2.3.4', 'command=ls -l'], 'login')).toMatchObject({ user: 'bob', host: '1.2.3.4', command: 'ls -l' });
  });

  it('refuses anything else, naming the option but never its value', () => {
    expect(() => parseHelperArgs(['user=bob'], 'pam')).toThrow(BadArgument);
    expect(() => parseHelperArgs(['secret=hunter2'], 'pam')).toThrow("Invalid pam_tandem option: 'secret'");
    expect(() => parseHelperArgs(['conf='], 'pam')).toThrow(BadArgument);
    expect(() => parseHelperArgs(['debug=1'], 'pam')).toThrow(BadArgument);
  });
});

describe('runHelper', () => {
  it('a full sudo login: menu answer, RESULT success, default config path', async () => {
    const d = deps();
    const r = await helper(PAM('ENV SUDO_COMMAND /usr/bin/id'), d, ['1']);
    expect(r.code).toBe(0);
    expect(r.out).toEqual(['PROMPT_ON Passcode or option (1-1): ', 'INFO Done.', 'RESULT success authenticated']);
    expect(d.events).toEqual(['load /etc/security/pam_duo.conf pam', 'drop', 'openApi']);
    expect(d.api.auths[0]).toMatchObject({ username: 'alice', prompt: 'push1', async: true, pushinfo: 'Server+IP=192.0.2.2&Command=' });
    expect(r.log).toEqual(["[info] Successful Tandem login for 'alice'"]);
  });

  it('a wrong answer three times → RESULT deny max-attempts', async () => {
    const r = await helper(PAM('ITEM rhost 198.51.100.20'), deps(), ['9', '9', '9']);
    expect(r.out.at(-1)).toBe('RESULT deny max-attempts');
    expect(r.log.filter((l) => l.includes("Failed Tandem login for 'alice' from 198.51.100.20"))).toHaveLength(3);
  });

  it('su to root: the invoking user is asked; su to bob: bob', async () => {
    const d1 = deps();
    await helper(['TANDEM-PAM 1', 'ITEM user root', 'ITEM service su', 'ITEM uid 1000', 'END'], d1, ['1']);
    expect(d1.api.preauths[0]!.username).toBe('alice');
    const d2 = deps();
    await helper(['TANDEM-PAM 1', 'ITEM user bob', 'ITEM service su-l', 'ITEM uid 1000', 'END'], d2, ['1']);
    expect(d2.api.preauths[0]!.username).toBe('bob');
  });

  it('groups: looked up before the drop; no match → success without network', async () => {
    const d = deps({ conf: CONF + 'groups = admins\n', groups: ['alice', 'users'] });
    const r = await helper(PAM(), d);
    expect(r.out).toEqual(['RESULT success groups-bypass']);
    expect(d.events).toEqual(['load /etc/security/pam_duo.conf pam', 'groups alice']);
    const d2 = deps({ conf: CONF + 'groups = users\n', groups: ['alice', 'users'] });
    await helper(PAM(), d2, ['1']);
    expect(d2.events).toEqual(['load /etc/security/pam_duo.conf pam', 'groups alice', 'drop', 'openApi']);
  });

  it('gecos_username_pos picks the Duo name; login_tandem -f overrides it', async () => {
    const d = deps({ conf: CONF + 'gecos_username_pos = 3\n' });
    await helper(PAM(), d, ['1']);
    expect(d.api.preauths[0]!.username).toBe('alice-duo');
    const d2 = deps({ conf: CONF + 'send_gecos = yes\n' });
    await helper(['TANDEM-PAM 1', 'ITEM mode login', 'ITEM uid 1000', 'ITEM tty /dev/pts/0', 'ARG user=duo-alice', 'ARG conf=/etc/x.conf', 'END'], d2, ['1']);
    expect(d2.api.preauths[0]!.username).toBe('duo-alice');
    expect(d2.events[0]).toBe('load /etc/x.conf login');
  });

  it('login_tandem: SSH_CONNECTION, command, DUO_PASSCODE with accept_env_factor, motd after success', async () => {
    const d = deps({ conf: CONF + 'accept_env_factor = yes\npushinfo = yes\nmotd = yes\n' });
    const r = await helper(
      ['TANDEM-PAM 1', 'ITEM mode login', 'ITEM uid 1000', 'ITEM tty /dev/pts/3', 'ENV SSH_CONNECTION 203.0.113.7 5000 192.0.2.5 22', 'ENV DUO_PASSCODE 123456', 'ARG command=echo HELLO', 'END'],
      d,
    );
    expect(r.out).toEqual(['INFO Reading $DUO_PASSCODE...', 'INFO Done.', 'INFO Welcome', 'RESULT success authenticated']);
    expect(d.api.auths[0]).toMatchObject({ prompt: '123456', ipaddr: '203.0.113.7', pushinfo: 'Server+IP=192.0.2.2&Command=echo%20HELLO' });
    expect(d.events[0]).toBe('load /etc/security/login_duo.conf login');
  });

  it('login_tandem without a tty: one silent attempt with the default factor', async () => {
    const d = deps();
    const r = await helper(['TANDEM-PAM 1', 'ITEM mode login', 'ITEM uid 1001', 'ENV SSH_ORIGINAL_COMMAND rsync --server', 'END'], d);
    expect(r.out).toEqual(['RESULT success authenticated']);
    expect(d.api.auths).toEqual([expect.objectContaining({ username: 'bob', prompt: 'push1', factor: 'push', async: true })]);
  });

  it('a config error denies (never failmode), logged with file and line, without the skey', async () => {
    const d = deps({ conf: 'failmode = safe\n' + CONF + 'this is not valid\n' });
    const r = await helper(PAM(), d);
    expect(r.code).toBe(0);
    expect(r.out).toEqual(['RESULT deny config']);
    expect(r.log.join('\n')).toContain('/etc/security/pam_duo.conf, line 7');
    expect(r.log.join('\n')).not.toContain('SKEY-SECRET-VALUE');
    expect(d.events).not.toContain('openApi');
  });

  it('an unreadable cafile denies', async () => {
    const r = await helper(
      PAM(),
      deps({
        readCa: (p) => {
          throw new ClientConfigError(p, null, "Couldn't open cafile: ENOENT");
        },
      }),
    );
    expect(r.out).toEqual(['RESULT deny config']);
  });

  it('config warnings are logged', async () => {
    const r = await helper(PAM(), deps({ conf: CONF + 'frobnicate = 1\n' }), ['1']);
    expect(r.log[0]).toBe("[warning] /etc/security/pam_duo.conf, line 6: unknown key 'frobnicate' ignored");
  });

  it('an unknown user denies', async () => {
    const r = await helper(['TANDEM-PAM 1', 'ITEM user mallory', 'ITEM service sshd', 'END'], deps());
    expect(r.out).toEqual(['RESULT deny user-unknown']);
  });

  it('an unknown module argument denies', async () => {
    const r = await helper(PAM('ARG nullok'), deps());
    expect(r.out).toEqual(['RESULT deny bad-argument']);
    expect(r.log[0]).toContain("Invalid pam_tandem option: 'nullok'");
  });

  it('a cancelled prompt denies', async () => {
    const r = await helper(PAM(), deps(), []);
    expect(r.out).toEqual(['PROMPT_ON Passcode or option (1-1): ', 'RESULT deny cancelled']);
  });

  it('protocol errors: RESULT deny, exit 1', async () => {
    expect(await helper(['TANDEM-PAM 9', 'END'], deps())).toMatchObject({ code: 1, out: ['RESULT deny protocol-version'] });
    expect(await helper(['TANDEM-PAM 1', 'ITEM uid x', 'END'], deps())).toMatchObject({ code: 1, out: ['RESULT deny protocol'] });
    expect(await helper(['TANDEM-PAM 1', 'ITEM mode other', 'END'], deps())).toMatchObject({ code: 1, out: ['RESULT deny protocol'] });
    expect(await helper(['TANDEM-PAM 1', 'BOGUS', 'END'], deps())).toMatchObject({ code: 1, out: ['RESULT deny protocol'] });
  });

  it('an exception: RESULT deny internal, exit 1', async () => {
    const r = await helper(
      PAM(),
      deps({
        dropPrivileges: async () => {
          throw new Error('setuid failed');
        },
      }),
    );
    expect(r).toMatchObject({ code: 1, out: ['RESULT deny internal'] });
    expect(r.log[0]).toContain('setuid failed');
  });
});
