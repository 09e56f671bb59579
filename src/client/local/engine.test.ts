import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseGaFile, serializeGaFile, type GaFile } from '../../protocol/ga-file.js';
import { applyRateLimit, recordLogin, verifyCode, withinGracePeriod, type EngineLog } from './engine.js';

interface Step {
  now: number;
  input: string;
  expect: 'success' | 'deny';
  prompted?: boolean;
  setFile?: string;
  file?: string;
  log?: string;
  options?: Partial<Opts>;
}
interface Opts {
  noskewadj: boolean;
  noIncrementHotp: boolean;
  forwardPass: boolean;
}
interface Scenario {
  name: string;
  file: string;
  options?: Partial<Opts>;
  steps: Step[];
}

const PATH = '/home/u/.google_authenticator';

/** One login as ga-local.ts runs it, minus I/O: rate limit, then verify the typed answer. */
function login(file: GaFile, now: number, answer: string, opts: Partial<Opts> = {}, extra: { authtok?: string | null; rhost?: string | null; grace?: number } = {}) {
  const logs: EngineLog[] = [];
  const rl = applyRateLimit(file, now, PATH);
  logs.push(...rl.logs);
  if (rl.stop !== null) return { result: 'deny' as const, prompted: false, file: rl.changed ? rl.file : file, logs, password: null };
  const r = verifyCode(rl.file, { authtok: extra.authtok ?? null, answer }, {
    nowSec: now,
    path: PATH,
    user: 'u',
    forwardPass: opts.forwardPass ?? false,
    noskewadj: opts.noskewadj ?? false,
    noIncrementHotp: opts.noIncrementHotp ?? false,
    gracePeriod: extra.grace ?? 0,
    rhost: extra.rhost ?? null,
  });
  logs.push(...r.logs);
  return { result: r.verdict === 'success' ? ('success' as const) : ('deny' as const), prompted: true, file: r.file, logs, password: r.password };
}

const fixtures = JSON.parse(readFileSync(join(import.meta.dirname, '../../../test/vectors/google-authenticator.json'), 'utf8')) as { scenarios: Scenario[] };

describe('upstream fixtures (test/vectors/google-authenticator.json)', () => {
  for (const sc of fixtures.scenarios) {
    it(sc.name, () => {
      let file = parseGaFile(sc.file);
      sc.steps.forEach((step, i) => {
        if (step.setFile !== undefined) file = parseGaFile(step.setFile);
        const r = login(file, step.now, step.input, { ...sc.options, ...step.options });
        const where = `${sc.name} step ${i}`;
        expect(r.result, where).toBe(step.expect);
        expect(r.prompted, where).toBe(step.prompted ?? true);
        file = r.file;
        if (step.file !== undefined) expect(serializeGaFile(file), where).toBe(step.file);
        if (step.log !== undefined) expect(r.logs.some((l) => l.msg.startsWith(step.log!)), where).toBe(true);
      });
    });
  }
});

const T = '2SH3V3GDW7ZNMGYE\n" TOTP_AUTH\n';

describe('engine details', () => {
  it('DISALLOW_REUSE with W=3 prunes and logs upstream v1.08 text', () => {
    let f = parseGaFile(`${T}" DISALLOW_REUSE\n`);
    const codes: Record<number, string> = { 10000: '050548', 10001: '478726', 10002: '646986', 10003: '842639', 10004: '671031' };
    for (let s = 10000; s <= 10004; s++) f = login(f, s * 30, codes[s]!).file;
    expect(serializeGaFile(f)).toBe(`${T}" DISALLOW_REUSE 10002 10003 10004\n`);
    const again = login(f, 10004 * 30, codes[10003]!);
    expect(again.result).toBe('deny');
    expect(again.logs.map((l) => l.msg)).toContain(
      `Trying to reuse a previously used time-based code. ("${PATH}")Retry again in 30 seconds. Warning! This might mean, you are currently subject to a man-in-the-middle attack.`,
    );
  });

  it('scratch codes work in every file type, are removed, never logged', () => {
    const f = parseGaFile('2SH3V3GDW7ZNMGYE\n" HOTP_COUNTER 1\n87654321\n12345678\n');
    const r = login(f, 300000, '12345678');
    expect(r.result).toBe('success');
    expect(serializeGaFile(r.file)).toBe('2SH3V3GDW7ZNMGYE\n" HOTP_COUNTER 1\n87654321\n');
    expect(JSON.stringify(r.logs)).not.toContain('12345678');
    expect(login(parseGaFile('2SH3V3GDW7ZNMGYE\n12345678\n'), 300000, '12345678').result).toBe('success');
  });

  it('skew learning: a gap of more than 2 steps restarts the count', () => {
    let f = parseGaFile(T);
    const code: Record<number, string> = { 11000: '229713', 11001: '099452', 11002: '175332', 11003: '339128' };
    const seq: [number, number, string][] = [
      [12000, 11000, 'deny'],
      [12005, 11001, 'deny'],
      [12006, 11002, 'deny'],
      [12007, 11003, 'success'],
    ];
    for (const [server, client, want] of seq) {
      const r = login(f, server * 30, code[client]!);
      expect(r.result).toBe(want);
      f = r.file;
    }
    expect(serializeGaFile(f)).toContain('" TIME_SKEW -1004\n');
  });

  it('forward_pass and first-pass inputs split password and code', () => {
    const f = parseGaFile(`${T}12345678\n`);
    const r = login(f, 300000, 'Passw0rd!050548', { forwardPass: true });
    expect(r.result).toBe('success');
    expect(r.password).toBe('Passw0rd!');
    const s = login(f, 300000, 'Passw0rd!12345678', { forwardPass: true });
    expect(s.result).toBe('success');
    expect(s.password).toBe('Passw0rd!');
    expect(login(f, 300000, 'Passw0rd!050548').result).toBe('deny');
    // try_first_pass: the AUTHTOK may carry a password prefix without forward_pass.
    const t = login(f, 300000, '', {}, { authtok: 'secret050548' });
    expect(t.result).toBe('success');
  });

  it('grace period: records LASTn, grants within the period, LRU over 10 slots', () => {
    let f = parseGaFile(T);
    const r = login(f, 300000, '050548', {}, { rhost: '192.0.2.10', grace: 3600 });
    expect(serializeGaFile(r.file)).toBe(`2SH3V3GDW7ZNMGYE\n" LAST0 192.0.2.10 300000\n" TOTP_AUTH\n`);
    f = r.file;
    expect(withinGracePeriod(f, '192.0.2.10', 3600, 300600)).toBe(true);
    expect(withinGracePeriod(f, '192.0.2.11', 3600, 300600)).toBe(false);
    expect(withinGracePeriod(f, '192.0.2.10', 3600, 303601)).toBe(false);
    expect(withinGracePeriod(f, null, 3600, 300600)).toBe(false);
    f = recordLogin(f, 'fe80::1%eth0', 300001);
    expect(serializeGaFile(f)).toBe(`2SH3V3GDW7ZNMGYE\n" LAST1 fe80::1%eth0 300001\n" LAST0 192.0.2.10 300000\n" TOTP_AUTH\n`);
    for (let i = 2; i < 10; i++) f = recordLogin(f, `h${i}`, 300000 + i);
    f = recordLogin(f, 'new', 400000);
    expect(serializeGaFile(f)).toContain('" LAST0 new 400000\n');
    const noHost = login(parseGaFile(T), 300000, '050548', {}, { rhost: null, grace: 60 });
    expect(noHost.logs.map((l) => l.msg)).toContain('Failed to store grace_period timestamp in config');
  });
});
