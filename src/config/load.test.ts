import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execFileSync } from 'node:child_process';
import { ConfigError, loadSettings, settingsDocsMarkdown, writeConfigFile } from './load.js';
import { sanitiseNodeId } from './schema.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tandem-load-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const writeConfig = (text: string): void => writeFileSync(join(dir, 'config.json'), text);

function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

describe('loadSettings', () => {
  it('returns the defaults for an empty data directory', () => {
    expect(loadSettings({ dataDir: dir, env: {} })).toEqual({
      listen: { host: '127.0.0.1', port: 8443 },
      hosts: ['localhost'],
      databaseUrl: null,
      nodeId: sanitiseNodeId(hostname()),
      signatureSkewSeconds: 300,
      longPollSeconds: 50,
      transactionTimeoutSeconds: 60,
      lockoutThreshold: 10,
      lockoutSeconds: 900,
      enrollLinkSeconds: 900,
      deviceActivationSeconds: 86400,
      deviceRequestSkewSeconds: 120,
      appLongPollSeconds: 25,
      pushTimeoutSeconds: 60,
      pushVerifiedDefault: 'off',
      pushMaxPending: 1,
      pushDenialThreshold: 3,
      pushCooldownSeconds: 900,
      pushServiceHosts: ['fcm.googleapis.com', 'updates.push.services.mozilla.com', '*.push.apple.com', '*.notify.windows.com'],
      skeyOverlapSeconds: 86400,
      totpWindowSteps: 1,
      hotpLookAhead: 10,
      rateLimitIntegrationPerMinute: 600,
      rateLimitUserPerMinute: 30,
      rateLimitAddressPerMinute: 60,
      keepAliveSeconds: 90,
      bodyLimitBytes: 65536,
      auditHeadLogSeconds: 3600,
      publicUrl: null,
      logLevel: 'info',
      consoleListen: null,
      consoleIdleSeconds: 900,
      consoleSessionSeconds: 28800,
      consoleReauthSeconds: 300,
    });
  });

  it('applies overrides > environment > config.json > defaults', () => {
    writeConfig(JSON.stringify({ lockoutThreshold: 5, lockoutSeconds: 50, longPollSeconds: 5 }));
    const env = { TANDEM_LOCKOUT_THRESHOLD: '6', TANDEM_LOCKOUT_SECONDS: '60' };
    const s = loadSettings({ dataDir: dir, env, overrides: { lockoutThreshold: 7 } });
    expect([s.lockoutThreshold, s.lockoutSeconds, s.longPollSeconds, s.totpWindowSteps]).toEqual([7, 60, 5, 1]);
  });

  it('reads every kind of value from the environment', () => {
    const s = loadSettings({
      dataDir: dir,
      env: {
        TANDEM_LISTEN: '[::1]:9443',
        TANDEM_HOSTS: 'Tandem.Example.com, 192.0.2.7',
        TANDEM_DATABASE_URL: 'postgresql://127.0.0.1/tandem',
        TANDEM_NODE_ID: 'node-a',
        TANDEM_PUBLIC_URL: 'https://tandem.example/',
        TANDEM_LOG_LEVEL: 'debug',
        TANDEM_LONG_POLL_SECONDS: '1',
        TANDEM_TRANSACTION_TIMEOUT_SECONDS: '1',
        TANDEM_LOCKOUT_SECONDS: '1',
      },
    });
    expect(s.listen).toEqual({ host: '::1', port: 9443 });
    expect(s.hosts).toEqual(['Tandem.Example.com', '192.0.2.7']);
    expect(s.databaseUrl).toBe('postgresql://127.0.0.1/tandem');
    expect(s.nodeId).toBe('node-a');
    expect(s.publicUrl).toBe('https://tandem.example');
    expect(s.logLevel).toBe('debug');
    expect([s.longPollSeconds, s.transactionTimeoutSeconds, s.lockoutSeconds]).toEqual([1, 1, 1]);
  });

  it('treats empty environment variables as unset and ignores unknown TANDEM_* variables', () => {
    writeConfig(JSON.stringify({ lockoutThreshold: 5 }));
    const s = loadSettings({ dataDir: dir, env: { TANDEM_LOCKOUT_THRESHOLD: '', TANDEM_NOPE: 'x', TANDEM_DATA: '/x', TANDEM_MASTER_KEY_FILE: '/k' } });
    expect(s.lockoutThreshold).toBe(5);
  });

  it('returns a deeply frozen object, distinct from the defaults', () => {
    const s = loadSettings({ dataDir: dir, env: {} });
    expect(Object.isFrozen(s)).toBe(true);
    expect(Object.isFrozen(s.listen)).toBe(true);
    expect(Object.isFrozen(s.hosts)).toBe(true);
    expect(() => (s.hosts as string[]).push('evil.example')).toThrow(TypeError);
    expect(() => {
      (s as { lockoutThreshold: number }).lockoutThreshold = 1;
    }).toThrow(TypeError);
    // The table's default array must not have been frozen or shared.
    expect(loadSettings({ dataDir: dir, env: {} }).hosts).not.toBe(s.hosts);
  });

  it('reports every problem at once, naming the key and its source', () => {
    writeConfig(`{
      "lockoutTreshold": 3,
      "longPollSeconds": "10",
      "hosts": "a.example,b.example",
      "keepAliveSeconds": 75,
      "bodyLimitBytes": 1e309,
      "auditHeadLogSeconds": 123456789012345678901234567890,
      "listen": "::1:8443",
      "logLevel": null
    }`);
    const problems = problemsOf(() =>
      loadSettings({ dataDir: dir, env: { TANDEM_LOCKOUT_THRESHOLD: 'x', TANDEM_LISTEN: '127.0.0.1:8443' }, overrides: { totpWindowSteps: 'many', nope: 1 } as never }),
    );
    expect(problems).toEqual(
      expect.arrayContaining([
        'TANDEM_LOCKOUT_THRESHOLD: must be an integer between 1 and 1000 (got "x")',
        'config.json: unknown key "lockoutTreshold"',
        'config.json: longPollSeconds: must be an integer between 1 and 300 (got the string "10")',
        'config.json: hosts: must be an array of host names (got the string "a.example,b.example")',
        'config.json: keepAliveSeconds: must be an integer between 76 and 3600 (got 75)',
        'config.json: bodyLimitBytes: must be an integer between 1024 and 16777216 (got a non-finite number)',
        'config.json: auditHeadLogSeconds: must be an integer between 1 and 604800 (got 1.2345678901234568e+29)',
        'config.json: logLevel: must be one of debug, info, warn, error (got null)',
        'command line: totpWindowSteps: must be an integer between 0 and 10 (got "many")',
        'command line: unknown setting "nope"',
      ]),
    );
    // The config.json listen is invalid even though TANDEM_LISTEN wins: still reported.
    expect(problems.some((p) => p.startsWith('config.json: listen: '))).toBe(true);
    expect(problems).toHaveLength(11);
  });

  it('joins the problems in the error message', () => {
    writeConfig('{"a": 1, "b": 2}');
    try {
      loadSettings({ dataDir: dir, env: {} });
      expect.unreachable();
    } catch (e) {
      expect((e as Error).message).toBe('config.json: unknown key "a"\nconfig.json: unknown key "b"');
      expect((e as Error).name).toBe('ConfigError');
    }
  });

  it.each(['{ lockoutThreshold: 3 }', '{"lockoutThreshold": 3', '', 'null x', '\u0000\u0001', '{"a":1}{"b":2}'])('reports %j as not valid JSON, alongside other problems', (text) => {
    writeConfig(text);
    const problems = problemsOf(() => loadSettings({ dataDir: dir, env: { TANDEM_LOG_LEVEL: 'loud' } }));
    expect(problems).toEqual(['config.json: not valid JSON', 'TANDEM_LOG_LEVEL: must be one of debug, info, warn, error (got "loud")']);
  });

  it('never repeats config.json text in a JSON error (it may hold a password)', () => {
    writeConfig('{"databaseUrl": "postgres://u:hunter2@h/db",, }');
    const problems = problemsOf(() => loadSettings({ dataDir: dir, env: {} }));
    expect(problems).toEqual(['config.json: not valid JSON']);
  });

  it('does not echo a bad database URL', () => {
    writeConfig(JSON.stringify({ databaseUrl: 'mysql://root:hunter2@db/tandem' }));
    const problems = problemsOf(() => loadSettings({ dataDir: dir, env: {} }));
    expect(problems).toEqual(['config.json: databaseUrl: must start with postgres:// or postgresql://']);
  });

  it.each([['[]', 'an array'], ['null', 'null'], ['"x"', 'a string'], ['42', 'a number']])('requires a JSON object, not %s', (text) => {
    writeConfig(text);
    expect(problemsOf(() => loadSettings({ dataDir: dir, env: {} }))).toEqual(['config.json: must be a JSON object { "setting": value, … }']);
  });

  it('reports __proto__ and constructor as unknown keys without touching prototypes', () => {
    writeConfig('{"__proto__": {"lockoutThreshold": 1}, "constructor": 1, "toString": 2}');
    expect(problemsOf(() => loadSettings({ dataDir: dir, env: {} }))).toEqual([
      'config.json: unknown key "__proto__"',
      'config.json: unknown key "constructor"',
      'config.json: unknown key "toString"',
    ]);
    expect(({} as Record<string, unknown>).lockoutThreshold).toBeUndefined();
  });

  it('accepts a UTF-8 byte order mark', () => {
    writeConfig('\uFEFF{"lockoutThreshold": 4}');
    expect(loadSettings({ dataDir: dir, env: {} }).lockoutThreshold).toBe(4);
  });

  it('refuses a config.json that is a directory or too large', () => {
    mkdirSync(join(dir, 'config.json'));
    expect(problemsOf(() => loadSettings({ dataDir: dir, env: {} }))).toEqual(['config.json: not a regular file']);
    rmSync(join(dir, 'config.json'), { recursive: true });
    writeConfig('{"hosts": [' + '"a.example",'.repeat(100_000) + '"b.example"]}');
    expect(problemsOf(() => loadSettings({ dataDir: dir, env: {} }))).toEqual(['config.json: larger than 1048576 bytes']);
  });

  it('truncates hostile unknown keys', () => {
    writeConfig(JSON.stringify({ ['k'.repeat(10_000) + '\u001b[2J']: 1 }));
    const [p] = problemsOf(() => loadSettings({ dataDir: dir, env: {} }));
    expect(p!.length).toBeLessThan(100);
    expect(p).not.toContain('\u001b');
  });

  it('accepts overrides as strings (CLI flags) or typed values', () => {
    const s = loadSettings({ dataDir: dir, env: {}, overrides: { lockoutThreshold: '3', hosts: 'a.example,b.example', listen: '127.0.0.1:0', databaseUrl: undefined } });
    expect(s.lockoutThreshold).toBe(3);
    expect(s.hosts).toEqual(['a.example', 'b.example']);
    expect(s.listen.port).toBe(0);
    expect(s.databaseUrl).toBeNull();
  });

  it('reads config.json values of every type', () => {
    writeConfig(
      JSON.stringify({ listen: '[::]:443', hosts: ['a.example', '::1'], databaseUrl: null, publicUrl: 'https://a.example', logLevel: 'error', nodeId: 'n1' }),
    );
    const s = loadSettings({ dataDir: dir, env: {} });
    expect(s.listen).toEqual({ host: '::', port: 443 });
    expect(s.hosts).toEqual(['a.example', '::1']);
    expect(s.publicUrl).toBe('https://a.example');
    expect([s.logLevel, s.nodeId]).toEqual(['error', 'n1']);
  });
});

describe('writeConfigFile', () => {
  const read = (): unknown => JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));

  it('creates config.json (mode 0600) and merges later updates, keeping other keys', () => {
    writeConfigFile(dir, { hosts: ['tandem.example', 'localhost'] });
    expect(read()).toEqual({ hosts: ['tandem.example', 'localhost'] });
    expect(statSync(join(dir, 'config.json')).mode & 0o777).toBe(0o600);
    writeConfigFile(dir, { listen: { host: '::1', port: 9443 }, databaseUrl: null });
    expect(read()).toEqual({ hosts: ['tandem.example', 'localhost'], listen: '[::1]:9443', databaseUrl: null });
    const s = loadSettings({ dataDir: dir, env: {} });
    expect(s.listen).toEqual({ host: '::1', port: 9443 });
    expect(readFileSync(join(dir, 'config.json'), 'utf8').endsWith('}\n')).toBe(true);
  });

  it('refuses invalid values and leaves the file untouched', () => {
    writeConfigFile(dir, { lockoutThreshold: 3 });
    expect(() => writeConfigFile(dir, { hosts: ['bad name'], lockoutThreshold: 0 })).toThrow(ConfigError);
    expect(read()).toEqual({ lockoutThreshold: 3 });
    expect(() => writeConfigFile(dir, { bogus: 1 } as never)).toThrow('config.json: unknown key "bogus"');
  });

  it('refuses to rewrite a config.json that is not valid JSON', () => {
    writeConfig('{ not json');
    expect(() => writeConfigFile(dir, { hosts: ['localhost'] })).toThrow('config.json: not valid JSON');
    expect(readFileSync(join(dir, 'config.json'), 'utf8')).toBe('{ not json');
  });
});

describe('docs/configuration.md', () => {
  it('is exactly settingsDocsMarkdown() (regenerate it from there after changing the table)', () => {
    const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
    expect(readFileSync(join(root, 'docs', 'configuration.md'), 'utf8')).toBe(settingsDocsMarkdown());
  });

  it('lists every setting with its environment variable', () => {
    const md = settingsDocsMarkdown();
    expect(md).toContain('| `lockoutThreshold` | `TANDEM_LOCKOUT_THRESHOLD` | integer 1–1000 | `10` |');
    expect(md).toContain('| `hosts` | `TANDEM_HOSTS` |');
  });
});

describe('writeConfigFile change detection', () => {
  it('reports whether it wrote, and leaves an unchanged file alone', () => {
    expect(writeConfigFile(dir, { hosts: ['a.example'] })).toBe(true);
    const before = statSync(join(dir, 'config.json')).mtimeMs;
    expect(writeConfigFile(dir, { hosts: ['a.example'] })).toBe(false);
    expect(statSync(join(dir, 'config.json')).mtimeMs).toBe(before);
    expect(writeConfigFile(dir, { hosts: ['b.example'] })).toBe(true);
  });

  it('does not hang on a FIFO in place of config.json', () => {
    execFileSync('mkfifo', [join(dir, 'config.json')]);
    expect(() => writeConfigFile(dir, { hosts: ['a.example'] })).toThrow('config.json: not a regular file');
    expect(problemsOf(() => loadSettings({ dataDir: dir, env: {} }))).toEqual(['config.json: not a regular file']);
  });
});
