import { describe, expect, it } from 'vitest';
import { splitGroupWords } from './config/parse.js';
import { allNegatedWords, groupsRequire2fa, matchPattern, matchPatternList } from './groups.js';

// duo_unix.md §6.2, including the table verified on 1.11.3 with user `duoprobe` (only group
// `duoprobe`), the man-page example, and the edge cases of compat/match.c.
const TABLE: Array<[string, string[], boolean]> = [
  // [groups = …, user's groups, 2FA required?]
  ['duoprobe', ['duoprobe'], true],
  ['!duoprobe', ['duoprobe'], false],
  ['*,!duoprobe', ['duoprobe'], false],
  ['nosuch duoprobe', ['duoprobe'], true],
  ['nosuch', ['duoprobe'], false],
  ['duo*', ['duoprobe'], true],
  ['Duoprobe', ['duoprobe'], false],
  // `*` and `?`
  ['duo?robe', ['duoprobe'], true],
  ['duo?', ['duoprobe'], false],
  ['*probe', ['duoprobe'], true],
  ['d*e', ['duoprobe'], true],
  ['*', ['anything'], true],
  ['**', [''], true],
  ['?', [''], false],
  // a negated hit vetoes the word whatever the order, and whichever group hits it
  ['!wheel,users', ['users', 'wheel'], false],
  ['users,!wheel', ['users', 'wheel'], false],
  ['users,!wheel', ['users'], true],
  ['*,!wheel', ['staff'], true],
  ['*,!wheel', ['staff', 'wheel'], false],
  // only negations never match; negation does not carry across words
  ['!wheel', ['users'], false],
  ['!a,!b', ['c'], false],
  ['users !wheel', ['users', 'wheel'], true],
  ['!wheel users', ['users', 'wheel'], true],
  // the man page: (users AND NOT wheel AND NOT *admin) OR guests
  ['users,!wheel,!*admin guests', ['users'], true],
  ['users,!wheel,!*admin guests', ['users', 'wheel'], false],
  ['users,!wheel,!*admin guests', ['users', 'dbadmin'], false],
  ['users,!wheel,!*admin guests', ['users', 'wheel', 'guests'], true], // the second word still matches
  ['users,!wheel,!*admin guests', ['wheel', 'guests'], true],
  ['users,!wheel,!*admin guests', ['guests'], true],
  // empty subpatterns: a trailing comma adds none; an inner one matches only an empty name
  ['users,', ['users'], true],
  ['nosuch,', ['users'], false],
  ['nosuch,,other', ['users'], false],
  ['nosuch,,other', [''], true],
  [',users', ['users'], true],
  // '!' alone is a negated empty pattern
  ['users,!', ['users'], true],
  ['users,!', ['users', ''], false],
  // escaped spaces make one word
  ['users\\ with\\ spaces', ['users with spaces'], true],
  ['users\\ with\\ spaces', ['users'], false],
  // a user without groups matches nothing
  ['*', [], false],
];

describe('groups (duo_unix semantics)', () => {
  it.each(TABLE)('groups = %s, member of %j → 2FA %s', (value, groups, expected) => {
    const words = splitGroupWords(value);
    expect(words).not.toBeNull();
    expect(groupsRequire2fa(words, groups)).toBe(expected);
  });

  it('no groups configured → everyone does 2FA', () => {
    expect(groupsRequire2fa(null, [])).toBe(true);
    expect(groupsRequire2fa([], ['x'])).toBe(true);
  });

  it('a subpattern of 1023+ characters yields no match (not a veto)', () => {
    const long = 'a'.repeat(1023);
    expect(matchPatternList(long, long)).toBe(0);
    expect(matchPatternList('a'.repeat(1022), 'a'.repeat(1022))).toBe(1);
    expect(groupsRequire2fa([`!${long}`, 'users'], ['users'])).toBe(true);
  });

  it('matchPattern agrees with the recursive C on tricky globs', () => {
    expect(matchPattern('aaa', 'a*a')).toBe(true);
    expect(matchPattern('ab', 'a*a')).toBe(false);
    expect(matchPattern('abcbc', '*bc')).toBe(true);
    expect(matchPattern('abc', '*?*?*?')).toBe(true);
    expect(matchPattern('ab', '*?*?*?')).toBe(false);
    expect(matchPattern('x.y', 'x?y')).toBe(true);
    expect(matchPattern('', '')).toBe(true);
    expect(matchPattern('a', '')).toBe(false);
  });

  it('allNegatedWords finds words that can never match', () => {
    expect(allNegatedWords(['!wheel', '!a,!b', 'users,!wheel', ',!a', '!a,'])).toEqual(['!wheel', '!a,!b', '!a,']);
  });
});
