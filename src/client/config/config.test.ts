import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadClientConfig, readCaFile } from './load.js';
import { parseClientConfig, splitGroupWords } from './parse.js';
import { ClientConfigError } from './types.js';

const SKEY = 'S3cretSkeyValue0123456789abcdefghijklmnop';
const BASE = `[duo]\nhost = tandem.example.com\nikey = DIXYZV6YM8IFYVWBINCA\nskey = ${SKEY}\ncafile = /etc/tandem/ca.pem\n`;

function parse(text: string, program: 'pam' | 'login' = 'pam') {
  return parseClientConfig(text, '/etc/security/pam_duo.conf', program);
}

function parseError(text: string, program: 'pam' | 'login' = 'pam'): ClientConfigError {
  try {
    parse(text, program);
  } catch (e) {
    expect(e).toBeInstanceOf(ClientConfigError);
    expect((e as Error).message).not.toContain(SKEY);
    return e as ClientConfigError;
  }
  throw new Error('expected a config error');
}

describe('parseClientConfig: values', () => {
  it('reads a minimal config with secure defaults', () => {
    const { config, warnings } = parse(BASE);
    expect(warnings).toEqual([]);
    expect(config).toMatchObject({
      host: 'tandem.example.com',
      port: 443,
      ikey: 'DIXYZV6YM8IFYVWBINCA',
      skey: SKEY,
      failmode: 'secure',
      groups: null,
      prompts: 3,
      autopush: false,
      pushinfo: false,
      httpsTimeoutMs: 15_000,
      gecosDelim: ',',
      gecosUsernamePos: null,
      tlsVerify: true,
      allowInsecureTls: false,
      httpProxy: null,
    });
  });

  it('reads every duo_unix key with its value syntax', () => {
    const { config, warnings } = parse(
      BASE +
        [
          'host = tandem.example.com:8443',
          'failmode = safe',
          'pushinfo = yes',
          'autopush = true',
          'prompts = 2',
          'fallback_local_ip = on',
          'https_timeout = 5',
          'send_gecos = 1',
          'gecos_delim = /',
          'gecos_username_pos = 3',
          'http_proxy = http://user:pass@proxy.example.com:3128/',
          'groups = users,!wheel admins',
          'group = users\\ with\\ spaces',
          'noverify = no',
        ].join('\n'),
    );
    expect(warnings).toEqual([]);
    expect(config).toMatchObject({
      host: 'tandem.example.com',
      port: 8443,
      failmode: 'safe',
      pushinfo: true,
      autopush: true,
      prompts: 2,
      fallbackLocalIp: true,
      httpsTimeoutMs: 5000,
      sendGecos: true,
      gecosDelim: '/',
      gecosUsernamePos: 3,
      httpProxy: { host: 'proxy.example.com', port: 3128, auth: 'user:pass' },
      groups: ['users,!wheel', 'admins', 'users with spaces'],
    });
  });

  it('booleans: only yes/true/on/1 are true; other words warn', () => {
    const { config, warnings } = parse(BASE + 'pushinfo = Yes\nautopush = no\n');
    expect(config.pushinfo).toBe(false);
    expect(config.autopush).toBe(false);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('line 6');
  });

  it('clamps prompts to 1..3', () => {
    expect(parse(BASE + 'prompts = 0').config.prompts).toBe(1);
    expect(parse(BASE + 'prompts = -4').config.prompts).toBe(1);
    expect(parse(BASE + 'prompts = 9').config.prompts).toBe(3);
  });

  it('comments: full-line ; and #, inline ; only after a blank', () => {
    const { config } = parse(BASE + '; comment\n# comment\n   ; indented comment\nikey = ABC;DEF\nhost = h.example.com ; note\n');
    expect(config.ikey).toBe('ABC;DEF');
    expect(config.host).toBe('h.example.com');
  });

  it('accepts CRLF line ends, a BOM, name: value, no section and other sections (with a warning)', () => {
    const text = '\ufeffhost: a.example.com\r\nikey = I\r\n[other]\r\nskey = K\r\ncafile = /ca.pem\r\n';
    const { config, warnings } = parse(text);
    expect(config).toMatchObject({ host: 'a.example.com', ikey: 'I', skey: 'K', cafile: '/ca.pem' });
    expect(warnings).toEqual(['/etc/security/pam_duo.conf, line 3: unknown section [other]: its keys are read as duo_unix keys']);
  });

  it('allow_insecure_tls permits noverify and an empty cafile, with a warning', () => {
    const a = parse(BASE + 'noverify = yes\n[tandem]\nallow_insecure_tls = yes\n');
    expect(a.config.tlsVerify).toBe(false);
    expect(a.warnings.join('\n')).toContain('TLS verification is OFF');
    const b = parse(BASE + 'cafile =\n[tandem]\nallow_insecure_tls = yes\n');
    expect(b.config.tlsVerify).toBe(false);
  });

  it('later keys win; groups lines accumulate', () => {
    const { config } = parse(BASE + 'failmode = safe\nfailmode = secure\ngroups = a\ngroups = b c\n');
    expect(config.failmode).toBe('secure');
    expect(config.groups).toEqual(['a', 'b', 'c']);
  });

  it('https_timeout out of range warns and uses the cap', () => {
    const { config, warnings } = parse(BASE + 'https_timeout = 0\n');
    expect(config.httpsTimeoutMs).toBe(60_000);
    expect(warnings[0]).toContain('line 6');
  });

  it('gecos_parsed is accepted as a deprecated no-op; motd and accept_env_factor warn for PAM only', () => {
    expect(parse(BASE + 'gecos_parsed = yes\n').warnings[0]).toContain('deprecated');
    expect(parse(BASE + 'motd = yes\naccept_env_factor = yes\n').warnings).toHaveLength(2);
    const login = parse(BASE + 'motd = yes\naccept_env_factor = yes\n', 'login');
    expect(login.warnings).toEqual([]);
    expect(login.config).toMatchObject({ motd: true, acceptEnvFactor: true });
  });
});

describe('parseClientConfig: unknown keys warn and change nothing else', () => {
  it('names file and line, not the value', () => {
    const { config, warnings } = parse(BASE + 'verified_pushh = yes\nfailmode = safe\n');
    expect(warnings).toEqual(["/etc/security/pam_duo.conf, line 6: unknown key 'verified_pushh' ignored"]);
    // Unlike duo_unix, the keys after the unknown one still count.
    expect(config.failmode).toBe('safe');
  });

  it('case-sensitive keys: Host is unknown', () => {
    const { warnings } = parse(BASE + 'Failmode = safe\n');
    expect(warnings[0]).toContain("unknown key 'Failmode'");
  });

  it('unknown [tandem] keys warn; duo keys in [tandem] are not duo keys', () => {
    const { config, warnings } = parse(BASE + '[tandem]\nfailmode = safe\nfrobnicate = 1\n');
    expect(config.failmode).toBe('secure');
    expect(warnings).toHaveLength(2);
    expect(warnings[1]).toContain('line 8');
  });
});

describe('parseClientConfig: fail closed', () => {
  it.each([
    ['syntax: no =', 'this line has no separator\n', 6],
    ['syntax: unterminated section', '[duo\n', 6],
    ['syntax: empty name', '= value\n', 6],
    ['indented continuation line', 'pushinfo = yes\n   failmode = safe\n', 7],
    ['failmode typo', 'failmode = Secure\n', 6],
    ['prompts not a number', 'prompts = three\n', 6],
    ['gecos_delim too long', 'gecos_delim = ,,\n', 6],
    ['gecos_delim colon', 'gecos_delim = :\n', 6],
    ['gecos_delim letter', 'gecos_delim = a\n', 6],
    ['gecos_username_pos 0', 'gecos_username_pos = 0\n', 6],
    ['host with scheme', 'host = https://x.example.com\n', 6],
    ['host with bad port', 'host = x.example.com:99999\n', 6],
    ['https proxy', 'http_proxy = https://proxy:3128\n', 6],
    ['groups trailing escape', 'groups = admins\\\n', 6],
    ['verified_push', 'verified_push = yes\n', 6],
  ])('%s → error naming the line', (_name, extra, line) => {
    const e = parseError(BASE + extra);
    expect(e.line).toBe(line);
    expect(e.message).toContain(`/etc/security/pam_duo.conf, line ${line}`);
  });

  it('a syntax error before failmode = safe still denies (no failmode fallback exists)', () => {
    const e = parseError('garbage\nfailmode = safe\n' + BASE);
    expect(e.line).toBe(1);
  });

  it('the skey never appears in an error, even on the bad line', () => {
    const e = parseError(BASE + `${SKEY}\n`);
    expect(e.message).not.toContain(SKEY);
    const e2 = parseError(BASE + `skey ${SKEY}\n`);
    expect(e2.message).not.toContain(SKEY);
  });

  it.each([
    ['host', BASE.replace(/host = .*\n/, '')],
    ['ikey', BASE.replace(/ikey = .*\n/, '')],
    ['skey', BASE.replace(/skey = .*\n/, '')],
    ['empty skey', BASE.replace(/skey = .*\n/, 'skey =\n')],
  ])('missing %s', (_what, text) => {
    expect(parseError(text).message).toContain('Missing host, ikey, or skey');
  });

  it('missing cafile', () => {
    expect(parseError(BASE.replace(/cafile = .*\n/, '')).message).toContain("'cafile' is required");
  });

  it('noverify or an empty cafile without allow_insecure_tls', () => {
    expect(parseError(BASE + 'noverify = yes\n').message).toContain('allow_insecure_tls');
    expect(parseError(BASE + 'cafile =\n').message).toContain('allow_insecure_tls');
    // allow_insecure_tls outside [tandem] is an unknown duo key: still refused.
    expect(parseError(BASE + 'noverify = yes\nallow_insecure_tls = yes\n').message).toContain('allow_insecure_tls');
    expect(parseError(BASE + 'noverify = yes\n[tandem]\nallow_insecure_tls = no\n').message).toContain('allow_insecure_tls');
  });

  it('more than 256 group words', () => {
    const line = (from: number) => 'groups = ' + Array.from({ length: 128 }, (_, i) => `g${from + i}`).join(' ') + '\n';
    expect(parse(BASE + line(0) + line(128)).config.groups).toHaveLength(256);
    const e = parseError(BASE + line(0) + line(128) + 'group = one-too-many\n');
    expect(e.message).toContain('Exceeded max 256 groups');
    expect(e.line).toBe(8);
  });
});

describe('splitGroupWords', () => {
  it('splits on spaces only, collapses runs, joins escaped spaces', () => {
    expect(splitGroupWords('a  b\tc')).toEqual(['a', 'b\tc']);
    expect(splitGroupWords('users\\ with\\ spaces admins')).toEqual(['users with spaces', 'admins']);
    expect(splitGroupWords('x\\')).toBeNull();
  });
});

describe('loadClientConfig: the file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tandem-client-config-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function file(name: string, text: string, mode: number): string {
    const p = join(dir, name);
    writeFileSync(p, text);
    chmodSync(p, mode);
    return p;
  }

  it('loads a 0600 file', () => {
    const p = file('ok.conf', BASE, 0o600);
    expect(loadClientConfig(p, 'pam').config.host).toBe('tandem.example.com');
  });

  it('loads a 0400 file', () => {
    expect(loadClientConfig(file('ro.conf', BASE, 0o400), 'pam').config.ikey).toBe('DIXYZV6YM8IFYVWBINCA');
  });

  it.each([0o640, 0o604, 0o644, 0o620, 0o602])('refuses mode %o', (mode) => {
    const p = file(`m${mode.toString(8)}.conf`, BASE, mode);
    expect(() => loadClientConfig(p, 'pam')).toThrow(/must be readable only by its owner/);
  });

  it('refuses a missing file', () => {
    expect(() => loadClientConfig(join(dir, 'nope.conf'), 'pam')).toThrow(/Couldn't open the config file: ENOENT/);
  });

  it('refuses a directory', () => {
    expect(() => loadClientConfig(dir, 'pam')).toThrow(ClientConfigError);
  });

  it('refuses a line over 4096 bytes', () => {
    expect(parseError(BASE + `# ${'x'.repeat(5000)}\n`).line).toBe(6);
  });

  it('refuses invalid UTF-8', () => {
    const p = join(dir, 'bad-utf8.conf');
    writeFileSync(p, Buffer.concat([Buffer.from(BASE), Buffer.from([0xff, 0xfe, 0x0a])]));
    chmodSync(p, 0o600);
    expect(() => loadClientConfig(p, 'pam')).toThrow(/not valid UTF-8/);
  });

  it('a parse error names the file and line', () => {
    const p = file('syntax.conf', BASE + 'oops\n', 0o600);
    expect(() => loadClientConfig(p, 'pam')).toThrow(`${p}, line 6`);
  });

  it('readCaFile: needs a PEM certificate', () => {
    expect(() => readCaFile(file('notpem.pem', 'hello', 0o644))).toThrow(/no PEM certificate/);
    expect(() => readCaFile(join(dir, 'missing.pem'))).toThrow(/Couldn't open cafile/);
    expect(readCaFile(file('ca.pem', '-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n', 0o644))).toContain('BEGIN CERTIFICATE');
  });
});

describe('[tandem] offline_fallback / offline_options', () => {
  it('defaults to none, no options', () => {
    const { config } = parse(BASE);
    expect(config.offlineFallback).toBe('none');
    expect(config.offlineOptions).toEqual([]);
  });

  it('reads local and none, and the google-authenticator options', () => {
    const { config, warnings } = parse(BASE + '[tandem]\noffline_fallback = local\noffline_options = secret=/var/lib/tandem/${USER}  user=root\n');
    expect(warnings).toEqual([]);
    expect(config.offlineFallback).toBe('local');
    expect(config.offlineOptions).toEqual(['secret=/var/lib/tandem/${USER}', 'user=root']);
    expect(parse(BASE + '[tandem]\noffline_fallback = none\n').config.offlineFallback).toBe('none');
  });

  it('outside [tandem] it is an unknown duo key (warned, no effect)', () => {
    const { config, warnings } = parse(BASE + 'offline_fallback = local\n');
    expect(config.offlineFallback).toBe('none');
    expect(warnings[0]).toContain("unknown key 'offline_fallback'");
  });

  it.each([
    ['a bad value', 'offline_fallback = Local\n'],
    ['yes is not a mode', 'offline_fallback = yes\n'],
    ['an unknown google-authenticator option', 'offline_options = secret=/x frobnicate\n'],
    ['a bad allowed_perm', 'offline_options = allowed_perm=9\n'],
  ])('%s → error naming the line', (_name, extra) => {
    const e = parseError(BASE + '[tandem]\n' + extra);
    expect(e.line).toBe(7);
  });
});
