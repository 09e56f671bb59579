// The admin console's setup links, sign-in, sessions, CSRF and re-authentication.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { queryLog } from '../../src/core/audit.js';
import { resetAdmin } from '../../src/core/admins.js';
import { createUser } from '../../src/core/users.js';
import { CONSOLE_CSP } from '../../src/server/console/app.js';
import { startConsoleHarness, type ConsoleHarness } from './console-support.js';

let c: ConsoleHarness;
beforeEach(async () => {
  c = await startConsoleHarness({ consoleIdleSeconds: 600, consoleSessionSeconds: 3600, consoleReauthSeconds: 120, lockoutThreshold: 5 });
});
afterEach(async () => c.close());

const adminEntries = async () => (await queryLog(c.h.deps, { includeAdmin: true, limit: 1000 })).filter((e) => e.event === 'admin');

describe('setup links', () => {
  it('shows the password and TOTP form with a QR code; used once; then says it was used', async () => {
    const a = await c.newAdmin('alice');
    const page = await c.get(`/console/setup/${a.token}`);
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('otpauth://totp/');
    expect(page.body).toMatch(/<img class="qr" src="data:image\/svg\+xml;base64,/);
    expect(page.headers['content-security-policy']).toBe(CONSOLE_CSP);

    // Wrong code or short password: nothing used.
    const bad = await c.post(`/console/setup/${a.token}`, { password: a.password, confirm: a.password, code: '000000' });
    expect(bad.statusCode).toBe(400);
    expect(bad.body).toContain('That code is not right');
    const short = await c.post(`/console/setup/${a.token}`, { password: 'short', confirm: 'short', code: c.code(a) });
    expect(short.body).toContain('at least 12 characters');
    const differ = await c.post(`/console/setup/${a.token}`, { password: a.password, confirm: a.password + 'x', code: c.code(a) });
    expect(differ.body).toContain('The two passwords differ.');
    // Without setup, sign-in is refused.
    expect((await c.signIn(a)).body).toContain('Sign-in failed.');

    expect((await c.setUp(a)).body).toContain('Setup complete');
    const again = await c.get(`/console/setup/${a.token}`);
    expect(again.statusCode).toBe(410);
    expect(again.body).toContain('already been used');
    expect((await c.setUp(a)).statusCode).toBe(410);
    expect((await c.signIn(a)).statusCode).toBe(303);
  });

  it('an expired link says so; a reset link replaces the old one; an unknown link is not valid', async () => {
    const a = await c.newAdmin('bob');
    c.h.clock.offsetMs += 24 * 3600_000 + 1000;
    const expired = await c.get(`/console/setup/${a.token}`);
    expect(expired.statusCode).toBe(410);
    expect(expired.body).toContain('has expired');
    expect((await c.setUp(a)).statusCode).toBe(410);
    const fresh = await resetAdmin(c.h.deps, 'bob');
    expect((await c.get(`/console/setup/${a.token}`)).body).toContain('is not valid');
    expect((await c.get(`/console/setup/${fresh.link.split('/').pop()}`)).statusCode).toBe(200);
    expect((await c.get('/console/setup/%3Cscript%3E')).body).toContain('is not valid');
  });
});

describe('sign-in', () => {
  it('wrong password, wrong code, unknown admin, disabled admin: the same status and body', async () => {
    const a = await c.admin('carol');
    const answers = [
      await c.signIn(a, { password: 'wrong password here' }),
      await c.signIn(a, { code: '123456' }),
      await c.signIn({ ...a, name: 'nobody' }),
      await c.signIn(a, { code: '' }),
    ];
    for (const r of answers) {
      expect(r.statusCode).toBe(200);
      expect(r.body).toBe(answers[0]!.body);
      expect(r.headers['set-cookie']).toBeUndefined();
    }
    expect(answers[0]!.body).toContain('Sign-in failed.');
    const fails = (await adminEntries()).filter((e) => e.reason === 'console_sign_in_failed').map((e) => JSON.parse(e.detail).why);
    expect(fails).toEqual(expect.arrayContaining(['bad_password', 'bad_code', 'unknown_admin']));
  });

  it('a password alone (no second factor) never signs in, and a code is accepted once', async () => {
    const a = await c.admin('dave');
    expect((await c.post('/console/signin', { name: a.name, password: a.password })).body).toContain('Sign-in failed.');
    const code = c.code(a);
    expect((await c.signIn(a, { code })).statusCode).toBe(303);
    expect((await c.signIn(a, { code })).body).toContain('Sign-in failed.');
  });

  it('locks after the threshold: even the right password and code fail until the lock ends', async () => {
    const a = await c.admin('erin');
    for (let i = 0; i < 5; i++) await c.signIn(a, { password: 'not the password!' });
    expect((await c.signIn(a)).body).toContain('Sign-in failed.');
    c.h.clock.offsetMs += 901_000;
    expect((await c.signIn(a)).statusCode).toBe(303);
  });

  it('the session cookie is __Host-, HttpOnly, Secure, SameSite=Strict, Path=/', async () => {
    const a = await c.newAdmin('fay');
    await c.setUp(a);
    const set = String((await c.signIn(a)).headers['set-cookie']);
    expect(set).toMatch(/^__Host-tandem_console=[A-Za-z0-9_-]{43}; Path=\/; Secure; HttpOnly; SameSite=Strict$/);
  });
});

describe('sessions', () => {
  it('no cookie or a made-up cookie: pages redirect to sign-in, POSTs are refused', async () => {
    expect((await c.get('/console/users')).headers.location).toBe('/console/signin');
    expect((await c.get('/console/users', '__Host-tandem_console=' + 'A'.repeat(43))).statusCode).toBe(303);
    expect((await c.post('/console/users/create', { username: 'x', csrf: 'y' })).statusCode).toBe(403);
    expect(await c.h.deps.store.findUserByName('x')).toBeUndefined();
  });

  it('logout ends the session on the server: the old cookie is refused; another admin\'s session is unaffected', async () => {
    const a = await c.admin('gus');
    const b = await c.admin('hal');
    const out = await c.post('/console/logout', { csrf: a.csrf }, a.cookie);
    expect(out.statusCode).toBe(303);
    expect((await c.get('/console/users', a.cookie)).statusCode).toBe(303);
    const r = await c.post('/console/users/create', { username: 'after-logout', csrf: a.csrf }, a.cookie);
    expect(r.statusCode).toBe(403);
    expect(await c.h.deps.store.findUserByName('after-logout')).toBeUndefined();
    // b's own token with a's cookie: still refused; b's session still works.
    expect((await c.post('/console/users/create', { username: 'mixed', csrf: b.csrf }, a.cookie)).statusCode).toBe(403);
    expect((await c.get('/console/users', b.cookie)).statusCode).toBe(200);
    expect((await c.post('/console/users/create', { username: 'by-hal', csrf: b.csrf }, b.cookie)).statusCode).toBe(303);
  });

  it('idle timeout and absolute timeout', async () => {
    const a = await c.admin('ida');
    c.h.clock.offsetMs += 599_000;
    expect((await c.get('/console/users', a.cookie)).statusCode).toBe(200);
    c.h.clock.offsetMs += 601_000;
    expect((await c.get('/console/users', a.cookie)).statusCode).toBe(303);

    const b = await c.admin('jim');
    for (let i = 0; i < 7; i++) {
      c.h.clock.offsetMs += 590_000;
      const r = await c.get('/console/users', b.cookie);
      expect(r.statusCode, `after ${(i + 1) * 590} s`).toBe(i < 6 ? 200 : 303); // 3600 s absolute
    }
  });

  it('a disabled or reset admin\'s sessions end at once', async () => {
    const a = await c.admin('kim');
    await resetAdmin(c.h.deps, 'kim');
    expect((await c.get('/console/users', a.cookie)).statusCode).toBe(303);
  });
});

describe('CSRF', () => {
  it('a POST without the token, with a wrong one, or from another origin is 403 and changes nothing', async () => {
    const a = await c.admin('lee');
    const attempts: Record<string, string>[] = [{ username: 'u1' }, { username: 'u1', csrf: '' }, { username: 'u1', csrf: a.csrf.slice(0, -1) + (a.csrf.endsWith('A') ? 'B' : 'A') }];
    for (const fields of attempts) {
      const r = await c.post('/console/users/create', fields, a.cookie);
      expect(r.statusCode).toBe(403);
      expect(r.headers['content-security-policy']).toBe(CONSOLE_CSP);
    }
    const foreign: Record<string, string>[] = [{ origin: 'https://evil.example' }, { origin: 'null' }, { 'sec-fetch-site': 'cross-site' }, { 'sec-fetch-site': 'same-site', origin: 'null' }];
    for (const headers of foreign) {
      expect((await c.post('/console/users/create', { username: 'u1', csrf: a.csrf }, a.cookie, headers)).statusCode, JSON.stringify(headers)).toBe(403);
    }
    expect(await c.h.deps.store.findUserByName('u1')).toBeUndefined();
    // What Chromium sends for the console's own forms (Referrer-Policy no-referrer → Origin: null).
    const own = await c.post('/console/users/create', { username: 'u1', csrf: a.csrf }, a.cookie, { origin: 'null', 'sec-fetch-site': 'same-origin' });
    expect(own.statusCode).toBe(303);
    expect(await c.h.deps.store.findUserByName('u1')).toBeDefined();
  });
});

describe('re-authentication', () => {
  it('deleting a user and rotating an skey need password + code after the re-auth window', async () => {
    const a = await c.admin('max');
    await createUser(c.h.deps, 'victim');
    const created = await c.post('/console/integrations/create', { name: 'hosts', new_user_policy: 'enroll', csrf: a.csrf }, a.cookie);
    const ikey = /<th>ikey<\/th><td>(DI[A-Z0-9]{18})</.exec(created.body)![1]!;
    c.h.clock.offsetMs += 121_000;

    const refused = await c.post('/console/user/delete', { name: 'victim', csrf: a.csrf }, a.cookie);
    expect(refused.statusCode).toBe(403);
    expect(refused.body).toContain('needs your password and a current code');
    const wrong = await c.post('/console/user/delete', { name: 'victim', csrf: a.csrf, reauth_password: 'wrong wrong wrong', reauth_code: c.code(a) }, a.cookie);
    expect(wrong.statusCode).toBe(403);
    expect(await c.h.deps.store.findUserByName('victim')).toBeDefined();
    const rot = await c.post('/console/integration/rotate', { ikey, csrf: a.csrf }, a.cookie);
    expect(rot.statusCode).toBe(403);

    const ok = await c.post('/console/user/delete', { name: 'victim', csrf: a.csrf, reauth_password: a.password, reauth_code: c.code(a) }, a.cookie);
    expect(ok.statusCode).toBe(303);
    expect(await c.h.deps.store.findUserByName('victim')).toBeUndefined();
    // Within the window now: rotation goes through and shows the new skey once.
    const rotated = await c.post('/console/integration/rotate', { ikey, csrf: a.csrf }, a.cookie);
    expect(rotated.statusCode).toBe(200);
    expect(rotated.body).toMatch(/The new skey, shown only now: <code>[A-Za-z0-9]{40}<\/code>/);
  });
});

describe('rate limit', () => {
  it('sign-in and setup attempts are limited per source address (429), before any password check', async () => {
    await c.close();
    c = await startConsoleHarness({ rateLimitAddressPerMinute: 3 });
    const a = await c.newAdmin('nat');
    const answers = [];
    for (let i = 0; i < 4; i++) answers.push((await c.signIn(a, { code: '000000' })).statusCode);
    expect(answers).toEqual([200, 200, 200, 429]);
    expect((await c.setUp(a)).statusCode).toBe(429);
    c.h.clock.offsetMs += 61_000;
    expect((await c.setUp(a)).statusCode).toBe(200);
  });
});
