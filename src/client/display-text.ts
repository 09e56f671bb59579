// Text from the server reaches a terminal (PAM prompts, login_tandem's output) and the log.
// duo_unix 1.11.3 printed it raw (terminal escape injection); we strip control characters, but
// keep line breaks in text shown to the user, since Duo prompts are multi-line menus.
import { stripControlChars } from '../protocol/text-checks.js';

/** For the user: control characters removed, line breaks (LF, CRLF, CR) kept as LF. */
export function displayText(s: string): string {
  return s.split(/\r\n|\r|\n/).map(stripControlChars).join('\n');
}

/** For one log line: control characters removed, line breaks as a space, bounded. */
export function logText(s: string, max = 300): string {
  const one = s.split(/\r\n|\r|\n/).map(stripControlChars).join(' ');
  return one.length > max ? `${one.slice(0, max)}…` : one;
}
