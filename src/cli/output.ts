// Rendering for the terminal: aligned tables, key/value blocks, times, and JSON. Strings that
// come from Unix hosts (usernames, host names) may hold escape sequences meant for the
// operator's terminal, so every cell goes through `safe`.

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;

/** Control characters shown as \xHH / \uHHHH instead of being sent to the terminal. */
export function safe(s: string): string {
  return s.replace(CONTROL, (c) => {
    const code = c.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

/** ISO 8601 in UTC without milliseconds; '-' for none. */
export function when(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '-';
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function cell(v: string | number | boolean | null | undefined): string {
  if (v === null || v === undefined || v === '') return '-';
  return safe(String(v));
}

/** Columns separated by two spaces, padded to the widest cell; the last column is not padded. */
export function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: readonly string[]): string =>
    r
      .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}

/** `key: value` lines with the values aligned. */
export function keyValues(pairs: readonly (readonly [string, string])[]): string {
  const width = Math.max(...pairs.map(([k]) => k.length)) + 1;
  return pairs.map(([k, v]) => `${(k + ':').padEnd(width)} ${v}`).join('\n');
}

const TIME_KEY = /(At|Until)$|^time$/;

/** JSON for output: epoch-millisecond fields (`…At`, `…Until`, `time`) become ISO 8601 strings. */
export function withIsoTimes(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(withIsoTimes);
  if (typeof v !== 'object' || v === null) return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) {
    out[k] = TIME_KEY.test(k) && typeof x === 'number' ? new Date(x).toISOString() : withIsoTimes(x);
  }
  return out;
}

export function toJson(v: unknown): string {
  return JSON.stringify(withIsoTimes(v), null, 2);
}
