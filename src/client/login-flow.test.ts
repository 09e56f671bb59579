import { describe, expect, it } from 'vitest';
import type { AuthAnswer, AuthParams, DuoApi, PreauthAnswer, PreauthParams, StatusAnswer } from './http/duo-client.js';
import { DuoCallError } from './http/errors.js';
import type { ClientLogger, LogLevel } from './log.js';
import { formatLogLine } from './log.js';
import { MAX_STATUS_POLLS, pushDevice, runLoginFlow, type Conversation, type LoginFlowInput } from './login-flow.js';

const MENU: PreauthAnswer = {
  result: 'auth',
  promptText: 'Tandem two-factor login for alice\n\nEnter a passcode or select one of the following options:\n\n 1. Push to phone\n\nPasscode or option (1-1): ',
  factors: { '1': 'push1', default: 'push1' },
};

interface Script {
  ping?: () => void;
  preauth?: (n: number, p: PreauthParams) => PreauthAnswer;
  auth?: (n: number, p: AuthParams) => AuthAnswer;
  status?: (n: number, txid: string) => StatusAnswer | Promise<StatusAnswer>;
}

class FakeApi implements DuoApi {
  authSent = false;
  closed = false;
  readonly calls: string[] = [];
  readonly auths: AuthParams[] = [];
  readonly preauths: PreauthParams[] = [];
  private n = { preauth: 0, auth: 0, status: 0 };
  constructor(private readonly s: Script) {}
  async ping(): Promise<void> {
    this.calls.push('ping');
    this.s.ping?.();
  }
  async preauth(p: PreauthParams): Promise<PreauthAnswer> {
    this.calls.push('preauth');
    this.preauths.push(p);
    return (this.s.preauth ?? (() => MENU))(this.n.preauth++, p);
  }
  async auth(p: AuthParams): Promise<AuthAnswer> {
    this.calls.push(`auth:${p.async ? 'async' : 'sync'}:${JSON.stringify(p.prompt)}`);
    this.authSent = true;
    this.auths.push(p);
    return (this.s.auth ?? (() => ({ kind: 'txid', txid: 'tx' })))(this.n.auth++, p);
  }
  async authStatus(txid: string): Promise<StatusAnswer> {
    this.calls.push('status');
    if (this.closed) throw new Error('status poll after close');
    return (this.s.status ?? (() => ({ result: 'allow', statusMsg: 'Success. Logging you in...' })))(this.n.status++, txid);
  }
  close(): void {
    this.closed = true;
  }
}

/** An answer, or a function that gives it later (a user who takes their time). */
type ConvAnswer = string | null | (() => Promise<string | null>);

class FakeConv implements Conversation {
  readonly events: string[] = [];
  constructor(private readonly answers: ConvAnswer[] = []) {}
  private async answer(): Promise<string | null> {
    const a = this.answers.shift();
    if (a === undefined) return null;
    if (typeof a === 'function') {
      const r = await a();
      this.events.push(`ANSWERED ${JSON.stringify(r)}`);
      return r;
    }
    return a;
  }
  async promptEchoOff(text: string): Promise<string | null> {
    this.events.push(`PROMPT_OFF ${text}`);
    return this.answer();
  }
  async promptEchoOn(text: string): Promise<string | null> {
    this.events.push(`PROMPT_ON ${text}`);
    return this.answer();
  }
  async info(text: string): Promise<void> {
    this.events.push(`INFO ${text}`);
  }
  async error(text: string): Promise<void> {
    this.events.push(`ERROR ${text}`);
  }
}

function logger(): ClientLogger & { lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    log(level: LogLevel, msg, fields) {
      lines.push(`[${level}] ${formatLogLine(msg, fields)}`);
    },
  };
}

function input(over: Partial<Omit<LoginFlowInput, 'config'>> & { config?: Partial<LoginFlowInput['config']> } = {}): LoginFlowInput {
  const { config, ...rest } = over;
  return {
    config: { groups: null, failmode: 'secure', pushinfo: false, autopush: false, prompts: 3, fallbackLocalIp: false, ...config },
    mode: 'pam',
    service: 'sudo',
    osUser: 'alice',
    userGroups: null,
    duoUser: 'alice',
    remoteHost: '203.0.113.7',
    hostname: 'vm',
    command: '/usr/bin/apt update',
    envPasscode: null,
    interactive: true,
    ...rest,
  };
}

async function run(inp: LoginFlowInput, api: FakeApi, conv = new FakeConv(), order: string[] = []) {
  const log = logger();
  const outcome = await runLoginFlow(inp, {
    conversation: conv,
    log,
    beforeNetwork: () => {
      order.push('drop');
    },
    localIp: async () => {
      order.push('localIp');
      return '192.0.2.2';
    },
    openApi: () => {
      order.push('openApi');
      return api;
    },
  });
  return { outcome, log: log.lines, conv: conv.events, order };
}

describe('groups come first', () => {
  it('no match → success without 2FA, nothing touched, logged', async () => {
    const api = new FakeApi({});
    const r = await run(input({ config: { groups: ['admins'] }, userGroups: ['users'] }), api);
    expect(r.outcome).toEqual({ result: 'success', reason: 'groups-bypass' });
    expect(r.order).toEqual([]);
    expect(api.calls).toEqual([]);
    expect(r.log).toEqual(["[info] Skipped Tandem login for 'alice': user's UNIX groups do not require 2FA"]);
  });

  it('a negated word alone never matches (bypass), with a warning', async () => {
    const r = await run(input({ config: { groups: ['!wheel'] }, userGroups: ['users'] }), new FakeApi({}));
    expect(r.outcome.reason).toBe('groups-bypass');
    expect(r.log[0]).toContain('only negated patterns');
  });

  it('match → privileges dropped before anything touches the network', async () => {
    const api = new FakeApi({});
    const r = await run(input({ config: { groups: ['users,!wheel'] }, userGroups: ['users'] }), api, new FakeConv(['1']));
    expect(r.outcome).toEqual({ result: 'success', reason: 'authenticated' });
    expect(r.order).toEqual(['drop', 'localIp', 'openApi']);
    expect(api.closed).toBe(true);
  });
});

describe('preauth outcomes', () => {
  it('allow → success, status logged, not shown', async () => {
    const r = await run(input(), new FakeApi({ preauth: () => ({ result: 'allow', statusMsg: 'Two-factor authentication is not required' }) }));
    expect(r.outcome).toEqual({ result: 'success', reason: 'preauth-allow' });
    expect(r.conv).toEqual([]);
    expect(r.log).toEqual(["[warning] Skipped Tandem login for 'alice' from 203.0.113.7: Two-factor authentication is not required"]);
  });

  it('deny → the status is shown, denied', async () => {
    const r = await run(input(), new FakeApi({ preauth: () => ({ result: 'deny', statusMsg: 'Access denied.\x1b[2J' }) }));
    expect(r.outcome).toEqual({ result: 'deny', reason: 'preauth-deny' });
    expect(r.conv).toEqual(['ERROR Access denied.[2J']);
    expect(r.log[0]).toMatch(/^\[warning\] Aborted Tandem login for 'alice' from 203\.0\.113\.7/);
  });

  it('enroll → the prompt text (or status) is shown, denied', async () => {
    const r = await run(input(), new FakeApi({ preauth: () => ({ result: 'enroll', statusMsg: 'Enroll at https://x/portal/enroll/abc', promptText: null }) }));
    expect(r.outcome).toEqual({ result: 'deny', reason: 'enroll' });
    expect(r.conv).toEqual(['ERROR Enroll at https://x/portal/enroll/abc']);
    expect(r.log[0]).toContain('User enrollment required');
  });
});

describe('choosing and authenticating', () => {
  it('shows the prompt (echo on, controls stripped, lines kept), maps the menu key, polls with INFO lines', async () => {
    const statuses: StatusAnswer[] = [
      { result: 'waiting', statusMsg: 'Pushed a login request to your device...' },
      { result: 'waiting', statusMsg: 'Pushed a login request to your device...' },
      { result: 'allow', statusMsg: 'Success. Logging you in...' },
    ];
    const api = new FakeApi({ preauth: () => ({ ...MENU, promptText: MENU.promptText.replace('alice', 'alice\x1b]0;pwned\x07') }), status: (n) => statuses[n]! });
    const r = await run(input(), api, new FakeConv(['1\r\n']));
    expect(r.outcome).toEqual({ result: 'success', reason: 'authenticated' });
    expect(r.conv[0]).toBe(`PROMPT_ON ${MENU.promptText.replace('alice', 'alice]0;pwned')}`);
    expect(r.conv.slice(1)).toEqual(['INFO Pushed a login request to your device...', 'INFO Pushed a login request to your device...', 'INFO Success. Logging you in...']);
    expect(api.calls).toEqual(['ping', 'preauth', 'auth:async:"push1"', 'status', 'status', 'status']);
    expect(api.auths[0]).toMatchObject({ username: 'alice', ipaddr: '203.0.113.7', hostname: 'vm', async: true, pushinfo: 'Server+IP=192.0.2.2&Command=' });
    expect(r.log).toEqual(["[info] Successful Tandem login for 'alice' from 203.0.113.7"]);
  });

  it('a passcode is sent as typed; an empty answer as "\\n"', async () => {
    const api = new FakeApi({ status: (n) => (n === 0 ? { result: 'deny', statusMsg: 'Incorrect passcode. Please try again.' } : { result: 'allow', statusMsg: 'ok' }) });
    const r = await run(input(), api, new FakeConv(['', '123456']));
    expect(r.outcome.result).toBe('success');
    expect(api.auths.map((a) => a.prompt)).toEqual(['\n', '123456']);
    expect(api.calls.filter((c) => c === 'preauth')).toHaveLength(2);
  });

  it('sshd: a passcode is a synchronous auth (OpenSSH buffers PAM text), final status shown', async () => {
    const api = new FakeApi({ auth: () => ({ kind: 'final', result: 'allow', statusMsg: 'Success. Logging you in...' }) });
    const r = await run(input({ service: 'sshd' }), api, new FakeConv(['123456']));
    expect(r.outcome.result).toBe('success');
    expect(api.calls).toEqual(['ping', 'preauth', 'auth:sync:"123456"']);
    expect(api.auths[0]).toMatchObject({ factor: 'prompt', device: null });
    expect(r.conv.at(-1)).toBe('INFO Success. Logging you in...');
  });

  it('sshd: a push is async all the same (unlike duo_unix)', async () => {
    const api = new FakeApi({});
    const r = await run(input({ service: 'sshd' }), api, new FakeConv(['1']));
    expect(r.outcome.result).toBe('success');
    expect(api.calls).toEqual(['ping', 'preauth', 'auth:async:"push1"', 'status']);
    expect(api.auths[0]).toMatchObject({ factor: 'push', device: 'auto', async: true });
  });

  it('prompts: each failed round does a new preauth; all failed → deny max-attempts', async () => {
    const deny = (): AuthAnswer => ({ kind: 'final', result: 'deny', statusMsg: 'Incorrect passcode. Please try again.' });
    for (const prompts of [1, 2, 3]) {
      const api = new FakeApi({ auth: deny });
      const r = await run(input({ service: 'sshd', config: { prompts } }), api, new FakeConv(['111111', '222222', '333333']));
      expect(r.outcome).toEqual({ result: 'deny', reason: 'max-attempts' });
      expect(api.calls.filter((c) => c === 'preauth')).toHaveLength(prompts);
      expect(r.log.filter((l) => l.startsWith("[warning] Failed Tandem login for 'alice' from 203.0.113.7"))).toHaveLength(prompts);
    }
  });

  it('a cancelled conversation denies', async () => {
    const r = await run(input(), new FakeApi({}), new FakeConv([null]));
    expect(r.outcome).toEqual({ result: 'deny', reason: 'cancelled' });
  });

  it('pushinfo = yes carries the command; the Server IP is always there', async () => {
    const api = new FakeApi({});
    await run(input({ config: { pushinfo: true } }), api, new FakeConv(['1']));
    expect(api.auths[0]!.pushinfo).toBe('Server+IP=192.0.2.2&Command=%2Fusr%2Fbin%2Fapt%20update');
  });

  it('fallback_local_ip replaces a host name; an IP stays', async () => {
    const api = new FakeApi({});
    await run(input({ remoteHost: 'client.example.com', config: { fallbackLocalIp: true } }), api, new FakeConv(['1']));
    expect(api.preauths[0]!.ipaddr).toBe('192.0.2.2');
    const api2 = new FakeApi({});
    await run(input({ remoteHost: 'client.example.com' }), api2, new FakeConv(['1']));
    expect(api2.preauths[0]!.ipaddr).toBe('client.example.com');
  });

  it('failmode is sent with preauth', async () => {
    const api = new FakeApi({});
    await run(input({ config: { failmode: 'safe' } }), api, new FakeConv(['1']));
    expect(api.preauths[0]!.failmode).toBe('safe');
  });
});

describe('automatic choices', () => {
  it('non-interactive: one silent attempt with the default factor (a push: async, polled silently)', async () => {
    const api = new FakeApi({ status: (n) => (n === 0 ? { result: 'waiting', statusMsg: 'Pushed a login request to your device...' } : { result: 'deny', status: 'deny', statusMsg: 'Login request denied.' }) });
    const r = await run(input({ mode: 'login', service: null, interactive: false }), api);
    expect(r.outcome).toEqual({ result: 'deny', reason: 'max-attempts' });
    expect(api.calls).toEqual(['ping', 'preauth', 'auth:async:"push1"', 'status', 'status']);
    expect(api.auths[0]).toMatchObject({ factor: 'push', device: 'auto' });
    expect(r.conv).toEqual([]);
  });

  it('non-interactive, a passcode-like default: one silent synchronous attempt', async () => {
    const api = new FakeApi({ preauth: () => ({ ...MENU, factors: { default: 'phone1' } }), auth: () => ({ kind: 'final', result: 'deny', statusMsg: 'Login request denied.' }) });
    const r = await run(input({ mode: 'login', service: null, interactive: false }), api);
    expect(r.outcome).toEqual({ result: 'deny', reason: 'max-attempts' });
    expect(api.calls).toEqual(['ping', 'preauth', 'auth:sync:"phone1"']);
    expect(r.conv).toEqual([]);
  });

  it('non-interactive without a default factor → deny', async () => {
    const r = await run(input({ mode: 'login', interactive: false }), new FakeApi({ preauth: () => ({ ...MENU, factors: { '1': 'push1' } }) }));
    expect(r.outcome).toEqual({ result: 'deny', reason: 'no-default-factor' });
  });

  it('login_tandem autopush: the first round is a push (async here), then the menu', async () => {
    const api = new FakeApi({ status: (n) => (n === 0 ? { result: 'deny', status: 'deny', statusMsg: 'Login request denied.' } : { result: 'allow', statusMsg: 'ok' }) });
    const r = await run(input({ mode: 'login', service: null, config: { autopush: true } }), api, new FakeConv(['123456']));
    expect(r.outcome.result).toBe('success');
    expect(api.calls).toEqual(['ping', 'preauth', 'auth:async:"push1"', 'status', 'preauth', 'auth:async:"123456"', 'status']);
    expect(api.auths.map((a) => a.factor)).toEqual(['push', 'prompt']);
    expect(r.conv[0]).toBe('INFO Autopushing login request to phone...');
  });

  it('pam autopush: the default factor every round, async unless sshd', async () => {
    const api = new FakeApi({ status: () => ({ result: 'deny', statusMsg: 'Login request denied.' }) });
    const r = await run(input({ config: { autopush: true, prompts: 2 } }), api);
    expect(r.outcome).toEqual({ result: 'deny', reason: 'max-attempts' });
    expect(api.calls).toEqual(['ping', 'preauth', 'auth:async:"push1"', 'status', 'preauth', 'auth:async:"push1"', 'status']);
    expect(r.conv.filter((e) => e.startsWith('PROMPT'))).toEqual([]);
  });

  it('autopush messages follow the default factor', async () => {
    const r = await run(input({ config: { autopush: true } }), new FakeApi({ preauth: () => ({ ...MENU, factors: { default: 'phone1' } }) }));
    expect(r.conv[0]).toBe('INFO Calling your phone...');
  });

  it('DUO_PASSCODE (accept_env_factor): verbatim, first round only', async () => {
    const api = new FakeApi({ status: (n) => (n === 0 ? { result: 'deny', statusMsg: 'Incorrect passcode. Please try again.' } : { result: 'allow', statusMsg: 'ok' }) });
    const r = await run(input({ mode: 'login', service: null, envPasscode: '1' }), api, new FakeConv(['654321']));
    expect(r.outcome.result).toBe('success');
    expect(api.auths.map((a) => a.prompt)).toEqual(['1', '654321']);
    expect(r.conv[0]).toBe('INFO Reading $DUO_PASSCODE...');
  });
});

describe('failmode and failures', () => {
  const unreachable = (): never => {
    throw new DuoCallError('unreachable', "Couldn't connect to tandem.example.com:443: ECONNREFUSED");
  };
  const failed = (): never => {
    throw new DuoCallError('failed', 'Invalid ikey or skey', 401);
  };

  it('safe + unreachable before any auth → Failsafe success', async () => {
    const r = await run(input({ config: { failmode: 'safe' } }), new FakeApi({ ping: unreachable }));
    expect(r.outcome).toEqual({ result: 'success', reason: 'failsafe' });
    expect(r.log).toEqual(["[warning] Failsafe Tandem login for 'alice' from 203.0.113.7: Couldn't connect to tandem.example.com:443: ECONNREFUSED"]);
  });

  it('secure + unreachable → Failsecure deny', async () => {
    const r = await run(input(), new FakeApi({ preauth: unreachable }));
    expect(r.outcome).toEqual({ result: 'deny', reason: 'failsecure' });
    expect(r.log[0]).toMatch(/^\[warning\] Failsecure Tandem login/);
  });

  it('safe + a failed call (401, TLS, bad signature…) → deny', async () => {
    const r = await run(input({ config: { failmode: 'safe' } }), new FakeApi({ preauth: failed }));
    expect(r.outcome).toEqual({ result: 'deny', reason: 'error' });
    expect(r.log[0]).toMatch(/^\[error\] Error in Tandem login for 'alice' from 203\.0\.113\.7: Invalid ikey or skey/);
  });

  it('safe + unreachable after an auth request was sent → deny', async () => {
    const api = new FakeApi({
      preauth: (n) => (n === 0 ? MENU : unreachable()),
      auth: () => ({ kind: 'final', result: 'deny', statusMsg: 'Incorrect passcode. Please try again.' }),
    });
    const r = await run(input({ service: 'sshd', config: { failmode: 'safe' } }), api, new FakeConv(['1', '1']));
    expect(r.outcome).toEqual({ result: 'deny', reason: 'error' });
  });

  it(`status polling that never settles → deny after ${MAX_STATUS_POLLS} polls`, async () => {
    const api = new FakeApi({ status: () => ({ result: 'waiting', statusMsg: 'Pushed a login request to your device...' }) });
    const r = await run(input({ config: { failmode: 'safe' } }), api, new FakeConv(['1']));
    expect(r.outcome).toEqual({ result: 'deny', reason: 'error' });
    expect(api.calls.filter((c) => c === 'status')).toHaveLength(MAX_STATUS_POLLS);
    expect(r.log.at(-1)).toContain('Authentication timed out');
    expect(r.conv.filter((e) => e.startsWith('INFO'))).toHaveLength(MAX_STATUS_POLLS);
  });

  it('unexpected errors propagate (the helper denies) and the api is closed', async () => {
    const api = new FakeApi({
      preauth: () => {
        throw new TypeError('boom');
      },
    });
    await expect(run(input(), api)).rejects.toThrow('boom');
    expect(api.closed).toBe(true);
  });
});

describe('offline_fallback = local: only where failmode would apply', () => {
  const unreachable = (): never => {
    throw new DuoCallError('unreachable', "Couldn't connect to tandem.example.com:443: ECONNREFUSED");
  };
  const failed = (): never => {
    throw new DuoCallError('failed', 'Invalid ikey or skey', 401);
  };
  async function runOffline(api: FakeApi, local: 'success' | 'deny', over: Partial<LoginFlowInput['config']> = {}, conv = new FakeConv()) {
    const log = logger();
    let checks = 0;
    const outcome = await runLoginFlow(input({ service: 'sshd', config: { failmode: 'safe', offlineFallback: 'local', ...over } }), {
      conversation: conv,
      log,
      localIp: async () => '192.0.2.2',
      openApi: () => api,
      offlineCheck: async () => {
        checks++;
        return { result: local, path: '/var/lib/tandem/alice', reason: local === 'success' ? 'authenticated' : 'invalid-code' };
      },
    });
    return { outcome, log: log.lines, checks };
  }

  it('unreachable before any auth → the local check decides (success), replacing failsafe, logged', async () => {
    const r = await runOffline(new FakeApi({ ping: unreachable }), 'success');
    expect(r.checks).toBe(1);
    expect(r.outcome).toEqual({ result: 'success', reason: 'offline-local' });
    expect(r.log).toContain("[warning] Tandem server unreachable; checked local code file /var/lib/tandem/alice for 'alice': accepted from 203.0.113.7");
    expect(r.log.join('\n')).not.toContain('Failsafe');
  });

  it('unreachable, wrong local code → deny even with failmode safe', async () => {
    const r = await runOffline(new FakeApi({ preauth: unreachable }), 'deny');
    expect(r.outcome).toEqual({ result: 'deny', reason: 'offline-local' });
    expect(r.log.at(-1)).toContain("for 'alice': denied (invalid-code)");
  });

  it('a failed call (401, TLS, signature) → no local check', async () => {
    const r = await runOffline(new FakeApi({ preauth: failed }), 'success');
    expect(r.checks).toBe(0);
    expect(r.outcome).toEqual({ result: 'deny', reason: 'error' });
  });

  it('a server deny → no local check', async () => {
    const api = new FakeApi({ auth: () => ({ kind: 'final', result: 'deny', statusMsg: 'Incorrect passcode.' }) });
    const r = await runOffline(api, 'success', { prompts: 1 }, new FakeConv(['1']));
    expect(r.checks).toBe(0);
    expect(r.outcome).toEqual({ result: 'deny', reason: 'max-attempts' });
  });

  it('a preauth deny → no local check', async () => {
    const r = await runOffline(new FakeApi({ preauth: () => ({ result: 'deny', statusMsg: 'Locked out' }) }), 'success');
    expect(r.checks).toBe(0);
    expect(r.outcome).toEqual({ result: 'deny', reason: 'preauth-deny' });
  });

  it('unreachable after an auth request was sent → no local check', async () => {
    const api = new FakeApi({
      preauth: (n) => (n === 0 ? MENU : unreachable()),
      auth: () => ({ kind: 'final', result: 'deny', statusMsg: 'Incorrect passcode. Please try again.' }),
    });
    const r = await runOffline(api, 'success', {}, new FakeConv(['1', '1']));
    expect(r.checks).toBe(0);
    expect(r.outcome).toEqual({ result: 'deny', reason: 'error' });
  });

  it('offline_fallback = none keeps failmode', async () => {
    const r = await runOffline(new FakeApi({ ping: unreachable }), 'deny', { offlineFallback: 'none' });
    expect(r.checks).toBe(0);
    expect(r.outcome).toEqual({ result: 'success', reason: 'failsafe' });
  });
});

// ------------------------------------------------------------------------------------------------
// Push and number matching (docs/push.md §5–6, status-wait.ts).

const PUSH_MENU: PreauthAnswer = {
  ...MENU,
  promptText: 'Tandem two-factor login for alice\n\nEnter a passcode or select one of the following options:\n\n 1. Tandem Push to phone\n 2. Tandem Push to tablet\n\nPasscode or option (1-2): ',
  factors: { '1': 'push1', '2': 'push2', default: 'push1' },
  devices: [
    { device: 'DPTOKEN', capabilities: [] },
    { device: 'DPPHONE', capabilities: ['auto', 'push'] },
    { device: 'DPTABLET', capabilities: ['push'] },
  ],
  txid: 'pre-tx',
};
const PUSHED: StatusAnswer = { result: 'waiting', status: 'pushed', statusMsg: 'Pushed a login request to your device...' };
const ALLOW: StatusAnswer = { result: 'allow', status: 'allow', statusMsg: 'Success. Logging you in...' };
const DENY: StatusAnswer = { result: 'deny', status: 'deny', statusMsg: 'Login request denied.' };
const CODE_PROMPT = 'PROMPT_ON Verification code 042. Enter it in the Tandem Authenticator, then press Enter: ';
const withCode = (s: StatusAnswer): StatusAnswer => ({ ...s, verificationCode: '042', statusMsg: 'Verification code 042: enter it in the Tandem Authenticator.' });

function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

async function runPush(inp: LoginFlowInput, api: FakeApi, conv: FakeConv, extra: { offlineCheck?: () => Promise<{ result: 'success' | 'deny'; path: string | null; reason: string }>; statusLimits?: { maxPolls?: number; maxWaitMs?: number } } = {}) {
  const log = logger();
  const outcome = await runLoginFlow(inp, { conversation: conv, log, localIp: async () => '192.0.2.2', openApi: () => api, ...extra });
  return { outcome, log: log.lines, conv: conv.events };
}

describe('pushDevice: which device a push choice names', () => {
  const devices = PUSH_MENU.result === 'auth' ? PUSH_MENU.devices! : [];
  it.each([
    ['push1', 'DPPHONE'],
    ['push', 'DPPHONE'],
    [' PUSH2\r', 'DPTABLET'],
    ['push3', 'auto'],
    ['push999', 'auto'],
  ])('%j → %s', (choice, device) => {
    expect(pushDevice(choice, devices)).toBe(device);
  });
  it.each(['push0', 'push1000', 'pushy', 'phone1', '123456', 'auto', '', '1'])('%j is not a push', (choice) => {
    expect(pushDevice(choice, devices)).toBeNull();
  });
  it('no devices listed → auto', () => {
    expect(pushDevice('push2', [])).toBe('auto');
  });
});

describe('push', () => {
  it('approved: factor=push, the Nth push device, async, pushinfo, preauth txid; status lines shown', async () => {
    const api = new FakeApi({ preauth: () => PUSH_MENU, status: (n) => [PUSHED, ALLOW][n]! });
    const r = await runPush(input({ config: { pushinfo: true } }), api, new FakeConv(['2']));
    expect(r.outcome).toEqual({ result: 'success', reason: 'authenticated' });
    expect(api.auths[0]).toEqual({
      username: 'alice',
      ipaddr: '203.0.113.7',
      hostname: 'vm',
      prompt: 'push2',
      factor: 'push',
      device: 'DPTABLET',
      async: true,
      pushinfo: 'Server+IP=192.0.2.2&Command=%2Fusr%2Fbin%2Fapt%20update',
      txid: 'pre-tx',
    });
    expect(r.conv).toEqual([`PROMPT_ON ${PUSH_MENU.result === 'auth' ? PUSH_MENU.promptText : ''}`, `INFO ${PUSHED.statusMsg}`, `INFO ${ALLOW.statusMsg}`]);
    expect(r.log).toEqual(["[info] Successful Tandem login for 'alice' from 203.0.113.7"]);
  });

  it('a passcode in the same round: factor=prompt, still with preauth txid', async () => {
    const api = new FakeApi({ preauth: () => PUSH_MENU, auth: () => ({ kind: 'final', result: 'allow', statusMsg: 'ok' }) });
    await runPush(input({ service: 'sshd' }), api, new FakeConv(['123456']));
    expect(api.auths[0]).toMatchObject({ prompt: '123456', factor: 'prompt', device: null, async: false, txid: 'pre-tx' });
  });

  it('denied: a failed round (new preauth, menu again), counting toward prompts', async () => {
    const api = new FakeApi({ preauth: () => PUSH_MENU, status: () => DENY });
    const r = await runPush(input({ config: { prompts: 2 } }), api, new FakeConv(['1', '1']));
    expect(r.outcome).toEqual({ result: 'deny', reason: 'max-attempts' });
    expect(api.calls).toEqual(['ping', 'preauth', 'auth:async:"push1"', 'status', 'preauth', 'auth:async:"push1"', 'status']);
    expect(r.conv.filter((e) => e === 'INFO Login request denied.')).toHaveLength(2);
    expect(r.log.filter((l) => l.startsWith("[warning] Failed Tandem login for 'alice' from 203.0.113.7: Login request denied."))).toHaveLength(2);
  });

  it.each(['timeout', 'fraud'] as const)('%s: the login ends at once (no second round)', async (status) => {
    const api = new FakeApi({ preauth: () => PUSH_MENU, status: () => ({ result: 'deny', status, statusMsg: status === 'timeout' ? 'Login timed out.' : 'Reported as fraud.' }) });
    const r = await runPush(input({ config: { prompts: 3 } }), api, new FakeConv(['1', '1', '1']));
    expect(r.outcome).toEqual({ result: 'deny', reason: status });
    expect(api.calls.filter((c) => c === 'preauth')).toHaveLength(1);
    expect(r.log.at(-1)).toMatch(new RegExp(`^\\[warning\\] Failed Tandem login for 'alice' from 203\\.0\\.113\\.7: .*\\(${status}; no further attempts\\)$`));
  });

  it('pam autopush: the default factor as a push to the first push device, async even under sshd, no prompt', async () => {
    const api = new FakeApi({ preauth: () => PUSH_MENU, status: () => ALLOW });
    const r = await runPush(input({ service: 'sshd', config: { autopush: true } }), api, new FakeConv());
    expect(r.outcome.result).toBe('success');
    expect(api.auths[0]).toMatchObject({ prompt: 'push1', factor: 'push', device: 'DPPHONE', async: true, txid: 'pre-tx' });
    expect(r.conv).toEqual(['INFO Autopushing login request to phone...', 'INFO Success. Logging you in...']);
  });

  it('DUO_PASSCODE=push is a push too', async () => {
    const api = new FakeApi({ preauth: () => PUSH_MENU, status: () => ALLOW });
    await runPush(input({ mode: 'login', service: null, envPasscode: 'push' }), api, new FakeConv());
    expect(api.auths[0]).toMatchObject({ prompt: 'push', factor: 'push', device: 'DPPHONE', async: true });
  });
});

describe('number matching', () => {
  it('the code from the async auth answer is shown in an echo-on prompt; polling goes on while it is open', async () => {
    const enter = deferred<string | null>();
    const polls = deferred<void>();
    const api = new FakeApi({
      preauth: () => PUSH_MENU,
      auth: () => ({ kind: 'txid', txid: 'tx', verificationCode: '042', statusMsg: 'Verification code 042: enter it in the Tandem Authenticator.' }),
      status: (n) => {
        if (n === 1) polls.resolve();
        return n < 2 ? withCode(PUSHED) : ALLOW;
      },
    });
    const conv = new FakeConv(['1', () => enter.promise]);
    const done = runPush(input({ service: 'sshd' }), api, conv);
    await polls.promise; // two polls made while the prompt is open, and the push then allowed
    await tick();
    expect(api.calls.filter((c) => c === 'status')).toHaveLength(3);
    expect(conv.events).toEqual([expect.stringMatching(/^PROMPT_ON Tandem/), CODE_PROMPT]); // nothing written over the open prompt
    enter.resolve('');
    const r = await done;
    expect(r.outcome).toEqual({ result: 'success', reason: 'authenticated' });
    expect(r.conv.slice(1)).toEqual([CODE_PROMPT, 'ANSWERED ""', 'INFO Success. Logging you in...']);
  });

  it('Enter before the push settles: polling goes on, with status lines again', async () => {
    const answered = deferred<void>();
    const api = new FakeApi({
      preauth: () => PUSH_MENU,
      auth: () => ({ kind: 'txid', txid: 'tx', verificationCode: '042' }),
      status: async (n) => {
        if (n === 0) await answered.promise; // the server holds the first poll until after Enter
        return n < 2 ? withCode(PUSHED) : ALLOW;
      },
    });
    const conv = new FakeConv([
      '1',
      async () => {
        setImmediate(() => answered.resolve());
        return '042';
      },
    ]);
    const r = await runPush(input(), api, conv);
    expect(r.outcome.result).toBe('success');
    expect(r.conv.slice(1)).toEqual([
      CODE_PROMPT,
      'ANSWERED "042"',
      'INFO Verification code 042: enter it in the Tandem Authenticator.',
      'INFO Verification code 042: enter it in the Tandem Authenticator.',
      'INFO Success. Logging you in...',
    ]);
  });

  it('a code first seen in a pending poll opens the prompt then; it is shown once', async () => {
    const api = new FakeApi({ preauth: () => PUSH_MENU, status: (n) => [PUSHED, withCode(PUSHED), withCode(PUSHED), DENY][n]! });
    const r = await runPush(input({ config: { prompts: 1 } }), api, new FakeConv(['1', '']));
    expect(r.outcome).toEqual({ result: 'deny', reason: 'max-attempts' });
    expect(r.conv.slice(1, 3)).toEqual([`INFO ${PUSHED.statusMsg}`, CODE_PROMPT]);
    expect(r.conv.filter((e) => e.startsWith('PROMPT_ON Verification'))).toHaveLength(1);
    expect(r.conv.at(-1)).toBe('INFO Login request denied.');
  });

  it('the push settles (denied) while the prompt is open: the result waits for Enter, then a failed round', async () => {
    const api = new FakeApi({ preauth: () => PUSH_MENU, auth: () => ({ kind: 'txid', txid: 'tx', verificationCode: '042' }), status: () => DENY });
    const enter = deferred<string | null>();
    const conv = new FakeConv(['1', () => enter.promise]);
    const done = runPush(input({ config: { prompts: 1 } }), api, conv);
    for (let i = 0; i < 5; i++) await tick();
    expect(conv.events.at(-1)).toBe(CODE_PROMPT);
    enter.resolve('whatever was typed');
    const r = await done;
    expect(r.outcome).toEqual({ result: 'deny', reason: 'max-attempts' });
    expect(r.conv.slice(2)).toEqual(['ANSWERED "whatever was typed"', 'INFO Login request denied.']);
  });

  it('a cancelled prompt (NOANSWER) denies at once, whatever the push does; nothing more is polled or said', async () => {
    const held = deferred<StatusAnswer>();
    const api = new FakeApi({ preauth: () => PUSH_MENU, auth: () => ({ kind: 'txid', txid: 'tx', verificationCode: '042' }), status: () => held.promise });
    const r = await runPush(input(), api, new FakeConv(['1', null]));
    expect(r.outcome).toEqual({ result: 'deny', reason: 'cancelled' });
    expect(r.log.at(-1)).toContain('Aborted Tandem login');
    expect(api.closed).toBe(true);
    held.resolve(withCode(PUSHED)); // the abandoned poll answers late: ignored
    for (let i = 0; i < 5; i++) await tick();
    expect(api.calls.filter((c) => c === 'status')).toHaveLength(1);
    expect(r.conv).toEqual([expect.stringMatching(/^PROMPT_ON Tandem/), CODE_PROMPT]);
  });

  it('a cancelled prompt after the push was allowed still denies', async () => {
    const api = new FakeApi({ preauth: () => PUSH_MENU, auth: () => ({ kind: 'txid', txid: 'tx', verificationCode: '042' }), status: () => ALLOW });
    const r = await runPush(input(), api, new FakeConv(['1', async () => null]));
    expect(r.outcome).toEqual({ result: 'deny', reason: 'cancelled' });
  });

  it('hostile codes are ignored: the status text is shown instead, without control characters, bounded', async () => {
    const huge = `Push sent \x1b[2J\x07${'A'.repeat(5000)}`;
    const api = new FakeApi({
      preauth: () => PUSH_MENU,
      auth: () => ({ kind: 'txid', txid: 'tx', badVerificationCode: true, statusMsg: 'Code: \x1b]0;owned\x07 123' }),
      status: (n) => (n === 0 ? { ...PUSHED, badVerificationCode: true, statusMsg: huge } : ALLOW),
    });
    const r = await runPush(input(), api, new FakeConv(['1']));
    expect(r.outcome.result).toBe('success');
    expect(r.conv.filter((e) => e.startsWith('PROMPT_ON Verification'))).toEqual([]);
    expect(r.conv[1]).toBe('INFO Code: ]0;owned 123');
    expect(r.conv[2]).toBe(`INFO Push sent [2J${'A'.repeat(1024 - 'Push sent [2J'.length)}…`);
    expect(r.log.filter((l) => l.includes('ignored a malformed verification_code'))).toHaveLength(2);
  });

  it('the wire-parsed code is exactly what the prompt shows (digits only reach the prompt)', async () => {
    const { parseStatus, parseAuth } = await import('./http/responses.js');
    const api = new FakeApi({
      preauth: () => PUSH_MENU,
      auth: () => parseAuth({ txid: 'tx', verification_code: '7\r\nPROMPT_ON x' }, true),
      status: (n) => (n === 0 ? parseStatus({ result: 'waiting', status_msg: 'm', verification_code: '31337' }) : ALLOW),
    });
    const r = await runPush(input(), api, new FakeConv(['1', '']));
    expect(r.conv.filter((e) => e.startsWith('PROMPT_ON Verification'))).toEqual(['PROMPT_ON Verification code 31337. Enter it in the Tandem Authenticator, then press Enter: ']);
  });

  it('headless (login_tandem without a terminal): the code goes once to the error stream, no prompt', async () => {
    const api = new FakeApi({ preauth: () => PUSH_MENU, auth: () => ({ kind: 'txid', txid: 'tx', verificationCode: '042' }), status: (n) => (n < 2 ? withCode(PUSHED) : ALLOW) });
    const r = await runPush(input({ mode: 'login', service: null, interactive: false }), api, new FakeConv());
    expect(r.outcome.result).toBe('success');
    expect(r.conv).toEqual(['ERROR Verification code 042: enter it in the Tandem Authenticator.']);
  });
});

describe('push waits are bounded and never fail open', () => {
  it('a poll that never answers → deny after the wall-clock cap (failmode safe)', async () => {
    const api = new FakeApi({ preauth: () => PUSH_MENU, status: () => new Promise<StatusAnswer>(() => undefined) });
    const started = Date.now();
    const r = await runPush(input({ config: { failmode: 'safe' } }), api, new FakeConv(['1']), { statusLimits: { maxWaitMs: 100 } });
    expect(r.outcome).toEqual({ result: 'deny', reason: 'error' });
    expect(Date.now() - started).toBeLessThan(5000);
    expect(r.log.at(-1)).toMatch(/Error in Tandem login .*Authentication timed out/);
  });

  it('with the number prompt open, the cap still denies, after Enter', async () => {
    const api = new FakeApi({ preauth: () => PUSH_MENU, auth: () => ({ kind: 'txid', txid: 'tx', verificationCode: '042' }), status: () => new Promise<StatusAnswer>(() => undefined) });
    const r = await runPush(input({ config: { failmode: 'safe' } }), api, new FakeConv(['1', () => new Promise((res) => setTimeout(() => res(''), 300))]), { statusLimits: { maxWaitMs: 50 } });
    expect(r.outcome).toEqual({ result: 'deny', reason: 'error' });
    expect(r.conv.slice(1)).toEqual([CODE_PROMPT, 'ANSWERED ""']);
  });

  it(`pending forever → deny after ${MAX_STATUS_POLLS} polls, with the number prompt answered`, async () => {
    const api = new FakeApi({ preauth: () => PUSH_MENU, status: () => withCode(PUSHED) });
    const r = await runPush(input({ config: { failmode: 'safe' } }), api, new FakeConv(['1', '']));
    expect(r.outcome).toEqual({ result: 'deny', reason: 'error' });
    expect(api.calls.filter((c) => c === 'status')).toHaveLength(MAX_STATUS_POLLS);
  });

  it('failmode safe and offline_fallback never apply once the push was sent (unreachable during polling or auth)', async () => {
    const unreachable = (): never => {
      throw new DuoCallError('unreachable', "Couldn't connect to tandem.example.com:443: ECONNREFUSED");
    };
    let checks = 0;
    const offlineCheck = async () => {
      checks++;
      return { result: 'success' as const, path: null, reason: 'authenticated' };
    };
    for (const script of [{ status: unreachable }, { auth: unreachable }, { auth: () => ({ kind: 'txid' as const, txid: 'tx', verificationCode: '042' }), status: unreachable }]) {
      for (const offlineFallback of ['none', 'local'] as const) {
        const api = new FakeApi({ preauth: () => PUSH_MENU, ...script });
        const r = await runPush(input({ config: { failmode: 'safe', offlineFallback } }), api, new FakeConv(['1', '']), { offlineCheck });
        expect(r.outcome).toEqual({ result: 'deny', reason: 'error' });
      }
    }
    expect(checks).toBe(0);
  });
});
