// The helper's log: one line per event on stderr, which the launcher sends to syslog. Lines follow
// duo_unix's syslog format `<msg>[ for '<user>'][ from <ip>][: <detail>]`. Never a secret: no
// passcode, answer, authtok or key is ever passed here.
import { logText } from './display-text.js';

export type LogLevel = 'debug' | 'info' | 'warning' | 'error';

export interface ClientLogger {
  log(level: LogLevel, msg: string, fields?: { user?: string | null; ip?: string | null; detail?: string | null }): void;
}

export function formatLogLine(msg: string, fields: { user?: string | null; ip?: string | null; detail?: string | null } = {}): string {
  let line = logText(msg);
  if (fields.user) line += ` for '${logText(fields.user, 255)}'`;
  if (fields.ip) line += ` from ${logText(fields.ip, 255)}`;
  if (fields.detail) line += `: ${logText(fields.detail)}`;
  return line;
}

export function stderrLogger(opts: { debug: boolean; write?: (line: string) => void }): ClientLogger {
  const write = opts.write ?? ((line: string) => process.stderr.write(line));
  return {
    log(level, msg, fields) {
      if (level === 'debug' && !opts.debug) return;
      write(`[${level}] ${formatLogLine(msg, fields)}\n`);
    },
  };
}
