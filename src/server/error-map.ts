// The one place where errors become wire answers (Duo's envelope).
//
// Authentication failures (unknown ikey, bad signature, bad date, replay) answer HTTP 403, not
// Duo's 401: stock duo_unix applies its failmode to a 401, and with the default failmode=safe it
// would let users in whenever an skey is rotated or an integration deleted. For the same reason
// nothing answers 5xx: an internal error is a 200 with stat FAIL, which duo_unix counts as a
// failed attempt and every Duo client library raises on.
import { ProtocolError } from '../protocol/errors.js';
import { CoreError, type CoreErrorCode } from '../core/errors.js';

export interface WireError {
  http: number;
  body: { stat: 'FAIL'; code: number; message: string; message_detail?: string };
  retryAfter?: number;
}

type ServerOnly = 'method_not_allowed' | 'body_too_large' | 'internal';

const WIRE: Record<CoreErrorCode | ServerOnly, { http: number; code: number; message: string }> = {
  bad_request: { http: 400, code: 40002, message: 'Invalid request parameters' },
  body_too_large: { http: 400, code: 40002, message: 'Invalid request parameters' },
  missing_credentials: { http: 403, code: 40101, message: 'Missing request credentials' },
  unknown_integration: { http: 403, code: 40102, message: 'Invalid integration key in request credentials' },
  bad_signature: { http: 403, code: 40103, message: 'Invalid signature in request credentials' },
  replayed_request: { http: 403, code: 40103, message: 'Invalid signature in request credentials' },
  bad_date: { http: 403, code: 40105, message: 'Invalid or expired timestamp in request credentials' },
  rate_limited: { http: 429, code: 42901, message: 'Too Many Requests' },
  not_found: { http: 404, code: 40401, message: 'Resource not found' },
  method_not_allowed: { http: 405, code: 40501, message: 'Method not allowed' },
  conflict: { http: 400, code: 40002, message: 'Invalid request parameters' },
  refused: { http: 400, code: 40002, message: 'Invalid request parameters' },
  internal: { http: 200, code: 50000, message: 'Internal server error' },
};

export function wireError(code: CoreErrorCode | ServerOnly, detail?: string, retryAfter?: number): WireError {
  const w = WIRE[code];
  const body: WireError['body'] = { stat: 'FAIL', code: w.code, message: w.message };
  if (detail) body.message_detail = detail;
  return retryAfter === undefined ? { http: w.http, body } : { http: w.http, body, retryAfter };
}

/** Any thrown value → a wire error; unknown errors become `internal` with no detail. */
export function toWireError(e: unknown): WireError {
  if (e instanceof CoreError) return wireError(e.code, e.detail, e.retryAfterSeconds);
  if (e instanceof ProtocolError) return wireError('bad_request', e.message);
  return wireError('internal');
}
