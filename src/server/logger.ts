// The server log: one JSON object per line on stderr. Secrets never go here (callers pass ids,
// not codes or keys). Unauthenticated garbage is logged at a bounded rate so a flood of junk
// cannot fill the disk or drown real events.
import type { Logger } from '../core/deps.js';

const LEVELS = { debug: 10, info: 20, warn: 30, error: 40 } as const;
type Level = keyof typeof LEVELS;

export interface ServerLogger extends Logger {
  /** Rate-limited: at most `GARBAGE_PER_MINUTE` lines a minute, then one summary line. */
  garbage(msg: string, fields: Record<string, unknown>): void;
}

const GARBAGE_PER_MINUTE = 30;

export function createLogger(level: Level, now: () => number, write: (line: string) => void = (l) => process.stderr.write(l)): ServerLogger {
  const min = LEVELS[level];
  const emit = (lvl: Level, msg: string, fields?: Record<string, unknown>): void => {
    if (LEVELS[lvl] < min) return;
    write(JSON.stringify({ time: new Date(now()).toISOString(), level: lvl, msg, ...fields }) + '\n');
  };
  let windowStart = 0;
  let inWindow = 0;
  let suppressed = 0;
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    garbage(msg, fields) {
      const t = now();
      if (t - windowStart >= 60_000) {
        if (suppressed > 0) emit('warn', 'rejected requests not logged (rate limit)', { count: suppressed });
        windowStart = t;
        inWindow = 0;
        suppressed = 0;
      }
      if (++inWindow > GARBAGE_PER_MINUTE) suppressed++;
      else emit('warn', msg, fields);
    },
  };
}
