// What every portal answer shares: the strict headers, the session cookie, same-origin checks and
// strict form reading (invalid UTF-8, control characters or oversized values are refused).
import type { FastifyReply, FastifyRequest } from 'fastify';
import { parseForm } from '../../protocol/form.js';
import { hasControlChars } from '../../protocol/text-checks.js';
import { PORTAL_SESSION_SECONDS } from '../../core/portal/session.js';

export const PORTAL_CSP = "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";
export const COOKIE = '__Host-tandem_portal';
/** Portal forms are a few short fields. */
export const PORTAL_BODY_LIMIT = 8 * 1024;
const MAX_FIELD = 200;

export function portalHeaders(reply: FastifyReply): FastifyReply {
  return reply
    .header('Content-Security-Policy', PORTAL_CSP)
    .header('X-Content-Type-Options', 'nosniff')
    .header('Referrer-Policy', 'no-referrer')
    .header('X-Frame-Options', 'DENY')
    .header('Cache-Control', 'no-store');
}

export function sendPage(reply: FastifyReply, status: number, page: string): FastifyReply {
  return portalHeaders(reply).code(status).type('text/html; charset=utf-8').send(page);
}

export function setSessionCookie(reply: FastifyReply, id: string): void {
  reply.header('Set-Cookie', `${COOKIE}=${id}; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=${PORTAL_SESSION_SECONDS}`);
}

export function clearSessionCookie(reply: FastifyReply): void {
  reply.header('Set-Cookie', `${COOKIE}=; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=0`);
}

/** The portal cookie's value (the first one named exactly so), or undefined. */
export function sessionCookie(request: FastifyRequest): string | undefined {
  const header = request.headers.cookie;
  if (typeof header !== 'string' || header.length > 8192) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === COOKIE) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/**
 * A browser says where a POST comes from (Sec-Fetch-Site, Origin); one from another site is
 * refused whatever else it carries. The portal's pages are served with Referrer-Policy
 * no-referrer, under which browsers send `Origin: null` even on a same-origin form POST: that is
 * accepted only with Sec-Fetch-Site: same-origin. A real Origin must be this host. Requests with
 * neither header (old browsers, tests) rely on SameSite=Strict and the CSRF token.
 */
export function crossSite(request: FastifyRequest): boolean {
  const site = request.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin' && site !== 'none') return true;
  const origin = request.headers.origin;
  if (typeof origin !== 'string') return false;
  if (origin === 'null') return site !== 'same-origin';
  const host = request.headers.host;
  return typeof host !== 'string' || origin !== `https://${host}`;
}

export class BadForm extends Error {}

/** The form's fields; repeated, unknown-shaped or hostile input is BadForm. */
export function readForm(request: FastifyRequest, allowed: readonly string[]): Record<string, string> {
  const type = String(request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') throw new BadForm('not a form');
  const body = request.body;
  let pairs: Array<[string, string]>;
  try {
    pairs = parseForm(Buffer.isBuffer(body) ? body : Buffer.alloc(0));
  } catch {
    throw new BadForm('not valid form data');
  }
  const out: Record<string, string> = {};
  for (const [k, v] of pairs) {
    if (!allowed.includes(k) || Object.hasOwn(out, k)) throw new BadForm('unexpected field');
    if (v.length > MAX_FIELD || hasControlChars(v)) throw new BadForm('field too long or not printable');
    out[k] = v;
  }
  return out;
}
