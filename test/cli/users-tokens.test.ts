import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { base32Decode, base32Encode } from '../../src/protocol/base32.js';
import { hotp } from '../../src/protocol/hotp.js';
import { parseOtpauthUri } from '../../src/protocol/otpauth.js';
import { STACK, tempData, type TempData } from './run-cli.js';

let t: TempData;
beforeEach(async () => {
  t = tempData();
  expect((await t.run(['init'])).code).toBe(0);
});
afterEach(() => t.cleanup());

interface UserJson {
  username: string;
  aliases: string[];
  status: string;
  tokens?: { tokenId: string; type: string }[];
}

describe('tandem user', () => {
  it('add-alias and remove-alias (one namespace with usernames), audited', async () => {
    expect((await t.run(['user', 'create', 'alice'])).code).toBe(0);
    expect((await t.run(['user', 'create', 'bob'])).code).toBe(0);
    expect((await t.run(['user', 'add-alias', 'alice', 'al'])).stdout).toBe('User alice: aliases al.\n');
    expect((await t.json<UserJson>(['user', 'show', 'al'])).username).toBe('alice');
    const taken = await t.run(['user', 'add-alias', 'alice', 'bob']);
    expect(taken.code).not.toBe(0);
    expect(taken.stderr).toContain('already taken by user bob');
    expect((await t.run(['user', 'remove-alias', 'alice', 'alice'])).code).not.toBe(0);
    expect(await t.json(['user', 'remove-alias', 'alice', 'al'])).toEqual({ username: 'alice', aliases: [] });
    const log = await t.json<{ event: string; reason: string; username: string }[]>(['log', '--admin', '--user', 'alice']);
    expect(log.map((e) => e.reason).slice(0, 2)).toEqual(['alias_removed', 'alias_added']);
  });

  it('create, list, show, disable, enable, unlock, delete', async () => {
    const created = await t.run(['user', 'create', 'alice', '--alias', 'al', '--alias', 'alice.smith']);
    expect(created.code).toBe(0);
    expect(created.stdout).toContain('User alice created (aliases: al, alice.smith).');

    expect(await t.json<UserJson[]>(['user', 'list'])).toEqual([expect.objectContaining({ username: 'alice', aliases: ['al', 'alice.smith'], status: 'active' })]);
    expect((await t.run(['user', 'list'])).stdout).toMatch(/alice\s+active\s+al,alice\.smith/);

    // An alias finds the same user.
    expect((await t.json<UserJson>(['user', 'show', 'al'])).username).toBe('alice');

    expect((await t.run(['user', 'disable', 'alice'])).stdout).toBe('User alice disabled.\n');
    expect((await t.json<UserJson>(['user', 'show', 'alice'])).status).toBe('disabled');
    expect((await t.run(['user', 'enable', 'alice'])).code).toBe(0);
    expect((await t.json<UserJson>(['user', 'show', 'alice'])).status).toBe('active');
    expect((await t.run(['user', 'unlock', 'alice'])).stdout).toBe('User alice unlocked.\n');

    expect((await t.run(['user', 'delete', 'alice'])).code).toBe(0);
    const gone = await t.run(['user', 'show', 'alice']);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toBe('tandem: no user named alice\n');
    expect(await t.json(['user', 'list'])).toEqual([]);
  });

  it('bypass (Duo\'s status: no second factor) shows in show and list, enable ends it, both audited', async () => {
    expect((await t.run(['user', 'create', 'alice'])).code).toBe(0);
    const r = await t.run(['user', 'bypass', 'alice']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('User alice is in bypass status: logins need no second factor until `tandem user enable`.\n');
    expect(await t.json<UserJson>(['user', 'show', 'alice'])).toMatchObject({ status: 'bypass', accountStatus: 'bypass' });
    expect((await t.run(['user', 'show', 'alice'])).stdout).toMatch(/status:\s+bypass/);
    expect((await t.run(['user', 'list'])).stdout).toMatch(/alice\s+bypass/);
    expect((await t.run(['user', 'enable', 'alice'])).stdout).toBe('User alice enabled.\n');
    expect((await t.json<UserJson>(['user', 'show', 'alice'])).status).toBe('active');
    const log = await t.json<{ event: string; reason: string; detail: Record<string, unknown> }[]>(['log', '--admin', '--user', 'alice']);
    expect(log.slice(0, 2).map((e) => [e.event, e.reason])).toEqual([['admin', 'user_enabled'], ['admin', 'user_bypass_set']]);
    expect(log[1]!.detail).toMatchObject({ from: 'active' });
    expect(log[0]!.detail).toMatchObject({ from: 'bypass' });
  });

  it('an alias already taken by someone else: exit 1, one clear line, nothing created', async () => {
    await t.run(['user', 'create', 'alice', '--alias', 'al']);
    const r = await t.run(['user', 'create', 'bob', '--alias', 'al']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe('tandem: the name al is already taken by user alice\n');
    expect(r.stderr).not.toMatch(STACK);
    expect((await t.json<UserJson[]>(['user', 'list'])).map((u) => u.username)).toEqual(['alice']);
    // A username equal to an existing alias is the same conflict.
    expect((await t.run(['user', 'create', 'al'])).code).toBe(1);
  });

  it('unknown user actions fail with exit 1', async () => {
    for (const verb of ['show', 'disable', 'enable', 'bypass', 'unlock', 'delete']) {
      const r = await t.run(['user', verb, 'nobody']);
      expect(r.code).toBe(1);
      expect(r.stderr).toBe('tandem: no user named nobody\n');
    }
  });
});

describe('tandem token', () => {
  beforeEach(async () => {
    expect((await t.run(['user', 'create', 'alice'])).code).toBe(0);
  });

  it('add with a generated seed prints the otpauth URI and a terminal QR code', async () => {
    const r = await t.run(['token', 'add', 'alice', '--type', 'totp']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const uri = /^otpauth:\/\/\S+$/m.exec(r.stdout)?.[0];
    expect(uri).toBeDefined();
    const p = parseOtpauthUri(uri!);
    expect(p).toMatchObject({ type: 'totp', issuer: 'Tandem', account: 'alice', digits: 6, algorithm: 'sha1', period: 30 });
    expect(base32Decode(p.secretBase32)).toHaveLength(20);
    expect(r.stdout).toContain(`enter the secret by hand: ${p.secretBase32}`);
    expect(r.stdout).toMatch(/[▄▀█]/); // the QR code's half blocks
  });

  it('--json prints only {otpauth, secret}; digits/algorithm/period reach the URI', async () => {
    const j = await t.json<Record<string, string>>(['token', 'add', 'alice', '--type', 'totp', '--digits', '8', '--algorithm', 'sha256', '--period', '60']);
    expect(Object.keys(j).sort()).toEqual(['otpauth', 'secret']);
    expect(j.otpauth).toMatch(/^otpauth:\/\/totp\//);
    const u = new URL(j.otpauth!);
    expect(u.searchParams.get('digits')).toBe('8');
    expect(u.searchParams.get('algorithm')).toBe('SHA256');
    expect(u.searchParams.get('period')).toBe('60');
    expect(u.searchParams.get('secret')).toBe(j.secret);

    const list = await t.json<{ tokenId: string; digits: number; algorithm: string; period: number }[]>(['token', 'list', 'alice']);
    expect(list).toEqual([expect.objectContaining({ digits: 8, algorithm: 'sha256', period: 60, type: 'totp' })]);
  });

  it('imports a seed from standard input (base32, lower case, spaces, trailing newline)', async () => {
    const seed = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';
    const typed = 'jbsw y3dp ehpk 3pxp jbsw y3dp ehpk 3pxp\n';
    const j = await t.json<{ otpauth: string; secret: string }>(['token', 'add', 'alice', '--type', 'totp', '--secret-file', '-'], { stdin: Readable.from([Buffer.from(typed)]) });
    expect(j.secret).toBe(seed);
    expect(new URL(j.otpauth).searchParams.get('secret')).toBe(seed);
  });

  it('imports a hex: seed from a file, ignoring its trailing newline', async () => {
    const hex = '3132333435363738393031323334353637383930'; // RFC 4226's test seed
    const file = join(t.root, 'seed.txt');
    writeFileSync(file, `hex:${hex}\n`, { mode: 0o600 });
    const j = await t.json<{ otpauth: string; secret: string }>(['token', 'add', 'alice', '--type', 'hotp', '--secret-file', file, '--counter', '5']);
    expect(j.secret).toBe(base32Encode(Buffer.from(hex, 'hex')));
    expect(parseOtpauthUri(j.otpauth)).toMatchObject({ type: 'hotp', account: 'alice', counter: 5, digits: 6, algorithm: 'sha1' });
  });

  it('refuses a secret file that is not a seed, without echoing it and without adding a token', async () => {
    const file = join(t.root, 'garbage.txt');
    writeFileSync(file, 'this is not a seed!! 0189\n');
    const r = await t.run(['token', 'add', 'alice', '--type', 'totp', '--secret-file', file]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^tandem: secret file .*garbage\.txt: the seed is not valid base32/);
    expect(r.stderr).not.toContain('this is not a seed');
    expect(r.stderr).not.toMatch(STACK);
    expect(await t.json(['token', 'list', 'alice'])).toEqual([]);

    const multi = join(t.root, 'two-lines.txt');
    writeFileSync(multi, 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP\n" RATE_LIMIT 3 30\n');
    expect((await t.run(['token', 'add', 'alice', '--type', 'totp', '--secret-file', multi])).stderr).toMatch(/more than one line/);

    const missing = await t.run(['token', 'add', 'alice', '--type', 'totp', '--secret-file', join(t.root, 'nope')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^tandem: cannot read secret file .*nope: no such file\n$/);

    const short = await t.run(['token', 'add', 'alice', '--type', 'totp', '--secret-file', '-'], { stdin: 'JBSWY3DP\n' });
    expect(short.code).toBe(1);
    expect(short.stderr).toMatch(/at least 16 bytes/);

    const empty = await t.run(['token', 'add', 'alice', '--type', 'totp', '--secret-file', '-'], { stdin: '\n' });
    expect(empty.code).toBe(1);
    expect(empty.stderr).toMatch(/standard input is empty/);
  });

  it('resyncs an HOTP token from two consecutive codes', async () => {
    const seed = Buffer.from('3132333435363738393031323334353637383930', 'hex');
    await t.json(['token', 'add', 'alice', '--type', 'hotp', '--secret-file', '-'], { stdin: base32Encode(seed) });
    const opts = { digits: 6 as const, algorithm: 'sha1' as const };
    const r = await t.run(['token', 'resync', 'alice', hotp(seed, 40, opts), hotp(seed, 41, opts)]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Token DH[A-Z0-9]{18} of alice resynchronised\.\n$/);

    // Codes from before the new counter no longer resync.
    const stale = await t.run(['token', 'resync', 'alice', hotp(seed, 10, opts), hotp(seed, 11, opts)]);
    expect(stale.code).toBe(1);
    expect(stale.stderr).toMatch(/^tandem: no HOTP token of alice produced those two codes/);
  });

  it('list and remove', async () => {
    await t.json(['token', 'add', 'alice', '--type', 'totp']);
    const [tok] = await t.json<{ tokenId: string }[]>(['token', 'list', 'alice']);
    expect((await t.run(['token', 'list', 'alice'])).stdout).toMatch(new RegExp(`${tok!.tokenId}\\s+totp\\s+6\\s+sha1\\s+30`));
    expect((await t.json<UserJson>(['user', 'show', 'alice'])).tokens).toEqual([expect.objectContaining({ tokenId: tok!.tokenId })]);
    const removed = await t.run(['token', 'remove', 'alice', tok!.tokenId]);
    expect(removed.code).toBe(0);
    expect(await t.json(['token', 'list', 'alice'])).toEqual([]);
    const again = await t.run(['token', 'remove', 'alice', tok!.tokenId]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/has no token/);
  });
});
