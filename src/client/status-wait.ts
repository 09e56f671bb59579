// Waiting for an async auth to settle: auth_status polls, bounded, and number matching
// (docs/push.md §5–6).
//
// Bounds. At most `maxPolls` polls (duo_unix's 20) and at most `maxWaitMs` of wall clock (5 min;
// a poll in flight when it runs out is abandoned). Either limit reached without a final result
// is an error, which denies: duo_unix 1.11.3/2.2.3 *allowed* after 20 unsettled polls, and the
// auth request has been sent, so failmode never applies.
//
// Status text. Without a verification code, each pending poll's status_msg is shown as an info
// line, as duo_unix does (it also tells the launcher, whose deadline runs per line, that we are
// alive while the server holds a long poll).
//
// Number matching. The first valid `verification_code` (1–8 ASCII digits, in the async auth
// answer or a pending poll) is shown in a PAM prompt with echo on:
//   `Verification code NNN. Enter it in the Tandem Authenticator, then press Enter: `
// because OpenSSH's keyboard-interactive shows a prompt at once, while PAM info text waits in
// sshd until the next prompt. Polling goes on while the prompt is open; nothing else is written
// to the conversation until it is answered (the conversation is strictly one line, one answer).
// What the user types there is ignored: the number is entered in the app and checked by the
// server; Enter only closes the prompt. Then:
//   - Enter before the push settles → keep polling (with info lines again) until final;
//   - the push settles first → its result waits until Enter (the launcher cannot be told
//     anything while it waits for an answer), then it is shown and used;
//   - the prompt is cancelled (NOANSWER) → deny at once, whatever the push does;
//   - a limit runs out while the prompt is open → still wait for the answer, then deny.
// A code that is not 1–8 digits is ignored (logged) and the status_msg is shown as plain text.
// Without a terminal (login_tandem headless) a prompt cannot be answered: the code goes once to
// the error stream (stderr, never the data on stdout) and the wait is silent otherwise.
import { displayText } from './display-text.js';
import { DuoCallError } from './http/errors.js';
import type { DuoApi, StatusAnswer } from './http/duo-client.js';
import type { ClientLogger } from './log.js';
import type { Conversation } from './login-flow.js';

/** duo_unix polls at most 20 times; HEAD (and we) deny when that never settles. */
export const MAX_STATUS_POLLS = 20;
/** The wall-clock cap on one wait for a result (a push times out on the server after 60 s). */
export const MAX_STATUS_WAIT_MS = 5 * 60_000;
/** Status text longer than this is cut: it is a one-line message, not a document. */
const MAX_STATUS_TEXT = 1024;

export interface WaitLimits {
  maxPolls: number;
  maxWaitMs: number;
}

export function numberMatchingPrompt(code: string): string {
  return `Verification code ${code}. Enter it in the Tandem Authenticator, then press Enter: `;
}

/** Server status text for the user: sanitised, bounded. */
export function statusText(s: string): string {
  const t = displayText(s);
  return t.length > MAX_STATUS_TEXT ? `${t.slice(0, MAX_STATUS_TEXT)}…` : t;
}

export interface WaitContext {
  api: Pick<DuoApi, 'authStatus'>;
  conv: Conversation;
  log: ClientLogger;
  /** False for login_tandem without a terminal: no prompts, no info lines. */
  interactive: boolean;
  user: string;
  ip: string | null;
  limits: WaitLimits;
}

/** What the async auth answered besides the txid. */
export interface FirstAnswer {
  statusMsg?: string;
  verificationCode?: string;
  badVerificationCode?: true;
}

export type WaitOutcome = { kind: 'final'; answer: StatusAnswer } | { kind: 'cancelled' };

export async function waitForResult(ctx: WaitContext, txid: string, first: FirstAnswer): Promise<WaitOutcome> {
  const { api, conv, log } = ctx;
  let stopped = false;
  let shownCode: string | null = null;
  // In an object: TypeScript does not follow assignments made inside the closures below.
  const open: { prompt: Promise<string | null> | null; pending: boolean } = { prompt: null, pending: false };
  let onCancel!: () => void;
  let onPromptError!: (e: unknown) => void;
  const cancelled = new Promise<'cancelled'>((resolve, reject) => {
    onCancel = () => resolve('cancelled');
    onPromptError = reject;
  });

  const show = async (msg: string | undefined): Promise<void> => {
    if (stopped || open.pending || !ctx.interactive || msg === undefined || msg === '') return;
    await conv.info(statusText(msg));
  };

  const handle = async (a: FirstAnswer): Promise<void> => {
    if (a.badVerificationCode) log.log('warning', 'ignored a malformed verification_code from the server', { user: ctx.user, ip: ctx.ip });
    const code = a.verificationCode;
    if (code === undefined || shownCode !== null) {
      if (code !== undefined && code !== shownCode) log.log('warning', 'ignored a changed verification_code from the server', { user: ctx.user, ip: ctx.ip });
      await show(a.statusMsg);
      return;
    }
    shownCode = code;
    if (stopped) return;
    if (!ctx.interactive) {
      await conv.error(`Verification code ${code}: enter it in the Tandem Authenticator.`);
      return;
    }
    open.pending = true;
    const p = conv.promptEchoOn(numberMatchingPrompt(code)).finally(() => {
      open.pending = false;
    });
    open.prompt = p;
    p.then((answer) => {
      if (answer === null) onCancel();
    }, onPromptError);
  };

  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DuoCallError('failed', `Authentication timed out (no result within ${Math.round(ctx.limits.maxWaitMs / 1000)} s)`)), ctx.limits.maxWaitMs);
  });
  deadline.catch(() => undefined);

  const poll = async (): Promise<StatusAnswer> => {
    for (let n = 0; n < ctx.limits.maxPolls; n++) {
      const request = api.authStatus(txid);
      request.catch(() => undefined); // may be abandoned at the deadline; api.close() ends it
      const s = await Promise.race([request, deadline]);
      if (stopped) throw new DuoCallError('failed', 'the wait is over');
      if (s.result !== 'waiting') return s;
      await handle(s);
    }
    throw new DuoCallError('failed', `Authentication timed out (no result after ${ctx.limits.maxPolls} status polls)`);
  };

  try {
    await handle(first);
    const final = poll();
    final.catch(() => undefined); // observed below, or abandoned after a cancelled prompt
    let r: StatusAnswer | 'cancelled';
    try {
      r = await Promise.race([final, cancelled]);
    } catch (e) {
      // The answer to an open prompt must be read before anything else is said.
      if (open.prompt !== null) await open.prompt.catch(() => null);
      throw e;
    }
    if (r === 'cancelled') return { kind: 'cancelled' };
    if (open.prompt !== null && (await open.prompt) === null) return { kind: 'cancelled' };
    return { kind: 'final', answer: r };
  } finally {
    stopped = true;
    clearTimeout(timer);
  }
}
