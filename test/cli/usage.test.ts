import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { COMMANDS } from '../../src/cli/commands/index.js';
import { STACK, runCli, tempData, type TempData } from './run-cli.js';

let t: TempData;
beforeEach(() => {
  t = tempData();
});
afterEach(() => t.cleanup());

describe('usage mistakes exit 2 with a message and usage on stderr', () => {
  const cases: [string, string[], RegExp][] = [
    ['no command', [], /^tandem: missing command\n\nUsage: tandem <command>/],
    ['unknown command', ['frobnicate'], /^tandem: unknown command "frobnicate"\n\nUsage: tandem <command>/],
    ['unknown subcommand', ['user', 'rename', 'a', 'b'], /^tandem: unknown command "user rename"\n\nUsage: tandem user <command>/],
    ['group without subcommand', ['integration'], /^tandem: "integration" needs a command\n\nUsage: tandem integration <command>/],
    ['unknown flag', ['user', 'list', '--verbose'], /^tandem: unknown option --verbose\n\nUsage: tandem user list \[options\]/],
    ['unknown short flag', ['user', 'list', '-v'], /^tandem: unknown option -v\n/],
    ['missing argument', ['user', 'create'], /^tandem: missing argument NAME\n\nUsage: tandem user create NAME/],
    ['missing second argument', ['token', 'remove', 'alice'], /^tandem: missing argument TOKEN_ID\n/],
    ['extra argument', ['user', 'show', 'a', 'b'], /^tandem: unexpected argument "b"\n/],
    ['missing required flag', ['integration', 'create'], /^tandem: missing required option --name NAME\n\nUsage: tandem integration create --name NAME/],
    ['flag without value', ['integration', 'create', '--name'], /^tandem: option --name needs a value \(NAME\)\n/],
    ['flag value that is a flag', ['integration', 'create', '--name', '--json'], /^tandem: option --name needs a value/],
    ['bad choice', ['integration', 'create', '--name', 'x', '--new-user-policy', 'maybe'], /^tandem: --new-user-policy must be enroll or allow or deny \(got "maybe"\)\n/],
    ['--digits 7', ['token', 'add', 'alice', '--type', 'totp', '--digits', '7'], /^tandem: --digits must be 6 or 8 \(got "7"\)\n/],
    ['--type missing', ['token', 'add', 'alice'], /^tandem: missing required option --type/],
    ['--type bad', ['token', 'add', 'alice', '--type', 'sms'], /^tandem: --type must be totp or hotp/],
    ['--period 0', ['token', 'add', 'alice', '--type', 'totp', '--period', '0'], /^tandem: --period must be 1 to 300 \(got 0\)\n/],
    ['--counter -1', ['token', 'add', 'alice', '--type', 'hotp', '--counter', '-1'], /^tandem: option --counter needs a value/],
    ['--count 0', ['bypass', 'create', 'alice', '--count', '0'], /^tandem: --count must be 1 to 10 \(got 0\)\n/],
    ['--count 1.5', ['bypass', 'create', 'alice', '--count', '1.5'], /^tandem: --count must be a whole number \(got "1.5"\)\n/],
    ['--count abc', ['bypass', 'create', 'alice', '--count', 'abc'], /^tandem: --count must be a whole number/],
    ['--limit 0', ['log', '--limit', '0'], /^tandem: --limit must be 1 to 100000/],
    ['repeated single flag', ['integration', 'create', '--name', 'a', '--name', 'b'], /^tandem: option --name given more than once\n/],
    ['boolean with value', ['integration', 'delete', 'DIX', '--force=yes'], /^tandem: option --force takes no value\n/],
    ['no --secret flag exists', ['token', 'add', 'alice', '--type', 'totp', '--secret', 'JBSWY3DP'], /^tandem: unknown option --secret\n/],
    ['help for an unknown command', ['help', 'nope'], /^tandem: no command "nope"\n/],
  ];
  for (const [name, argv, stderr] of cases) {
    it(name, async () => {
      const r = await t.run(argv);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(stderr);
      expect(r.stderr).not.toMatch(STACK);
    });
  }

  it('--data with an empty value is refused rather than falling back to ./data', async () => {
    const r = await runCli(['user', 'list', '--data', '']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('tandem: --data: must not be empty\n');
  });

  it('a configuration problem prints one line per problem, exit 1', async () => {
    await t.run(['init']);
    const r = await t.run(['user', 'list'], { env: { TANDEM_LISTEN: 'nowhere', TANDEM_LOCKOUT_THRESHOLD: 'many' } });
    expect(r.code).toBe(1);
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    for (const l of lines) expect(l).toMatch(/^tandem: TANDEM_(LISTEN|LOCKOUT_THRESHOLD): /);
  });
});

describe('help', () => {
  it('tandem --help, tandem help and -h list every command, on stdout, exit 0', async () => {
    for (const argv of [['--help'], ['help'], ['-h']]) {
      const r = await runCli(argv);
      expect(r.code).toBe(0);
      expect(r.stderr).toBe('');
      for (const d of COMMANDS) expect(r.stdout).toContain(`  ${d.path.join(' ')}`);
    }
  });

  it('every command documents exactly the flags it accepts', async () => {
    for (const d of COMMANDS) {
      const r = await runCli([...d.path, '--help']);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`Usage: tandem ${d.path.join(' ')}`);
      expect(r.stdout).toContain(d.summary);
      const documented = [...r.stdout.matchAll(/^\s+(?:-\w, )?--([a-z0-9-]+)/gm)].map((m) => m[1]);
      expect(documented.sort()).toEqual([...(d.flags ?? []).map((f) => f.name), 'data', 'json', 'help'].sort());
      for (const a of d.args ?? []) expect(r.stdout).toContain(a.name);
      // ...and the parser accepts each of them (an unknown one would be a usage error).
      expect((await runCli(['help', ...d.path])).stdout).toBe(r.stdout);
    }
  });

  it('--help wins over missing arguments; group help', async () => {
    const r = await runCli(['user', 'create', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('--alias NAME');
    const g = await runCli(['token', '--help']);
    expect(g.code).toBe(0);
    expect(g.stdout).toMatch(/token add USER\s+Add a TOTP or HOTP token/);
  });

  it('global options may come before the command', async () => {
    await t.run(['init']);
    const r = await runCli(['--data', t.data, '--json', 'user', 'list']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual([]);
  });
});
