// The HTTP application: Duo-compatible routes behind one body parser and one error mapping.
import Fastify, { type FastifyInstance } from 'fastify';
import type { Core } from '../core/service.js';
import { toWireError, wireError, type WireError } from './error-map.js';
import type { ServerLogger } from './logger.js';
import { registerAuthV2 } from './routes/auth-v2.js';

export interface AppOptions {
  core: Core;
  log: ServerLogger;
  tls?: { key: string; cert: string };
}

function envelopeBytes(w: WireError): string {
  return JSON.stringify(w.body);
}

export function buildApp(o: AppOptions): FastifyInstance {
  const s = o.core.deps.settings;
  const keepAliveMs = s.keepAliveSeconds * 1000;
  const app = Fastify({
    logger: false,
    ...(o.tls ? { https: o.tls } : {}),
    bodyLimit: s.bodyLimitBytes,
    // duo_unix reuses one TLS connection for ping, preauth, auth and polls (duo_api.md §2.3).
    keepAliveTimeout: keepAliveMs,
    // Receiving a whole request must not take longer than this (slow senders); the handler's own
    // time (a sync auth, a long poll) is not counted.
    requestTimeout: keepAliveMs + 10_000,
    return503OnClosing: false,
    forceCloseConnections: true,
    // Malformed HTTP still gets Duo's envelope, never Node's default text.
    clientErrorHandler(_err, socket) {
      const body = envelopeBytes(wireError('bad_request', 'malformed HTTP request'));
      if (socket.writable) socket.end(`HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
    },
  });
  app.server.headersTimeout = keepAliveMs + 5_000;

  // Bodies stay raw bytes: v4/v5 signatures hash them exactly as received, and form decoding
  // must reject invalid UTF-8 rather than replace it.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  app.setErrorHandler((err, request, reply) => {
    const status = (err as { statusCode?: number }).statusCode;
    let w: WireError;
    if (status === 413) w = wireError('body_too_large', `request body is larger than ${s.bodyLimitBytes} bytes`);
    else if ((err as { code?: string }).code?.startsWith('FST_') && status !== undefined && status >= 400 && status < 500) w = wireError('bad_request', 'malformed request');
    else w = toWireError(err);
    if (w.body.code === 50000) o.log.error('internal error', { path: request.url, error: String(err) });
    if (w.retryAfter !== undefined) reply.header('Retry-After', String(w.retryAfter));
    return reply.code(w.http).type('application/json').send(w.body);
  });

  app.setNotFoundHandler((request, reply) => {
    o.log.garbage('unknown path', { method: request.method, path: (request.raw.url ?? '').slice(0, 200), peer: request.ip });
    const known = ['/auth/v2/ping', '/auth/v2/check', '/auth/v2/logo', '/auth/v2/preauth', '/auth/v2/auth', '/auth/v2/auth_status'];
    const path = (request.raw.url ?? '').split('?')[0];
    const w = known.includes(path ?? '') ? wireError('method_not_allowed') : wireError('not_found');
    return reply.code(w.http).type('application/json').send(w.body);
  });

  registerAuthV2(app, o.core, o.log);
  return app;
}
