// What the Tandem Authenticator's API routes share (docs/push.md §2): plain JSON answers (not
// Duo envelopes), `Cache-Control: no-store`, bodies of at most 16 KiB, strict JSON bodies, and
// device-signed requests (Tandem-Device / Tandem-Time / Tandem-Signature headers, verified by
// core/device-auth.ts over the raw body bytes app.ts keeps). Every authentication failure is the
// same `401 {"error":"unauthorized"}`.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { verifyDeviceRequest } from '../core/device-auth.js';
import { CoreError } from '../core/errors.js';
import type { Core } from '../core/service.js';
import type { DeviceRow } from '../store/contract.js';

export const APP_API_BODY_LIMIT = 16 * 1024;

export const DEVICE_HEADER = 'tandem-device';
export const TIME_HEADER = 'tandem-time';
export const DEVICE_SIGNATURE_HEADER = 'tandem-signature';

/** Thrown by an app API handler: answered as `status {"error": error}`. */
export class AppApiError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
  ) {
    super(error);
    this.name = 'AppApiError';
  }
}

export const badRequest = (): AppApiError => new AppApiError(400, 'bad_request');

export function sendAppError(reply: FastifyReply, status: number, error: string): FastifyReply {
  return reply.code(status).header('cache-control', 'no-store').type('application/json; charset=utf-8').send({ error });
}

function single(v: string | string[] | undefined): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

function rawBody(request: FastifyRequest): Buffer | undefined {
  return Buffer.isBuffer(request.body) ? request.body : undefined;
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

/**
 * The body as JSON: Content-Type application/json (charset, if any, utf-8), at most 16 KiB of
 * valid UTF-8, one JSON value. Anything else throws badRequest(). Validating the value's shape
 * is the caller's job (hostile keys such as "__proto__" come back as plain own properties).
 */
export function parseJsonBody(request: FastifyRequest): unknown {
  const type = single(request.headers['content-type'])?.toLowerCase().replace(/\s+/g, '');
  if (type !== 'application/json' && type !== 'application/json;charset=utf-8') throw badRequest();
  const body = rawBody(request);
  if (!body || body.length === 0 || body.length > APP_API_BODY_LIMIT) throw badRequest();
  let text: string;
  try {
    text = utf8.decode(body);
    return JSON.parse(text) as unknown;
  } catch {
    throw badRequest();
  }
}

/** A plain-object check that refuses arrays, null and objects with another prototype. */
export function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

/** True when `o` has exactly these own keys (required ones) plus optionally the optional ones. */
export function hasExactKeys(o: Record<string, unknown>, required: readonly string[], optional: readonly string[] = []): boolean {
  const keys = Object.keys(o);
  if (Object.getOwnPropertySymbols(o).length > 0) return false;
  for (const k of required) if (!Object.prototype.hasOwnProperty.call(o, k)) return false;
  return keys.every((k) => required.includes(k) || optional.includes(k));
}

/**
 * The app API's routes go inside this scope: its own error handler answers plain JSON
 * (`400 {"error":"bad_request"}` for malformed or oversized requests, AppApiError as thrown,
 * `500 {"error":"internal"}` otherwise), every route gets the 16 KiB body limit, and every answer
 * `Cache-Control: no-store`.
 */
export function registerAppApi(app: FastifyInstance, core: Core, routes: (scope: FastifyInstance) => void): void {
  void app.register(async (scope) => {
    scope.addHook('onRoute', (opts) => {
      opts.bodyLimit = Math.min(opts.bodyLimit ?? APP_API_BODY_LIMIT, APP_API_BODY_LIMIT);
    });
    scope.addHook('onRequest', async (_request, reply) => {
      reply.header('cache-control', 'no-store');
    });
    scope.setErrorHandler((err, request, reply) => {
      if (err instanceof AppApiError) return sendAppError(reply, err.status, err.error);
      if (err instanceof CoreError && err.code === 'bad_request') return sendAppError(reply, 400, 'bad_request');
      if (err instanceof CoreError && err.code === 'rate_limited') {
        if (err.retryAfterSeconds !== undefined) void reply.header('retry-after', String(err.retryAfterSeconds));
        return sendAppError(reply, 429, 'rate_limited');
      }
      const status = (err as { statusCode?: number }).statusCode;
      if (request.raw.aborted || (status !== undefined && status >= 400 && status < 500)) return sendAppError(reply, 400, 'bad_request');
      core.deps.log.error('internal error', { path: (request.raw.url ?? '').slice(0, 200), error: String(err) });
      return sendAppError(reply, 500, 'internal');
    });
    routes(scope);
  });
}

/** A route handler given the authenticated device. Return the JSON body (or the reply after sending). */
export type DeviceHandler = (request: FastifyRequest, reply: FastifyReply, device: DeviceRow) => Promise<unknown>;

/**
 * Wraps a handler so that it runs only for a correctly device-signed request; anything else gets
 * `401 {"error":"unauthorized"}` (the reason is in the server log at debug). An AppApiError thrown
 * by the handler is answered as `status {"error"}`; other errors propagate to the error handler.
 */
export function deviceAuthed(core: Core, handler: DeviceHandler): (request: FastifyRequest, reply: FastifyReply) => Promise<unknown> {
  return async (request, reply) => {
    reply.header('cache-control', 'no-store');
    const body = rawBody(request);
    if (body && body.length > APP_API_BODY_LIMIT) return sendAppError(reply, 400, 'bad_request');
    let device: DeviceRow;
    try {
      device = await verifyDeviceRequest(core.deps, {
        deviceId: single(request.headers[DEVICE_HEADER]),
        time: single(request.headers[TIME_HEADER]),
        signatureB64url: single(request.headers[DEVICE_SIGNATURE_HEADER]),
        method: request.method,
        path: request.raw.url ?? '/',
        body,
      });
    } catch (e) {
      if (e instanceof CoreError) return sendAppError(reply, 401, 'unauthorized');
      throw e;
    }
    try {
      return await handler(request, reply, device);
    } catch (e) {
      if (e instanceof AppApiError) return sendAppError(reply, e.status, e.error);
      throw e;
    }
  };
}
