// `tandem integration policy IKEY --factors … --failmode-hint …`: shown with the effective values
// without flags, changed one setting at a time (the push settings kept), refused when malformed,
// audited; the failmode hint is what the integration's client config carries.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { clientConfigBlock, tandemClientConfigBlock } from '../../src/core/client-config.js';
import { openRuntime } from '../../src/server/runtime.js';
import { STACK, tempData, type TempData } from './run-cli.js';

const quiet = { debug() {}, info() {}, warn() {}, error() {} };

let t: TempData;
let ikey: string;
beforeEach(async () => {
  t = tempData();
  expect((await t.run(['init'])).code).toBe(0);
  ikey = (await t.json<{ ikey: string }>(['integration', 'create', '--name', 'hosts'])).ikey;
});
afterEach(() => t.cleanup());

describe('tandem integration policy: factors and failmode hint', () => {
  it('shows the defaults, changes factors and the hint, keeps the push settings, audits', async () => {
    const shown = await t.run(['integration', 'policy', ikey]);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toMatch(/^factors allowed:\s+push,passcode,bypass \(default\)$/m);
    expect(shown.stdout).toMatch(/^failmode hint:\s+secure \(default\)$/m);
    expect(shown.stdout).toMatch(/^hosts with another failmode \(7 days\):\s+0$/m);

    expect((await t.run(['integration', 'policy', ikey, '--max-pending', '2'])).code).toBe(0);
    const set = await t.run(['integration', 'policy', ikey, '--factors', 'bypass, push', '--failmode-hint', 'safe']);
    expect(set.code).toBe(0);
    expect(set.stdout).toContain(`Policy of ${ikey} updated.`);
    expect(set.stdout).toMatch(/^factors allowed:\s+push,bypass$/m);
    expect(set.stdout).toMatch(/^failmode hint:\s+safe$/m);
    expect(set.stdout).toMatch(/^max pending pushes:\s+2$/m);

    const j = await t.json<{ policy: Record<string, unknown>; effective: Record<string, unknown>; failmodeMismatchHosts: string[] }>(['integration', 'policy', ikey]);
    expect(j.policy).toEqual({ maxPending: 2, factors: ['push', 'bypass'], failmodeHint: 'safe' });
    expect(j.effective).toMatchObject({ factors: ['push', 'bypass'], failmodeHint: 'safe', maxPending: 2 });
    expect(j.failmodeMismatchHosts).toEqual([]);

    const rt = await openRuntime({ dataDir: t.data, env: t.env, log: quiet });
    try {
      const entries = (await rt.deps.store.queryAudit({ event: 'admin' })).filter((e) => e.reason === 'integration_push_policy_set');
      expect(entries).toHaveLength(2);
      expect(JSON.parse(entries[0]!.detail)).toMatchObject({ ikey, policy: { factors: ['push', 'bypass'], failmodeHint: 'safe' } });
      // The same values again change nothing and add no entry.
      await rt.close();
      expect((await t.run(['integration', 'policy', ikey, '--factors', 'push,bypass'])).code).toBe(0);
      const rt2 = await openRuntime({ dataDir: t.data, env: t.env, log: quiet });
      expect((await rt2.deps.store.queryAudit({ event: 'admin' })).filter((e) => e.reason === 'integration_push_policy_set')).toHaveLength(2);
      await rt2.close();
    } catch (e) {
      await rt.close().catch(() => {});
      throw e;
    }
  });

  it('refuses unknown or no factors and a bad hint (exit 2), without a stack', async () => {
    for (const args of [['--factors', 'push,sms'], ['--factors', ''], ['--factors', ','], ['--failmode-hint', 'open']]) {
      const r = await t.run(['integration', 'policy', ikey, ...args]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).not.toMatch(STACK);
    }
    expect((await t.json<{ policy: object }>(['integration', 'policy', ikey])).policy).toEqual({});
  });
});

describe('client configs carry the failmode hint', () => {
  const o = { name: 'hosts', ikey: 'DIXXXXXXXXXXXXXXXXXX', skey: 'x'.repeat(40), host: 'tandem.example.org', cafile: '/etc/tandem/ca.pem' };

  it('secure by default, first among the settings, in all four blocks', () => {
    for (const block of [clientConfigBlock(o), tandemClientConfigBlock(o), clientConfigBlock({ ...o, failmode: 'secure' })]) {
      const settings = block.split('\n').filter((l) => !l.startsWith(';') && !l.startsWith('[') && l !== '');
      expect(settings[0]).toBe('failmode = secure');
      expect(block).not.toContain('failmode = safe');
    }
  });

  it('safe when the hint says so, with a warning comment that duo_unix skips', () => {
    for (const block of [clientConfigBlock({ ...o, failmode: 'safe' }), tandemClientConfigBlock({ ...o, failmode: 'safe' })]) {
      const lines = block.split('\n');
      const settings = lines.filter((l) => !l.startsWith(';') && !l.startsWith('[') && l !== '');
      expect(settings[0]).toBe('failmode = safe');
      expect(block).not.toContain('failmode = secure');
      expect(lines.some((l) => l.startsWith(';') && l.includes('WITHOUT a second factor'))).toBe(true);
      for (const l of lines) expect(Buffer.byteLength(l)).toBeLessThanOrEqual(198);
    }
    expect(tandemClientConfigBlock({ ...o, failmode: 'safe' })).toContain('[tandem]');
  });
});
