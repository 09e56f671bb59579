// A minimal browser stand-in for the enrollment portal over fastify.inject: one cookie jar, the
// CSRF token read from the last page, and the TOTP secret read from the page as a user would.
import type { FastifyInstance } from 'fastify';
import { base32Decode } from '../../src/protocol/base32.js';
import { hotp } from '../../src/protocol/hotp.js';
import { totpStep } from '../../src/protocol/totp.js';

export interface PortalAnswer {
  status: number;
  headers: Record<string, unknown>;
  body: string;
}

export function totpNow(secretBase32: string, nowMs: number, offsetSteps = 0): string {
  return hotp(base32Decode(secretBase32), totpStep(nowMs, 30) + offsetSteps, { digits: 6, algorithm: 'sha1' });
}

export const secretOf = (page: string): string | undefined => /data-testid="totp-secret">([A-Z2-7]+)</.exec(page)?.[1];
export const csrfOf = (page: string): string | undefined => /name="csrf" value="([^"]+)"/.exec(page)?.[1];

export class PortalClient {
  cookie: string | undefined;
  csrf: string | undefined;

  constructor(private readonly app: FastifyInstance) {}

  private remember(a: PortalAnswer): PortalAnswer {
    const set = a.headers['set-cookie'];
    const line = Array.isArray(set) ? String(set[0]) : typeof set === 'string' ? set : undefined;
    if (line) {
      const m = /^__Host-tandem_portal=([^;]*)/.exec(line);
      if (m) this.cookie = m[1] === '' ? undefined : m[1];
    }
    const c = csrfOf(a.body);
    if (c) this.csrf = c;
    return a;
  }

  async get(url: string): Promise<PortalAnswer> {
    const r = await this.app.inject({ method: 'GET', url, headers: this.cookie ? { cookie: `__Host-tandem_portal=${this.cookie}` } : {} });
    return this.remember({ status: r.statusCode, headers: r.headers, body: r.body });
  }

  /** POSTs a raw body (already form-encoded) or fields (with the CSRF token unless csrf: null). */
  async post(url: string, fields: Record<string, string> | Buffer | string = {}, o: { csrf?: string | null; headers?: Record<string, string> } = {}): Promise<PortalAnswer> {
    let payload: string | Buffer;
    if (typeof fields === 'string' || Buffer.isBuffer(fields)) payload = fields;
    else {
      const all = { ...fields };
      const csrf = o.csrf === undefined ? this.csrf : o.csrf;
      if (csrf !== null && csrf !== undefined) all['csrf'] = csrf;
      payload = new URLSearchParams(all).toString();
    }
    const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', ...o.headers };
    if (this.cookie) headers['cookie'] = `__Host-tandem_portal=${this.cookie}`;
    const r = await this.app.inject({ method: 'POST', url, headers, payload });
    return this.remember({ status: r.statusCode, headers: r.headers, body: r.body });
  }

  /** Opens a link (GET, then "Continue") and follows to the home page. */
  async enter(path: string): Promise<PortalAnswer> {
    const opened = await this.get(path);
    if (opened.status !== 200) return opened;
    const cont = await this.post(path, '');
    if (cont.status !== 303) return cont;
    return this.get('/portal/');
  }
}
