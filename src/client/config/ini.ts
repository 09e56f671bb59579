// The INI syntax of login_duo.conf / pam_duo.conf, read as duo_unix's bundled inih reads it
// (duo_unix.md §1.1), except that everything inih would silently misread is an error here:
//   - `;` or `#` first on a line (after blanks) starts a comment; an inline `;` is a comment only
//     when a blank precedes it (`host=x;y` keeps `x;y`);
//   - `name = value` (or `name: value`, as inih allows), both sides trimmed, quotes kept;
//   - `[section]` headers; the caller decides what sections mean;
//   - CRLF line ends and a leading UTF-8 BOM are accepted.
// Refused (the caller turns this into a config error naming the line):
//   - an indented line after a key in the same section: inih reads it as a *continuation* that
//     replaces the previous key's value (1.11.3 even turned an indented comment into the host);
//   - a line without `=`/`:`, an empty name, an unterminated `[section`, a line over MAX_LINE.

export const MAX_LINE_BYTES = 4096;

export type IniEntry =
  | { kind: 'section'; name: string; line: number }
  | { kind: 'pair'; section: string | null; key: string; value: string; line: number };

export class IniSyntaxError extends Error {
  constructor(
    readonly line: number,
    detail: string,
  ) {
    super(detail);
    this.name = 'IniSyntaxError';
  }
}

const BLANK = /[ \t\f\v]/;

/** Index of an inline `;` comment (a `;` preceded by a blank), or -1. */
function inlineComment(s: string): number {
  for (let i = 1; i < s.length; i++) if (s[i] === ';' && BLANK.test(s[i - 1]!)) return i;
  return -1;
}

export function parseIni(text: string): IniEntry[] {
  const entries: IniEntry[] = [];
  if (text.startsWith('\ufeff')) text = text.slice(1);
  const lines = text.split('\n');
  // A final newline leaves one empty string behind; it is not a line.
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  let section: string | null = null;
  let keyInSection = false;
  lines.forEach((raw, i) => {
    const lineNo = i + 1;
    if (Buffer.byteLength(raw, 'utf8') > MAX_LINE_BYTES) throw new IniSyntaxError(lineNo, `line longer than ${MAX_LINE_BYTES} bytes`);
    const line = raw.replace(/\r$/, '');
    // eslint-disable-next-line no-control-regex -- NUL and other controls have no place in a config line
    if (/[\u0000-\u0008\u000a-\u001f\u007f]/.test(line)) throw new IniSyntaxError(lineNo, 'control character in line');
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith(';') || trimmed.startsWith('#')) return;
    const indented = /^[ \t\f\v]/.test(line);
    if (trimmed.startsWith('[')) {
      const end = trimmed.indexOf(']');
      if (end === -1) throw new IniSyntaxError(lineNo, "section header without ']'");
      const rest = trimmed.slice(end + 1).trim();
      if (rest !== '' && !rest.startsWith(';') && !rest.startsWith('#')) throw new IniSyntaxError(lineNo, "text after ']'");
      section = trimmed.slice(1, end).trim();
      keyInSection = false;
      entries.push({ kind: 'section', name: section, line: lineNo });
      return;
    }
    if (indented && keyInSection) {
      throw new IniSyntaxError(lineNo, 'indented line (duo_unix would read it as a continuation of the previous value); remove the leading blanks');
    }
    const comment = inlineComment(trimmed);
    const content = comment === -1 ? trimmed : trimmed.slice(0, comment);
    const eq = content.search(/[=:]/);
    if (eq === -1) throw new IniSyntaxError(lineNo, "expected 'name = value'");
    const key = content.slice(0, eq).trim();
    const value = content.slice(eq + 1).trim();
    if (key === '') throw new IniSyntaxError(lineNo, 'empty name');
    keyInSection = true;
    entries.push({ kind: 'pair', section, key, value, line: lineNo });
  });
  return entries;
}
