// The console actions that complete parity with the CLI (issue 7 item 5): each through the same
// core function, refused without the CSRF token, an audit entry naming the admin, untrusted
// values shown only as text.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { queryLog } from '../../src/core/audit.js';
import { holdEnrollment, listEnrollments } from '../../src/core/enrollments.js';
import { listTokens } from '../../src/core/tokens.js';
import { createUser, showUser } from '../../src/core/users.js';
import { base32Decode } from '../../src/protocol/base32.js';
import { hotp } from '../../src/protocol/hotp.js';
import { startConsoleHarness, type ConsoleHarness, type SignedInAdmin } from './console-support.js';

let c: ConsoleHarness;
let a: SignedInAdmin;
beforeEach(async () => {
  c = await startConsoleHarness({ consoleIdleSeconds: 600, consoleSessionSeconds: 3600, consoleReauthSeconds: 120 });
  a = await c.admin('parity-admin');
});
afterEach(async () => c.close());

const post = (url: string, fields: Record<string, string>) => c.post(url, { ...fields, csrf: a.csrf }, a.cookie);
const ikeyOf = (body: string): string => /<th>ikey<\/th><td>(DI[A-Z0-9]{18})</.exec(body)![1]!;
const HOSTILE = '<script>alert(1)</script>';

async function byAdmin(): Promise<string[]> {
  return (await queryLog(c.h.deps, { includeAdmin: true, limit: 1000 }))
    .filter((e) => e.event === 'admin' && JSON.parse(e.detail).actor === 'parity-admin').map((e) => e.reason);
}

describe('new console actions', () => {
  it('aliases, enrollment link, token add (QR + otpauth once) and resync, activation link', async () => {
    await createUser(c.h.deps, 'alice');
    expect((await post('/console/user/alias/add', { name: 'alice', alias: HOSTILE })).statusCode).toBe(303);
    expect((await showUser(c.h.deps, HOSTILE)).username).toBe('alice');
    const page = await c.get('/console/user?name=alice', a.cookie);
    expect(page.body).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(page.body).not.toContain(HOSTILE);
    await createUser(c.h.deps, 'bob');
    expect((await post('/console/user/alias/add', { name: 'alice', alias: 'bob' })).statusCode).toBe(409);
    expect((await post('/console/user/alias/remove', { name: 'alice', alias: 'alice' })).statusCode).toBe(404);
    expect((await post('/console/user/alias/remove', { name: 'alice', alias: HOSTILE })).statusCode).toBe(303);
    expect((await showUser(c.h.deps, 'alice')).aliases).toEqual([]);

    const link = await post('/console/user/enroll-link', { name: 'alice', valid_days: '3' });
    expect(link.statusCode).toBe(200);
    expect(link.body).toMatch(/<pre data-copy>https:\/\/[^<]+\/portal\/enroll\/[A-Za-z0-9_-]{43}<\/pre>/);
    expect(link.body).toContain('<img class="qr" src="data:image/svg+xml;base64,');
    expect((await post('/console/user/enroll-link', { name: 'alice', valid_days: '31' })).statusCode).toBe(400);

    const tok = await post('/console/user/token/add', { name: 'alice', type: 'hotp', digits: '6' });
    expect(tok.statusCode).toBe(200);
    const otpauth = /<pre data-copy>(otpauth:\/\/hotp\/[^<]+)<\/pre>/.exec(tok.body)![1]!.replace(/&amp;/g, '&');
    const secret = base32Decode(new URL(otpauth).searchParams.get('secret')!);
    expect(tok.body).toContain('<img class="qr" src="data:image/svg+xml;base64,');
    const later = await c.get('/console/user?name=alice', a.cookie);
    expect(later.body).not.toContain(new URL(otpauth).searchParams.get('secret')!);
    expect((await post('/console/user/token/add', { name: 'alice', type: 'sms' })).statusCode).toBe(400);
    expect((await post('/console/user/token/add', { name: 'alice', type: 'totp', digits: '7' })).statusCode).toBe(400);
    // The user's token ran ahead: two consecutive codes far past the window resync it.
    const code = (n: number) => hotp(secret, n, { digits: 6, algorithm: 'sha1' });
    expect((await post('/console/user/token/resync', { name: 'alice', code1: code(40), code2: code(41) })).statusCode).toBe(303);
    expect((await post('/console/user/token/resync', { name: 'alice', code1: '000000', code2: '111111' })).statusCode).toBeGreaterThanOrEqual(400);
    expect(await listTokens(c.h.deps, 'alice')).toHaveLength(1);

    const act = await post('/console/user/device/activate', { name: 'alice', valid_hours: '2' });
    expect(act.statusCode).toBe(200);
    expect(act.body).toMatch(/<pre data-copy>https:\/\/[^<]+\/app\/#activate=[A-Za-z0-9_-]{43}<\/pre>/);
    expect((await post('/console/user/device/activate', { name: 'alice', valid_hours: '721' })).statusCode).toBe(400);

    const done = await byAdmin();
    for (const r of ['alias_added', 'alias_removed', 'enroll_link_created', 'token_added', 'token_resynced', 'device_activation_created']) expect(done, r).toContain(r);
  });

  it('integration: new-user policy, enrollment approval, delete (re-auth)', async () => {
    const ikey = ikeyOf((await post('/console/integrations/create', { name: 'db' })).body);
    expect((await post('/console/integration/new-user-policy', { ikey, new_user_policy: 'deny' })).statusCode).toBe(303);
    expect((await c.h.deps.store.getIntegrationByIkey(ikey))?.newUserPolicy).toBe('deny');
    expect((await post('/console/integration/new-user-policy', { ikey, new_user_policy: HOSTILE })).statusCode).toBe(400);
    expect((await post('/console/integration/enrollment-approval', { ikey, enrollment_approval: 'admin' })).statusCode).toBe(303);
    expect((await c.h.deps.store.getIntegrationByIkey(ikey))?.enrollmentApproval).toBe('admin');
    expect((await post('/console/integration/enrollment-approval', { ikey, enrollment_approval: 'maybe' })).statusCode).toBe(400);
    expect((await c.get(`/console/integration?ikey=${ikey}`, a.cookie)).body).toContain('Enrollments through the portal: admin');

    c.h.clock.offsetMs += 121_000; // past the re-auth window of sign-in (120 s here)
    expect((await post('/console/integration/delete', { ikey })).statusCode).toBe(403);
    expect(await c.h.deps.store.getIntegrationByIkey(ikey)).toBeDefined();
    expect((await post('/console/integration/delete', { ikey: 'DINOPE' })).statusCode).toBe(404);
    const del = await post('/console/integration/delete', { ikey, reauth_password: a.password, reauth_code: c.code(a) });
    expect(del.statusCode).toBe(303);
    expect(await c.h.deps.store.getIntegrationByIkey(ikey)).toBeUndefined();
    const done = await byAdmin();
    for (const r of ['new_user_policy_set', 'enrollment_approval_set', 'integration_deleted']) expect(done, r).toContain(r);
  });

  it('held enrollments: approve (a device gets its activation link) and deny, by the admin', async () => {
    await createUser(c.h.deps, HOSTILE);
    const u = await showUser(c.h.deps, HOSTILE);
    const held1 = await holdEnrollment(c.h.deps, { userId: u.userId, integrationId: null, kind: 'device', seed: null, nextCounter: 0 });
    const held2 = await holdEnrollment(c.h.deps, { userId: u.userId, integrationId: null, kind: 'device', seed: null, nextCounter: 0 });
    const list = await c.get('/console/enrollments', a.cookie);
    expect(list.body).toContain(held1);
    expect(list.body).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(list.body).not.toContain(HOSTILE);
    const ok = await post('/console/enrollment/approve', { id: held1 });
    expect(ok.statusCode).toBe(200);
    expect(ok.body).toMatch(/\/app\/#activate=[A-Za-z0-9_-]{43}<\/pre>/);
    expect((await post('/console/enrollment/deny', { id: held2 })).statusCode).toBe(303);
    expect((await post('/console/enrollment/deny', { id: held2 })).statusCode).toBe(404);
    expect((await listEnrollments(c.h.deps, { all: true })).map((e) => e.state).sort()).toEqual(['approved', 'denied']);
    const entries = await queryLog(c.h.deps, { includeAdmin: true, limit: 100 });
    const decided = entries.filter((e) => e.event === 'enrollment' && (e.reason === 'approved' || e.reason === 'denied'));
    expect(decided.map((e) => JSON.parse(e.detail).by)).toEqual(['parity-admin', 'parity-admin']);
  });

  it('admins: list, create, disable and reset need re-auth; not yourself', async () => {
    const other = await c.newAdmin('<b>other</b>');
    const list = await c.get('/console/admins', a.cookie);
    expect(list.body).toContain('&lt;b&gt;other&lt;/b&gt;');
    expect(list.body).not.toContain('<b>other</b>');
    expect((await post('/console/admin/disable', { name: 'parity-admin' })).statusCode).toBe(409);
    c.h.clock.offsetMs += 121_000;
    expect((await post('/console/admin/create', { name: 'third' })).statusCode).toBe(403);
    expect((await post('/console/admin/reset', { name: other.name })).statusCode).toBe(403);
    const created = await post('/console/admin/create', { name: 'third', reauth_password: a.password, reauth_code: c.code(a) });
    expect(created.statusCode).toBe(200);
    expect(created.body).toMatch(/\/console\/setup\/[A-Za-z0-9_-]{43}<\/pre>/);
    const reset = await post('/console/admin/reset', { name: other.name });
    expect(reset.body).toMatch(/\/console\/setup\/[A-Za-z0-9_-]{43}<\/pre>/);
    expect((await post('/console/admin/disable', { name: other.name })).statusCode).toBe(200);
    expect((await c.h.deps.store.findAdminByName(other.name))?.status).toBe('disabled');
    const done = await byAdmin();
    for (const r of ['admin_created', 'admin_reset', 'admin_disabled']) expect(done, r).toContain(r);
  });

  it("user status: Bypass 2FA (re-auth, confirm) and Enable, audited with the admin's name, shown and filtered", async () => {
    await createUser(c.h.deps, 'lost-phone');
    await createUser(c.h.deps, 'other');
    const page = await c.get('/console/user?name=lost-phone', a.cookie);
    expect(page.body).toContain('<td class="status-active">active</td>');
    expect(page.body).toMatch(/<form method="post" action="\/console\/user\/status\/bypass" data-confirm="[^"]+">/);
    // It removes the second factor: refused without re-authentication, and nothing changes.
    c.h.clock.offsetMs += 121_000; // past the re-auth window of sign-in (120 s here)
    expect((await post('/console/user/status/bypass', { name: 'lost-phone' })).statusCode).toBe(403);
    expect((await post('/console/user/status/bypass', { name: 'lost-phone', reauth_password: 'wrong', reauth_code: '000000' })).statusCode).toBe(403);
    expect((await showUser(c.h.deps, 'lost-phone')).status).toBe('active');
    expect((await post('/console/user/status/bypass', { name: 'nobody', reauth_password: a.password, reauth_code: c.code(a) })).statusCode).toBe(404);
    const set = await post('/console/user/status/bypass', { name: 'lost-phone', reauth_password: a.password, reauth_code: c.code(a) });
    expect(set.statusCode).toBe(303);
    expect(set.headers['location']).toBe('/console/user?name=lost-phone&done=bypass');
    expect((await showUser(c.h.deps, 'lost-phone')).status).toBe('bypass');
    const shown = await c.get('/console/user?name=lost-phone&done=bypass', a.cookie);
    expect(shown.body).toContain('<td class="status-bypass">bypass</td>');
    expect(shown.body).toContain('Enable (require 2FA again)');
    expect(shown.body).not.toContain('action="/console/user/status/bypass"');
    // The list shows it and filters on it.
    const list = await c.get('/console/users?status=bypass', a.cookie);
    expect(list.body).toContain('<td class="status-bypass">bypass</td>');
    expect(list.body).toContain('lost-phone');
    expect(list.body).not.toContain('>other</a>');
    expect((await c.get('/console/users?status=active', a.cookie)).body).not.toContain('>lost-phone</a>');
    expect((await c.get('/console/users?status=%3Cscript%3E', a.cookie)).body).toContain('>other</a>');
    // Locked is derived from lockedUntil, and a lock wins over bypass.
    await c.h.deps.store.recordFailure((await c.h.deps.store.findUserByName('other'))!.id, c.h.clock.now(), 1, 60_000);
    expect((await c.get('/console/users?status=locked', a.cookie)).body).toContain('>other</a>');
    await post('/console/user/disable', { name: 'other' });
    expect((await c.get('/console/users?status=disabled', a.cookie)).body).toContain('>other</a>');

    expect((await post('/console/user/enable', { name: 'lost-phone' })).statusCode).toBe(303);
    expect((await showUser(c.h.deps, 'lost-phone')).status).toBe('active');
    const entries = (await queryLog(c.h.deps, { includeAdmin: true, limit: 1000 })).filter((e) => e.event === 'admin' && e.username === 'lost-phone');
    expect(entries.slice(0, 2).map((e) => [e.reason, JSON.parse(e.detail).actor])).toEqual([['user_enabled', 'parity-admin'], ['user_bypass_set', 'parity-admin']]);
  });

  it('every new POST is refused without the CSRF token, and changes nothing', async () => {
    await createUser(c.h.deps, 'victim', ['vic']);
    const ikey = ikeyOf((await post('/console/integrations/create', { name: 'x' })).body);
    const forms: [string, Record<string, string>][] = [
      ['/console/user/alias/add', { name: 'victim', alias: 'new' }],
      ['/console/user/alias/remove', { name: 'victim', alias: 'vic' }],
      ['/console/user/enroll-link', { name: 'victim', valid_days: '1' }],
      ['/console/user/token/add', { name: 'victim', type: 'totp', digits: '6' }],
      ['/console/user/token/resync', { name: 'victim', code1: '123456', code2: '234567' }],
      ['/console/user/device/activate', { name: 'victim', valid_hours: '1' }],
      ['/console/integration/new-user-policy', { ikey, new_user_policy: 'allow' }],
      ['/console/integration/enrollment-approval', { ikey, enrollment_approval: 'admin' }],
      ['/console/integration/delete', { ikey, force: 'yes' }],
      ['/console/enrollment/approve', { id: 'DE0' }],
      ['/console/enrollment/deny', { id: 'DE0' }],
      ['/console/admin/create', { name: 'sneaky' }],
      ['/console/admin/disable', { name: 'parity-admin' }],
      ['/console/admin/reset', { name: 'parity-admin' }],
      ['/console/user/status/bypass', { name: 'victim', reauth_password: a.password, reauth_code: c.code(a) }],
    ];
    const before = (await queryLog(c.h.deps, { includeAdmin: true, limit: 10_000 })).length;
    for (const [url, fields] of forms) {
      for (const csrf of [undefined, '', a.csrf.slice(0, -2) + 'xx']) {
        const r = await c.post(url, csrf === undefined ? fields : { ...fields, csrf }, a.cookie);
        expect(r.statusCode, `${url} csrf=${String(csrf)}`).toBe(403);
      }
      // A cross-site request with the right token is refused too.
      expect((await c.post(url, { ...fields, csrf: a.csrf }, a.cookie, { 'sec-fetch-site': 'cross-site' })).statusCode, url).toBe(403);
    }
    expect((await queryLog(c.h.deps, { includeAdmin: true, limit: 10_000 })).length).toBe(before);
    expect((await showUser(c.h.deps, 'victim')).aliases).toEqual(['vic']);
    expect((await showUser(c.h.deps, 'victim')).accountStatus).toBe('active');
    expect(await c.h.deps.store.getIntegrationByIkey(ikey)).toMatchObject({ newUserPolicy: 'enroll' });
  });

  it('hostile values in every new field: refused or escaped, never 500, never live markup', async () => {
    await createUser(c.h.deps, 'target');
    const ikey = ikeyOf((await post('/console/integrations/create', { name: 'x' })).body);
    const forms: [string, Record<string, string>][] = [
      ['/console/user/alias/add', { name: 'target', alias: 'ok' }],
      ['/console/user/alias/remove', { name: 'target', alias: 'ok' }],
      ['/console/user/enroll-link', { name: 'target', valid_days: '1' }],
      ['/console/user/token/add', { name: 'target', type: 'totp', digits: '6' }],
      ['/console/user/token/resync', { name: 'target', code1: '1', code2: '2' }],
      ['/console/user/device/activate', { name: 'target', valid_hours: '1' }],
      ['/console/integration/new-user-policy', { ikey, new_user_policy: 'enroll' }],
      ['/console/integration/enrollment-approval', { ikey, enrollment_approval: 'open' }],
      ['/console/enrollment/approve', { id: 'DE0' }],
      ['/console/enrollment/deny', { id: 'DE0' }],
      ['/console/admin/disable', { name: 'x' }],
    ];
    for (const [url, fields] of forms) {
      for (const key of Object.keys(fields)) {
        for (const value of [HOSTILE, '"><img src=x onerror=alert(1)>', 'x'.repeat(300), '\u202eexe']) {
          const r = await post(url, { ...fields, [key]: value });
          expect(r.statusCode, `${url} ${key}`).toBeLessThan(500);
          expect(r.body, `${url} ${key}`).not.toMatch(/<script>alert|<img src=x/);
          expect(r.body).not.toContain('\u202e');
        }
        expect((await post(url, { ...fields, [key]: 'a\u0000b' })).statusCode, `${url} ${key} NUL`).toBe(400);
      }
    }
  });
});
