// The console's authentication log (page and live feed) and dashboard: filters validated (hostile
// values refused or matched as plain values), every untrusted field escaped, the feed's JSON only
// data, the chart's counts from the store, locked users, pending pushes and enrollment events.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { appendAudit, type AuditFields } from '../../src/core/audit.js';
import { createUser, showUser } from '../../src/core/users.js';
import { startConsoleHarness, type ConsoleHarness, type SignedInAdmin } from './console-support.js';

let c: ConsoleHarness;
let a: SignedInAdmin;
beforeEach(async () => {
  c = await startConsoleHarness({ lockoutThreshold: 3 });
  a = await c.admin('log-admin');
});
afterEach(async () => c.close());

const HOSTILE = '<script>alert(1)</script>';
const base: AuditFields = { event: 'auth', integration: 'DIAAAAAAAAAAAAAAAAAA', username: 'alice', factor: 'passcode', result: 'allow', reason: 'valid_passcode', ipaddr: '192.0.2.1', hostname: 'web1', txid: null };
const add = (over: Partial<AuditFields>) => appendAudit(c.h.deps, { ...base, ...over });
const get = (url: string) => c.get(url, a.cookie);
const rows = (body: string): number => (body.match(/<tr data-key=/g) ?? []).length;

describe('log page', () => {
  it('newest first, filtered by user, integration, result, factor and time; context as an escaped key/value list', async () => {
    await add({ reason: 'oldest_one' });
    c.h.clock.offsetMs += 1000;
    await add({ username: 'bob', result: 'deny', reason: 'invalid_passcode', integration: 'DIBBBBBBBBBBBBBBBBBB' });
    c.h.clock.offsetMs += 1000;
    await add({ factor: 'push', hostname: `"><img src=x onerror=alert(2)>`, reason: 'user_approved', detail: { pushinfo: HOSTILE, nested: { a: '<b>' } } });
    const all = await get('/console/log');
    expect(all.statusCode).toBe(200);
    expect(rows(all.body)).toBe(3);
    expect(all.body.indexOf('user_approved')).toBeLessThan(all.body.indexOf('invalid_passcode'));
    expect(all.body.indexOf('invalid_passcode')).toBeLessThan(all.body.indexOf('oldest_one'));
    expect(all.body).not.toContain('<img src=x');
    expect(all.body).not.toContain('<script>alert');
    expect(all.body).toContain('&quot;&gt;&lt;img src=x onerror=alert(2)&gt;');
    expect(all.body).toContain('<dt>pushinfo</dt><dd>&lt;script&gt;alert(1)&lt;/script&gt;</dd>');
    expect(all.body).toContain('<dt>nested</dt><dd>{&quot;a&quot;:&quot;&lt;b&gt;&quot;}</dd>');
    expect(all.body).toContain('data-live="/console/api/log"');

    expect(rows((await get('/console/log?user=bob')).body)).toBe(1);
    expect(rows((await get('/console/log?integration=DIBBBBBBBBBBBBBBBBBB')).body)).toBe(1);
    expect(rows((await get('/console/log?result=deny')).body)).toBe(1);
    expect(rows((await get('/console/log?factor=push')).body)).toBe(1);
    expect(rows((await get('/console/log?factor=passcode&result=allow')).body)).toBe(1);
    const t0 = new Date(c.h.clock.now() - 1500).toISOString();
    expect(rows((await get(`/console/log?since=${t0}`)).body)).toBe(2);
    const until = await get(`/console/log?until=${t0}`);
    expect(rows(until.body)).toBe(1);
    expect(until.body).not.toContain('data-live'); // a closed range does not update
    expect(rows((await get('/console/log?since=2000-01-01&until=2000-01-02')).body)).toBe(0);
  });

  it('operator actions only with the toggle', async () => {
    await createUser(c.h.deps, 'carol');
    await add({});
    expect((await get('/console/log')).body).not.toContain('user_created');
    const withAdmin = await get('/console/log?admin=1');
    expect(withAdmin.body).toContain('user_created');
    expect(withAdmin.body).toContain('<dt>actor</dt><dd>log-admin</dd>'); // console_sign_in
  });

  it('hostile filter values: refused (400) or matched as plain values and echoed escaped; never 500', async () => {
    await add({});
    for (const q of [`integration=${encodeURIComponent(HOSTILE)}`, "result=x'%20OR%20'1'='1", 'factor=%00', 'since=yesterday', 'until=2024-13-45T99:99', 'admin=yes',
      'user=a&user=b', `user=${'x'.repeat(101)}`, 'since=%FF%FE', 'user=%01']) {
      const r = await get(`/console/log?${q}`);
      expect(r.statusCode, q).toBe(400);
      expect(r.body, q).not.toMatch(/<script>alert/);
    }
    const u = await get(`/console/log?user=${encodeURIComponent(HOSTILE)}`);
    expect(u.statusCode).toBe(200);
    expect(rows(u.body)).toBe(0);
    expect(u.body).toContain('value="&lt;script&gt;alert(1)&lt;/script&gt;"');
    expect(u.body).not.toContain(HOSTILE);
    const injected = await get(`/console/log?user=${encodeURIComponent("' OR 1=1 --")}`);
    expect(rows(injected.body)).toBe(0);
  });

  it('needs a session', async () => {
    expect((await c.get('/console/log')).headers.location).toBe('/console/signin');
    expect((await c.get('/console/api/log?after=0')).statusCode).toBe(303);
  });
});

describe('live feed', () => {
  it('JSON of the entries at or after `after` with the page filters; no-store; text only', async () => {
    await add({ reason: 'old' });
    const after = c.h.clock.now() + 1;
    c.h.clock.offsetMs += 1000;
    await add({ reason: 'new', hostname: HOSTILE, username: 'bob' });
    await add({ reason: 'other', username: 'carol' });
    const r = await get(`/console/api/log?after=${after}&user=bob`);
    expect(r.statusCode).toBe(200);
    expect(r.headers['content-type']).toContain('application/json');
    expect(r.headers['cache-control']).toBe('no-store');
    const body = r.json<{ entries: Array<Record<string, unknown>> }>();
    expect(body.entries.map((e) => e['reason'])).toEqual(['new']);
    expect(body.entries[0]).toMatchObject({ hostname: HOSTILE, username: 'bob', key: expect.stringMatching(/:\d+$/) });
    expect((await get(`/console/api/log?after=${after}`)).json<{ entries: unknown[] }>().entries).toHaveLength(2);
    for (const q of ['', 'after=abc', 'after=-1', 'after=1&factor=<b>', 'after=1&after=2']) {
      expect((await get(`/console/api/log?${q}`)).statusCode, q).toBe(400);
    }
  });

  it('the script builds rows with textContent only', async () => {
    const js = (await c.get('/console/static/console.js')).body;
    expect(js).toContain('data-live');
    expect(js).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(/);
  });
});

describe('dashboard', () => {
  it('chart of logins by result and factor, locked users with unlock, pending pushes, enrollment events', async () => {
    await add({ result: 'allow', factor: 'passcode' });
    await add({ result: 'deny', factor: 'passcode' });
    await add({ result: 'waiting', factor: 'push' }); // counted when the push is answered
    await add({ event: 'push', result: 'allow', factor: 'push' });
    await createUser(c.h.deps, '<i>locked</i>');
    const u = await showUser(c.h.deps, '<i>locked</i>');
    for (let i = 0; i < 3; i++) await c.h.deps.store.recordFailure(u.userId, c.h.clock.now(), 3, 900_000);
    await appendAudit(c.h.deps, { ...base, event: 'enrollment', factor: null, result: 'ok', reason: 'totp_added', username: HOSTILE, detail: { via: '<b>portal</b>' } });

    const r = await get('/console/');
    expect(r.statusCode).toBe(200);
    expect(r.body).toContain('<svg xmlns="http://www.w3.org/2000/svg"');
    expect(r.body).toContain('Logins in the last 24 hours, per hour (UTC): 3.');
    expect(r.body).toMatch(/<rect [^>]*data-key="allow"><title>\d\d:\d\d: allow 2<\/title>/);
    expect(r.body).toMatch(/<rect [^>]*data-key="deny"><title>\d\d:\d\d: deny 1<\/title>/);
    expect(r.body).toMatch(/<rect [^>]*data-key="passcode"><title>\d\d:\d\d: passcode 2<\/title>/);
    expect(r.body).not.toContain('waiting');
    expect(r.body).toContain('Locked users (1)');
    expect(r.body).toContain('&lt;i&gt;locked&lt;/i&gt;');
    expect(r.body).toContain('action="/console/user/unlock"');
    expect(r.body).toContain('totp_added');
    expect(r.body).toContain('via: &lt;b&gt;portal&lt;/b&gt;');
    expect(r.body).not.toMatch(/<script>alert|<i>locked|<b>portal/);
    expect(r.body).toContain('Pending pushes (0)');
    const week = await get('/console/?range=7d');
    expect(week.body).toContain('Logins in the last 7 days, per day (UTC): 3.');
    expect((await get('/console/?range=<x>')).statusCode).toBe(400);

    expect((await c.post('/console/user/unlock', { name: '<i>locked</i>', csrf: a.csrf }, a.cookie)).statusCode).toBe(303);
    expect((await get('/console/')).body).toContain('Locked users (0)');
  });

  it('lists pending pushes with user, host and age (text only)', async () => {
    await createUser(c.h.deps, 'pat');
    const now = c.h.clock.now();
    const integ = (await c.h.deps.store.listIntegrations())[0];
    await c.h.deps.store.createTransaction({
      txid: 'tx-pending-1', integrationId: integ?.id ?? null, userId: (await showUser(c.h.deps, 'pat')).userId, username: 'pat', factor: 'push', state: 'pending',
      status: 'pushed', statusMsg: '', version: 1, createdAt: now - 90_000, expiresAt: now + 60_000, settledAt: null, context: JSON.stringify({ hostname: HOSTILE, ipaddr: '198.51.100.7' }),
    });
    const r = await get('/console/');
    expect(r.body).toContain('Pending pushes (1)');
    expect(r.body).toContain('<td>pat</td><td>&lt;script&gt;alert(1)&lt;/script&gt;</td><td>198.51.100.7</td><td>1 min</td>');
  });
});
