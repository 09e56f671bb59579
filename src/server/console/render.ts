// The console's one way to make HTML: the `html` tagged template. Every interpolated value is
// HTML-escaped unless it is itself an Html made by this tag, so text from users, hosts and forms
// can only ever be text. There is deliberately no way to turn a string into Html.
import { toWellFormed } from '../../protocol/text-checks.js';

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;', '`': '&#96;' };
// Control characters and bidi overrides/isolates (which can make a name read as another) are
// shown as U+FFFD.
// eslint-disable-next-line no-control-regex -- that is the point
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

export function escapeHtml(s: string): string {
  return toWellFormed(s).replace(CONTROL, '\ufffd').replace(/[&<>"'`]/g, (c) => ESCAPES[c]!);
}

const MADE_HERE = Symbol('html');

export class Html {
  readonly #text: string;
  constructor(key: symbol, text: string) {
    if (key !== MADE_HERE) throw new Error('Html is made only by the html tag');
    this.#text = text;
  }
  toString(): string {
    return this.#text;
  }
}

export type Interpolation = Html | string | number | boolean | null | undefined | readonly Interpolation[];

function render(v: Interpolation): string {
  if (v instanceof Html) return v.toString();
  if (Array.isArray(v)) return v.map(render).join('');
  if (v === null || v === undefined || v === false || v === true) return '';
  if (typeof v === 'number') return escapeHtml(String(v));
  if (typeof v === 'string') return escapeHtml(v);
  throw new TypeError('cannot render this value as HTML');
}

export function html(strings: TemplateStringsArray, ...values: Interpolation[]): Html {
  let out = strings[0]!;
  values.forEach((v, i) => {
    out += render(v) + strings[i + 1]!;
  });
  return new Html(MADE_HERE, out);
}

/** ISO 8601 in UTC without milliseconds; '—' for none. */
export function when(ms: number | null | undefined): string {
  return ms === null || ms === undefined ? '—' : new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
