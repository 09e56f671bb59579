// helper-main's `mode=local` branch: the request goes to local mode, which never loads the
// server config nor opens the API; without `mode=local` nothing changes (helper-main.test.ts).
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { HelperDeps } from '../helper-deps.js';
import { runHelper } from '../helper-main.js';
import type { PasswdEntry } from '../users.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ga-wiring-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function deps(): HelperDeps & { touched: string[] } {
  const touched: string[] = [];
  const pw: PasswdEntry = { name: 'alice', uid: process.getuid!(), gid: process.getgid!(), gecos: '', home: dir, shell: '/bin/sh' };
  const no = (what: string) => () => {
    touched.push(what);
    throw new Error(`${what} must not be used in local mode`);
  };
  return {
    touched,
    loadConfig: no('loadConfig'),
    readCa: no('readCa'),
    lookupPasswd: async (k) => (k === 'alice' ? pw : null),
    lookupGroups: no('lookupGroups'),
    dropPrivileges: no('dropPrivileges'),
    localIp: no('localIp'),
    hostname: no('hostname'),
    openApi: no('openApi'),
    readMotd: no('readMotd'),
    local: { lookupPasswd: async (k) => (k === 'alice' ? pw : null), nowSec: () => 300000, ids: { enter: () => undefined, leave: () => undefined } },
  };
}

async function talk(lines: string[], answers: string[], d: HelperDeps): Promise<{ out: string; log: string; code: number }> {
  const stdin = new PassThrough();
  const stdout = new PassThrough();
  let out = '';
  let log = '';
  stdout.on('data', (b: Buffer) => {
    const text = b.toString();
    out += text;
    if (text.includes('PROMPT_')) stdin.write(`ANSWER ${answers.shift() ?? ''}\n`);
  });
  stdin.write(lines.map((l) => `${l}\n`).join(''));
  const code = await runHelper({ stdin, stdout, logLine: (l) => void (log += l) }, d);
  return { out, log, code };
}

describe('pam_tandem mode=local', () => {
  it('verifies against the file without touching the server config; forward_pass emits SETAUTHTOK', async () => {
    const file = join(dir, 'ga');
    writeFileSync(file, '2SH3V3GDW7ZNMGYE\n" TOTP_AUTH\n" DISALLOW_REUSE\n');
    chmodSync(file, 0o600);
    const d = deps();
    const r = await talk(['TANDEM-PAM 1', 'ITEM user alice', 'ITEM service sshd', 'ARG mode=local', `ARG secret=${file}`, 'ARG forward_pass', 'END'], ['pw050548'], d);
    expect(r.code).toBe(0);
    expect(r.out).toBe('PROMPT_OFF Password & verification code: \nSETAUTHTOK pw\nRESULT success authenticated\n');
    expect(d.touched).toEqual([]);
    expect(readFileSync(file, 'latin1')).toContain('" DISALLOW_REUSE 10000\n');
    expect(r.log).toContain('[info] Accepted google_authenticator for alice');
  });

  it('missing file: ignore with nullok (no prompt), deny without; unknown option: deny', async () => {
    const base = ['TANDEM-PAM 1', 'ITEM user alice', 'ARG mode=local', `ARG secret=${join(dir, 'none')}`];
    expect((await talk([...base, 'ARG nullok', 'END'], [], deps())).out).toBe('RESULT ignore nullok\n');
    expect((await talk([...base, 'END'], ['123456'], deps())).out).toBe('PROMPT_OFF Verification code: \nRESULT deny file\n');
    expect((await talk([...base, 'ARG bogus', 'END'], [], deps())).out).toBe('RESULT deny bad-argument\n');
  });

  it('uses the AUTHTOK line with use_first_pass', async () => {
    const file = join(dir, 'ga');
    writeFileSync(file, '2SH3V3GDW7ZNMGYE\n" TOTP_AUTH\n');
    chmodSync(file, 0o600);
    const r = await talk(['TANDEM-PAM 1', 'ITEM user alice', 'ARG mode=local', `ARG secret=${file}`, 'ARG use_first_pass', 'AUTHTOK hunter2050548', 'END'], [], deps());
    expect(r.out).toBe('RESULT success authenticated\n');
  });
});
