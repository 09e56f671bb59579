// tandem-pam-helper: run by pam_tandem.so and login_tandem over the line protocol
// (pam/PROTOCOL.md). Order matters:
//   1. read the request (bounded), 2. load the config (fail closed), 3. resolve the user and,
//   when `groups` is set, their groups, read the CA bundle — all while still root —,
//   4. the login flow: groups check; then privileges are dropped to `_tandem` before the first
//   network access; then ping / preauth / auth,
//   5. `RESULT success|deny <reason>`; exit 0. A protocol violation or an unexpected exception
//   writes `RESULT deny …` (when it still can) and exits 1.
//
// Hybrid mode (`[tandem] offline_fallback = local`) is split by who holds root:
//   - pam_tandem (the helper runs with the application's credentials, root under sshd): the
//     whole network phase runs in a child process, this bundle again with `--network-phase`,
//     started fully dropped to `_tandem` (local/network-child.ts); the parent relays its
//     conversation, keeps root, and runs the local code file check itself only after the
//     child's `RESULT deny offline-fallback`. Not root, or no `_tandem`: all in one process.
//   - login_tandem: the helper always runs fully dropped to `_tandem` (the launcher's
//     setresuid), and never checks the file itself. When the server was unreachable it answers
//     `RESULT deny offline-fallback`; login_tandem, the privileged parent, then starts a second
//     helper as root with `ARG offline-check`, which re-reads the config, checks that
//     offline_fallback = local is set, and runs only the local check — no network (PROTOCOL.md).
import type { Readable, Writable } from 'node:stream';
import { createReadStream } from 'node:fs';
import { DEFAULT_LOGIN_CONFIG, DEFAULT_PAM_CONFIG } from './config/load.js';
import { ClientConfigError, type ClientConfig, type ClientProgram } from './config/types.js';
import { displayText } from './display-text.js';
import { gecosUsername } from './gecos.js';
import { BadArgument, parseHelperArgs, type HelperArgs } from './helper-args.js';
import { defaultDeps, type HelperDeps } from './helper-deps.js';
import { formatLogLine, type ClientLogger } from './log.js';
import { runLoginFlow, type Conversation, type LoginOutcome } from './login-flow.js';
import { LineReader, ProtocolViolation, ProtocolWriter, readRequest, type HelperRequest } from './line-protocol.js';
import { PrivilegeError, SERVICE_ACCOUNT, type DropResult } from './privileges.js';
import { UserLookupError, selectUser, type PasswdEntry } from './users.js';
import { processIdSwitch } from './local/id-switch.js';
import { runLocalMode, type LocalDeps } from './local/ga-local.js';
import { isLocalOption, runOfflineFallback, type OfflineResult } from './local/offline-fallback.js';
import { NETWORK_PHASE_ARG, readJob, relayNetworkChild } from './local/network-child.js';

/** login_tandem: the deny reason that asks the launcher to run the offline check as root. */
export const OFFLINE_DELEGATE_REASON = 'offline-fallback';
/** login_tandem: the ARG of the second run, the local check only (never sent by pam_tandem). */
export const OFFLINE_CHECK_ARG = 'offline-check';
export interface HelperIo {
  stdin: Readable;
  stdout: Writable;
  /** One log line (already newline-terminated). */
  logLine: (line: string) => void;
}

function conversationOver(writer: ProtocolWriter): Conversation {
  return {
    promptEchoOff: (text) => writer.prompt(false, text),
    promptEchoOn: (text) => writer.prompt(true, text),
    info: (text) => writer.info(text),
    error: (text) => writer.error(text),
  };
}

function parseUid(v: string | undefined): number | null {
  if (v === undefined) return null;
  if (!/^[0-9]{1,10}$/.test(v)) throw new ProtocolViolation('ITEM uid is not a number');
  return Number(v);
}

type Decision = { result: 'success' | 'deny' | 'ignore'; reason: string };

/** Thrown by login mode's offlineCheck: the launcher runs the local check (as root), not us. */
class OfflineDelegation extends Error {
  constructor() {
    super('offline check delegated to login_tandem');
    this.name = 'OfflineDelegation';
  }
}

/**
 * The google-authenticator arguments of the offline check: offline_options, pam_tandem's module
 * options, debug, and for login_tandem's DUO_PASSCODE `use_first_pass` (last, so it wins): the
 * env code is the one attempt, as it is login_duo's first.
 */
/** The hybrid-mode log line (the same whichever process ran the check). */
function logFallback(log: ClientLogger, r: OfflineResult, user: string, ip: string | null): void {
  const verdict = r.result === 'success' ? 'accepted' : `denied (${r.reason})`;
  log.log('warning', `Tandem server unreachable; checked local code file ${r.path ?? '(none)'} for '${user}': ${verdict}`, { ip });
}

function offlineArgs(config: ClientConfig, localArgs: readonly string[], debug: boolean, envPasscode: string | null): string[] {
  return [...config.offlineOptions, ...localArgs, ...(debug ? ['debug'] : []), ...(envPasscode !== null ? ['use_first_pass'] : [])];
}

async function decide(req: HelperRequest, writer: ProtocolWriter, deps: HelperDeps, setDebug: (d: boolean) => void, log: ClientLogger): Promise<Decision> {
  const modeItem = req.items.mode ?? 'pam';
  if (modeItem !== 'pam' && modeItem !== 'login') throw new ProtocolViolation('ITEM mode must be pam or login');
  const mode: ClientProgram = modeItem;
  // pam_tandem local mode: only with the module argument `mode=local`; never reads pam_duo.conf.
  if (mode === 'pam' && req.args.includes('mode=local')) {
    setDebug(req.args.includes('debug'));
    const authtok = req.authtok === null ? null : req.authtok.toString('utf8');
    return runLocalMode(
      req.args,
      { user: req.items.user ?? null, rhost: req.items.rhost ?? null, authtok },
      { conversation: conversationOver(writer), setAuthtok: (t) => writer.setAuthtok(t), log },
      deps.local ?? { lookupPasswd: deps.lookupPasswd, nowSec: () => Math.floor(Date.now() / 1000), ids: processIdSwitch },
    );
  }
  // pam_tandem's google-authenticator options (secret=, user=, ...) are for the offline
  // fallback only; without `[tandem] offline_fallback = local` they are refused below.
  const localArgs = mode === 'pam' ? req.args.filter(isLocalOption) : [];
  // login_tandem's second run (after `RESULT deny offline-fallback`): the local check only.
  const offlinePhase = mode === 'login' && req.args.includes(OFFLINE_CHECK_ARG);
  let args: HelperArgs;
  try {
    args = parseHelperArgs(
      req.args.filter((a) => (mode !== 'pam' || !isLocalOption(a)) && !(offlinePhase && a === OFFLINE_CHECK_ARG)),
      mode,
    );
  } catch (e) {
    if (!(e instanceof BadArgument)) throw e;
    log.log('error', e.message);
    return { result: 'deny', reason: 'bad-argument' };
  }
  setDebug(args.debug);
  const realUid = parseUid(req.items.uid);

  // 2. config: any problem denies, whatever failmode the file may say.
  const path = args.conf ?? (mode === 'pam' ? DEFAULT_PAM_CONFIG : DEFAULT_LOGIN_CONFIG);
  let config: ClientConfig;
  let ca: string | null = null;
  try {
    const loaded = deps.loadConfig(path, mode);
    for (const w of loaded.warnings) log.log('warning', w);
    config = loaded.config;
    if (config.tlsVerify) ca = deps.readCa(config.cafile);
  } catch (e) {
    if (!(e instanceof ClientConfigError)) throw e;
    log.log('error', 'Config error, login denied', { detail: e.message });
    return { result: 'deny', reason: 'config' };
  }
  const offline = config.offlineFallback === 'local';
  if (localArgs.length > 0 && !offline) {
    const name = localArgs[0]!.split('=')[0]!.slice(0, 64);
    log.log('error', `${new BadArgument(name).message} (google-authenticator options need [tandem] offline_fallback = local)`);
    return { result: 'deny', reason: 'bad-argument' };
  }

  // 3. the account, and its groups when they matter.
  const service = req.items.service ?? null;
  let pw: PasswdEntry;
  let userGroups: string[] | null = null;
  try {
    pw = await selectUser({ mode, service, pamUser: req.items.user ?? null, realUid }, deps.lookupPasswd);
    if (config.groups !== null && config.groups.length > 0) userGroups = await deps.lookupGroups(pw.name);
  } catch (e) {
    if (!(e instanceof UserLookupError)) throw e;
    log.log('error', "Couldn't resolve the user, login denied", { user: req.items.user ?? null, detail: e.message });
    return { result: 'deny', reason: 'user-unknown' };
  }

  let duoUser = pw.name;
  if (args.user !== null) {
    duoUser = args.user;
  } else {
    const g = gecosUsername(pw.name, pw.gecos, config);
    if (g.note !== null) log.log(g.note === 'Empty GECOS field' ? 'warning' : 'debug', g.note, { user: pw.name });
    duoUser = g.username;
  }

  const interactive = mode === 'pam' || ((req.items.tty ?? '') !== '' && req.env.SSH_ORIGINAL_COMMAND === undefined);
  const command = mode === 'pam' ? (service === 'sudo' ? (req.env.SUDO_COMMAND ?? null) : null) : (args.command ?? req.env.SSH_ORIGINAL_COMMAND ?? null);
  const remoteHost = mode === 'pam' ? (req.items.rhost ?? null) : (req.env.SSH_CONNECTION ?? args.host ?? null);
  const envPasscode = mode === 'login' && config.acceptEnvFactor ? (req.env.DUO_PASSCODE ?? null) : null;

  // The account whose local code file the offline check reads: login_tandem -f USER (root only,
  // as login_duo) names it; otherwise the Unix account (never the GECOS-derived server name).
  const fallbackUser = mode === 'login' && args.user !== null ? args.user : pw.name;
  const localDeps: LocalDeps = deps.local ?? { lookupPasswd: deps.lookupPasswd, nowSec: () => Math.floor(Date.now() / 1000), ids: processIdSwitch };
  const runFallback = (): Promise<OfflineResult> => {
    const authtok = envPasscode ?? (req.authtok === null ? null : req.authtok.toString('utf8'));
    return runOfflineFallback(
      offlineArgs(config, localArgs, args.debug, envPasscode),
      { user: fallbackUser, rhost: req.items.rhost ?? null, authtok },
      { conversation: conversationOver(writer), setAuthtok: (t) => writer.setAuthtok(t), log },
      localDeps,
    );
  };

  if (offlinePhase) {
    // Started by login_tandem, as root, only after the first run said the server was unreachable
    // before any auth request. Nothing here touches the network.
    if (!offline) {
      log.log('error', 'offline check requested but offline_fallback is not local, login denied', { user: fallbackUser });
      return { result: 'deny', reason: 'no-offline-fallback' };
    }
    const r = await runFallback();
    logFallback(log, r, fallbackUser, req.items.rhost ?? null);
    if (r.result === 'success' && interactive && config.motd) {
      const motd = deps.readMotd();
      if (motd) await writer.info(displayText(motd.replace(/\n$/, '')));
    }
    return { result: r.result, reason: 'offline-local' };
  }

  const flowInput = {
    mode,
    service,
    osUser: pw.name,
    userGroups,
    duoUser,
    remoteHost,
    hostname: deps.hostname(),
    command,
    envPasscode,
    interactive,
  };

  // pam_tandem's hybrid mode as root: the network phase in a child that is `_tandem` for good.
  if (offline && mode === 'pam' && deps.startNetworkChild !== undefined) {
    const child = await deps.startNetworkChild({ config, ca, mode, debug: args.debug, input: flowInput });
    if (child === 'no-account') log.log('warning', `no ${SERVICE_ACCOUNT} account: talking to the server as root`);
    if (child !== 'not-root' && child !== 'no-account') {
      log.log('debug', `network phase in a child process as ${SERVICE_ACCOUNT}`);
      const r = await relayNetworkChild(child, writer, log);
      if (r.result !== 'deny' || r.reason !== OFFLINE_DELEGATE_REASON) return r;
      const f = await runFallback();
      logFallback(log, f, fallbackUser, req.items.rhost ?? null);
      return { result: f.result, reason: 'offline-local' };
    }
  }

  const outcome: LoginOutcome | 'delegated' = await runLoginFlow(
    { config, ...flowInput },
    {
      conversation: conversationOver(writer),
      log,
      beforeNetwork: async () => {
        // login_tandem's helper is already `_tandem` (the launcher dropped it fully): 'not-root'.
        const r: DropResult = await deps.dropPrivileges();
        if (r === 'dropped') log.log('debug', `dropped privileges to ${SERVICE_ACCOUNT}`);
        if (r === 'no-account') log.log('warning', `no ${SERVICE_ACCOUNT} account: talking to the server as root`);
      },
      localIp: deps.localIp,
      openApi: () => deps.openApi(config, ca, mode, log),
      offlineCheck: !offline
        ? undefined
        : mode === 'login'
          ? async () => {
              // Called only when the server was unreachable before any auth request.
              throw new OfflineDelegation();
            }
          : // pam_tandem in one process: not root, or no `_tandem` to drop to (see above).
            () => runFallback(),
    },
  ).catch((e: unknown) => {
    if (e instanceof OfflineDelegation) return 'delegated' as const;
    throw e;
  });
  if (outcome === 'delegated') {
    log.log('info', `Tandem server unreachable; login_tandem runs the local code file check for '${fallbackUser}' as root (offline_fallback = local)`);
    return { result: 'deny', reason: OFFLINE_DELEGATE_REASON };
  }

  if (outcome.result === 'success' && mode === 'login' && interactive && config.motd) {
    const motd = deps.readMotd();
    if (motd) await writer.info(displayText(motd.replace(/\n$/, '')));
  }
  return { result: outcome.result, reason: outcome.reason };
}

/** The whole helper; resolves with the exit status. */
export async function runHelper(io: HelperIo, deps: HelperDeps = defaultDeps): Promise<number> {
  let debug = false;
  const logger: ClientLogger = {
    log(level, msg, fields) {
      if (level === 'debug' && !debug) return;
      io.logLine(`[${level}] ${formatLogLine(msg, fields)}\n`);
    },
  };
  const reader = new LineReader(io.stdin);
  const writer = new ProtocolWriter(io.stdout, reader);
  let req: HelperRequest | null = null;
  try {
    req = await readRequest(reader);
    const d = await decide(req, writer, deps, (v) => (debug = v), logger);
    await writer.result(d.result, d.reason);
    return 0;
  } catch (e) {
    let reason = 'internal';
    if (e instanceof ProtocolViolation) {
      reason = e.kind === 'version' ? 'protocol-version' : 'protocol';
      logger.log('error', 'protocol error, login denied', { detail: e.message });
    } else {
      logger.log('error', 'internal error, login denied', { detail: e instanceof Error ? `${e.name}: ${e.message}` : 'unknown' });
    }
    try {
      await writer.result('deny', reason);
    } catch {
      /* the launcher is gone; it denies anyway */
    }
    return 1;
  } finally {
    req?.authtok?.fill(0);
    if (req?.env.DUO_PASSCODE !== undefined) req.env.DUO_PASSCODE = '';
    reader.close();
  }
}

/**
 * pam_tandem's network phase in its child process (local/network-child.ts): the job from `jobIn`,
 * the helper side of the line protocol on io, never root. `RESULT deny offline-fallback` when the
 * server was unreachable before any auth request (the parent then checks the local file).
 */
export async function runNetworkPhase(jobIn: Readable, io: HelperIo, deps: Pick<HelperDeps, 'localIp' | 'openApi'> = defaultDeps, ids: { getuid(): number; geteuid(): number } = process as unknown as { getuid(): number; geteuid(): number }): Promise<number> {
  let debug = false;
  const logger: ClientLogger = {
    log(level, msg, fields) {
      if (level === 'debug' && !debug) return;
      io.logLine(`[${level}] ${formatLogLine(msg, fields)}\n`);
    },
  };
  const reader = new LineReader(io.stdin);
  const writer = new ProtocolWriter(io.stdout, reader);
  try {
    if (ids.getuid() === 0 || ids.geteuid() === 0) throw new PrivilegeError('the network phase must not run as root');
    const job = await readJob(jobIn);
    debug = job.debug;
    logger.log('debug', `network phase: uid ${ids.getuid()}, euid ${ids.geteuid()}`);
    const outcome = await runLoginFlow(
      { config: job.config, ...job.input },
      {
        conversation: conversationOver(writer),
        log: logger,
        localIp: deps.localIp,
        openApi: () => deps.openApi(job.config, job.ca, job.mode, logger),
        offlineCheck: job.config.offlineFallback === 'local' ? () => Promise.reject(new OfflineDelegation()) : undefined,
      },
    ).catch((e: unknown) => {
      if (e instanceof OfflineDelegation) return 'delegated' as const;
      throw e;
    });
    if (outcome === 'delegated') await writer.result('deny', OFFLINE_DELEGATE_REASON);
    else await writer.result(outcome.result, outcome.reason);
    return 0;
  } catch (e) {
    logger.log('error', 'network phase: internal error, login denied', { detail: e instanceof Error ? `${e.name}: ${e.message}` : 'unknown' });
    try {
      await writer.result('deny', 'internal');
    } catch {
      /* the parent is gone; it denies anyway */
    }
    return 1;
  } finally {
    reader.close();
  }
}

/** The entry point's body: the process's own streams. */
export async function main(): Promise<number> {
  // A launcher that went away makes stdout fail with EPIPE; that must not crash the helper.
  process.stdout.on('error', () => undefined);
  const io: HelperIo = { stdin: process.stdin, stdout: process.stdout, logLine: (line) => process.stderr.write(line) };
  const code = process.argv[2] === NETWORK_PHASE_ARG ? await runNetworkPhase(createReadStream('', { fd: 3 }), io) : await runHelper(io);
  process.stdin.destroy();
  return code;
}
