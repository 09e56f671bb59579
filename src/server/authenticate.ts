// Verifying a signed request (duo_api.md §1.7): credentials → integration → signature → date.
// The signature is checked before the date so an unauthenticated caller learns nothing about the
// server's clock; /auth/v2/ping is exempt (duo_unix ≥ 2.1 uses it to learn the clock offset).
import { parseDuoDate } from '../protocol/duo-date.js';
import { parseAuthorization, verifySignature } from '../protocol/duo-signing.js';
import type { RequestContext } from '../core/context.js';
import { CoreError } from '../core/errors.js';
import type { Core } from '../core/service.js';
import type { ParsedRequest } from './request-params.js';

export interface AuthenticatedRequest {
  ctx: RequestContext;
  ikey: string;
  signature: string;
  /** 1 for the legacy undated scheme (duo_unix ≤ 2.0.3), else 2, 4 or 5. */
  signatureVersion: number;
  /** The skey that verified the request: it signs the response for our own clients. Never log. */
  skey: string;
}

export interface RequestFacts {
  method: string;
  headers: Record<string, string | string[] | undefined>;
  peer: string;
  parsed: ParsedRequest;
}

function single(h: string | string[] | undefined): string | undefined {
  return Array.isArray(h) ? undefined : h;
}

/** Configured host names, each with and without the port (duo_unix signs `host` without it). */
function hostCandidates(hosts: readonly string[], listenPort: number, hostHeader: string | undefined): string[] {
  const out = new Set<string>();
  const headerPort = hostHeader?.match(/:(\d{1,5})$/)?.[1];
  for (const h of hosts) {
    const name = h.toLowerCase();
    const bracketed = name.includes(':') ? `[${name}]` : name;
    out.add(name);
    out.add(bracketed);
    out.add(`${bracketed}:${listenPort}`);
    if (headerPort) out.add(`${bracketed}:${headerPort}`);
  }
  return [...out];
}

/**
 * `checkDate: false` is for /auth/v2/ping only: its answer is the server's clock, which a client
 * with a skewed clock needs (duo_unix ≥ 2.1); a verified ping is answered signed for our clients.
 */
export async function authenticate(core: Core, r: RequestFacts, o: { checkDate: boolean } = { checkDate: true }): Promise<AuthenticatedRequest> {
  const creds = parseAuthorization(single(r.headers['authorization']));
  if (!creds) throw new CoreError('missing_credentials', 'missing or malformed Authorization header');
  const keys = await core.integrationKeys(creds.ikey);
  if (!keys) throw new CoreError('unknown_integration', 'unknown integration key');

  const xDuo: Array<[string, string]> = [];
  for (const [name, value] of Object.entries(r.headers)) {
    if (!name.toLowerCase().startsWith('x-duo')) continue;
    if (typeof value !== 'string') throw new CoreError('bad_signature', 'repeated x-duo header');
    xDuo.push([name, value]);
  }
  const date = single(r.headers['x-duo-date']) ?? single(r.headers['date']);
  const s = core.deps.settings;
  const match = verifySignature({
    signature: creds.signature,
    skeys: keys.skeys,
    hosts: hostCandidates(s.hosts, s.listen.port, single(r.headers['host'])),
    method: r.method,
    path: r.parsed.path,
    date,
    params: r.parsed.signedParams,
    body: r.parsed.body,
    xDuoHeaders: xDuo,
    jsonBody: r.parsed.jsonBody,
    // Legacy v1 signs no date, so it can be replayed forever: only integrations created with
    // --legacy-v1, and only on the legacy /rest/v1 family that the clients signing it call.
    allowV1: keys.integration.legacyV1 && r.parsed.path.startsWith('/rest/v1/'),
  });
  if (!match) throw new CoreError('bad_signature', 'signature does not match');
  if (match.version !== 1 && o.checkDate) {
    const t = date === undefined ? null : parseDuoDate(date);
    if (t === null) throw new CoreError('bad_date', 'unparseable date');
    if (Math.abs(t - core.deps.clock.now()) > s.signatureSkewSeconds * 1000) throw new CoreError('bad_date', 'date outside the accepted clock skew');
  }
  return { ctx: { integration: keys.integration, peer: r.peer }, ikey: creds.ikey, signature: creds.signature, signatureVersion: match.version, skey: keys.skeys[match.skeyIndex]! };
}
