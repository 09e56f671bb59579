import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Conversation } from '../login-flow.js';
import type { ClientLogger } from '../log.js';
import type { PasswdEntry } from '../users.js';
import { runLocalMode, type LocalDeps } from './ga-local.js';
import { expandSecretPath, LocalOptionError, parseLocalArgs } from './local-options.js';
import { acquireLock } from './secret-file.js';

const T = '2SH3V3GDW7ZNMGYE\n" TOTP_AUTH\n';
let dir: string;
let prompts: string[];
let answers: (string | null)[];
let logs: string[];
let authtoks: string[];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ga-local-'));
  prompts = [];
  answers = [];
  logs = [];
  authtoks = [];
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const conversation: Conversation = {
  promptEchoOff: async (t) => (prompts.push(`off:${t}`), answers.shift() ?? null),
  promptEchoOn: async (t) => (prompts.push(`on:${t}`), answers.shift() ?? null),
  info: async () => undefined,
  error: async (t) => void logs.push(`ERRORMSG ${t}`),
};
const log: ClientLogger = { log: (level, msg) => void logs.push(`[${level}] ${msg}`) };

function deps(now = 300000, uid = process.getuid!()): LocalDeps {
  const pw: PasswdEntry = { name: 'u', uid, gid: process.getgid!(), gecos: '', home: dir, shell: '/bin/sh' } as PasswdEntry;
  return { lookupPasswd: async (k) => (k === 'u' || k === 'svc' || k === uid ? pw : null), nowSec: () => now, ids: { enter: () => undefined, leave: () => undefined } };
}

function run(args: string[], o: { answer?: string | null; authtok?: string | null; now?: number; uid?: number; rhost?: string | null } = {}) {
  if (o.answer !== undefined) answers.push(o.answer);
  return runLocalMode(['mode=local', ...args], { user: 'u', rhost: o.rhost ?? null, authtok: o.authtok ?? null }, { conversation, setAuthtok: async (t) => void authtoks.push(t), log }, deps(o.now, o.uid));
}

function ga(text: string, mode = 0o600): string {
  const p = join(dir, '.google_authenticator');
  writeFileSync(p, text);
  chmodSync(p, mode);
  return p;
}

describe('options and paths', () => {
  it('parses every option; unknown ones are refused', () => {
    const o = parseLocalArgs(['mode=local', 'secret=/x/${USER}', 'user=svc', 'no_strict_owner', 'allowed_perm=0640', 'debug', 'forward_pass', 'try_first_pass', 'noskewadj', 'no_increment_hotp', 'nullok', 'echo_verification_code', 'grace_period=60', 'allow_readonly', 'authtok_prompt=Token: ']);
    expect(o).toMatchObject({ secret: '/x/${USER}', user: 'svc', allowedPerm: 0o640, passMode: 'try', gracePeriod: 60, echo: true, authtokPrompt: 'Token: ' });
    expect(() => parseLocalArgs(['bogus'])).toThrow('Unrecognized option "bogus"');
    expect(() => parseLocalArgs(['allowed_perm=0'])).toThrow(LocalOptionError);
    expect(() => parseLocalArgs(['grace_period=-1'])).toThrow('grace_period must be a positive number of seconds.');
  });

  it('expands ~, ${HOME} and ${USER} like upstream', () => {
    expect(expandSecretPath('/srv/~/${HOME}/x~', 'gauser', '/home/gauser')).toBe('/srv//home/gauser//home/gauser/x~');
    expect(expandSecretPath('~/.google_authenticator', 'u', '/home/u')).toBe('/home/u/.google_authenticator');
    expect(expandSecretPath('/var/lib/ga/${USER}.ga', 'u', null)).toBe('/var/lib/ga/u.ga');
    expect(() => expandSecretPath('~/x', 'u', null)).toThrow("Home dir in 'secret' not implemented when 'user' set");
  });

  it('an unknown option denies without prompting', async () => {
    ga(T);
    expect(await run(['frobnicate'], { answer: '050548' })).toEqual({ result: 'deny', reason: 'bad-argument' });
    expect(prompts).toEqual([]);
    expect(logs).toContain('[error] Unrecognized option "frobnicate"');
  });
});

describe('file checks', () => {
  it('missing file: ignore without prompting with nullok, else prompt and deny', async () => {
    expect((await run(['nullok'], { answer: '050548' })).result).toBe('ignore');
    expect(prompts).toEqual([]);
    expect((await run([], { answer: '050548' })).result).toBe('deny');
    expect(prompts).toEqual(['off:Verification code: ']);
    expect(logs.some((l) => l.startsWith(`[error] Failed to read "${dir}/.google_authenticator" for "u"`))).toBe(true);
    expect(logs).toContain('[warning] No secret configured for user u, asking for code anyway.');
  });

  it('too permissive mode, wrong owner, too large, not a regular file: prompt and deny', async () => {
    const p = ga(T, 0o640);
    expect((await run([], { answer: '050548' })).result).toBe('deny');
    expect(logs).toContain(`[error] Secret file "${p}" permissions (0640) are more permissive than 0600`);
    expect((await run(['allowed_perm=0640'], { answer: '050548' })).result).toBe('success');
    ga(T);
    expect((await run([], { answer: '050548', uid: 4242 })).result).toBe('deny');
    expect(logs).toContain(`[error] Secret file "${p}" must be owned by "u"`);
    expect((await run(['no_strict_owner'], { answer: '050548', uid: 4242 })).result).toBe('success');
    ga(T + 'x'.repeat(70_000));
    expect((await run([], { answer: '050548' })).result).toBe('deny');
    expect(logs).toContain(`[error] Invalid file size for "${p}"`);
    expect((await run([`secret=${dir}`, 'nullok'], { answer: '050548' })).result).toBe('deny');
    expect(logs).toContain(`[error] Secret file "${dir}" is not a regular file`);
  });
});

describe('logins', () => {
  it('TOTP with DISALLOW_REUSE: success rewrites the file, keeps its mode, reuse is refused', async () => {
    const p = ga(`${T}" DISALLOW_REUSE\n`, 0o600);
    expect(await run([], { answer: '050548' })).toEqual({ result: 'success', reason: 'authenticated' });
    expect(readFileSync(p, 'latin1')).toBe(`${T}" DISALLOW_REUSE 10000\n`);
    expect(statSync(p).mode & 0o7777).toBe(0o600);
    expect(logs).toContain('[info] Accepted google_authenticator for u');
    expect((await run([], { answer: '050548' })).result).toBe('deny');
    expect(logs).toContain('[error] Invalid verification code for u');
    expect(existsSync(`${p}.lock`)).toBe(false);
  });

  it('rate limited: no prompt, file persisted', async () => {
    const p = ga(`${T}" RATE_LIMIT 1 30 299990\n`);
    expect((await run([], { answer: '050548' })).result).toBe('deny');
    expect(prompts).toEqual([]);
    expect(readFileSync(p, 'latin1')).toBe(`${T}" RATE_LIMIT 1 30 300000\n`);
    expect(logs).toContain(`[error] Too many concurrent login attempts ("${p}"). Please try again.`);
  });

  it('echo_verification_code, authtok_prompt, forward_pass, use_first_pass, try_first_pass', async () => {
    ga(`${T}12345678\n`);
    expect((await run(['echo_verification_code', 'authtok_prompt=Token: '], { answer: '050548' })).result).toBe('success');
    expect(prompts).toEqual(['on:Token: ']);
    prompts = [];
    expect((await run(['forward_pass'], { answer: 'pw050548' })).result).toBe('success');
    expect(prompts).toEqual(['off:Password & verification code: ']);
    expect(authtoks).toEqual(['pw']);
    prompts = [];
    expect((await run(['use_first_pass'], { authtok: 'pw050548' })).result).toBe('success');
    expect((await run(['use_first_pass'], { authtok: 'pw' })).result).toBe('deny');
    expect(prompts).toEqual([]);
    expect((await run(['try_first_pass'], { authtok: 'pw', answer: '050548' })).result).toBe('success');
    expect(prompts).toEqual(['off:Verification code: ']);
    prompts = [];
    expect((await run(['try_first_pass'], { authtok: 'pw050548' })).result).toBe('success');
    expect(prompts).toEqual([]);
  });

  it('grace period: second login from the same host needs no code', async () => {
    const p = ga(T);
    expect((await run(['grace_period=600'], { answer: '050548', rhost: '192.0.2.10' })).result).toBe('success');
    expect(readFileSync(p, 'latin1')).toContain('" LAST0 192.0.2.10 300000\n');
    expect((await run(['grace_period=600'], { now: 300300, rhost: '192.0.2.10' })).result).toBe('success');
    expect(prompts.length).toBe(1);
    expect(logs).toContain('[info] within grace period: "u"');
  });

  it('a scratch code works once', async () => {
    const p = ga(`${T}12345678\n`);
    expect((await run([], { answer: '12345678' })).result).toBe('success');
    expect(readFileSync(p, 'latin1')).toBe(T);
    expect((await run([], { answer: '12345678' })).result).toBe('deny');
  });
});

describe('sidecar lock', () => {
  it('waits for a held lock, times out, and breaks a stale one', async () => {
    const p = join(dir, 'f');
    const release = await acquireLock(p);
    expect(typeof release).toBe('function');
    expect(await acquireLock(p, 50)).toBe('timeout');
    if (typeof release === 'function') await release();
    const again = await acquireLock(p, 50);
    expect(typeof again).toBe('function');
    const old = new Date(Date.now() - 60_000);
    utimesSync(`${p}.lock`, old, old);
    expect(typeof (await acquireLock(p, 50))).toBe('function');
    expect(await acquireLock(join(dir, 'nodir', 'f'), 50)).toBe('unavailable');
  });
});
