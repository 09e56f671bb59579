// Console form bodies: application/x-www-form-urlencoded only, strict UTF-8 (protocol/form.ts
// refuses malformed escapes and invalid bytes), no repeated fields, no control characters other
// than tab and line breaks. Anything else is refused before a handler sees it.
import { parseForm } from '../../protocol/form.js';

export class ConsoleRefusal extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
    this.name = 'ConsoleRefusal';
  }
}

// eslint-disable-next-line no-control-regex -- refusing control characters is the point
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;

export type Form = ReadonlyMap<string, string>;

export function readForm(body: unknown): Form {
  if (body === undefined || body === null) return new Map();
  if (!Buffer.isBuffer(body)) throw new ConsoleRefusal(415, 'Forms only.');
  let pairs: Array<[string, string]>;
  try {
    pairs = parseForm(body);
  } catch {
    throw new ConsoleRefusal(400, 'The form could not be read (it is not valid UTF-8).');
  }
  const form = new Map<string, string>();
  for (const [k, v] of pairs) {
    if (form.has(k)) throw new ConsoleRefusal(400, 'The form has a field twice.');
    if (CONTROL.test(k) || CONTROL.test(v)) throw new ConsoleRefusal(400, 'The form contains characters that are not allowed.');
    form.set(k, v);
  }
  return form;
}

/** A field's value ('' when absent). */
export const field = (f: Form, name: string): string => f.get(name) ?? '';
