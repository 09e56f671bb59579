// duo_unix `groups` semantics, exactly (duo_unix.md §6.2; compat/match.c and compat/groupaccess.c,
// which come from OpenSSH):
//   - `groups` is a list of words (config/parse.ts splits them); the user must do 2FA when ANY
//     word matches, and bypasses 2FA entirely when none does;
//   - a word is a comma-separated pattern list; each pattern may start with `!`;
//   - for each of the user's groups, the list yields -1 as soon as a negated pattern matches that
//     group (whatever the order), 1 if a positive pattern matched it, else 0;
//   - a word matches when no group yields -1 and some group yields 1; so a word of negations only
//     (`!wheel`, `!a,!b`) never matches, and negation does not carry across words;
//   - `*` matches any run of characters, `?` exactly one, everything else itself; case-sensitive.
// Edge cases kept from the C: a trailing comma adds no pattern (`users,` is `users`), an inner
// empty one (`a,,b`) matches only an empty group name, and a pattern of 1023 characters or more
// makes the list yield 0 (not -1) for every group.

const MAX_SUBPATTERN = 1023;

/** OpenSSH match_pattern: `*` and `?` wildcards, exact length, case-sensitive. */
export function matchPattern(s: string, pattern: string): boolean {
  // Iterative glob with single-star backtracking; equivalent to the recursive C.
  let si = 0;
  let pi = 0;
  let starP = -1;
  let starS = 0;
  while (si < s.length) {
    const pc = pattern[pi];
    if (pc === '*') {
      starP = pi++;
      starS = si;
    } else if (pc !== undefined && (pc === '?' || pc === s[si])) {
      si++;
      pi++;
    } else if (starP !== -1) {
      pi = starP + 1;
      si = ++starS;
    } else {
      return false;
    }
  }
  while (pattern[pi] === '*') pi++;
  return pi === pattern.length;
}

/** OpenSSH match_pattern_list for one group name: -1 negated hit, 1 positive hit, 0 nothing. */
export function matchPatternList(group: string, list: string): -1 | 0 | 1 {
  let gotPositive = false;
  let i = 0;
  const len = list.length;
  while (i < len) {
    let negated = false;
    if (list[i] === '!') {
      negated = true;
      i++;
    }
    let end = list.indexOf(',', i);
    if (end === -1) end = len;
    const sub = list.slice(i, end);
    if (sub.length >= MAX_SUBPATTERN) return 0;
    i = end < len ? end + 1 : end;
    if (matchPattern(group, sub)) {
      if (negated) return -1;
      gotPositive = true;
    }
  }
  return gotPositive ? 1 : 0;
}

/** ga_match_pattern_list: one word against all of the user's groups. */
export function wordMatches(userGroups: readonly string[], word: string): boolean {
  let found = false;
  for (const g of userGroups) {
    const r = matchPatternList(g, word);
    if (r === -1) return false;
    if (r === 1) found = true;
  }
  return found;
}

/**
 * duo_check_groups: true when the user must do 2FA. No `groups` (null or no words) means
 * everyone must.
 */
export function groupsRequire2fa(words: readonly string[] | null, userGroups: readonly string[]): boolean {
  if (words === null || words.length === 0) return true;
  return words.some((w) => wordMatches(userGroups, w));
}

/** Words that can never match (only negations): duo_unix HEAD warns about them, so do we. */
export function allNegatedWords(words: readonly string[]): string[] {
  return words.filter((w) => {
    const parts: string[] = [];
    let i = 0;
    while (i < w.length) {
      let end = w.indexOf(',', i + (w[i] === '!' ? 1 : 0));
      if (end === -1) end = w.length;
      parts.push(w.slice(i, end));
      i = end + 1;
    }
    return parts.length > 0 && parts.every((p) => p.startsWith('!'));
  });
}
