// helper-main's hybrid mode for login_tandem: the first run (as _tandem) never reads the local
// file and asks the launcher with `RESULT deny offline-fallback` only when the server was
// unreachable before any auth request; the second run (`ARG offline-check`, as root) runs the
// local check alone, without touching the network. pam_tandem as root: the network phase in a
// child (`_tandem`), the check in the parent.
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseClientConfig } from '../config/parse.js';
import type { HelperDeps } from '../helper-deps.js';
import { runHelper, runNetworkPhase } from '../helper-main.js';
import type { AuthAnswer, DuoApi, PreauthAnswer, StatusAnswer } from '../http/duo-client.js';
import { DuoCallError } from '../http/errors.js';
import type { PasswdEntry } from '../users.js';
import type { NetworkChild, NetworkJob } from './network-child.js';

// RFC 6238-style fixture: this secret's TOTP code at 300000 s (step 10000) is 050548.
const SECRET = '2SH3V3GDW7ZNMGYE';
const NOW = 300000;
const CODE = '050548';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'login-offline-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const PEOPLE: PasswdEntry[] = [
  { name: 'root', uid: 0, gid: 0, gecos: 'root', home: '/root', shell: '/bin/bash' },
  { name: 'alice', uid: 1000, gid: 1000, gecos: '', home: '/home/alice', shell: '/bin/bash' },
  { name: 'bob', uid: 1001, gid: 1001, gecos: '', home: '/home/bob', shell: '/bin/bash' },
];

class Api implements DuoApi {
  authSent = false;
  preauths = 0;
  constructor(private readonly fail: 'unreachable' | 'deny' | null) {}
  async ping(): Promise<void> {
    if (this.fail === 'unreachable') throw new DuoCallError('unreachable', "Couldn't connect: ECONNREFUSED");
  }
  async preauth(): Promise<PreauthAnswer> {
    this.preauths++;
    return { result: 'auth', promptText: 'Passcode or option (1-1): ', factors: { '1': 'push1', default: 'push1' } };
  }
  async auth(): Promise<AuthAnswer> {
    this.authSent = true;
    return { kind: 'final', result: 'deny', statusMsg: 'Incorrect passcode. Please try again.' };
  }
  async authStatus(): Promise<StatusAnswer> {
    return { result: 'deny', statusMsg: 'no' };
  }
  close(): void {}
}

function conf(extra = ''): string {
  return `[duo]\nhost = tandem.example.com\nikey = IKEY\nskey = SKEY-SECRET-VALUE\ncafile = /ca.pem\nprompts = 1\n${extra}[tandem]\noffline_fallback = local\noffline_options = secret=${dir}/\${USER} user=root\n`;
}

function deps(o: { conf?: string; api?: 'unreachable' | 'deny' | null } = {}): HelperDeps & { events: string[] } {
  const events: string[] = [];
  const lookup = async (k: string | number): Promise<PasswdEntry | null> => PEOPLE.find((p) => (typeof k === 'number' ? p.uid === k : p.name === k)) ?? null;
  return {
    events,
    loadConfig: (path, program) => parseClientConfig(o.conf ?? conf(), path, program),
    readCa: () => '-----BEGIN CERTIFICATE-----',
    lookupPasswd: lookup,
    lookupGroups: async (n) => [n],
    dropPrivileges: async () => {
      events.push('drop');
      return 'not-root';
    },
    localIp: async () => '192.0.2.2',
    hostname: () => 'vm',
    openApi: () => {
      events.push('openApi');
      return new Api(o.api ?? 'unreachable');
    },
    readMotd: () => null,
    local: {
      lookupPasswd: async (k) => {
        events.push(`passwd ${String(k)}`);
        return lookup(k);
      },
      nowSec: () => NOW,
      ids: { enter: () => void events.push('enter'), leave: () => undefined },
    },
  };
}

async function talk(lines: string[], answers: string[], d: HelperDeps): Promise<{ out: string[]; log: string; code: number }> {
  const stdin = new PassThrough();
  const stdout = new PassThrough();
  const out: string[] = [];
  let log = '';
  let buffered = '';
  stdout.on('data', (b: Buffer) => {
    buffered += b.toString();
    let nl: number;
    while ((nl = buffered.indexOf('\n')) !== -1) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      out.push(line);
      if (line.startsWith('PROMPT_')) stdin.write(answers.length > 0 ? `ANSWER ${answers.shift()}\n` : 'NOANSWER\n');
    }
  });
  stdin.write(lines.map((l) => `${l}\n`).join(''));
  const code = await runHelper({ stdin, stdout, logLine: (l) => void (log += l) }, d);
  return { out, log, code };
}

/** The google-authenticator file for `user` in the test directory (mode 0400). */
function codeFile(user: string): string {
  const file = join(dir, user);
  writeFileSync(file, `${SECRET}\n" TOTP_AUTH\n" DISALLOW_REUSE\n`);
  chmodSync(file, 0o400);
  return file;
}

/** As root the file is accepted; otherwise the ownership rule refuses it (the tests say which). */
const ROOT = process.getuid?.() === 0;

const LOGIN = (...extra: string[]) => ['TANDEM-PAM 1', 'ITEM mode login', 'ITEM user alice', 'ITEM uid 1000', 'ITEM tty /dev/pts/1', 'ARG conf=/etc/tandem/login_tandem.conf', ...extra];

describe('login_tandem first run (as _tandem): the network phase only', () => {
  it('server unreachable before any auth: RESULT deny offline-fallback, the file never read, a full drop', async () => {
    codeFile('alice');
    const d = deps();
    const r = await talk([...LOGIN(), 'END'], [], d);
    expect(r.code).toBe(0);
    expect(r.out).toEqual(['RESULT deny offline-fallback']);
    expect(d.events).toEqual(['drop', 'openApi']);
    expect(r.log).toContain("login_tandem runs the local code file check for 'alice' as root");
    expect(r.log).not.toContain('checked local code file');
  });

  it('server reachable and denying: a plain deny, the file never read', async () => {
    codeFile('alice');
    const d = deps({ api: 'deny' });
    const r = await talk([...LOGIN(), 'END'], [CODE], d);
    expect(r.out.at(-1)).toBe('RESULT deny max-attempts');
    expect(d.events).toEqual(['drop', 'openApi']);
  });

  it('a config error: a plain deny, no network, no file', async () => {
    const d = deps({ conf: conf('https_timeout = soon\n') });
    const r = await talk([...LOGIN(), 'END'], [], d);
    expect(r.out).toEqual(['RESULT deny config']);
    expect(d.events).toEqual([]);
  });

  it('without offline_fallback an unreachable server is failsecure, never offline-fallback', async () => {
    const d = deps({ conf: '[duo]\nhost = tandem.example.com\nikey = IKEY\nskey = SKEY-SECRET-VALUE\ncafile = /ca.pem\n' });
    const r = await talk([...LOGIN(), 'END'], [], d);
    expect(r.out).toEqual(['RESULT deny failsecure']);
  });
});

describe('login_tandem second run (ARG offline-check, as root): the local check only', () => {
  it('the right code: success, logged, no network and no privilege change', async () => {
    const file = codeFile('alice');
    const d = deps();
    const r = await talk([...LOGIN('ARG offline-check'), 'END'], [CODE], d);
    expect(d.events).not.toContain('openApi');
    expect(d.events).not.toContain('drop');
    expect(r.out[0]).toBe('PROMPT_OFF Verification code: ');
    if (ROOT) {
      expect(r.out.at(-1)).toBe('RESULT success offline-local');
      expect(r.log).toContain(`Tandem server unreachable; checked local code file ${file} for 'alice': accepted`);
      expect(readFileSync(file, 'latin1')).toContain('" DISALLOW_REUSE 10000');
    } else {
      expect(r.out.at(-1)).toBe('RESULT deny offline-local');
      expect(r.log).toContain('must be owned by root');
    }
  });

  it('a wrong code: deny, logged', async () => {
    const file = codeFile('alice');
    const r = await talk([...LOGIN('ARG offline-check'), 'END'], ['000000'], deps());
    expect(r.out.at(-1)).toBe('RESULT deny offline-local');
    expect(r.log).toContain(`checked local code file ${file} for 'alice': denied`);
  });

  it('-f bob (ARG user=bob): bob\'s file is checked, not the invoking user\'s', async () => {
    const file = codeFile('bob');
    const r = await talk(['TANDEM-PAM 1', 'ITEM mode login', 'ITEM user bob', 'ITEM uid 0', 'ITEM tty /dev/pts/1', 'ARG user=bob', 'ARG offline-check', 'END'], [CODE], deps());
    expect(r.log).toContain(`checked local code file ${file} for 'bob': ${ROOT ? 'accepted' : 'denied'}`);
  });

  it('DUO_PASSCODE with accept_env_factor: the env code is the one attempt, no prompt', async () => {
    const file = codeFile('alice');
    const d = deps({ conf: conf('accept_env_factor = yes\n') });
    const r = await talk([...LOGIN('ARG offline-check'), `ENV DUO_PASSCODE ${CODE}`, 'END'], [], d);
    expect(r.out.some((l) => l.startsWith('PROMPT_'))).toBe(false);
    expect(r.log).toContain(`checked local code file ${file} for 'alice': ${ROOT ? 'accepted' : 'denied'}`);
    const bad = await talk([...LOGIN('ARG offline-check'), 'ENV DUO_PASSCODE 000000', 'END'], [], deps({ conf: conf('accept_env_factor = yes\n') }));
    expect(bad.out).toEqual(['RESULT deny offline-local']);
  });

  it('DUO_PASSCODE without accept_env_factor is ignored: the prompt decides', async () => {
    codeFile('alice');
    const r = await talk([...LOGIN('ARG offline-check'), `ENV DUO_PASSCODE ${CODE}`, 'END'], [], deps());
    expect(r.out).toEqual(['PROMPT_OFF Verification code: ', 'RESULT deny offline-local']);
  });

  it('the config must itself say offline_fallback = local', async () => {
    codeFile('alice');
    const d = deps({ conf: '[duo]\nhost = tandem.example.com\nikey = IKEY\nskey = SKEY-SECRET-VALUE\ncafile = /ca.pem\n' });
    const r = await talk([...LOGIN('ARG offline-check'), 'END'], [CODE], d);
    expect(r.out).toEqual(['RESULT deny no-offline-fallback']);
    expect(d.events).toEqual([]);
  });

  it('pam_tandem never takes offline-check: an unknown option', async () => {
    const r = await talk(['TANDEM-PAM 1', 'ITEM user alice', 'ITEM service sshd', 'ARG offline-check', 'END'], [], deps());
    expect(r.out).toEqual(['RESULT deny bad-argument']);
  });
});

describe('pam_tandem: the network phase in a child process, the local check in the parent', () => {
  /** A stand-in for the `_tandem` child: runNetworkPhase over pipes, the job through JSON. */
  function withChild(d: HelperDeps & { events: string[] }, api: 'unreachable' | 'deny', uid = 1000): HelperDeps & { events: string[]; childLog: string[] } {
    const childLog: string[] = [];
    return {
      ...d,
      childLog,
      startNetworkChild: async (job: NetworkJob): Promise<NetworkChild> => {
        d.events.push('child');
        const stdin = new PassThrough();
        const stdout = new PassThrough();
        const jobIn = new PassThrough();
        jobIn.end(JSON.stringify(job));
        const exited = runNetworkPhase(
          jobIn,
          { stdin, stdout, logLine: (l) => void childLog.push(l.trimEnd()) },
          {
            localIp: async () => '192.0.2.2',
            openApi: () => {
              d.events.push('child-openApi');
              return new Api(api);
            },
          },
          { getuid: () => uid, geteuid: () => uid },
        );
        return { stdin, stdout, exited, kill: () => undefined };
      },
    };
  }
  const PAM_SSHD = ['TANDEM-PAM 1', 'ITEM user alice', 'ITEM service sshd', 'END'];

  it('unreachable: the child says offline-fallback, the parent (never dropped) checks the file', async () => {
    const file = codeFile('alice');
    const d = withChild(deps(), 'unreachable');
    const r = await talk(PAM_SSHD, [CODE], d);
    expect(d.events.slice(0, 2)).toEqual(['child', 'child-openApi']);
    expect(d.events).not.toContain('drop');
    expect(d.events).not.toContain('openApi');
    expect(r.out[0]).toBe('PROMPT_OFF Verification code: ');
    expect(r.out.at(-1)).toBe(ROOT ? 'RESULT success offline-local' : 'RESULT deny offline-local');
    expect(r.log).toContain(`Tandem server unreachable; checked local code file ${file} for 'alice': ${ROOT ? 'accepted' : 'denied'}`);
  });

  it('reachable and denying: the child\'s prompt is relayed, its deny is final, the file never read', async () => {
    const file = codeFile('alice');
    const before = readFileSync(file, 'latin1');
    const d = withChild(deps(), 'deny');
    const r = await talk(PAM_SSHD, [CODE], d);
    expect(r.out).toEqual(['PROMPT_ON Passcode or option (1-1): ', 'INFO Incorrect passcode. Please try again.', 'RESULT deny max-attempts']);
    expect(d.events).toEqual(['child', 'child-openApi']);
    expect(readFileSync(file, 'latin1')).toBe(before);
  });

  it('a child that is still root refuses: deny, no network, no file', async () => {
    codeFile('alice');
    const d = withChild(deps(), 'unreachable', 0);
    const r = await talk(PAM_SSHD, [CODE], d);
    expect(r.out).toEqual(['RESULT deny network-phase']);
    expect(d.events).toEqual(['child']);
    expect(d.childLog.join('\n')).toContain('must not run as root');
  });

  it('not root or no _tandem: all in one process, the check after the unreachable server', async () => {
    const file = codeFile('alice');
    const d = deps();
    const r = await talk(PAM_SSHD, [CODE], { ...d, startNetworkChild: async () => 'not-root' });
    expect(d.events.slice(0, 2)).toEqual(['drop', 'openApi']);
    expect(r.log).toContain(`checked local code file ${file} for 'alice': ${ROOT ? 'accepted' : 'denied'}`);
  });
});
