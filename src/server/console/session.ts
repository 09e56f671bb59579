// The console session cookie and the guard in front of every page but sign-in, setup and the
// static files: a live session (core/admin-sessions.ts) or no page; on every POST, a same-origin
// request carrying the session's CSRF token, or 403 and nothing changes.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { csrfMatches, findSession, type LiveSession } from '../../core/admin-sessions.js';
import type { Deps } from '../../core/deps.js';
import type { Core } from '../../core/service.js';
import { ConsoleRefusal, field, readForm, type Form } from './form.js';

export const COOKIE = '__Host-tandem_console';

export function sessionCookie(id: string): string {
  return `${COOKIE}=${id}; Path=/; Secure; HttpOnly; SameSite=Strict`;
}
export const CLEAR_COOKIE = `${COOKIE}=; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=0`;

/** The cookie's value, if exactly one was sent. */
export function cookieValue(request: FastifyRequest): string | undefined {
  const header = request.headers.cookie;
  if (typeof header !== 'string') return undefined;
  const values = header.split(';').map((c) => c.trim()).filter((c) => c.startsWith(`${COOKIE}=`)).map((c) => c.slice(COOKIE.length + 1));
  return values.length === 1 ? values[0] : undefined;
}

/** What an authenticated handler works with. */
export interface Signed {
  session: LiveSession;
  /** The core's deps with this admin as the actor of every audit entry. */
  deps: Deps;
  form: Form;
  peer: string;
}

const signed = new WeakMap<FastifyRequest, Signed>();

export function signedIn(request: FastifyRequest): Signed {
  const s = signed.get(request);
  if (!s) throw new Error('console route without the session guard');
  return s;
}

/**
 * A POST from another origin (when the browser says so) is refused whatever it carries. With
 * Referrer-Policy no-referrer, Chromium sends `Origin: null` even on a same-origin form POST:
 * that is accepted only when Sec-Fetch-Site says same-origin.
 */
export function sameOrigin(request: FastifyRequest): boolean {
  const site = request.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin') return false;
  const origin = request.headers.origin;
  if (origin === undefined) return true;
  if (origin === 'null') return site === 'same-origin';
  return origin === `https://${request.headers.host ?? ''}`;
}

export function guard(core: Core) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const session = await findSession(core.deps, cookieValue(request));
    if (!session) {
      if (request.method === 'GET' || request.method === 'HEAD') {
        await reply.code(303).header('location', '/console/signin').header('set-cookie', CLEAR_COOKIE).send();
        return;
      }
      throw new ConsoleRefusal(403, 'Your session has ended. Sign in again.');
    }
    const form = request.method === 'POST' ? readForm(request.body) : new Map<string, string>();
    if (request.method === 'POST' && (!sameOrigin(request) || !csrfMatches(session, field(form, 'csrf')))) {
      throw new ConsoleRefusal(403, 'This form has expired or did not come from the console. Reload the page and try again.');
    }
    signed.set(request, { session, deps: { ...core.deps, actor: session.admin.name }, form, peer: request.ip });
  };
}
