// `tandem device activate|list|remove` and `tandem integration policy`, in-process.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { activate } from '../../src/core/devices.js';
import { openRuntime } from '../../src/server/runtime.js';
import { ScriptedDevice } from '../support/device.js';
import { STACK, tempData, type TempData } from './run-cli.js';

const quiet = { debug() {}, info() {}, warn() {}, error() {} };

let t: TempData;
beforeEach(async () => {
  t = tempData();
  expect((await t.run(['init'])).code).toBe(0);
  expect((await t.run(['user', 'create', 'alice'])).code).toBe(0);
});
afterEach(() => t.cleanup());

const LINK = /^https:\/\/\S+\/app\/#activate=([A-Za-z0-9_-]{43})$/m;

/** What the phone does with the link: POST /app/api/activate, here straight through core. */
async function useLink(code: string, name = 'phone'): Promise<string> {
  const rt = await openRuntime({ dataDir: t.data, env: t.env, log: quiet });
  try {
    const { jwk } = await ScriptedDevice.newKey();
    return (await activate(rt.deps, { code, publicKeyJwk: jwk, name })).deviceId;
  } finally {
    await rt.close();
  }
}

describe('tandem device', () => {
  it('activate prints the link, a terminal QR code and the expiry; the link works once', async () => {
    const r = await t.run(['device', 'activate', 'alice']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const code = LINK.exec(r.stdout)?.[1];
    expect(code).toBeDefined();
    expect(r.stdout).toMatch(/^Activation link for alice \(works once, until \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\):$/m);
    expect(r.stdout).toMatch(/[▀▄█]/);
    const until = Date.parse(/until (\S+)\):/.exec(r.stdout)![1]!);
    expect(Math.abs(until - (Date.now() + 86_400_000))).toBeLessThan(10_000);

    const deviceId = await useLink(code!);
    await expect(useLink(code!)).rejects.toThrow('invalid activation code');

    const list = await t.run(['device', 'list', 'alice']);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/^DEVICE ID\s+NAME\s+WEB PUSH\s+CREATED\s+LAST SEEN$/m);
    expect(list.stdout).toMatch(new RegExp(`^${deviceId}\\s+phone\\s+no\\s+\\d{4}-`, 'm'));
    const json = await t.json<{ deviceId: string; name: string; webPush: boolean; createdAt: string }[]>(['device', 'list', 'alice']);
    expect(json).toEqual([expect.objectContaining({ deviceId, name: 'phone', webPush: false, createdAt: expect.stringMatching(/Z$/) })]);
    // The device's TOTP token is an ordinary token of the user.
    expect(await t.json<unknown[]>(['token', 'list', 'alice'])).toHaveLength(1);

    const removed = await t.run(['device', 'remove', 'alice', deviceId]);
    expect([removed.code, removed.stdout]).toEqual([0, `Device ${deviceId} removed from alice.\n`]);
    expect((await t.run(['device', 'list', 'alice'])).stdout).toBe('alice has no devices.\n');
    expect(await t.json<unknown[]>(['token', 'list', 'alice'])).toEqual([]);

    const rt = await openRuntime({ dataDir: t.data, env: t.env, log: quiet });
    try {
      const reasons = (await rt.deps.store.queryAudit({ username: 'alice' })).map((e) => `${e.event}/${e.reason}`);
      expect(reasons.slice(0, 3)).toEqual(['admin/device_removed', 'device/activated', 'admin/device_activation_created']);
      for (const e of await rt.deps.store.queryAudit({})) expect(JSON.stringify(e)).not.toContain(code!);
    } finally {
      await rt.close();
    }
  });

  it('--json and --valid-secs', async () => {
    const j = await t.json<{ username: string; userId: string; link: string; expiresAt: string }>(['device', 'activate', 'alice', '--valid-secs', '600']);
    expect(j.username).toBe('alice');
    expect(j.userId).toMatch(/^DU/);
    expect(j.link).toMatch(LINK);
    expect(Math.abs(Date.parse(j.expiresAt) - (Date.now() + 600_000))).toBeLessThan(10_000);
  });

  it('mistakes: unknown user or device (exit 1), bad --valid-secs (exit 2), no stack traces', async () => {
    const nobody = await t.run(['device', 'activate', 'nobody']);
    expect([nobody.code, nobody.stderr]).toEqual([1, 'tandem: no user named nobody\n']);
    const gone = await t.run(['device', 'remove', 'alice', 'DPAAAAAAAAAAAAAAAAAA']);
    expect([gone.code, gone.stderr]).toEqual([1, 'tandem: user alice has no device DPAAAAAAAAAAAAAAAAAA\n']);
    for (const v of ['0', '2592001', 'soon']) {
      const r = await t.run(['device', 'activate', 'alice', '--valid-secs', v]);
      expect(r.code).toBe(2);
      expect(r.stderr).not.toMatch(STACK);
    }
    expect((await t.run(['device', 'list', 'nobody'])).code).toBe(1);
    await t.run(['user', 'disable', 'alice']);
    const disabled = await t.run(['device', 'activate', 'alice']);
    expect([disabled.code, disabled.stderr]).toEqual([1, 'tandem: user alice is disabled; enable them first\n']);
  });

  it('another user\'s device cannot be removed through this user', async () => {
    expect((await t.run(['user', 'create', 'bob'])).code).toBe(0);
    const code = LINK.exec((await t.run(['device', 'activate', 'bob'])).stdout)![1]!;
    const deviceId = await useLink(code);
    expect((await t.run(['device', 'remove', 'alice', deviceId])).code).toBe(1);
    expect(await t.json<unknown[]>(['device', 'list', 'bob'])).toHaveLength(1);
  });

  it('help lists the commands and their options', async () => {
    const group = await t.run(['device', '--help']);
    expect(group.code).toBe(0);
    expect(group.stdout).toMatch(/device activate USER\s+Make a one-time activation link/);
    expect(group.stdout).toMatch(/device list USER/);
    expect(group.stdout).toMatch(/device remove USER DEVICE_ID/);
    const help = await t.run(['help', 'device', 'activate']);
    expect(help.stdout).toContain('--valid-secs N');
    expect((await t.run(['--help'])).stdout).toContain('device activate USER');
    expect((await t.run(['integration', 'policy', '--help'])).stdout).toContain('--verified-push off|required');
  });
});

describe('tandem integration policy', () => {
  let ikey: string;
  beforeEach(async () => {
    ikey = (await t.json<{ ikey: string }>(['integration', 'create', '--name', 'hosts'])).ikey;
  });

  it('shows the site defaults, changes one setting at a time, audits the change', async () => {
    const shown = await t.run(['integration', 'policy', ikey]);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toMatch(/^verified push:\s+off \(site default\)$/m);
    expect(shown.stdout).toMatch(/^max pending pushes:\s+1 \(site default\)$/m);
    expect(shown.stdout).toMatch(/^denial threshold:\s+3 \(site default\)$/m);
    expect(shown.stdout).toMatch(/^cooldown:\s+900 s \(site default\)$/m);
    expect(shown.stdout).toMatch(/^fraud reports lock:\s+yes \(site default\)$/m);
    expect(shown.stdout).toMatch(/^approval:\s+device-key \(site default\)$/m);

    const set = await t.run(['integration', 'policy', ikey, '--verified-push', 'required', '--max-pending', '2']);
    expect(set.code).toBe(0);
    expect(set.stdout).toContain(`Push policy of ${ikey} updated.`);
    expect(set.stdout).toMatch(/^verified push:\s+required$/m);
    expect(set.stdout).toMatch(/^max pending pushes:\s+2$/m);

    await t.run(['integration', 'policy', ikey, '--fraud-locks', 'no', '--cooldown-secs', '60', '--denial-threshold', '5', '--approval', 'passkey']);
    const j = await t.json<{ ikey: string; policy: Record<string, unknown>; effective: Record<string, unknown> }>(['integration', 'policy', ikey]);
    expect(j).toEqual({
      ikey,
      policy: { verifiedPush: 'required', maxPending: 2, fraudLocks: false, cooldownSeconds: 60, denialThreshold: 5, approvalAuth: 'passkey' },
      effective: { verifiedPush: 'required', maxPending: 2, fraudLocks: false, cooldownSeconds: 60, denialThreshold: 5, approvalAuth: 'passkey', factors: ['push', 'passcode', 'bypass'], failmodeHint: 'secure' },
      failmodeMismatchHosts: [],
    });

    const rt = await openRuntime({ dataDir: t.data, env: t.env, log: quiet });
    try {
      const entries = await rt.deps.store.queryAudit({ event: 'admin' });
      expect(entries.filter((e) => e.reason === 'integration_push_policy_set')).toHaveLength(2);
      expect((await rt.deps.store.getIntegrationByIkey(ikey))!.pushPolicy).toEqual(j.policy);
    } finally {
      await rt.close();
    }
  });

  it('refuses bad values (exit 2) and unknown integrations (exit 1)', async () => {
    for (const args of [['--verified-push', 'maybe'], ['--max-pending', '0'], ['--max-pending', '101'], ['--fraud-locks', 'true'], ['--cooldown-secs', '-1']]) {
      const r = await t.run(['integration', 'policy', ikey, ...args]);
      expect(r.code).toBe(2);
      expect(r.stderr).not.toMatch(STACK);
    }
    const r = await t.run(['integration', 'policy', 'DIXXXXXXXXXXXXXXXXXX']);
    expect([r.code, r.stderr]).toEqual([1, 'tandem: no integration with ikey DIXXXXXXXXXXXXXXXXXX\n']);
  });
});
