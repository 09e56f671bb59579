// Turning a request into (a) the parameter list the signature covers and (b) the named values the
// endpoint reads. The wire encoding differs per client (Python sends `+` for spaces, Node leaves
// `!'()*` bare, duo_unix sends the canonical form), so parameters are always decoded and the
// signature is recomputed over the canonical re-encoding (duo_api.md §1.3), never over raw bytes.
import { parseForm } from '../protocol/form.js';
import { hasLoneSurrogate } from '../protocol/text-checks.js';
import { CoreError } from '../core/errors.js';

export interface ParsedRequest {
  /** Raw path exactly as on the request line (what clients sign). */
  path: string;
  /** Parameters covered by the signature's params line. */
  signedParams: Array<[string, string]>;
  /** All parameters, for the endpoint. */
  params: Array<[string, string]>;
  jsonBody: boolean;
  body: Buffer;
}

const JSON_DEPTH_REFUSED = 'JSON parameters must be strings, numbers, booleans or arrays of them';

function jsonParams(body: Buffer): Array<[string, string]> {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(body);
  } catch {
    throw new CoreError('bad_request', 'the body is not valid UTF-8');
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new CoreError('bad_request', 'the body is not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new CoreError('bad_request', 'the JSON body must be an object');
  const out: Array<[string, string]> = [];
  const scalar = (k: string, v: unknown): void => {
    // JSON escapes can spell lone surrogates ("\ud800"), which no UTF-8 store can keep: refuse
    // them, as the form decoder does, rather than record a name that reads back differently.
    if (hasLoneSurrogate(k) || (typeof v === 'string' && hasLoneSurrogate(v))) throw new CoreError('bad_request', 'parameters must be valid Unicode');
    // duo_client_python ≥ 5.1 passes bools and numbers through in v5 JSON bodies.
    if (typeof v === 'string') out.push([k, v]);
    else if (typeof v === 'number' && Number.isFinite(v)) out.push([k, String(v)]);
    else if (typeof v === 'boolean') out.push([k, v ? 'true' : 'false']);
    else throw new CoreError('bad_request', JSON_DEPTH_REFUSED);
  };
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (Array.isArray(v)) v.forEach((x) => scalar(k, x));
    else scalar(k, v);
  }
  return out;
}

export function parseRequest(rawUrl: string, contentType: string | undefined, body: Buffer | undefined): ParsedRequest {
  const q = rawUrl.indexOf('?');
  const path = q === -1 ? rawUrl : rawUrl.slice(0, q);
  const query = parseForm(q === -1 ? '' : rawUrl.slice(q + 1));
  const raw = body ?? Buffer.alloc(0);
  const mediaType = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (mediaType === 'application/json') {
    // v4/v5: the body is covered by its hash; the params line holds the query string only.
    return { path, signedParams: query, params: [...query, ...jsonParams(raw)], jsonBody: true, body: raw };
  }
  const form = raw.length > 0 ? parseForm(raw) : [];
  const all = [...query, ...form];
  return { path, signedParams: all, params: all, jsonBody: false, body: raw };
}

/** Named access with Duo's rules: unknown names are ignored, a repeated name is refused. */
export class Params {
  private readonly map = new Map<string, string>();
  constructor(pairs: Array<[string, string]>) {
    for (const [k, v] of pairs) {
      if (this.map.has(k)) throw new CoreError('bad_request', `parameter ${k} is repeated`);
      this.map.set(k, v);
    }
  }
  optional(name: string, max = 1024): string | null {
    const v = this.map.get(name);
    if (v === undefined || v === '') return null;
    if (v.length > max) throw new CoreError('bad_request', `parameter ${name} is too long`);
    return v;
  }
  required(name: string, max = 1024): string {
    const v = this.optional(name, max);
    if (v === null) throw new CoreError('bad_request', `missing parameter ${name}`);
    return v;
  }
  flag(name: string): boolean {
    const v = this.optional(name, 8);
    if (v === null || v === '0' || v === 'false') return false;
    if (v === '1' || v === 'true') return true;
    throw new CoreError('bad_request', `parameter ${name} must be 0 or 1`);
  }
  oneOf<T extends string>(name: string, allowed: readonly T[]): T {
    const v = this.required(name, 64);
    if (!(allowed as readonly string[]).includes(v)) throw new CoreError('bad_request', `parameter ${name} must be one of ${allowed.join(', ')}`);
    return v as T;
  }
}
