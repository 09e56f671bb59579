import { describe, expect, it } from 'vitest';
import { getoptLong } from './getopt.js';
import { parseArgs, parseQrMode, parseRangedInt, type AuthenticatorOptions, type ParseOutcome } from './options.js';

function run(argv: string[]): AuthenticatorOptions {
  const r = parseArgs(argv);
  if (r.kind !== 'run') throw new Error(`expected run, got ${JSON.stringify(r)}`);
  return r.options;
}

function err(argv: string[]): ParseOutcome & { kind: 'error' } {
  const r = parseArgs(argv);
  if (r.kind !== 'error') throw new Error(`expected error, got ${JSON.stringify(r)}`);
  return r;
}

describe('tandem-authenticator flags', () => {
  it('defaults: everything asked, ANSI QR, 5 scratch codes, confirmation on', () => {
    expect(run([])).toEqual({ confirm: true, force: false, quiet: false, qrMode: 'ANSI', emergencyCodes: 5 });
  });

  it('every short flag', () => {
    expect(run(['-t', '-d', '-f', '-C', '-q', '-l', 'L', '-i', 'I', '-Q', 'utf8', '-r', '3', '-R', '30', '-s', '/x/f', '-S', '60', '-w', '17', '-e', '2'])).toEqual({
      mode: 'totp',
      reuse: 'disallow',
      force: true,
      confirm: false,
      quiet: true,
      label: 'L',
      issuer: 'I',
      qrMode: 'UTF8',
      rateLimit: { attempts: 3, seconds: 30 },
      secretPath: '/x/f',
      stepSize: 60,
      window: 17,
      emergencyCodes: 2,
    });
    expect(run(['-c', '-u', '-W'])).toMatchObject({ mode: 'hotp', rateLimit: 'off', window: 'minimal' });
    expect(run(['-t', '-D'])).toMatchObject({ mode: 'totp', reuse: 'allow' });
  });

  it('clusters and attached arguments, as getopt', () => {
    expect(run(['-tdfCw3', '-e0', '-r5', '-R60'])).toMatchObject({ mode: 'totp', reuse: 'disallow', force: true, confirm: false, window: 3, emergencyCodes: 0, rateLimit: { attempts: 5, seconds: 60 } });
    expect(run(['-fl', 'a b'])).toMatchObject({ force: true, label: 'a b' });
  });

  it('every long form, with = or a separate argument, and unique abbreviations', () => {
    expect(
      run([
        '--time-based', '--disallow-reuse', '--force', '--no-confirm', '--quiet', '--label=L', '--issuer', 'I', '--qr-mode=ansi-inverse',
        '--rate-limit=2', '--rate-time', '15', '--secret=/p', '--step-size=1', '--window-size=21', '--emergency-codes=10',
      ]),
    ).toMatchObject({ mode: 'totp', reuse: 'disallow', force: true, confirm: false, quiet: true, label: 'L', issuer: 'I', qrMode: 'ANSI_INVERSE', rateLimit: { attempts: 2, seconds: 15 }, secretPath: '/p', stepSize: 1, window: 21, emergencyCodes: 10 });
    expect(run(['--counter-based', '--no-rate-limit', '--minimal-window'])).toMatchObject({ mode: 'hotp', rateLimit: 'off', window: 'minimal' });
    expect(run(['--time-based', '--allow-reuse'])).toMatchObject({ reuse: 'allow' });
    expect(run(['--win=4', '--emerg', '1', '--ti'])).toMatchObject({ window: 4, emergencyCodes: 1, mode: 'totp' });
    expect(parseArgs(['--help'])).toEqual({ kind: 'help' });
    expect(parseArgs(['-h'])).toEqual({ kind: 'help' });
    expect(parseArgs(['--version'])).toEqual({ kind: 'version' });
    expect(parseArgs(['--vers'])).toEqual({ kind: 'version' });
  });

  it('-h wins as soon as it is seen, errors before it win too', () => {
    expect(parseArgs(['-t', '-h', '-x'])).toEqual({ kind: 'help' });
    expect(err(['-t', '-t', '-h']).stderr).toEqual(['Duplicate -c and/or -t option detected']);
  });

  it('qr modes: case-insensitive, - for _', () => {
    for (const m of ['NONE', 'ANSI', 'ANSI_INVERSE', 'ANSI_GREY', 'UTF8', 'UTF8_INVERSE', 'UTF8_GREY']) {
      expect(parseQrMode(m)).toBe(m);
      expect(parseQrMode(m.toLowerCase().replace('_', '-'))).toBe(m);
    }
    expect(err(['-Q', 'foo']).stderr).toEqual(['Invalid qr-mode "foo"']);
    expect(err(['-Q', 'none', '-Q', 'ansi']).stderr).toEqual(['Duplicate -Q option detected']);
  });

  it('ranges, with the upstream texts', () => {
    const cases: [string, string[], string[]][] = [
      ['-r', ['0', '11', 'x', '3x', '', '3 '], ['1', '10', ' 5', '+7']],
      ['-R', ['14', '601', 'abc'], ['15', '600']],
      ['-S', ['0', '61', '-1'], ['1', '60']],
      ['-w', ['0', '22', '1.5'], ['1', '21']],
      ['-e', ['-1', '11', 'two'], ['0', '10']],
    ];
    const texts: Record<string, string> = {
      '-r': '-r requires an argument in the range 1..10',
      '-R': '-R requires an argument in the range 15..600',
      '-S': '-S requires an argument in the range 1..60',
      '-w': '-w requires an argument in the range 1..21',
      '-e': '-e requires an argument in the range 0..10',
    };
    for (const [flag, bad, good] of cases) {
      const partner = flag === '-r' ? ['-R', '30'] : flag === '-R' ? ['-r', '3'] : [];
      for (const v of bad) expect(err([flag, v, ...partner]).stderr, `${flag} ${v}`).toEqual([texts[flag]]);
      for (const v of good) expect(parseArgs([flag, v, ...partner]).kind, `${flag} ${v}`).toBe('run');
    }
    expect(parseRangedInt('99999999999999999999', 1, 10)).toBeUndefined();
  });

  it('duplicates', () => {
    const dup: [string[], string][] = [
      [['-t', '-c'], 'Duplicate -c and/or -t option detected'],
      [['-c', '-c'], 'Duplicate -c and/or -t option detected'],
      [['-t', '-d', '-D'], 'Duplicate -d and/or -D option detected'],
      [['-f', '-f'], 'Duplicate -f option detected'],
      [['-l', 'a', '-l', 'b'], 'Duplicate -l option detected'],
      [['-i', 'a', '-i', 'b'], 'Duplicate -i option detected'],
      [['-q', '-q'], 'Duplicate -q option detected'],
      [['-r', '3', '-r', '3'], 'Duplicate -r option detected'],
      [['-R', '30', '-R', '30'], 'Duplicate -R option detected'],
      [['-u', '-u'], 'Duplicate -u option detected'],
      [['-s', 'a', '-s', 'b'], 'Duplicate -s option detected'],
      [['-S', '30', '-S', '30'], 'Duplicate -S option detected'],
      [['-w', '3', '-W'], 'Duplicate -w/-W option detected'],
      [['-W', '-w', '3'], 'Duplicate -w/-W option detected'],
      [['-e', '1', '-e', '1'], 'Duplicate -e option detected'],
    ];
    for (const [argv, text] of dup) {
      const e = err(argv);
      expect(e.stderr, argv.join(' ')).toEqual([text]);
      expect(e.usage).toBe(false);
    }
    // -C twice is accepted (upstream has no check).
    expect(run(['-C', '-C']).confirm).toBe(false);
  });

  it('conflicts', () => {
    const bad: [string[], string][] = [
      [['-c', '-d'], 'Reuse of tokens is not a meaningful parameter in counter-based mode'],
      [['-d', '-c'], 'Reuse of tokens is not a meaningful parameter in counter-based mode'],
      [['-c', '-D'], 'Reuse of tokens is not a meaningful parameter in counter-based mode'],
      [['-d'], 'Must select time-based mode, when using -d or -D'],
      [['-D', '-f'], 'Must select time-based mode, when using -d or -D'],
      [['-r', '3'], 'Must set -r when setting -R, and vice versa'],
      [['-R', '30'], 'Must set -r when setting -R, and vice versa'],
      [['-r', '3', '-u'], '-u is mutually exclusive with -r/-R'],
      [['-R', '30', '-u'], '-u is mutually exclusive with -r/-R'],
      [['-u', '-r', '3'], '-u is mutually exclusive with -r'],
      [['-u', '-R', '30'], '-u is mutually exclusive with -R'],
      [['-s', ''], '-s must be followed by a filename'],
    ];
    for (const [argv, text] of bad) expect(err(argv).stderr, argv.join(' ')).toEqual([text]);
    // -d before -t is fine: the mode rule is checked after all options.
    expect(run(['-d', '-t']).reuse).toBe('disallow');
  });

  it('getopt errors print usage and "Failed to parse command line"', () => {
    expect(err(['-x'])).toEqual({ kind: 'error', stderr: ["tandem-authenticator: invalid option -- 'x'", 'Failed to parse command line'], usage: true });
    expect(err(['-l']).stderr[0]).toBe("tandem-authenticator: option requires an argument -- 'l'");
    expect(err(['--bogus']).stderr[0]).toBe("tandem-authenticator: unrecognized option '--bogus'");
    expect(err(['--label']).stderr[0]).toBe("tandem-authenticator: option '--label' requires an argument");
    expect(err(['--force=yes']).stderr[0]).toBe("tandem-authenticator: option '--force' doesn't allow an argument");
    expect(err(['--rate']).stderr[0]).toBe("tandem-authenticator: option '--rate' is ambiguous; possibilities: '--rate-limit' '--rate-time'");
    // Deliberate deviation: a stray argument fails (upstream exits 0 after the usage).
    expect(err(['-t', 'stray'])).toMatchObject({ usage: true, stderr: ["tandem-authenticator: unexpected argument 'stray'", 'Failed to parse command line'] });
  });

  it("'+' semantics: stop at the first non-option, '--' ends options", () => {
    expect(getoptLong('p', ['-t', 'x', '-f'], 'tf', []).rest).toEqual(['x', '-f']);
    expect(getoptLong('p', ['-t', '--', '-f'], 'tf', []).rest).toEqual(['-f']);
    expect(getoptLong('p', ['-l', '--', '-f'], 'l:f', [])).toEqual({ items: [{ ok: true, opt: 'l', arg: '--' }, { ok: true, opt: 'f' }], rest: [] });
    expect(run(['-l', '-t'])).toMatchObject({ label: '-t' });
    expect(run(['-f', '--'])).toMatchObject({ force: true });
  });
});
