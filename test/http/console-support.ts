// An in-process admin console for tests: the console app on the HTTP harness's deps (movable
// clock, SQLite), driven through fastify.inject like a browser would (cookies, CSRF fields).
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { createAdmin, setupState } from '../../src/core/admins.js';
import { base32Decode } from '../../src/protocol/base32.js';
import { hotp } from '../../src/protocol/hotp.js';
import { totpStep } from '../../src/protocol/totp.js';
import type { Settings } from '../../src/config/settings.js';
import { buildConsoleApp } from '../../src/server/console/app.js';
import { startHarness, type Harness } from '../support/harness.js';

export const PASSWORD = 'correct horse battery staple';

export interface TestAdmin {
  name: string;
  token: string;
  secret: Buffer;
  password: string;
}

export interface SignedInAdmin extends TestAdmin {
  cookie: string;
  csrf: string;
}

export interface ConsoleHarness {
  h: Harness;
  app: FastifyInstance;
  close(): Promise<void>;
  /** A new admin with a setup link (not yet set up). */
  newAdmin(name: string): Promise<TestAdmin>;
  /** The current TOTP code; `advance` first moves the clock one step so a fresh code exists. */
  code(a: Pick<TestAdmin, 'secret'>, advance?: boolean): string;
  /** Completes setup through the setup form. */
  setUp(a: TestAdmin): Promise<LightMyRequestResponse>;
  signIn(a: TestAdmin, o?: { password?: string; code?: string }): Promise<LightMyRequestResponse>;
  /** newAdmin + setUp + signIn, with the session cookie and a CSRF token. */
  admin(name: string): Promise<SignedInAdmin>;
  get(url: string, cookie?: string): Promise<LightMyRequestResponse>;
  post(url: string, fields: Record<string, string> | string, cookie?: string, headers?: Record<string, string>): Promise<LightMyRequestResponse>;
  /** The CSRF token in a page's forms. */
  csrfOf(body: string): string;
}

export const form = (fields: Record<string, string>): string => new URLSearchParams(fields).toString();

export async function startConsoleHarness(settings: Partial<Record<keyof Settings, unknown>> = {}): Promise<ConsoleHarness> {
  const h = await startHarness({ settings });
  const app = buildConsoleApp({ core: h.core, log: h.deps.log as never, caCert: '/srv/tandem/ca.pem' });
  await app.ready();
  const csrfOf = (body: string): string => {
    const m = /name="csrf" value="([^"]+)"/.exec(body);
    if (!m) throw new Error('no CSRF field on the page');
    return m[1]!;
  };
  const c: ConsoleHarness = {
    h,
    app,
    async close() {
      await app.close();
      await h.close();
    },
    async newAdmin(name) {
      const v = await createAdmin(h.deps, name);
      const token = v.link.split('/').pop()!;
      const s = await setupState(h.deps, token);
      if (s.state !== 'valid') throw new Error('setup link not valid');
      return { name, token, secret: base32Decode(s.secret), password: PASSWORD };
    },
    code(a, advance = true) {
      if (advance) h.clock.offsetMs += 30_000;
      return hotp(a.secret, totpStep(h.clock.now(), 30), { digits: 6, algorithm: 'sha1' });
    },
    setUp(a) {
      return c.post(`/console/setup/${a.token}`, { password: a.password, confirm: a.password, code: c.code(a) });
    },
    signIn(a, o = {}) {
      return c.post('/console/signin', { name: a.name, password: o.password ?? a.password, code: o.code ?? c.code(a) });
    },
    async admin(name) {
      const a = await c.newAdmin(name);
      const done = await c.setUp(a);
      if (done.statusCode !== 200) throw new Error(`setup failed: ${done.statusCode} ${done.body}`);
      const r = await c.signIn(a);
      const set = r.headers['set-cookie'];
      if (r.statusCode !== 303 || typeof set !== 'string') throw new Error(`sign-in failed: ${r.statusCode}`);
      const cookie = set.split(';')[0]!;
      const page = await c.get('/console/users', cookie);
      return { ...a, cookie, csrf: csrfOf(page.body) };
    },
    get(url, cookie) {
      return app.inject({ method: 'GET', url, headers: cookie ? { cookie } : {} });
    },
    post(url, fields, cookie, headers = {}) {
      return app.inject({
        method: 'POST',
        url,
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...(cookie ? { cookie } : {}), ...headers },
        payload: typeof fields === 'string' ? fields : form(fields),
      });
    },
    csrfOf,
  };
  return c;
}
