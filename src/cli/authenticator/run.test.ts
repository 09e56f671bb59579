import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { main, QUESTIONS, type AuthenticatorDeps, type AuthenticatorIO } from './run.js';

// A fixed random source: the first 20 bytes are the secret, then 4 bytes per scratch code; the
// sixth code (8769346) is below 10^7, so it is re-drawn from the follow-up reads.
const POOL = Buffer.from('0b30557a9fc4e90e33587da2c7ec11365b80a5caef14395e83a8cdf2173c6186abd0f51a3f6489aed3f81d42678cb1d6fb20456a8fb4d9fe23486d92', 'hex');
const SECRET = 'BMYFK6U7YTUQ4M2YPWRMP3ARGZNYBJOK'; // python3 base64.b32encode(POOL[:20])
const CODES = ['63596382', '61394418', '89833094', '35114522', '63553454'];
const HOTP_1 = '682185'; // oathtool --hotp -c 1 -b SECRET
const NOW = 1_700_000_000_000;
const TOTP_NOW = '694652'; // oathtool --totp --now @1700000000 -b SECRET
const TOTP_NOW_60 = '394541'; // … --time-step-size 60

function fixedDeps(redraws: Buffer[] = []): AuthenticatorDeps & { draws: number[] } {
  const draws: number[] = [];
  return {
    draws,
    now: () => NOW,
    randomBytes: (n: number) => {
      draws.push(n);
      if (draws.length === 1) return Buffer.from(POOL);
      return redraws.shift() ?? Buffer.from([0x7f, 0xff, 0xff, 0xff]).subarray(0, n);
    },
  };
}

interface Captured {
  io: AuthenticatorIO;
  out: () => string;
  err: () => string;
}

function capture(stdin: string, extra: Partial<AuthenticatorIO> = {}): Captured {
  let out = '';
  let err = '';
  const io: AuthenticatorIO = {
    stdout: { write: (s: string) => (out += s) },
    stderr: { write: (s: string) => (err += s) },
    stdin,
    env: { HOME: home },
    stdoutIsTTY: false,
    username: 'alice',
    hostname: 'host.example',
    ...extra,
  };
  return { io, out: () => out, err: () => err };
}

let home: string;
beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), 'tandem-auth-'));
});
afterEach(() => rmSync(home, { recursive: true, force: true }));

function fileLines(path = join(home, '.google_authenticator')): string[] {
  const text = readFileSync(path, 'latin1');
  expect(text.endsWith('\n')).toBe(true);
  expect(text).not.toContain('\r');
  return text.slice(0, -1).split('\n');
}

/** The "(y/n)" questions in the order they were asked. */
function asked(out: string): string[] {
  const all = Object.entries(QUESTIONS).map(([k, v]) => [k, typeof v === 'function' ? v(join(home, '.google_authenticator')) : v] as const);
  const found: { at: number; key: string }[] = [];
  for (const [key, text] of all) {
    let at = out.indexOf(`\n${text} (y/n) `);
    while (at >= 0) {
      found.push({ at, key });
      at = out.indexOf(`\n${text} (y/n) `, at + 1);
    }
  }
  return found.sort((a, b) => a.at - b.at).map((f) => f.key);
}

describe('tandem-authenticator: the file', () => {
  it('-t -d -f -C -r 3 -R 30 -w 3 gives the lines of reference §1.1 with mode 0400', async () => {
    const c = capture('');
    expect(await main(['-t', '-d', '-f', '-C', '-r', '3', '-R', '30', '-w', '3', '-l', 'root@testhost', '-i', 'Test Issuer'], c.io, fixedDeps())).toBe(0);
    expect(c.err()).toBe('');
    expect(fileLines()).toEqual([SECRET, '" RATE_LIMIT 3 30', '" WINDOW_SIZE 3', '" DISALLOW_REUSE', '" TOTP_AUTH', ...CODES]);
    const st = statSync(join(home, '.google_authenticator'));
    expect(st.mode & 0o7777).toBe(0o400);
    expect(readdirSync(home)).toEqual(['.google_authenticator']);
  });

  it('-t -D -f -C -u -W -e 2 -S 60', async () => {
    const c = capture('');
    expect(await main(['-t', '-D', '-f', '-C', '-u', '-W', '-e', '2', '-S', '60'], c.io, fixedDeps())).toBe(0);
    expect(fileLines()).toEqual([SECRET, '" WINDOW_SIZE 3', '" STEP_SIZE 60', '" TOTP_AUTH', ...CODES.slice(0, 2)]);
  });

  it('-c -f -W -r 5 -R 60 -e 3 (HOTP, -S ignored)', async () => {
    const c = capture('');
    expect(await main(['-c', '-f', '-W', '-r', '5', '-R', '60', '-e', '3', '-S', '10'], c.io, fixedDeps())).toBe(0);
    expect(fileLines()).toEqual([SECRET, '" RATE_LIMIT 5 60', '" WINDOW_SIZE 1', '" HOTP_COUNTER 1', ...CODES.slice(0, 3)]);
    expect(c.out()).toContain(`Your verification code for code 1 is ${HOTP_1}\n`);
  });

  it('-c -f -w 17 -u -e 0 -q: no scratch codes, nothing printed', async () => {
    const c = capture('');
    expect(await main(['-c', '-f', '-w', '17', '-u', '-e', '0', '-q'], c.io, fixedDeps())).toBe(0);
    expect(fileLines()).toEqual([SECRET, '" WINDOW_SIZE 17', '" HOTP_COUNTER 1']);
    expect(c.out()).toBe('');
  });

  it('scratch codes below 10^7 are re-drawn (4 bytes at a time)', async () => {
    const deps = fixedDeps([Buffer.from([0, 0, 0, 1]), Buffer.from([0x12, 0x34, 0x56, 0x78])]);
    const c = capture('');
    expect(await main(['-t', '-D', '-f', '-C', '-u', '-W', '-e', '7', '-s', join(home, 'f')], c.io, deps)).toBe(0);
    // 0x12345678 = 305419896 → 5419896 < 10^7 too; then the default 0x7fffffff → 47483647.
    expect(fileLines(join(home, 'f')).slice(3)).toEqual([...CODES, '47483647', '37273814']);
    expect(deps.draws).toEqual([60, 4, 4, 4]);
  });

  it('-s PATH writes there; the default is $HOME/.google_authenticator; HOME must be absolute', async () => {
    const c = capture('');
    expect(await main(['-t', '-D', '-f', '-C', '-u', '-W', '-s', join(home, 'x')], c.io, fixedDeps())).toBe(0);
    expect(fileLines(join(home, 'x'))[0]).toBe(SECRET);
    const d = capture('', { env: { HOME: 'relative' } });
    expect(await main(['-t', '-D', '-f', '-C', '-u', '-W'], d.io, fixedDeps())).toBe(1);
    expect(d.err()).toBe('Cannot determine home directory\n');
    const e = capture('', { env: {} });
    expect(await main(['-t', '-D', '-f', '-C', '-u', '-W'], e.io, fixedDeps())).toBe(1);
  });

  it('a stale temp file makes enrolment fail, as upstream; an existing target is replaced with -f', async () => {
    const path = join(home, 'g');
    writeFileSync(path, 'old\n', { mode: 0o600 });
    const c = capture('');
    expect(await main(['-t', '-D', '-f', '-C', '-u', '-W', '-s', path], c.io, fixedDeps())).toBe(0);
    expect(fileLines(path)[0]).toBe(SECRET);
    writeFileSync(`${path}~`, 'stale');
    const d = capture('');
    expect(await main(['-t', '-D', '-f', '-C', '-u', '-W', '-s', path], d.io, fixedDeps())).toBe(1);
    expect(d.err()).toBe(`Failed to create "${path}" temp file "${path}~" (File exists)\n`);
    expect(readFileSync(`${path}~`, 'utf8')).toBe('stale');
  });

  it('an unwritable directory gives strerror text', async () => {
    const c = capture('');
    const path = join(home, 'missing-dir', 'f');
    expect(await main(['-t', '-D', '-f', '-C', '-u', '-W', '-s', path], c.io, fixedDeps())).toBe(1);
    expect(c.err()).toBe(`Failed to create "${path}" temp file "${path}~" (No such file or directory)\n`);
  });
});

describe('tandem-authenticator: questions', () => {
  it('all questions, in upstream order, answered y (reference §1.1 "interactive run")', async () => {
    const c = capture('y\n-1\ny\ny\ny\ny\n');
    expect(await main([], c.io, fixedDeps())).toBe(0);
    expect(asked(c.out())).toEqual(['timeBased', 'update', 'disallowReuse', 'totpWindow', 'rateLimit']);
    expect(fileLines()).toEqual([SECRET, '" RATE_LIMIT 3 30', '" WINDOW_SIZE 17', '" DISALLOW_REUSE', '" TOTP_AUTH', ...CODES]);
    // Output order: question 1, URL, secret, confirmation, codes, then the file questions.
    const out = c.out();
    const order = ['time-based (y/n) ', 'Your otpauth URL is: ', 'Your new secret key is: ', 'Enter code from app (-1 to skip): ', 'Code confirmation skipped', 'Your emergency scratch codes are:\n  63596382\n', 'update your'];
    const positions = order.map((s) => out.indexOf(s));
    expect(positions.every((p) => p >= 0)).toBe(true);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
    expect(out.startsWith('\nDo you want authentication tokens to be time-based (y/n) ')).toBe(true);
  });

  it('all answered n: HOTP, no options', async () => {
    const c = capture('n\ny\nn\nn\n');
    expect(await main([], c.io, fixedDeps())).toBe(0);
    expect(asked(c.out())).toEqual(['timeBased', 'update', 'hotpWindow', 'rateLimit']);
    expect(fileLines()).toEqual([SECRET, '" HOTP_COUNTER 1', ...CODES]);
  });

  it('each flag skips its question', async () => {
    const c = capture('y\n');
    expect(await main(['-t', '-d', '-C', '-w', '5', '-u'], c.io, fixedDeps())).toBe(0);
    expect(asked(c.out())).toEqual(['update']);
    const d = capture('n\n');
    expect(await main(['-f', '-t', '-C', '-W', '-r', '2', '-R', '20'], d.io, fixedDeps())).toBe(0);
    expect(asked(d.out())).toEqual(['disallowReuse']);
    expect(fileLines()).toEqual([SECRET, '" RATE_LIMIT 2 20', '" WINDOW_SIZE 3', '" TOTP_AUTH', ...CODES]);
  });

  it('answers are re-asked until they start with y/Y/n/N', async () => {
    const c = capture('maybe\n\nYes please\n');
    expect(await main(['-c', '-W', '-u'], c.io, fixedDeps())).toBe(0);
    expect(asked(c.out())).toEqual(['update']);
    expect(c.out().split('(y/n) ').length - 1).toBe(3);
  });

  it('"n" to the update question exits 0 without writing', async () => {
    const c = capture('N\n');
    expect(await main(['-t', '-D', '-C', '-W', '-u'], c.io, fixedDeps())).toBe(0);
    expect(readdirSync(home)).toEqual([]);
  });

  it('end of input exits 1 after a newline, nothing written', async () => {
    const c = capture('y\n');
    expect(await main(['-t', '-C'], c.io, fixedDeps())).toBe(1);
    expect(asked(c.out())).toEqual(['update', 'disallowReuse']);
    expect(c.out().endsWith('(y/n) \n')).toBe(true);
    expect(readdirSync(home)).toEqual([]);
  });

  it('reads stdin as a stream, one line at a time', async () => {
    async function* chunks(): AsyncGenerator<string> {
      yield 'y';
      yield '\nn\ny\n';
      yield 'y\n';
    }
    const c = capture('', { stdin: chunks() });
    expect(await main(['-t', '-C'], c.io, fixedDeps())).toBe(0);
    expect(fileLines()).toEqual([SECRET, '" RATE_LIMIT 3 30', '" WINDOW_SIZE 17', '" TOTP_AUTH', ...CODES]);
  });
});

describe('tandem-authenticator: code confirmation', () => {
  it('wrong code reveals the expected one, right code confirms', async () => {
    const c = capture(`123\n${TOTP_NOW}\n`);
    expect(await main(['-t', '-D', '-f', '-W', '-u'], c.io, fixedDeps())).toBe(0);
    expect(c.out()).toContain(`Enter code from app (-1 to skip): Code incorrect (correct code ${TOTP_NOW}). Try again.\nEnter code from app (-1 to skip): Code confirmed\n`);
  });

  it('uses the -S step', async () => {
    const c = capture(`${TOTP_NOW_60}\n`);
    expect(await main(['-t', '-D', '-f', '-W', '-u', '-S', '60'], c.io, fixedDeps())).toBe(0);
    expect(c.out()).toContain('Code confirmed\n');
  });

  it('-C prints the HOTP value for counter 1, even for TOTP (upstream quirk)', async () => {
    const c = capture('');
    expect(await main(['-t', '-D', '-f', '-C', '-W', '-u'], c.io, fixedDeps())).toBe(0);
    expect(c.out()).toContain(`Your verification code for code 1 is ${HOTP_1}\n`);
  });
});

describe('tandem-authenticator: URL and QR', () => {
  it('always prints the otpauth URL, escaped per RFC 3986, with period when -S differs', async () => {
    const c = capture('');
    expect(await main(['-t', '-D', '-f', '-C', '-W', '-u', '-S', '60', '-l', 'ACME:al ice&b=c?d%e/f#g+h', '-i', 'ACME Corp/€'], c.io, fixedDeps())).toBe(0);
    expect(c.out()).toContain(`Your otpauth URL is: otpauth://totp/ACME:al%20ice%26b%3Dc%3Fd%25e%2Ff%23g%2Bh?secret=${SECRET}&issuer=ACME%20Corp%2F%E2%82%AC&period=60\n`);
    expect(c.out()).not.toContain('\x1b[');
  });

  it('defaults: label user@host, issuer host; HOTP says counter=0', async () => {
    const c = capture('');
    expect(await main(['-c', '-f', '-W', '-u'], c.io, fixedDeps())).toBe(0);
    expect(c.out()).toContain(`Your otpauth URL is: otpauth://hotp/alice@host.example?secret=${SECRET}&issuer=host.example&counter=0\n`);
    const d = capture('', { hostname: undefined });
    expect(await main(['-c', '-f', '-W', '-u', '-i', '', '-s', join(home, 'b')], d.io, fixedDeps())).toBe(0);
    expect(d.out()).toContain(`otpauth://hotp/alice@unix?secret=${SECRET}&counter=0\n`);
  });

  it('an unreasonably large label fails as upstream', async () => {
    const c = capture('');
    expect(await main(['-t', '-D', '-f', '-C', '-W', '-u', '-l', 'x'.repeat(3334)], c.io, fixedDeps())).toBe(1);
    expect(c.err()).toBe('Error: Generated URL would be unreasonably large.\n');
  });

  it('draws the QR code on a terminal only, in the -Q mode', async () => {
    const ansi = capture('', { stdoutIsTTY: true });
    expect(await main(['-t', '-D', '-f', '-C', '-W', '-u'], ansi.io, fixedDeps())).toBe(0);
    expect(ansi.out()).toContain('\x1b[7m  ');
    const utf = capture('', { stdoutIsTTY: true });
    expect(await main(['-t', '-D', '-f', '-C', '-W', '-u', '-Q', 'UTF8', '-s', join(home, 'u')], utf.io, fixedDeps())).toBe(0);
    expect(utf.out()).toMatch(/[\u2580\u2584\u2588]/);
    const none = capture('', { stdoutIsTTY: true });
    expect(await main(['-t', '-D', '-f', '-C', '-W', '-u', '-Q', 'NONE', '-s', join(home, 'n')], none.io, fixedDeps())).toBe(0);
    expect(none.out()).not.toContain('\x1b');
    expect(none.out()).not.toMatch(/[\u2580\u2584\u2588]/);
    expect(none.out()).toContain('Your otpauth URL is: ');
  });
});

describe('tandem-authenticator: help and errors', () => {
  it('--help and --version exit 0; errors exit 1 with upstream texts', async () => {
    const h = capture('');
    expect(await main(['--help'], h.io, fixedDeps())).toBe(0);
    expect(h.out()).toContain(' -e, --emergency-codes=N        Number of emergency codes to generate');
    const v = capture('');
    expect(await main(['--version'], v.io, fixedDeps())).toBe(0);
    expect(v.out()).toMatch(/^tandem-authenticator \S+\n$/);
    const e = capture('');
    expect(await main(['-w', '22'], e.io, fixedDeps())).toBe(1);
    expect(e.err()).toBe('-w requires an argument in the range 1..21\n');
    expect(e.out()).toBe('');
    const g = capture('');
    expect(await main(['-x'], g.io, fixedDeps())).toBe(1);
    expect(g.err()).toBe("tandem-authenticator: invalid option -- 'x'\nFailed to parse command line\n");
    expect(g.out()).toContain('tandem-authenticator [<options>]');
  });
});
