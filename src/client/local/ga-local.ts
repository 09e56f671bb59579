// pam_tandem local mode (module argument `mode=local`): pam_google_authenticator's options and
// behaviour over the user's google-authenticator file, no server, no pam_duo.conf.
//
// Flow (reference §3.2), split into two short locked transactions so that the lock is never
// held while the user types:
//   1. options (unknown → deny without prompting), the account, the path (`~`, ${HOME}, ${USER}),
//   2. [locked] open + checks (regular file, owner unless no_strict_owner, mode within
//      allowed_perm, 1 byte..64 KiB, no NUL), RATE_LIMIT bookkeeping (persisted; exceeded or
//      malformed → deny without prompting), grace_period; with try/use_first_pass a dry run of
//      the AUTHTOK (so we only prompt when upstream would),
//   3. prompt (`Verification code: ` / `Password & verification code: ` / authtok_prompt=),
//   4. [locked] re-read, verify (scratch codes, HOTP or TOTP, DISALLOW_REUSE, skew learning,
//      LASTn), persist when changed; a write failure denies unless allow_readonly.
//
// Locking: Node has no flock(2), so an advisory sidecar lock `<path>.lock`, created with
// O_CREAT|O_EXCL ('wx') as the file's user in the file's directory (which must be writable for the
// rename anyway). Held for milliseconds (never across a prompt); a lock older than
// LOCK_STALE_MS is a crashed holder's and is removed; we wait at most LOCK_WAIT_MS, then deny.
// When the lock cannot be created at all (read-only directory), we go on unlocked: nothing can be
// written there either, and allow_readonly decides.
// Writes: temp file `<path>~<random>` in the same directory (O_EXCL, as the user), same mode as
// the original (upstream forces 0400; we keep the mode, documented deviation), fsync, size check,
// and rename only if the original still has the inode/size/mtime we read (upstream's check).
//
// Where the pieces live: local-options.ts (arguments, path expansion), secret-file.ts (checks,
// lock, read, write), id-switch.ts (effective ids); this file holds the PAM-facing flow.
import type { Stats } from 'node:fs';
import type { GaFile } from '../../protocol/ga-file.js';
import type { Conversation } from '../login-flow.js';
import type { ClientLogger } from '../log.js';
import type { PasswdEntry } from '../users.js';
import { applyRateLimit, verifyCode, withinGracePeriod, type EngineLog, type VerifyOptions } from './engine.js';
import type { IdSwitch } from './id-switch.js';
import { expandSecretPath, LocalOptionError, parseLocalArgs, type LocalOptions } from './local-options.js';
import { acquireLock, errText, FileProblem, loadFile, WRITE_ERRORS, writeFile, type Loaded } from './secret-file.js';

export interface LocalDeps {
  lookupPasswd: (key: string | number) => Promise<PasswdEntry | null>;
  nowSec: () => number;
  ids: IdSwitch;
  /**
   * An extra check of the opened file (its fstat) before it is read: a message refuses it (the
   * offline fallback's ownership rules). Absent in plain local mode.
   */
  fileCheck?: (path: string, st: Stats) => Promise<string | null>;
}

export interface LocalRequest {
  user: string | null;
  rhost: string | null;
  authtok: string | null;
}

export interface LocalIo {
  conversation: Conversation;
  setAuthtok: (text: string) => Promise<void>;
  log: ClientLogger;
  /** Told the expanded secret file path once it is known (for the offline fallback's log line). */
  onPath?: (path: string) => void;
}

export type LocalOutcome = { result: 'success' | 'deny' | 'ignore'; reason: string };

/** The whole local-mode decision. Never throws for user/file problems: it denies. */
export async function runLocalMode(args: readonly string[], req: LocalRequest, io: LocalIo, deps: LocalDeps): Promise<LocalOutcome> {
  const logs = (l: EngineLog): void => {
    if (l.level === 'debug' && !debugOn) return;
    io.log.log(l.level, l.msg);
  };
  let debugOn = args.includes('debug');
  let o: LocalOptions;
  try {
    o = parseLocalArgs(args);
  } catch (e) {
    if (!(e instanceof LocalOptionError)) throw e;
    io.log.log('error', e.message);
    return { result: 'deny', reason: 'bad-argument' };
  }
  debugOn = o.debug;
  const user = req.user;
  if (user === null || user === '') {
    io.log.log('error', 'pam_get_user() failed to get a user name when checking verification code');
    return { result: 'deny', reason: 'no-user' };
  }
  logs({ level: 'debug', msg: `debug: start of google_authenticator for "${user}"` });
  const outcome = await decideLocal(o, user, req, io, deps, logs);
  logs({ level: 'debug', msg: `debug: end of google_authenticator for "${user}". Result: ${outcome.result === 'success' ? 'Success' : outcome.result === 'ignore' ? 'The return value should be ignored by PAM dispatch' : 'Authentication failure'}` });
  return outcome;
}

async function decideLocal(o: LocalOptions, user: string, req: LocalRequest, io: LocalIo, deps: LocalDeps, logs: (l: EngineLog) => void): Promise<LocalOutcome> {
  const deny = (reason: string): LocalOutcome => ({ result: 'deny', reason });
  // A prompt that goes nowhere: "cannot use this file" paths still ask (no 2FA-configured oracle).
  const askAnyway = async (): Promise<void> => {
    if (o.passMode === 'use') return;
    await prompt();
  };
  let answer: string | null = null;
  let asked = false;
  const prompt = async (): Promise<string | null> => {
    if (asked) return answer;
    asked = true;
    const text = o.authtokPrompt ?? (o.forwardPass ? 'Password & verification code: ' : 'Verification code: ');
    const a = o.echo ? await io.conversation.promptEchoOn(text) : await io.conversation.promptEchoOff(text);
    answer = a;
    if (a === null || a === '') logs({ level: 'error', msg: 'Did not receive verification code from user' });
    else if (a.startsWith('\b')) logs({ level: 'info', msg: "Dummy password supplied by PAM. Did OpenSSH 'PermitRootLogin <anything but yes>' or some other config block this login?" });
    return a;
  };

  // 1. the account whose file and privileges apply
  if (user.includes('/') || user === '.' || user === '..' || user.includes('\0')) {
    logs({ level: 'error', msg: `user("${user}") not found` });
    await askAnyway();
    return deny('user-unknown');
  }
  let owner: PasswdEntry | null;
  let ownerLabel: string;
  let home: string | null = null;
  if (o.user !== null) {
    owner = await deps.lookupPasswd(/^[0-9]+$/.test(o.user) ? Number(o.user) : o.user);
    if (owner === null) {
      logs({ level: 'error', msg: `Failed to look up user "${o.user}"` });
      return deny('user-unknown');
    }
    ownerLabel = `user id ${owner.uid}`;
  } else {
    owner = await deps.lookupPasswd(user);
    if (owner === null || !owner.home.startsWith('/')) {
      logs({ level: 'error', msg: `user("${user}") not found` });
      await askAnyway();
      return deny('user-unknown');
    }
    home = owner.home;
    ownerLabel = `"${user}"`;
  }
  let path: string;
  try {
    path = expandSecretPath(o.secret, user, home);
  } catch (e) {
    if (!(e instanceof LocalOptionError)) throw e;
    logs({ level: 'error', msg: e.message });
    return deny('bad-argument');
  }
  io.onPath?.(path);
  const ownerIds = owner;
  const asOwner = async <T>(fn: () => Promise<T>): Promise<T> => {
    try {
      deps.ids.enter(ownerIds.uid, ownerIds.gid);
    } catch {
      logs({ level: 'error', msg: `Failed to change user id to "${o.user ?? user}"` });
      throw new FileProblem('priv');
    }
    try {
      return await fn();
    } finally {
      deps.ids.leave();
    }
  };
  const verifyOpts = (nowSec: number): VerifyOptions => ({
    nowSec,
    path,
    user,
    forwardPass: o.forwardPass,
    noskewadj: o.noskewadj,
    noIncrementHotp: o.noIncrementHotp,
    gracePeriod: o.gracePeriod,
    rhost: req.rhost,
  });

  // A locked read-modify-write; `fn` returns the new file (or null: nothing to write).
  type TxResult<T> = { ok: true; value: T; writeFailed: boolean } | { ok: false; problem: FileProblem };
  const transaction = async <T>(fn: (loaded: Loaded) => { value: T; write: GaFile | null }): Promise<TxResult<T>> => {
    try {
      return await asOwner(async () => {
        const release = await acquireLock(path);
        if (release === 'timeout') return { ok: false, problem: new FileProblem(`Timed out waiting for the lock on "${path}"`) };
        try {
          const loaded = await loadFile(path, user, ownerIds.uid, ownerLabel, o, logs, deps.fileCheck);
          logs({ level: 'debug', msg: `debug: "${path}" read` });
          const r = fn(loaded);
          let writeFailed = false;
          if (r.write !== null) {
            try {
              await writeFile(path, loaded, r.write);
              logs({ level: 'debug', msg: `debug: "${path}" written` });
            } catch (e) {
              writeFailed = true;
              logs({ level: 'error', msg: e instanceof Error ? e.message : 'write failed' });
              const code = e instanceof FileProblem ? e.errno : undefined;
              if (code !== undefined && WRITE_ERRORS.has(code)) await io.conversation.error(`Error "${errText(e instanceof FileProblem ? { code } : e)}" while writing config`);
            }
          }
          return { ok: true as const, value: r.value, writeFailed };
        } finally {
          if (typeof release === 'function') await release();
        }
      });
    } catch (e) {
      if (e instanceof FileProblem) return { ok: false, problem: e };
      throw e;
    }
  };

  // 2. first transaction: checks, RATE_LIMIT, grace period, AUTHTOK dry run
  const now1 = deps.nowSec();
  type Phase1 = { stop: 'exceeded' | 'invalid' | null; grace: boolean; authtokVerdict: 'success' | 'error' | 'nomatch' | null };
  const useAuthtok = o.passMode !== 'prompt' ? req.authtok : null;
  const p1 = await transaction<Phase1>((loaded) => {
    const rl = applyRateLimit(loaded.file, now1, path);
    rl.logs.forEach(logs);
    if (rl.stop === 'invalid') return { value: { stop: 'invalid', grace: false, authtokVerdict: null }, write: null };
    if (withinGracePeriod(rl.file, req.rhost, o.gracePeriod, now1)) {
      logs({ level: 'info', msg: `within grace period: "${user}"` });
      return { value: { stop: null, grace: true, authtokVerdict: null }, write: null };
    }
    let authtokVerdict: Phase1['authtokVerdict'] = null;
    if (rl.stop === null && useAuthtok !== null) {
      authtokVerdict = verifyCode(rl.file, { authtok: useAuthtok, answer: null }, verifyOpts(now1)).verdict;
    }
    return { value: { stop: rl.stop, grace: false, authtokVerdict }, write: rl.changed ? rl.file : null };
  });
  if (!p1.ok) {
    if (p1.problem.message !== 'priv') {
      if (p1.problem.missing && o.nullok) return { result: 'ignore', reason: 'nullok' };
      logs({ level: 'error', msg: p1.problem.message });
      if (p1.problem.missing) logs({ level: 'warning', msg: `No secret configured for user ${user}, asking for code anyway.` });
      await askAnyway();
      logs({ level: 'error', msg: `Invalid verification code for ${user}` });
    }
    return deny('file');
  }
  if (p1.value.grace) return { result: 'success', reason: 'grace-period' };
  if (p1.value.stop !== null) return deny('rate-limit');

  // 3. prompt (unless the AUTHTOK already decided)
  if (p1.value.authtokVerdict === 'nomatch' || p1.value.authtokVerdict === null) {
    if (o.passMode === 'prompt' || o.passMode === 'try') await prompt();
  }

  // 4. second transaction: verify against the current file and persist
  const now2 = deps.nowSec();
  const p2 = await transaction((loaded) => {
    const r = verifyCode(loaded.file, { authtok: useAuthtok, answer }, verifyOpts(now2));
    r.logs.forEach(logs);
    if (r.verdict === 'success') logs({ level: 'info', msg: `Accepted google_authenticator for ${user}` });
    else logs({ level: 'error', msg: `Invalid verification code for ${user}` });
    return { value: r, write: r.changed ? r.file : null };
  });
  if (!p2.ok) {
    if (p2.problem.message !== 'priv') logs({ level: 'error', msg: p2.problem.message });
    return deny('file');
  }
  if (p2.value.verdict !== 'success') return deny('invalid-code');
  if (p2.writeFailed && !o.allowReadonly) return deny('write-failed');
  if (p2.writeFailed) logs({ level: 'warning', msg: `allow_readonly: accepted although "${path}" could not be updated` });
  if (o.forwardPass && p2.value.password !== null) await io.setAuthtok(p2.value.password);
  return { result: 'success', reason: 'authenticated' };
}
