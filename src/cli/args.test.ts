import { describe, expect, it } from 'vitest';
import { UsageError, parseCommandArgs, type CommandDef } from './args.js';

const def: CommandDef = {
  path: ['thing', 'do'],
  summary: 'test command',
  args: [{ name: 'WHO', description: 'someone' }],
  flags: [
    { name: 'tag', kind: 'string', value: 'T', multiple: true, description: 'tags' },
    { name: 'n', kind: 'int', value: 'N', min: 1, max: 5, description: 'a number' },
    { name: 'mode', kind: 'string', value: 'M', choices: ['a', 'b'], description: 'a mode' },
    { name: 'force', kind: 'boolean', description: 'force' },
  ],
  run: async () => 0,
};

const err = (argv: string[]): string => {
  try {
    parseCommandArgs(def, argv);
  } catch (e) {
    expect(e).toBeInstanceOf(UsageError);
    return (e as Error).message;
  }
  throw new Error('no error');
};

describe('parseCommandArgs', () => {
  it('parses positionals, repeatable flags, ints, choices, booleans and --x=y', () => {
    const p = parseCommandArgs(def, ['bob', '--tag', 'x', '--tag=y', '--n', '3', '--mode', 'b', '--force', '--json', '--data=/d']);
    expect(p).toEqual({ help: false, args: { WHO: 'bob' }, values: { tag: ['x', 'y'], n: 3, mode: 'b', force: true, json: true, data: '/d' } });
  });

  it('accepts "-" as a value and values after --', () => {
    expect(parseCommandArgs(def, ['--mode=a', '--', '-bob']).args).toEqual({ WHO: '-bob' });
    expect(parseCommandArgs({ ...def, flags: [{ name: 'file', kind: 'string', description: 'f' }] }, ['x', '--file', '-']).values.file).toBe('-');
  });

  it('--help / -h short-circuits every other problem', () => {
    expect(parseCommandArgs(def, ['--bogus', '-h']).help).toBe(true);
    expect(parseCommandArgs(def, ['--help']).help).toBe(true);
  });

  it('reports mistakes by name', () => {
    expect(err(['bob', '--nope'])).toBe('unknown option --nope');
    expect(err(['bob', '--n', '0'])).toBe('--n must be 1 to 5 (got 0)');
    expect(err(['bob', '--n', '9'])).toBe('--n must be 1 to 5 (got 9)');
    expect(err(['bob', '--n', '2x'])).toBe('--n must be a whole number (got "2x")');
    expect(err(['bob', '--mode', 'c'])).toBe('--mode must be a or b (got "c")');
    expect(err(['bob', '--force=1'])).toBe('option --force takes no value');
    expect(err(['bob', '--force', '--force'])).toBe('option --force given more than once');
    expect(err(['bob', '--n'])).toBe('option --n needs a value (N)');
    expect(err(['bob', '--n', '--force'])).toBe('option --n needs a value (N)');
    expect(err([])).toBe('missing argument WHO');
    expect(err(['bob', 'alice'])).toBe('unexpected argument "alice"');
  });
});
