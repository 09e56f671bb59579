// Turning untrusted text into what the app shows. Pure string work (no DOM): the result is still
// only ever assigned with textContent.
import { parseForm } from '../../../src/protocol/form.js';

/**
 * pushinfo (application/x-www-form-urlencoded text) as key/value rows in wire order — parsed by the
 * server's own parser, so both sides split it the same way — or null when it does not decode (the
 * caller then shows the raw text).
 */
export function pushinfoRows(pushinfo: string): Array<[string, string]> | null {
  try {
    return parseForm(pushinfo);
  } catch {
    return null;
  }
}

/** Longest text shown for one field; the rest is elided (what is signed is never shortened). */
export const MAX_SHOWN = 300;

// C0/C1 controls, bidi embeddings/overrides/isolates and marks, zero-width and line/paragraph
// separators, BOM: characters that can hide or reorder what a hostile host name seems to say.
// Each listed character is matched on its own (variation selectors and fillers included), so
// the combined-character warning does not apply.
// eslint-disable-next-line no-control-regex, no-misleading-character-class
const INVISIBLE = /[\u0000-\u001f\u007f-\u009f\u00ad\u061c\u115f\u1160\u17b4\u17b5\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff0-\ufffb]/g;

/** Untrusted text made safe to look at: invisible and reordering characters become visible \u escapes, long text is cut. */
export function shown(text: string | null | undefined, empty = '—'): string {
  if (text === null || text === undefined || text === '') return empty;
  const visible = text.replace(INVISIBLE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return visible.length > MAX_SHOWN ? `${visible.slice(0, MAX_SHOWN)}…` : visible;
}

/** "1:05", "42 s", or "expired". */
export function timeLeft(expiresAt: number, nowMs: number): string {
  const s = Math.ceil((expiresAt - nowMs) / 1000);
  if (s <= 0) return 'expired';
  if (s < 60) return `${s} s`;
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

/** The request's kind as a word: the server's `type` (untrusted) with "Login" for the usual one. */
export function typeLabel(type: string | null | undefined): string {
  if (type === null || type === undefined || type === '' || type.toLowerCase() === 'login' || type.toLowerCase() === 'push') return 'Login';
  return shown(type);
}
