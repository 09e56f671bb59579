// Small string predicates shared by the parsers in protocol/.

/** A UTF-16 string with an unpaired surrogate cannot be encoded as UTF-8 without loss. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export function hasLoneSurrogate(s: string): boolean {
  return LONE_SURROGATE.test(s);
}

/**
 * C0 and C1 controls, DEL, and the Unicode bidi embedding/override/isolate marks. Strings that
 * reach a terminal (PAM prompts) or a web page from a client must not carry these: they can
 * rewrite what the user sees (escape sequences, right-to-left spoofing).
 */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL_CHARS = /[\u0000-\u001F\u007F-\u009F\u200E\u200F\u202A-\u202E\u2066-\u2069]/g;

export function hasControlChars(s: string): boolean {
  return new RegExp(CONTROL_CHARS.source).test(s);
}

export function stripControlChars(s: string): string {
  return s.replace(CONTROL_CHARS, '');
}

/** String.prototype.toWellFormed (ES2024): lone surrogates become U+FFFD, as UTF-8 storage does. */
export function toWellFormed(s: string): string {
  return s.replace(new RegExp(LONE_SURROGATE, 'g'), '\ufffd');
}
