import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { appendAudit } from '../../src/core/audit.js';
import { openRuntime } from '../../src/server/runtime.js';
import { NODE_ID, tempData, type TempData } from './run-cli.js';

const quiet = { debug() {}, info() {}, warn() {}, error() {} };

let t: TempData;
beforeEach(async () => {
  t = tempData();
  expect((await t.run(['init'])).code).toBe(0);
  expect((await t.run(['user', 'create', 'alice'])).code).toBe(0);
});
afterEach(() => t.cleanup());

describe('tandem bypass', () => {
  it('create --json gives N nine-digit codes; list and clear never show them', async () => {
    const j = await t.json<{ codes: string[] }>(['bypass', 'create', 'alice', '--count', '5', '--uses', '2', '--valid-secs', '3600']);
    expect(Object.keys(j)).toEqual(['codes']);
    expect(j.codes).toHaveLength(5);
    for (const c of j.codes) expect(c).toMatch(/^[0-9]{9}$/);
    expect(new Set(j.codes).size).toBe(5);

    const text = await t.run(['bypass', 'list', 'alice']);
    const json = await t.run(['bypass', 'list', 'alice', '--json']);
    for (const c of j.codes) {
      expect(text.stdout).not.toContain(c);
      expect(json.stdout).not.toContain(c);
    }
    const list = JSON.parse(json.stdout) as { bypassId: string; usesRemaining: number; expiresAt: string }[];
    expect(list).toHaveLength(5);
    for (const b of list) {
      expect(b.usesRemaining).toBe(2);
      expect(Date.parse(b.expiresAt) - Date.now()).toBeGreaterThan(3500_000);
    }
    expect(text.stdout).toMatch(/DB[A-Z0-9]{18}\s+2\s+\d{4}-/);

    expect((await t.run(['bypass', 'clear', 'alice'])).stdout).toBe('Removed 5 bypass codes of alice.\n');
    expect(await t.json(['bypass', 'list', 'alice'])).toEqual([]);
  });

  it('text output: the codes once, then what they allow', async () => {
    const r = await t.run(['bypass', 'create', 'alice', '--count', '2']);
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toMatch(/^[0-9]{9}$/);
    expect(lines[1]).toMatch(/^[0-9]{9}$/);
    expect(r.stdout).toContain('1 use each; no expiry');
    expect(r.stderr).toBe('');
  });
});

describe('tandem log', () => {
  async function addAuthEntries(): Promise<void> {
    const rt = await openRuntime({ dataDir: t.data, env: t.env, log: quiet });
    const base = { integration: 'DIXXXXXXXXXXXXXXXXXX', factor: 'passcode', ipaddr: '192.0.2.7', txid: null };
    await appendAudit(rt.deps, { ...base, event: 'auth', username: 'alice', result: 'deny', reason: 'invalid_passcode', hostname: 'web1' });
    await appendAudit(rt.deps, { ...base, event: 'auth', username: 'alice', result: 'allow', reason: 'valid_passcode', hostname: 'evil\u001b[31mhost' });
    await appendAudit(rt.deps, { ...base, event: 'preauth', username: 'bob', factor: null, result: 'enroll', reason: 'unknown_user', hostname: 'web2' });
    await rt.close();
  }

  it('shows authentication entries newest first, one line each, with every field', async () => {
    await addAuthEntries();
    const r = await t.run(['log']);
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^TIME\s+EVENT\s+USER\s+FACTOR\s+RESULT\s+REASON\s+IPADDR\s+HOSTNAME\s+INTEGRATION\s+TXID$/);
    expect(lines).toHaveLength(4); // header + 3; operator actions are left out
    expect(lines[1]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\s+preauth\s+bob\s+-\s+enroll\s+unknown_user\s+192\.0\.2\.7\s+web2\s+DIXXXXXXXXXXXXXXXXXX\s+-$/);
    expect(lines[3]).toMatch(/auth\s+alice\s+passcode\s+deny\s+invalid_passcode\s+192\.0\.2\.7\s+web1/);
    // A host name from a Unix host cannot send escape sequences to the operator's terminal.
    expect(r.stdout).not.toContain('\u001b');
    expect(r.stdout).toContain('evil\\x1b[31mhost');
  });

  it('filters by --user, --since, --limit; --admin adds operator actions; --json', async () => {
    await addAuthEntries();
    const alice = await t.json<{ username: string; event: string; time: string }[]>(['log', '--user', 'alice']);
    expect(alice.map((e) => e.username)).toEqual(['alice', 'alice']);
    expect(alice[0]!.time).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(await t.json(['log', '--limit', '1'])).toHaveLength(1);
    expect(await t.json(['log', '--since', '15m'])).toHaveLength(3);
    expect(await t.json(['log', '--since', new Date(Date.now() + 3_600_000).toISOString()])).toEqual([]);
    expect(await t.json(['log', '--since', '2000-01-01'])).toHaveLength(3);
    const all = await t.json<{ event: string; reason: string }[]>(['log', '--admin']);
    expect(all.some((e) => e.event === 'admin' && e.reason === 'user_created')).toBe(true);

    const bad = await t.run(['log', '--since', 'yesterday']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^tandem: --since must be ISO 8601/);
  });

  it('says so when there is nothing to show', async () => {
    expect((await t.run(['log'])).stdout).toBe('No log entries.\n');
  });

  it('filters by --integration, --result, --factor and --until (the console\'s filters)', async () => {
    await addAuthEntries();
    const reasons = async (args: string[]) => (await t.json<{ reason: string }[]>(['log', ...args])).map((e) => e.reason);
    expect(await reasons(['--result', 'deny'])).toEqual(['invalid_passcode']);
    expect(await reasons(['--factor', 'passcode'])).toEqual(['valid_passcode', 'invalid_passcode']);
    expect(await reasons(['--integration', 'DIXXXXXXXXXXXXXXXXXX', '--result', 'enroll'])).toEqual(['unknown_user']);
    expect(await reasons(['--integration', "DI' OR '1'='1"])).toEqual([]);
    expect(await reasons(['--until', '2000-01-01'])).toEqual([]);
    expect(await reasons(['--until', new Date(Date.now() + 60_000).toISOString(), '--user', 'bob'])).toEqual(['unknown_user']);
    const bad = await t.run(['log', '--until', 'soon']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^tandem: --until must be ISO 8601/);
  });
});

describe('tandem audit verify', () => {
  it('reports each chain and exits 0 while intact', async () => {
    await t.run(['user', 'create', 'bob']);
    const r = await t.run(['audit', 'verify']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^chain ${NODE_ID}: 2 verified entries, head seq 2 hash [0-9a-f]{64}\\nOK: 1 chain intact\\.\\n$`));
    const j = await t.json<{ ok: boolean; chains: { nodeId: string; entries: number }[] }>(['audit', 'verify']);
    expect(j).toMatchObject({ ok: true, chains: [{ nodeId: NODE_ID, entries: 2, headSeq: 2 }] });
  });

  it('an edited entry: exit 1 naming the node and seq of the first broken entry', async () => {
    for (const u of ['bob', 'carol', 'dave']) await t.run(['user', 'create', u]);
    const db = new Database(join(t.data, 'tandem.db'));
    try {
      expect(db.prepare("UPDATE audit_log SET username = 'mallory' WHERE node_id = ? AND seq = 3").run(NODE_ID).changes).toBe(1);
    } finally {
      db.close();
    }
    const r = await t.run(['audit', 'verify']);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`BROKEN: node ${NODE_ID}, entry seq 3: its contents do not match its hash`);
    expect(r.stdout).toMatch(/2 verified entries, head seq 2/);

    const j = await t.run(['audit', 'verify', '--json']);
    expect(j.code).toBe(1);
    expect(JSON.parse(j.stdout)).toMatchObject({ ok: false, broken: { nodeId: NODE_ID, seq: 3 } });
  });

  it('a deleted entry is named too', async () => {
    for (const u of ['bob', 'carol']) await t.run(['user', 'create', u]);
    const db = new Database(join(t.data, 'tandem.db'));
    db.prepare('DELETE FROM audit_log WHERE seq = 2').run();
    db.close();
    const r = await t.run(['audit', 'verify']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(new RegExp(`BROKEN: node ${NODE_ID}, entry seq 2: entry 2 is missing`));
  });
});
