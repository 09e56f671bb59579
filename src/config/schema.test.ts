import { describe, expect, it } from 'vitest';
import { SETTINGS, SETTING_SPECS, checkHost, describeValue, isDnsName, isSettingKey, sanitiseNodeId, type Source } from './schema.js';
import type { Settings } from './settings.js';

const parse = <K extends keyof Settings>(key: K, raw: unknown, source: Source = 'env') => SETTINGS[key].parse(raw, source);

describe('settings table', () => {
  it('names every environment variable TANDEM_ + the key in UPPER_SNAKE', () => {
    for (const spec of SETTING_SPECS) {
      expect(spec.env).toBe('TANDEM_' + spec.key.replace(/[A-Z]/g, (c) => '_' + c).toUpperCase());
    }
  });

  it('has one entry per Settings key, each naming itself', () => {
    const keys = SETTING_SPECS.map((s) => s.key);
    expect(new Set(keys).size).toBe(keys.length);
    for (const [k, spec] of Object.entries(SETTINGS)) expect(spec.key).toBe(k);
    expect(keys).toHaveLength(34);
  });

  it('accepts every default in its config.json form (defaults are valid values)', () => {
    for (const spec of SETTING_SPECS) {
      if (spec.default === undefined) continue;
      const r = spec.parse(spec.toFile(spec.default as never), 'file');
      expect(r, spec.key).toEqual({ ok: true, value: spec.default });
    }
  });

  it('does not treat Object.prototype names as settings', () => {
    expect(isSettingKey('toString')).toBe(false);
    expect(isSettingKey('__proto__')).toBe(false);
    expect(isSettingKey('listen')).toBe(true);
  });
});

describe('integers', () => {
  it('accepts decimal strings from the environment and numbers from config.json', () => {
    expect(parse('lockoutThreshold', '7')).toEqual({ ok: true, value: 7 });
    expect(parse('lockoutThreshold', 7, 'file')).toEqual({ ok: true, value: 7 });
    expect(parse('lockoutThreshold', 7, 'override')).toEqual({ ok: true, value: 7 });
    expect(parse('lockoutThreshold', '7', 'override')).toEqual({ ok: true, value: 7 });
  });

  it.each(['x', '', ' 7', '7 ', '7.0', '1e3', '0x10', '+7', '99999999999999999999', '-1', '0', '1001', '٣'])('rejects %j from the environment', (raw) => {
    const r = parse('lockoutThreshold', raw);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toBe(`must be an integer between 1 and 1000 (got ${JSON.stringify(raw)})`);
  });

  it.each([['7', 'the string "7"'], [7.5, '7.5'], [true, 'true'], [null, 'null'], [[7], 'an array'], [{}, 'an object'], [Infinity, 'a non-finite number'], [1e21, '1e+21'], [Number.MAX_SAFE_INTEGER + 2, '9007199254740992']])(
    'rejects %j in config.json',
    (raw, shown) => {
      const r = parse('lockoutThreshold', raw, 'file');
      expect(r).toEqual({ ok: false, error: `must be an integer between 1 and 1000 (got ${shown})` });
    },
  );

  it('allows the short values tests use (1 second) and 0 where 0 means "off"', () => {
    expect(parse('longPollSeconds', '1').ok).toBe(true);
    expect(parse('transactionTimeoutSeconds', '1').ok).toBe(true);
    expect(parse('lockoutSeconds', '1').ok).toBe(true);
    expect(parse('lockoutSeconds', '0').ok).toBe(true);
    expect(parse('longPollSeconds', '0').ok).toBe(false);
  });

  it('keeps keepAliveSeconds above 75 (duo_unix connection reuse)', () => {
    expect(parse('keepAliveSeconds', '75').ok).toBe(false);
    expect(parse('keepAliveSeconds', '76').ok).toBe(true);
  });
});

describe('listen', () => {
  it.each([
    ['127.0.0.1:8443', { host: '127.0.0.1', port: 8443 }],
    ['[::1]:8443', { host: '::1', port: 8443 }],
    ['[::]:443', { host: '::', port: 443 }],
    ['0.0.0.0:0', { host: '0.0.0.0', port: 0 }],
    ['localhost:8443', { host: 'localhost', port: 8443 }],
  ])('parses %s', (raw, value) => {
    expect(parse('listen', raw)).toEqual({ ok: true, value });
  });

  it.each(['8443', '127.0.0.1', '127.0.0.1:', ':8443', '127.0.0.1:65536', '127.0.0.1:99999', '::1:8443', '[127.0.0.1]:8443', '[::1]', '[fe80::1%eth0]:8443', 'a b:1', '256.1.1.1:1', '127.0.0.1:-1', '127.0.0.1:8443 ', 'x'.repeat(400) + ':1'])(
    'rejects %j',
    (raw) => {
      expect(parse('listen', raw).ok).toBe(false);
    },
  );

  it('hints at brackets for a bare IPv6 address', () => {
    const r = parse('listen', '::1:8443');
    expect(!r.ok && r.error).toContain('brackets');
  });

  it('rejects non-strings in config.json', () => {
    expect(parse('listen', { host: '127.0.0.1', port: 1 }, 'file').ok).toBe(false);
    expect(parse('listen', 8443, 'file').ok).toBe(false);
  });

  it('writes IPv6 back in brackets', () => {
    expect(SETTINGS.listen.toFile({ host: '::1', port: 8443 })).toBe('[::1]:8443');
    expect(SETTINGS.listen.toFile({ host: '127.0.0.1', port: 1 })).toBe('127.0.0.1:1');
  });
});

describe('hosts', () => {
  it('splits the environment on commas, trims, keeps case, drops exact duplicates', () => {
    expect(parse('hosts', ' Tandem.Example.com ,10.0.0.1,::1,tandem.example.com,10.0.0.1')).toEqual({
      ok: true,
      value: ['Tandem.Example.com', '10.0.0.1', '::1', 'tandem.example.com'],
    });
  });

  it('takes an array in config.json and nothing else', () => {
    expect(parse('hosts', ['a.example'], 'file')).toEqual({ ok: true, value: ['a.example'] });
    expect(parse('hosts', 'a.example', 'file').ok).toBe(false);
    expect(parse('hosts', [], 'file').ok).toBe(false);
    expect(parse('hosts', {}, 'file').ok).toBe(false);
  });

  it('reports every bad entry', () => {
    const r = parse('hosts', ['ok.example', 3, '', 'bad_name', '[::1]', 'a..b'], 'file');
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error).toContain('entry 2: must be a string (got 3)');
      expect(r.error).toContain('entry 3 is empty');
      expect(r.error).toContain('"bad_name": must be a DNS name or an IP address');
      expect(r.error).toContain('"[::1]": IPv6 addresses are written without brackets');
      expect(r.error).toContain('"a..b"');
    }
  });

  it('caps the list at 100 names', () => {
    const many = Array.from({ length: 101 }, (_, i) => `h${i}.example`);
    expect(parse('hosts', many, 'file').ok).toBe(false);
    expect(parse('hosts', many.slice(0, 100), 'file').ok).toBe(true);
  });

  it('rejects empty entries in the environment', () => {
    expect(parse('hosts', 'a.example,,b.example').ok).toBe(false);
    expect(parse('hosts', ',').ok).toBe(false);
  });
});

describe('host name checks', () => {
  it.each(['localhost', 'a', 'Tandem-1.Example.COM', 'xn--bcher-kva.example', '1host.example', 'a'.repeat(63) + '.example'])('accepts %s', (h) => {
    expect(checkHost(h)).toBeNull();
  });

  it.each(['', '-a.example', 'a-.example', 'a_b.example', 'a.example.', '.a', '*.example', 'a'.repeat(64) + '.example', 'x.'.repeat(127) + 'xy', '10.0.0.256', '1.2.3', 'fe80::1%eth0', 'a b', 'ä.example', 'a\n.example'])(
    'rejects %j',
    (h) => {
      expect(checkHost(h)).not.toBeNull();
    },
  );

  it('accepts IP literals', () => {
    expect(checkHost('192.0.2.1')).toBeNull();
    expect(checkHost('2001:db8::1')).toBeNull();
    expect(checkHost('::ffff:192.0.2.1')).toBeNull();
    expect(isDnsName('192.0.2.1')).toBe(false);
  });
});

describe('databaseUrl', () => {
  it('accepts postgres:// and postgresql:// URLs, and null in config.json', () => {
    expect(parse('databaseUrl', 'postgres://u:p@127.0.0.1:5432/tandem').ok).toBe(true);
    expect(parse('databaseUrl', 'postgresql://127.0.0.1/tandem').ok).toBe(true);
    expect(parse('databaseUrl', null, 'file')).toEqual({ ok: true, value: null });
  });

  it.each(['mysql://u:hunter2@h/db', 'sqlite:///x', 'hunter2', 'postgres:/x', 'POSTGRES://h/db', 'http://u:hunter2@h'])('rejects %j without echoing it', (raw) => {
    const r = parse('databaseUrl', raw);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).not.toContain('hunter2');
  });

  it('names the type of a non-string', () => {
    expect(parse('databaseUrl', 5, 'file')).toEqual({ ok: false, error: 'must be a postgres:// or postgresql:// URL (got 5)' });
  });
});

describe('publicUrl', () => {
  it('accepts https and drops trailing slashes', () => {
    expect(parse('publicUrl', 'https://tandem.example:8443/')).toEqual({ ok: true, value: 'https://tandem.example:8443' });
    expect(parse('publicUrl', 'https://tandem.example/base')).toEqual({ ok: true, value: 'https://tandem.example/base' });
  });

  it.each(['http://tandem.example', 'https://u:p@tandem.example', 'https://tandem.example/?q=1', 'https://tandem.example/#x', 'tandem.example', 'javascript:alert(1)'])('rejects %j', (raw) => {
    expect(parse('publicUrl', raw).ok).toBe(false);
  });
});

describe('nodeId and logLevel', () => {
  it('validates node ids', () => {
    expect(parse('nodeId', 'node-1.a_b').ok).toBe(true);
    for (const bad of ['', '-x', 'a b', 'a/b', 'x'.repeat(64), 'ä']) expect(parse('nodeId', bad).ok, bad).toBe(false);
  });

  it('sanitises host names into node ids', () => {
    expect(sanitiseNodeId('web-1.example.com')).toBe('web-1.example.com');
    expect(sanitiseNodeId('my host/ä')).toBe('my-host--');
    expect(sanitiseNodeId('--x')).toBe('x');
    expect(sanitiseNodeId('')).toBe('tandem');
    expect(sanitiseNodeId('ääää')).toBe('tandem');
    expect(sanitiseNodeId('h'.repeat(100))).toHaveLength(63);
    for (const h of ['my host/ä', '---', 'x'.repeat(200)]) expect(parse('nodeId', sanitiseNodeId(h)).ok).toBe(true);
  });

  it('accepts only the four log levels', () => {
    expect(parse('logLevel', 'warn')).toEqual({ ok: true, value: 'warn' });
    expect(parse('logLevel', 'WARN').ok).toBe(false);
    expect(parse('logLevel', 'trace').ok).toBe(false);
  });
});

describe('describeValue', () => {
  it('truncates and escapes hostile strings', () => {
    const shown = describeValue('a'.repeat(100) + '\u001b[31m', 'env');
    expect(shown.length).toBeLessThan(50);
    expect(describeValue('\u001b[31m\n', 'env')).toBe('"\\u001b[31m\\n"');
  });
});
