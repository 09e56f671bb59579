// `tandem user enroll-link`, `tandem integration enrollment`, `tandem enrollment list|approve|deny`, in-process.
import { afterEach, beforeEach, expect, it } from 'vitest';
import { consoleBase } from '../../src/core/admins.js';
import { activationLink } from '../../src/core/devices.js';
import { holdEnrollment } from '../../src/core/enrollments.js';
import { createAdminEnrollLink } from '../../src/core/portal/links.js';
import { openRuntime } from '../../src/server/runtime.js';
import { serve } from '../../src/server/serve.js';
import { tempData, type TempData } from './run-cli.js';

const quiet = { debug() {}, info() {}, warn() {}, error() {}, garbage() {} };

let t: TempData;
beforeEach(async () => {
  t = tempData();
  expect((await t.run(['init'])).code).toBe(0);
  expect((await t.run(['user', 'create', 'alice'])).code).toBe(0);
});
afterEach(() => t.cleanup());

it('enroll-link prints a one-time portal link, 7 days by default or --valid-secs', async () => {
  const r = await t.run(['user', 'enroll-link', 'alice']);
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(/^https:\/\/\S+\/portal\/enroll\/[A-Za-z0-9_-]{43}$/m);
  const j = await t.json<{ url: string; expiresAt: number | string }>(['user', 'enroll-link', 'alice', '--valid-secs', '3600']);
  const left = new Date(j.expiresAt).getTime() - Date.now();
  expect(left).toBeGreaterThan(3590_000);
  expect(left).toBeLessThanOrEqual(3600_000);
  expect((await t.run(['user', 'enroll-link', 'nobody'])).code).not.toBe(0);
});

it('integration enrollment sets the policy; held enrollments are listed, approved once, denied', async () => {
  const integ = await t.json<{ ikey: string }>(['integration', 'create', '--name', 'hosts']);
  expect((await t.run(['integration', 'enrollment', integ.ikey, 'admin'])).code).toBe(0);
  expect((await t.run(['integration', 'enrollment', integ.ikey, 'maybe'])).code).not.toBe(0);
  const rt = await openRuntime({ dataDir: t.data, env: t.env, log: quiet });
  let ids: string[];
  try {
    const user = (await rt.deps.store.findUserByName('alice'))!;
    ids = [
      await holdEnrollment(rt.deps, { userId: user.id, integrationId: null, kind: 'totp', seed: Buffer.alloc(20, 1), nextCounter: 0 }),
      await holdEnrollment(rt.deps, { userId: user.id, integrationId: null, kind: 'device', seed: null, nextCounter: 0 }),
    ];
  } finally {
    await rt.close();
  }
  const list = await t.json<Array<{ id: string; username: string; kind: string }>>(['enrollment', 'list']);
  expect(list.map((e) => [e.id, e.username, e.kind])).toEqual([[ids[0], 'alice', 'totp'], [ids[1], 'alice', 'device']]);
  const a = await t.run(['enrollment', 'approve', ids[0]!]);
  expect(a.code).toBe(0);
  expect(a.stdout).toContain('now works');
  expect((await t.run(['enrollment', 'approve', ids[0]!])).code).not.toBe(0);
  const d = await t.run(['enrollment', 'approve', ids[1]!]);
  expect(d.stdout).toMatch(/\/app\/#activate=[A-Za-z0-9_-]{43}/);
  expect((await t.json<unknown[]>(['enrollment', 'list']))).toEqual([]);
  const tokens = await t.json<{ tokens: unknown[] }>(['user', 'show', 'alice']);
  expect(tokens.tokens).toHaveLength(1);
  const log = await t.json<Array<{ event: string; reason: string }>>(['log', '--admin', '--limit', '100']);
  expect(log.filter((e) => e.event === 'enrollment').map((e) => e.reason)).toEqual(expect.arrayContaining(['policy_set', 'approved']));
});

it('a server on port 0 hands out portal, activation and console links with the ports it really listens on', async () => {
  const server = await serve({ dataDir: t.data, env: t.env, overrides: { listen: '127.0.0.1:0' }, log: quiet, say: () => undefined });
  try {
    const port = new URL(server.url).port;
    const consolePort = new URL(server.consoleUrl).port;
    expect(Number(port)).toBeGreaterThan(0);
    const deps = server.runtime.deps;
    expect(new URL((await createAdminEnrollLink(deps, 'alice')).url).port).toBe(port);
    expect(new URL(activationLink(deps, 'x')).port).toBe(port);
    expect(new URL(consoleBase(deps.settings)).port).toBe(consolePort);
  } finally {
    await server.close();
  }
});

it('tandem log --admin shows enrollment events (link, policy, held, approved); the plain log keeps to logins', async () => {
  expect((await t.run(['user', 'enroll-link', 'alice'])).code).toBe(0);
  const integ = await t.json<{ ikey: string }>(['integration', 'create', '--name', 'hosts']);
  expect((await t.run(['integration', 'enrollment', integ.ikey, 'admin'])).code).toBe(0);
  const rt = await openRuntime({ dataDir: t.data, env: t.env, log: quiet });
  let id: string;
  try {
    const user = (await rt.deps.store.findUserByName('alice'))!;
    id = await holdEnrollment(rt.deps, { userId: user.id, integrationId: null, kind: 'totp', seed: Buffer.alloc(20, 2), nextCounter: 0 });
  } finally {
    await rt.close();
  }
  expect((await t.run(['enrollment', 'approve', id])).code).toBe(0);

  const text = await t.run(['log', '--admin']);
  expect(text.code).toBe(0);
  const rows = text.stdout.split('\n').filter((l) => /\benrollment\b/.test(l));
  expect(rows.some((l) => /\balice\b.*\bok\b.*\blink_created\b/.test(l))).toBe(true);
  expect(rows.some((l) => new RegExp(`\\bpolicy_set\\b.*\\b${integ.ikey}\\b`).test(l))).toBe(true);
  expect(rows.some((l) => /\balice\b.*\bapproved\b/.test(l))).toBe(true);

  const json = await t.json<Array<{ event: string; username: string | null; reason: string; detail: Record<string, unknown> }>>(['log', '--admin', '--user', 'alice']);
  const enrollment = json.filter((e) => e.event === 'enrollment');
  expect(enrollment.map((e) => e.reason)).toEqual(['approved', 'link_created']);
  expect(enrollment[0]!.detail).toMatchObject({ id, kind: 'totp', by: 'cli' });
  expect(enrollment[1]!.detail).toMatchObject({ via: 'cli' });

  // Without --admin: the authentication log only (no logins happened here).
  const plain = await t.run(['log']);
  expect(plain.code).toBe(0);
  expect(plain.stdout).not.toMatch(/enrollment|link_created|policy_set/);
});
