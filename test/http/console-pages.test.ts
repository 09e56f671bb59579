// The admin console's pages: headers on every response, every action through the same core
// functions as the CLI with an audit entry naming the admin, and hostile input in every field
// refused or shown as text.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { queryLog } from '../../src/core/audit.js';
import { createActivation } from '../../src/core/devices.js';
import { addToken, listTokens } from '../../src/core/tokens.js';
import { createUser, showUser } from '../../src/core/users.js';
import { CONSOLE_CSP } from '../../src/server/console/app.js';
import { ScriptedDevice, injectTransport } from '../support/device.js';
import { startConsoleHarness, type ConsoleHarness, type SignedInAdmin } from './console-support.js';

let c: ConsoleHarness;
let a: SignedInAdmin;
beforeEach(async () => {
  c = await startConsoleHarness({ lockoutThreshold: 3 });
  a = await c.admin('ops-admin');
});
afterEach(async () => c.close());

const post = (url: string, fields: Record<string, string>) => c.post(url, { ...fields, csrf: a.csrf }, a.cookie);
const ikeyOf = (body: string): string => /<th>ikey<\/th><td>(DI[A-Z0-9]{18})</.exec(body)![1]!;

function expectHeaders(r: { headers: Record<string, unknown> }, what: string, page = true): void {
  expect(r.headers['content-security-policy'], what).toBe(CONSOLE_CSP);
  expect(r.headers['x-content-type-options'], what).toBe('nosniff');
  expect(r.headers['referrer-policy'], what).toBe('no-referrer');
  if (page) expect(r.headers['cache-control'], what).toBe('no-store');
}

describe('headers', () => {
  it('every page, redirect, error and static file carries the CSP, nosniff and no-referrer; pages are no-store', async () => {
    await createUser(c.h.deps, 'alice');
    const ikey = ikeyOf((await post('/console/integrations/create', { name: 'hosts' })).body);
    const setupLink = (await c.newAdmin('second')).token;
    const pages = [
      await c.get('/console/signin'),
      await c.get(`/console/setup/${setupLink}`),
      await c.get('/console/setup/nope'),
      await c.get('/console/users', a.cookie),
      await c.get('/console/users?q=al', a.cookie),
      await c.get('/console/user?name=alice', a.cookie),
      await c.get('/console/user?name=nobody', a.cookie),
      await c.get('/console/integrations', a.cookie),
      await c.get(`/console/integration?ikey=${ikey}`, a.cookie),
      await c.get('/console/users'),
      await c.get('/console/nothing-here', a.cookie),
      await c.get('/auth/v2/ping'),
      await c.post('/console/users/create', { username: 'x' }, a.cookie),
      await c.app.inject({ method: 'POST', url: '/console/signin', headers: { 'content-type': 'application/json' }, payload: '{}' }),
    ];
    for (const r of pages) expectHeaders(r, `${r.statusCode} ${r.body.slice(0, 80)}`);
    expect(pages.filter((r) => r.statusCode === 200).every((r) => !/<script>|<script [^s]|\son\w+=/.test(r.body))).toBe(true);
    for (const path of ['/console/static/console.js', '/console/static/console.css']) expectHeaders(await c.get(path), path, false);
    expect((await c.get('/console/static/console.js')).headers['content-type']).toContain('text/javascript');
  });
});

describe('users', () => {
  it('create, search, unlock, disable, enable, bypass codes shown once, token removal, delete', async () => {
    const created = await post('/console/users/create', { username: 'bob', aliases: 'bobby, robert' });
    expect(created.statusCode).toBe(303);
    expect((await showUser(c.h.deps, 'bobby')).username).toBe('bob');
    await createUser(c.h.deps, 'carol');
    const search = await c.get('/console/users?q=ROB', a.cookie);
    expect(search.body).toContain('>bob</a>');
    expect(search.body).not.toContain('>carol</a>');

    for (let i = 0; i < 3; i++) await c.h.deps.store.recordFailure((await showUser(c.h.deps, 'bob')).userId, c.h.clock.now(), 3, 900_000);
    expect((await c.get('/console/users', a.cookie)).body).toContain('class="status-locked">locked<');
    expect((await post('/console/user/unlock', { name: 'bob' })).statusCode).toBe(303);
    expect((await showUser(c.h.deps, 'bob')).status).toBe('active');
    await post('/console/user/disable', { name: 'bob' });
    expect((await showUser(c.h.deps, 'bob')).status).toBe('disabled');
    await post('/console/user/enable', { name: 'bob' });
    expect((await showUser(c.h.deps, 'bob')).status).toBe('active');

    const bypass = await post('/console/user/bypass/create', { name: 'bob', count: '2', uses: '1', valid_secs: '0' });
    const codes = /<pre data-copy>(\d{9})\n(\d{9})<\/pre>/.exec(bypass.body);
    expect(codes).not.toBeNull();
    const later = await c.get('/console/user?name=bob', a.cookie);
    expect(later.body).toContain('2 codes on file.');
    expect(later.body).not.toContain(codes![1]!);
    await post('/console/user/bypass/clear', { name: 'bob' });
    expect((await c.get('/console/user?name=bob', a.cookie)).body).toContain('0 codes on file.');

    const tok = await addToken(c.h.deps, 'bob', { type: 'totp' });
    expect((await c.get('/console/user?name=bob', a.cookie)).body).toContain(tok.token.tokenId);
    await post('/console/user/token/remove', { name: 'bob', token: tok.token.tokenId });
    expect(await listTokens(c.h.deps, 'bob')).toEqual([]);

    const del = await post('/console/user/delete', { name: 'bob' }); // within the re-auth window of sign-in
    expect(del.statusCode).toBe(303);
    expect(await c.h.deps.store.findUserByName('bob')).toBeUndefined();
  });

  it('removes a device', async () => {
    await createUser(c.h.deps, 'dee');
    const code = (await createActivation(c.h.deps, 'dee')).code;
    const { buildApp } = await import('../../src/server/app.js');
    const api = buildApp({ core: c.h.core, log: c.h.deps.log as never });
    await ScriptedDevice.activate('https://unused', code, { ca: '', transport: injectTransport(api) });
    await api.close();
    const page = await c.get('/console/user?name=dee', a.cookie);
    const deviceId = /<td>(DP[A-Z0-9]{18})<\/td>/.exec(page.body)![1]!;
    expect((await post('/console/user/device/remove', { name: 'dee', device: deviceId })).statusCode).toBe(303);
    expect((await c.get('/console/user?name=dee', a.cookie)).body).not.toContain(deviceId);
  });
});

describe('integrations', () => {
  it('create shows the skey once and the same client config as the CLI; policy form; list', async () => {
    const r = await post('/console/integrations/create', { name: 'web hosts', new_user_policy: 'deny', legacy_v1: 'yes' });
    expect(r.statusCode).toBe(200);
    const ikey = ikeyOf(r.body);
    const skey = /shown only now: <code>([A-Za-z0-9]{40})<\/code>/.exec(r.body)![1]!;
    expect(r.body).toContain(`ikey = ${ikey}`);
    expect(r.body).toContain(`skey = ${skey}`);
    expect(r.body).toContain('failmode = secure');
    expect(r.body).toContain('cafile = /srv/tandem/ca.pem');
    expect(r.body).toContain('[tandem]');
    expect(r.body).toContain('/etc/tandem/pam_tandem.conf');
    const detail = await c.get(`/console/integration?ikey=${ikey}`, a.cookie);
    expect(detail.body).not.toContain(skey);
    expect((await c.get('/console/integrations', a.cookie)).body).toContain('>web hosts</a>');

    expect((await post('/console/integration/policy', { ikey, verified_push: 'required', max_pending: '3', fraud_locks: 'no', approval: '' })).statusCode).toBe(303);
    const p = await c.h.deps.store.getIntegrationByIkey(ikey);
    expect(p?.pushPolicy).toEqual({ verifiedPush: 'required', maxPending: 3, fraudLocks: false });
    expect((await post('/console/integration/policy', { ikey, max_pending: '1000' })).statusCode).toBe(400);
    expect((await post('/console/integration/policy', { ikey, verified_push: 'sometimes' })).statusCode).toBe(400);
  });
});

describe('audit', () => {
  it('every console action is an admin audit entry naming the admin', async () => {
    await post('/console/users/create', { username: 'eve' });
    await post('/console/user/unlock', { name: 'eve' });
    await post('/console/user/disable', { name: 'eve' });
    await post('/console/user/enable', { name: 'eve' });
    await post('/console/user/bypass/create', { name: 'eve', count: '1' });
    await post('/console/user/bypass/clear', { name: 'eve' });
    const tok = await addToken(c.h.deps, 'eve', { type: 'totp' });
    await post('/console/user/token/remove', { name: 'eve', token: tok.token.tokenId });
    const ikey = ikeyOf((await post('/console/integrations/create', { name: 'h' })).body);
    await post('/console/integration/policy', { ikey, max_pending: '2' });
    await post('/console/integration/rotate', { ikey });
    await post('/console/user/delete', { name: 'eve' });
    await post('/console/logout', {});
    const entries = (await queryLog(c.h.deps, { includeAdmin: true, limit: 1000 })).filter((e) => e.event === 'admin');
    const byAdmin = entries.filter((e) => JSON.parse(e.detail).actor === 'ops-admin').map((e) => e.reason);
    for (const action of ['admin_setup_completed', 'console_sign_in', 'user_created', 'user_unlocked', 'user_disabled', 'user_enabled', 'bypass_created', 'bypass_cleared',
      'token_removed', 'integration_created', 'integration_push_policy_set', 'integration_skey_rotated', 'user_deleted', 'console_sign_out']) {
      expect(byAdmin, action).toContain(action);
    }
  });
});

describe('hostile input', () => {
  const HOSTILE = ['<script>alert(1)</script>', '"><img src=x onerror=alert(1)>', "'; --", '&lt;b&gt;', '\u202egnp.exe', 'x'.repeat(200)];

  it('names with markup are stored as typed and shown only as text', async () => {
    const name = '<script>alert("u")</script>';
    expect((await post('/console/users/create', { username: name, aliases: '<b>bold</b>' })).statusCode).toBe(303);
    const list = await c.get('/console/users', a.cookie);
    expect(list.body).toContain('&lt;script&gt;alert(&quot;u&quot;)&lt;/script&gt;');
    expect(list.body).toContain('&lt;b&gt;bold&lt;/b&gt;');
    expect(list.body).not.toContain(name);
    expect(list.body).not.toContain('<b>bold</b>');
    const page = await c.get(`/console/user?name=${encodeURIComponent(name)}`, a.cookie);
    expect(page.statusCode).toBe(200);
    expect(page.body).not.toContain(name);

    const r = await post('/console/integrations/create', { name: '<img src=x onerror=alert(2)>' });
    expect(r.body).toContain('&lt;img src=x onerror=alert(2)&gt;');
    expect(r.body).not.toContain('<img src=x');
    const search = await c.get(`/console/users?q=${encodeURIComponent('"><script>x</script>')}`, a.cookie);
    expect(search.body).toContain('value="&quot;&gt;&lt;script&gt;x&lt;/script&gt;"');
  });

  it('every field of every form: markup escaped or refused, never live; oversized, NUL and bad UTF-8 refused; nothing changes on refusal', async () => {
    const ikey = ikeyOf((await post('/console/integrations/create', { name: 'base' })).body);
    await createUser(c.h.deps, 'target');
    const forms: [string, Record<string, string>][] = [
      ['/console/users/create', { username: 'u', aliases: '' }],
      ['/console/user/unlock', { name: 'target' }],
      ['/console/user/disable', { name: 'target' }],
      ['/console/user/enable', { name: 'target' }],
      ['/console/user/bypass/create', { name: 'target', count: '1', uses: '1', valid_secs: '0' }],
      ['/console/user/bypass/clear', { name: 'target' }],
      ['/console/user/token/remove', { name: 'target', token: 'DH0' }],
      ['/console/user/device/remove', { name: 'target', device: 'DP0' }],
      ['/console/integrations/create', { name: 'n', new_user_policy: 'enroll', legacy_v1: '' }],
      ['/console/integration/policy', { ikey, verified_push: '', max_pending: '', denial_threshold: '', cooldown_secs: '', fraud_locks: '', approval: '' }],
      ['/console/integration/factors', { ikey, factor_push: 'yes', factor_passcode: 'yes', factor_bypass: 'yes', failmode_hint: '' }],
      ['/console/signin', { name: 'n', password: 'p', code: 'c' }],
      [`/console/setup/${(await c.newAdmin('pending-admin')).token}`, { password: 'p', confirm: 'p', code: '1' }],
    ];
    const state = async () => JSON.stringify([
      await c.h.deps.store.listUsers(),
      (await c.h.deps.store.listIntegrations()).map((i) => [i.name, i.pushPolicy]),
      await c.h.deps.store.listAdmins(),
      (await queryLog(c.h.deps, { includeAdmin: true, limit: 100_000 })).length,
    ]);
    for (const [url, fields] of forms) {
      for (const key of Object.keys(fields)) {
        for (const value of HOSTILE) {
          const r = await post(url, { ...fields, [key]: value });
          expect(r.statusCode, `${url} ${key}`).toBeLessThan(500);
          expectHeaders(r, `${url} ${key}`);
          expect(r.body, `${url} ${key}`).not.toMatch(/<script>alert|<img src=x/);
          expect(r.body).not.toContain('\u202e');
        }
        const before = await state();
        const big = await post(url, { ...fields, [key]: 'A'.repeat(100 * 1024) });
        expect(big.statusCode, `${url} ${key} 100 KB`).toBe(413);
        expectHeaders(big, `${url} 100 KB`);
        const nul = await post(url, { ...fields, [key]: 'a\u0000b' });
        expect(nul.statusCode, `${url} ${key} NUL`).toBe(400);
        const raw = Buffer.concat([Buffer.from(`csrf=${a.csrf}&${key}=`), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from('&' + new URLSearchParams(Object.fromEntries(Object.entries(fields).filter(([k]) => k !== key))).toString())]);
        const bad = await c.app.inject({ method: 'POST', url, headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: a.cookie }, payload: raw });
        expect(bad.statusCode, `${url} ${key} bad UTF-8`).toBe(400);
        const badEsc = await Promise.resolve().then(() => c.app.inject({ method: 'POST', url, headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: a.cookie }, payload: `csrf=${a.csrf}&${key}=%FF%FE` }));
        expect(badEsc.statusCode, `${url} ${key} %FF`).toBe(400);
        expect(await state(), `${url} ${key}: refused input changed nothing`).toBe(before);
      }
    }
    // The hostile values that were valid names were created as text; nothing else changed.
    const users = (await c.h.deps.store.listUsers()).map((u) => u.username);
    expect(users).toContain('<script>alert(1)</script>');
    expect((await c.h.deps.store.findAdminByName('pending-admin'))?.status).toBe('pending');
  });

  it('a repeated field is refused', async () => {
    const r = await c.post('/console/users/create', `csrf=${a.csrf}&username=a&username=b`, a.cookie);
    expect(r.statusCode).toBe(400);
    expect(await c.h.deps.store.findUserByName('a')).toBeUndefined();
  });
});
