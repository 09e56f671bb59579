// The console's "Factors and failmode" form on an integration's page: the same core function as
// `tandem integration policy` (setPushPolicy), CSRF-protected, audited with the admin's name; the
// failmode hint reaches the client configs shown at rotation; hosts that sent another failmode in
// the last 7 days are counted on the page.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { queryLog } from '../../src/core/audit.js';
import { createIntegration } from '../../src/core/integrations.js';
import { addToken } from '../../src/core/tokens.js';
import { createUser } from '../../src/core/users.js';
import { call, type Creds } from '../support/harness.js';
import { startConsoleHarness, type ConsoleHarness, type SignedInAdmin } from './console-support.js';

let c: ConsoleHarness;
let a: SignedInAdmin;
let creds: Creds;
beforeEach(async () => {
  c = await startConsoleHarness();
  a = await c.admin('policy-admin');
  const r = await createIntegration(c.h.deps, { name: 'bastions' });
  creds = { ikey: r.integration.ikey, skey: r.skey };
});
afterEach(async () => c.close());

const post = (url: string, fields: Record<string, string>) => c.post(url, { ...fields, csrf: a.csrf }, a.cookie);
const page = async () => (await c.get(`/console/integration?ikey=${creds.ikey}`, a.cookie)).body;

describe('factors and failmode form', () => {
  it('shows every factor checked and the hint secure by default', async () => {
    const body = await page();
    for (const f of ['push', 'passcode', 'bypass']) expect(body).toMatch(new RegExp(`<input type="checkbox" name="factor_${f}" value="yes" checked>`));
    expect(body).toContain('Factors allowed: push, passcode, bypass (site default)');
    expect(body).toContain("Failmode hint (the client configs' failmode): secure (site default)");
    expect(body).toMatch(/another failmode than the hint in the last 7 days: <strong>0<\/strong>/);
  });

  it('saves through the core function, audited with the admin name; unchecked means not allowed', async () => {
    const r = await post('/console/integration/factors', { ikey: creds.ikey, factor_push: 'yes', factor_passcode: 'yes', failmode_hint: 'safe' });
    expect([r.statusCode, r.headers['location']]).toEqual([303, `/console/integration?ikey=${creds.ikey}&done=factors`]);
    expect((await c.h.deps.store.getIntegrationByIkey(creds.ikey))?.pushPolicy).toEqual({ factors: ['push', 'passcode'], failmodeHint: 'safe' });
    const body = await page();
    expect(body).toContain('Factors allowed: push, passcode<');
    expect(body).toMatch(/<input type="checkbox" name="factor_bypass" value="yes">/);
    const entry = (await queryLog(c.h.deps, { includeAdmin: true, limit: 100 })).find((e) => e.reason === 'integration_push_policy_set')!;
    expect(JSON.parse(entry.detail)).toMatchObject({ ikey: creds.ikey, actor: 'policy-admin', policy: { factors: ['push', 'passcode'], failmodeHint: 'safe' } });

    // The hint reaches the configs shown when the skey is rotated (sign-in counts as re-auth).
    const rotated = await post('/console/integration/rotate', { ikey: creds.ikey });
    expect(rotated.statusCode).toBe(200);
    expect(rotated.body).toContain('failmode = safe');
    expect(rotated.body).not.toContain('failmode = secure');

    // Keeping the hint (empty select) leaves it; the push settings form leaves the factors alone.
    expect((await post('/console/integration/factors', { ikey: creds.ikey, factor_bypass: 'yes', failmode_hint: '' })).statusCode).toBe(303);
    expect((await post('/console/integration/policy', { ikey: creds.ikey, max_pending: '2' })).statusCode).toBe(303);
    expect((await c.h.deps.store.getIntegrationByIkey(creds.ikey))?.pushPolicy).toEqual({ factors: ['bypass'], failmodeHint: 'safe', maxPending: 2 });
  });

  it('refuses without the CSRF token, with no factor, and with bad values; nothing changes', async () => {
    const noCsrf = await c.post('/console/integration/factors', { ikey: creds.ikey, factor_push: 'yes' }, a.cookie);
    expect(noCsrf.statusCode).toBe(403);
    const wrongCsrf = await c.post('/console/integration/factors', { ikey: creds.ikey, factor_push: 'yes', csrf: 'x'.repeat(43) }, a.cookie);
    expect(wrongCsrf.statusCode).toBe(403);
    expect((await post('/console/integration/factors', { ikey: creds.ikey })).statusCode).toBe(400);
    expect((await post('/console/integration/factors', { ikey: creds.ikey, factor_push: 'on' })).statusCode).toBe(400);
    expect((await post('/console/integration/factors', { ikey: creds.ikey, factor_push: 'yes', failmode_hint: 'open' })).statusCode).toBe(400);
    expect((await post('/console/integration/factors', { ikey: 'DIXXXXXXXXXXXXXXXXXX', factor_push: 'yes' })).statusCode).toBe(404);
    expect((await c.h.deps.store.getIntegrationByIkey(creds.ikey))?.pushPolicy).toEqual({});
    expect((await queryLog(c.h.deps, { includeAdmin: true, limit: 100 })).some((e) => e.reason === 'integration_push_policy_set')).toBe(false);
  });

  it('counts the hosts whose preauth said another failmode than the hint (shown as text)', async () => {
    await createUser(c.h.deps, 'alice');
    await addToken(c.h.deps, 'alice', { type: 'totp' });
    for (const [failmode, hostname] of [['open', 'web1.example.org'], ['open', 'web1.example.org'], ['open', '<b>web2</b>'], ['closed', 'db1.example.org']]) {
      expect((await call(c.h, creds, 'POST', '/auth/v2/preauth', { username: 'alice', failmode: failmode!, hostname: hostname! })).status).toBe(200);
    }
    const body = await page();
    expect(body).toMatch(/another failmode than the hint in the last 7 days: <strong>2<\/strong> \(&lt;b&gt;web2&lt;\/b&gt;, web1\.example\.org\)/);
    expect(body).not.toContain('<b>web2</b>');
  });
});
