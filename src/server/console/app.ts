// The admin console: its own Fastify instance on its own listener (so its own origin, apart
// from the authenticator app and the portal), serving only /console/*. Every response carries a
// strict Content-Security-Policy (no inline script or style), nosniff and no-referrer; pages are
// never cached. Pages are rendered on the server with render.ts, where every value is escaped.
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import { CoreError } from '../../core/errors.js';
import type { Core } from '../../core/service.js';
import type { ServerLogger } from '../logger.js';
import { ConsoleRefusal } from './form.js';
import { registerAdmins } from './pages/admins.js';
import { registerDashboard } from './pages/dashboard.js';
import { registerEnrollments } from './pages/enrollments.js';
import { registerIntegrations } from './pages/integrations.js';
import { registerLog } from './pages/log.js';
import { page } from './pages/layout.js';
import { html } from './render.js';
import { registerSetup } from './pages/setup.js';
import { registerSignIn } from './pages/signin.js';
import { registerUsers } from './pages/users.js';
import { CONSOLE_CSS, CONSOLE_JS } from './static.js';

export const CONSOLE_CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";
/** Forms are small; a larger body is refused before it is read. */
export const CONSOLE_BODY_LIMIT = 64 * 1024;

export interface ConsoleAppOptions {
  core: Core;
  log: ServerLogger;
  tls?: { key: string; cert: string };
  /** The site CA's path, for the cafile line of client configs. */
  caCert: string;
}

const CORE_STATUS: Partial<Record<CoreError['code'], number>> = { bad_request: 400, not_found: 404, conflict: 409, refused: 409, rate_limited: 429 };

function errorPage(reply: FastifyReply, status: number, message: string): FastifyReply {
  const body = page({ title: status === 404 ? 'Not found' : status === 403 ? 'Refused' : 'Not done', error: message, body: html`<p><a href="/console/users">Back to the console</a></p>` });
  return reply.code(status).type('text/html; charset=utf-8').send(body.toString());
}

export function buildConsoleApp(o: ConsoleAppOptions): FastifyInstance {
  const app = Fastify({
    logger: false,
    ...(o.tls ? { https: o.tls } : {}),
    bodyLimit: CONSOLE_BODY_LIMIT,
    return503OnClosing: false,
    forceCloseConnections: true,
    requestTimeout: 30_000,
  });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  app.addHook('onSend', async (request, reply, payload) => {
    reply.header('content-security-policy', CONSOLE_CSP);
    reply.header('x-content-type-options', 'nosniff');
    reply.header('referrer-policy', 'no-referrer');
    reply.header('x-frame-options', 'DENY');
    reply.header('cross-origin-opener-policy', 'same-origin');
    reply.header('cross-origin-resource-policy', 'same-origin');
    if (!request.url.startsWith('/console/static/')) reply.header('cache-control', 'no-store');
    return payload;
  });

  app.setErrorHandler((err, request, reply) => {
    if (err instanceof ConsoleRefusal) return errorPage(reply, err.status, err.message);
    if (err instanceof CoreError) return errorPage(reply, CORE_STATUS[err.code] ?? 400, err.detail);
    const status = (err as { statusCode?: number }).statusCode;
    if (status === 413) return errorPage(reply, 413, 'That form is too large.');
    if (status === 415) return errorPage(reply, 415, 'Forms only.');
    if (status !== undefined && status >= 400 && status < 500) return errorPage(reply, status, 'The request could not be read.');
    o.log.error('console error', { path: request.url.split('?')[0], error: String(err) });
    return errorPage(reply, 500, 'Something went wrong; the server log has the details.');
  });
  app.setNotFoundHandler((_request, reply) => errorPage(reply, 404, 'There is no such page.'));

  app.get('/console', (_request, reply) => reply.code(303).header('location', '/console/').send());
  app.get('/console/static/console.js', (_request, reply) => reply.type('text/javascript; charset=utf-8').header('cache-control', 'max-age=300').send(CONSOLE_JS));
  app.get('/console/static/console.css', (_request, reply) => reply.type('text/css; charset=utf-8').header('cache-control', 'max-age=300').send(CONSOLE_CSS));
  registerSignIn(app, o.core);
  registerSetup(app, o.core);
  registerUsers(app, o.core);
  registerIntegrations(app, o.core, o.caCert);
  registerDashboard(app, o.core);
  registerLog(app, o.core);
  registerEnrollments(app, o.core);
  registerAdmins(app, o.core);
  return app;
}
