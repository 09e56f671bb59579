// The Date / X-Duo-Date header of signed Duo requests (duo_api.md §1.5). The signature covers
// the raw string; this parser only feeds the clock-skew check. Forms seen from clients:
//   Python  email.utils.formatdate()   Mon, 06 Jan 2025 15:04:05 -0000  (or a local ±hhmm)
//   Node    Date#toUTCString()         Mon, 06 Jan 2025 15:04:05 GMT
//   Go      time.RFC1123Z              Mon, 06 Jan 2025 15:04:05 +0000
//   duo_unix strftime("%a, %d %b %Y %T %z", localtime())   … +0100, with a locale-dependent
//            weekday, which is why the weekday is skipped without being read.

const MAX_LENGTH = 64;

const MONTHS: Record<string, number> = {
  jan: 0, feb: 1, mar: 2, apr: 3, may: 4, jun: 5, jul: 6, aug: 7, sep: 8, oct: 9, nov: 10, dec: 11,
};

// [weekday text ","] day month year hh:mm[:ss] zone   (RFC 5322 §3.3, single-space separated;
// the weekday is any run of non-space, non-comma characters so localised names pass).
const PATTERN = /^(?:[^\s,]{1,16}, ?)?(\d{1,2}) ([A-Za-z]{3}) (\d{4}) (\d{2}):(\d{2})(?::(\d{2}))? ([+-]\d{4}|GMT|UTC|UT)$/i;

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
}

/** Epoch milliseconds, or null for anything that is not one of the forms above. */
export function parseDuoDate(text: string): number | null {
  if (text.length > MAX_LENGTH) return null;
  const m = PATTERN.exec(text);
  if (m === null) return null;
  const day = Number(m[1]);
  const month = MONTHS[m[2]!.toLowerCase()];
  const year = Number(m[3]);
  const hour = Number(m[4]);
  const minute = Number(m[5]);
  const second = m[6] === undefined ? 0 : Number(m[6]);
  const zone = m[7]!.toUpperCase();
  if (month === undefined) return null;
  if (year < 1970 || day < 1 || day > daysInMonth(year, month)) return null;
  // RFC 5322 allows second 60 (leap second); no Duo client emits it, so it is refused like any
  // other out-of-range field rather than silently rolled over.
  if (hour > 23 || minute > 59 || second > 59) return null;

  let offsetMinutes = 0;
  if (zone.startsWith('+') || zone.startsWith('-')) {
    const hh = Number(zone.slice(1, 3));
    const mm = Number(zone.slice(3, 5));
    if (hh > 23 || mm > 59) return null;
    // "-0000" means UTC with no claim about local time (RFC 5322 §3.3); numerically it is +0000.
    offsetMinutes = (zone.startsWith('-') ? -1 : 1) * (hh * 60 + mm);
  }
  return Date.UTC(year, month, day, hour, minute, second) - offsetMinutes * 60_000;
}
