// One login, as duo_unix runs it (duo_unix.md §2, §3.1, §7), over an abstract conversation:
//
//   groups check ─ no match → success without 2FA ("Skipped", as duo_unix returns)
//   ping (clock offset, once) → preauth ─ allow → success ("Skipped")
//                                        ─ deny / enroll → show the text, deny ("Aborted")
//                                        ─ auth → choose → auth → [poll] ─ allow → success
//                                                                          ─ deny → next round
//                                                                          ─ fraud / timeout → deny
//   with a new preauth each round, up to `prompts` rounds (one when non-interactive).
//
// Choosing, in duo_unix's order: DUO_PASSCODE (login_tandem with accept_env_factor, first round
// only; sent verbatim) → the default factor (non-interactive: one silent attempt; autopush) → the
// server's prompt text, one answer, mapped through `factors`.
//
// The prompt is shown with echo ON, as pam_duo and login_duo do: the answer is usually a menu
// number, which users expect to see, and a passcode is single-use and expires within seconds or
// after one use, so seeing it on screen costs nothing that the one-time design does not already
// cover. It also keeps the look that users of pam_duo and sshd's keyboard-interactive know.
//
// Push (docs/push.md §5–6). preauth and auth always carry client_supports_verified_push=1, and
// auth carries preauth's txid when it sent one. A choice that is a push (`push`, `pushN`, from
// the menu, typed, autopush/headless `default`, or DUO_PASSCODE) goes as factor=push with
// device = the Nth push-capable device preauth listed (`auto` when it listed none or fewer), and
// is ALWAYS async, also under sshd (unlike duo_unix): the wait (status-wait.ts) can show a
// verification code live in a prompt. Other choices keep duo_unix's sync/async rules.
// Results: allow → success; deny → a failed round (a wrong tap or number may be retried, as
// duo_unix retries every deny); `timeout` or `fraud` (the status word) end the login at once:
// duo_unix does not tell them apart and retries, which after a timeout pages an absent user again
// (push fatigue) and after "report as fraud" asks again for a login the user has disowned (the
// server locks the user anyway).
//
// failmode: only a DuoCallError of kind `unreachable` — which the client produces only before
// any auth request has been sent — lets `safe` allow ("Failsafe"); everything else denies.
// `[tandem] offline_fallback = local` replaces failmode in exactly that case: the local
// google-authenticator check (deps.offlineCheck) decides, and is logged; never after a deny.
import { clientAddress } from './address.js';
import { displayText } from './display-text.js';
import { allNegatedWords, groupsRequire2fa } from './groups.js';
import { DuoCallError } from './http/errors.js';
import { pushinfoText, type DuoApi, type PreauthDevice } from './http/duo-client.js';
import type { ClientLogger } from './log.js';
import { MAX_STATUS_POLLS, MAX_STATUS_WAIT_MS, statusText, waitForResult, type WaitLimits } from './status-wait.js';

export { MAX_STATUS_POLLS, MAX_STATUS_WAIT_MS } from './status-wait.js';

export interface Conversation {
  /** Resolves with the answer, or null when the conversation failed or was cancelled. */
  promptEchoOff(text: string): Promise<string | null>;
  promptEchoOn(text: string): Promise<string | null>;
  info(text: string): Promise<void>;
  error(text: string): Promise<void>;
}

export interface LoginFlowConfig {
  groups: readonly string[] | null;
  failmode: 'safe' | 'secure';
  pushinfo: boolean;
  autopush: boolean;
  prompts: number;
  fallbackLocalIp: boolean;
  /** `[tandem] offline_fallback`; absent means none. */
  offlineFallback?: 'local' | 'none';
}

export interface LoginFlowInput {
  config: LoginFlowConfig;
  mode: 'pam' | 'login';
  /** PAM_SERVICE (`sshd` makes auth synchronous: OpenSSH only shows PAM text at the end). */
  service: string | null;
  /** The Unix account checked (groups, logs). */
  osUser: string;
  /** Its group names; needed only when `groups` is set. */
  userGroups: readonly string[] | null;
  /** The name sent to the server (login name, GECOS-derived, or login_tandem -f). */
  duoUser: string;
  /** PAM_RHOST, or SSH_CONNECTION / -h for login_tandem; null when unknown. */
  remoteHost: string | null;
  hostname: string;
  /** The command for pushinfo (sudo's SUDO_COMMAND, login_tandem's command); sent only with pushinfo = yes. */
  command: string | null;
  /** DUO_PASSCODE, when accept_env_factor applies (login_tandem only). */
  envPasscode: string | null;
  /** False for login_tandem without a terminal or with SSH_ORIGINAL_COMMAND: one silent attempt. */
  interactive: boolean;
}

export interface LoginFlowDeps {
  conversation: Conversation;
  log: ClientLogger;
  /** Called once, after the groups check and before anything touches the network (privilege drop). */
  beforeNetwork?: () => void | Promise<void>;
  /** This host's IPv4 address (pushinfo's "Server IP", fallback_local_ip). */
  localIp: () => Promise<string | null>;
  /** The server API, opened after beforeNetwork. */
  openApi: () => DuoApi;
  /**
   * The offline fallback's local check (offline_fallback = local), run only when the server was
   * unreachable before any auth request was sent. Without it, that case denies.
   */
  offlineCheck?: () => Promise<OfflineCheckResult>;
  /** The status-polling limits (tests); MAX_STATUS_POLLS and MAX_STATUS_WAIT_MS by default. */
  statusLimits?: Partial<WaitLimits>;
}

export interface OfflineCheckResult {
  result: 'success' | 'deny';
  /** The local code file checked (null when it was never worked out). */
  path: string | null;
  reason: string;
}

export type SuccessReason = 'authenticated' | 'groups-bypass' | 'preauth-allow' | 'failsafe' | 'offline-local';
export type DenyReason = 'preauth-deny' | 'enroll' | 'no-default-factor' | 'cancelled' | 'max-attempts' | 'failsecure' | 'offline-local' | 'fraud' | 'timeout' | 'error';
export type LoginOutcome = { result: 'success'; reason: SuccessReason } | { result: 'deny'; reason: DenyReason };

/** duo_unix reads at most 255 characters of answer. */
const MAX_ANSWER = 255;

function autopushMessage(factor: string): string {
  if (factor.includes('push')) return 'Autopushing login request to phone...';
  if (factor.includes('phone')) return 'Calling your phone...';
  return 'Using default second-factor authentication.';
}

type RoundResult = { done: LoginOutcome } | { failed: string };

const PUSH_CHOICE = /^push([1-9][0-9]{0,2})?$/i;

/**
 * For a choice that is a push (`push`, `push1`…`push999`, any case, surrounding space ignored):
 * the device to send — the Nth push-capable device preauth listed, or `auto`. null: not a push.
 */
export function pushDevice(choice: string, devices: readonly PreauthDevice[]): string | null {
  const m = PUSH_CHOICE.exec(choice.trim());
  if (m === null) return null;
  const n = m[1] === undefined ? 1 : Number(m[1]);
  return devices.filter((d) => d.capabilities.includes('push'))[n - 1]?.device ?? 'auto';
}

export async function runLoginFlow(input: LoginFlowInput, deps: LoginFlowDeps): Promise<LoginOutcome> {
  const { conversation: conv, log } = deps;
  const { config } = input;
  const user = input.duoUser;

  // 1. groups, before anything else; no network for a user who bypasses.
  if (config.groups !== null && config.groups.length > 0) {
    for (const w of allNegatedWords(config.groups)) log.log('warning', `groups word '${w}' has only negated patterns and never matches`);
    if (!groupsRequire2fa(config.groups, input.userGroups ?? [])) {
      log.log('info', 'Skipped Tandem login', { user: input.osUser, detail: "user's UNIX groups do not require 2FA" });
      return { result: 'success', reason: 'groups-bypass' };
    }
  }

  await deps.beforeNetwork?.();
  const serverIp = await deps.localIp();
  const ipaddr = clientAddress(input.remoteHost, config.fallbackLocalIp, () => serverIp);
  const api = deps.openApi();
  const say = async (text: string): Promise<void> => {
    if (input.interactive && text !== '') await conv.info(displayText(text));
  };
  const sayError = async (text: string): Promise<void> => {
    if (input.interactive && text !== '') await conv.error(displayText(text));
  };
  const pushinfo = pushinfoText(serverIp, config.pushinfo ? input.command : null);
  const syncAlways = !input.interactive || (input.mode === 'pam' && input.service === 'sshd');
  const attempts = input.interactive ? Math.max(1, Math.min(3, config.prompts)) : 1;
  const limits: WaitLimits = { maxPolls: MAX_STATUS_POLLS, maxWaitMs: MAX_STATUS_WAIT_MS, ...deps.statusLimits };
  let envPasscode = input.envPasscode;

  const round = async (attempt: number): Promise<RoundResult> => {
    const pre = await api.preauth({ username: user, ipaddr, hostname: input.hostname, failmode: config.failmode });
    if (pre.result === 'allow') {
      log.log('warning', 'Skipped Tandem login', { user, ip: ipaddr, detail: pre.statusMsg });
      return { done: { result: 'success', reason: 'preauth-allow' } };
    }
    if (pre.result === 'deny') {
      await sayError(pre.statusMsg);
      log.log('warning', 'Aborted Tandem login', { user, ip: ipaddr, detail: pre.statusMsg });
      return { done: { result: 'deny', reason: 'preauth-deny' } };
    }
    if (pre.result === 'enroll') {
      await sayError(pre.promptText ?? pre.statusMsg);
      log.log('warning', 'Aborted Tandem login', { user, ip: ipaddr, detail: 'User enrollment required' });
      return { done: { result: 'deny', reason: 'enroll' } };
    }

    let choice: string;
    let sync = syncAlways;
    const autopush = config.autopush && (input.mode === 'pam' || attempt === 0);
    if (envPasscode !== null) {
      await say('Reading $DUO_PASSCODE...');
      choice = envPasscode;
      envPasscode = null;
    } else if (!input.interactive || autopush) {
      const def = pre.factors['default'];
      if (def === undefined) {
        log.log('warning', 'Aborted Tandem login', { user, ip: ipaddr, detail: 'No default factor found for automatic login' });
        return { done: { result: 'deny', reason: 'no-default-factor' } };
      }
      choice = def;
      // login_duo's autopush round is synchronous; pam_duo's only for sshd.
      if (input.mode === 'login') sync = true;
      await say(autopushMessage(def));
    } else {
      const answer = await conv.promptEchoOn(displayText(pre.promptText));
      if (answer === null) {
        log.log('warning', 'Aborted Tandem login', { user, ip: ipaddr, detail: 'the conversation was cancelled' });
        return { done: { result: 'deny', reason: 'cancelled' } };
      }
      const line = answer.split(/[\r\n]/)[0]!.slice(0, MAX_ANSWER);
      const mapped = Object.prototype.hasOwnProperty.call(pre.factors, line) ? pre.factors[line]! : line;
      // duo_unix sends an empty answer as "\n"; the server counts it as a wrong passcode.
      choice = mapped === '' ? '\n' : mapped;
    }

    const device = pushDevice(choice, pre.devices ?? []);
    const a = await api.auth({
      username: user,
      ipaddr,
      hostname: input.hostname,
      prompt: choice,
      factor: device === null ? 'prompt' : 'push',
      device,
      // A push is always async (the wait shows its verification code live); see the top.
      async: device !== null || !sync,
      pushinfo,
      txid: pre.txid ?? null,
    });
    const final = a.kind === 'final' ? a : await waitForResult({ api, conv, log, interactive: input.interactive, user, ip: ipaddr, limits }, a.txid, a);
    if ('kind' in final && final.kind === 'cancelled') {
      log.log('warning', 'Aborted Tandem login', { user, ip: ipaddr, detail: 'the conversation was cancelled' });
      return { done: { result: 'deny', reason: 'cancelled' } };
    }
    const r = 'answer' in final ? final.answer : final;
    await say(statusText(r.statusMsg));
    if (r.result === 'allow') return { done: success(log, user, ipaddr) };
    if (r.result === 'deny' && (r.status === 'fraud' || r.status === 'timeout')) {
      log.log('warning', 'Failed Tandem login', { user, ip: ipaddr, detail: `${r.statusMsg} (${r.status}; no further attempts)` });
      return { done: { result: 'deny', reason: r.status } };
    }
    return { failed: r.statusMsg };
  };

  try {
    await api.ping();
    for (let attempt = 0; attempt < attempts; attempt++) {
      const r = await round(attempt);
      if ('done' in r) return r.done;
      log.log('warning', 'Failed Tandem login', { user, ip: ipaddr, detail: r.failed });
    }
    return { result: 'deny', reason: 'max-attempts' };
  } catch (e) {
    if (!(e instanceof DuoCallError)) throw e;
    if (e.kind === 'unreachable' && !api.authSent && config.offlineFallback === 'local') {
      api.close();
      if (deps.offlineCheck === undefined) {
        log.log('error', 'Tandem server unreachable; no local check available, login denied', { user: input.osUser, ip: ipaddr, detail: e.message });
        return { result: 'deny', reason: 'offline-local' };
      }
      log.log('debug', 'Tandem server unreachable; trying the local code file (offline_fallback = local)', { user: input.osUser, ip: ipaddr, detail: e.message });
      const r = await deps.offlineCheck();
      const result = r.result === 'success' ? 'accepted' : `denied (${r.reason})`;
      log.log('warning', `Tandem server unreachable; checked local code file ${r.path ?? '(none)'} for '${input.osUser}': ${result}`, { ip: ipaddr });
      return { result: r.result, reason: 'offline-local' };
    }
    if (e.kind === 'unreachable' && !api.authSent && config.failmode === 'safe') {
      log.log('warning', 'Failsafe Tandem login', { user, ip: ipaddr, detail: e.message });
      return { result: 'success', reason: 'failsafe' };
    }
    if (e.kind === 'unreachable' && !api.authSent) {
      log.log('warning', 'Failsecure Tandem login', { user, ip: ipaddr, detail: e.message });
      return { result: 'deny', reason: 'failsecure' };
    }
    log.log('error', 'Error in Tandem login', { user, ip: ipaddr, detail: e.message });
    return { result: 'deny', reason: 'error' };
  } finally {
    api.close();
  }
}

function success(log: ClientLogger, user: string, ipaddr: string | null): LoginOutcome {
  log.log('info', 'Successful Tandem login', { user, ip: ipaddr });
  return { result: 'success', reason: 'authenticated' };
}
