// `tandem log --since T`: ISO 8601 (`2024-05-01`, `2024-05-01T12:00:00Z`) or a relative
// duration back from now (`90s`, `15m`, `2h`, `7d`, `2w`).

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 };

/** Milliseconds since the epoch, or null when `text` is neither form. */
export function parseSince(text: string, now: number): number | null {
  const rel = /^([0-9]{1,9})([smhdw])$/.exec(text);
  if (rel) return now - Number(rel[1]) * UNIT_MS[rel[2]!]!;
  if (!/^[0-9]{4}-[0-9]{2}-[0-9]{2}([T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?(Z|[+-][0-9]{2}:?[0-9]{2})?)?$/.test(text)) return null;
  const t = Date.parse(text);
  return Number.isNaN(t) ? null : t;
}
