// The HTTP application: Duo-compatible routes behind one body parser and one error mapping.
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import type { Core } from '../core/service.js';
import { toWireError, wireError, type WireError } from './error-map.js';
import type { ServerLogger } from './logger.js';
import { registerAppRequests } from './routes/app-requests.js';
import { registerAppDevices } from './routes/app-devices.js';
import { registerPortal } from './portal/routes.js';
import { registerAppPasskeys } from './routes/app-passkeys.js';
import { registerAuthV2 } from './routes/auth-v2.js';
import { registerAuthV2Enroll } from './routes/auth-v2-enroll.js';
import { registerRestV1 } from './routes/rest-v1.js';
import { appDistDir, registerAppStatic } from './routes/app-static.js';
import { sendAnswer } from './reply.js';
import { responseKeys } from './signed-requests.js';
import { NONCE_HEADER, SIGNATURE_HEADER, isNonce, responseSignature } from '../protocol/response-signature.js';

export interface AppOptions {
  core: Core;
  log: ServerLogger;
  tls?: { key: string; cert: string };
}

/** Paths that exist (with another method): a wrong method there is 405, not 404. */
const KNOWN_PATHS = /^\/(auth\/v2\/(ping|check|logo|preauth|auth|auth_status|enroll|enroll_status)|rest\/v1\/(preauth|auth|status)\.(bson|json))$/;

function envelopeBytes(w: WireError): string {
  return JSON.stringify(w.body);
}

export function buildApp(o: AppOptions): FastifyInstance {
  const s = o.core.deps.settings;
  const keepAliveMs = s.keepAliveSeconds * 1000;
  const app = Fastify({
    logger: false,
    // requireHostHeader: an HTTP/1.1 request without Host gets our envelope, not Node's bare 400
    // (signed requests name their host in the signature, not in the header).
    ...(o.tls ? { https: { ...o.tls, requireHostHeader: false } } : {}),
    bodyLimit: s.bodyLimitBytes,
    // duo_unix reuses one TLS connection for ping, preauth, auth and polls (duo_api.md §2.3).
    keepAliveTimeout: keepAliveMs,
    // Receiving a whole request must not take longer than this (slow senders); the handler's own
    // time (a sync auth, a long poll) is not counted.
    requestTimeout: keepAliveMs + 10_000,
    return503OnClosing: false,
    forceCloseConnections: true,
    // A path with a malformed escape never reaches routing: answer it in the envelope too.
    frameworkErrors(_err, request, reply) {
      o.log.garbage('malformed URL', { peer: request.ip });
      void sendAnswer(reply as unknown as FastifyReply, wireError('bad_request', 'malformed URL'));
    },
    // Malformed HTTP still gets Duo's envelope, never Node's default text.
    clientErrorHandler(_err, socket) {
      const body = envelopeBytes(wireError('bad_request', 'malformed HTTP request'));
      if (socket.writable) socket.end(`HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
    },
  });
  app.server.headersTimeout = keepAliveMs + 5_000;
  // Node answers an unknown Expect header with a bare 417; answer with the envelope instead.
  app.server.on('checkExpectation', (_req, res) => {
    const body = envelopeBytes(wireError('bad_request', 'unsupported Expect header'));
    res.writeHead(400, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), connection: 'close' });
    res.end(body);
  });

  // Bodies stay raw bytes: v4/v5 signatures hash them exactly as received, and form decoding
  // must reject invalid UTF-8 rather than replace it.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  app.setErrorHandler((err, request, reply) => {
    const status = (err as { statusCode?: number }).statusCode;
    let w: WireError;
    if (request.raw.aborted || (err as { code?: string }).code === 'ECONNRESET' || (err as Error).message === 'aborted') {
      // The client cut its own request short (a truncated body): garbage, not a server fault.
      o.log.garbage('request body cut short', { path: (request.raw.url ?? '').slice(0, 200), peer: request.ip });
      w = wireError('bad_request', 'incomplete request body');
    } else if (status === 413) w = wireError('body_too_large', `request body is larger than ${s.bodyLimitBytes} bytes`);
    else if ((err as { code?: string }).code?.startsWith('FST_') && status !== undefined && status >= 400 && status < 500) w = wireError('bad_request', 'malformed request');
    else w = toWireError(err);
    if (w.body.code === 50000) o.log.error('internal error', { path: request.url, error: String(err) });
    return sendAnswer(reply, w);
  });

  app.setNotFoundHandler((request, reply) => {
    o.log.garbage('unknown path', { method: request.method, path: (request.raw.url ?? '').slice(0, 200), peer: request.ip });
    const path = (request.raw.url ?? '').split('?')[0] ?? '';
    return sendAnswer(reply, KNOWN_PATHS.test(path) ? wireError('method_not_allowed') : wireError('not_found'));
  });

  // Our own clients send a nonce and refuse any answer not signed over it (protocol/response-signature.ts).
  app.addHook('onSend', async (request, reply, payload) => {
    const nonce = request.headers[NONCE_HEADER];
    const skey = responseKeys.get(request);
    if (!isNonce(nonce) || skey === undefined) return payload;
    const body = typeof payload === 'string' || Buffer.isBuffer(payload) ? payload : '';
    const path = (request.raw.url ?? '').split('?')[0] ?? '';
    reply.header(SIGNATURE_HEADER, responseSignature({ skey, nonce, method: request.method, path, body }));
    return payload;
  });

  registerAuthV2(app, o.core, o.log);
  registerRestV1(app, o.core, o.log);
  registerAppStatic(app, { dir: appDistDir(), log: o.log });
  registerAuthV2Enroll(app, o.core, o.log);
  registerAppDevices(app, o.core);
  registerAppRequests(app, o.core);
  registerPortal(app, o.core, o.log);
  registerAppPasskeys(app, o.core);
  return app;
}
