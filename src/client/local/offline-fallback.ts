// `[tandem] offline_fallback = local` (hybrid mode): when the Tandem server could not be reached
// — exactly the case where `failmode = safe` would allow (an `unreachable` failure before any
// auth request was sent) — pam_tandem and login_tandem check a local google-authenticator file
// instead, with local mode's own code (ga-local.ts). Never after a deny or any other failure.
//
// Whoever can block the network must not also be able to write the file that lets them in, so
// the file is used only when it is owned by root and writable by root alone, and so is the
// directory holding it (e.g. `secret=/var/lib/tandem/${USER}` with `user=root`). Anything else is
// refused with a log line, and the login is denied.
import type { Stats } from 'node:fs';
import { promises as fsp } from 'node:fs';
import { dirname } from 'node:path';
import { runLocalMode, type LocalDeps, type LocalIo, type LocalRequest } from './ga-local.js';

/** pam_google_authenticator's option names (module arguments that belong to the fallback). */
const VALUE_OPTIONS = new Set(['secret', 'authtok_prompt', 'user', 'allowed_perm', 'grace_period']);
const FLAG_OPTIONS = new Set([
  'try_first_pass',
  'use_first_pass',
  'forward_pass',
  'noskewadj',
  'no_increment_hotp',
  'nullok',
  'echo_verification_code',
  'echo-verification-code',
  'no_strict_owner',
  'allow_readonly',
]);

/** True for a module argument that is a google-authenticator option (used only by the fallback). */
export function isLocalOption(arg: string): boolean {
  const eq = arg.indexOf('=');
  return eq === -1 ? FLAG_OPTIONS.has(arg) : VALUE_OPTIONS.has(arg.slice(0, eq));
}

function octal(mode: number): string {
  return '0' + (mode & 0o7777).toString(8).padStart(3, '0');
}

/**
 * The ownership rules, on the file's fstat and its directory's stat: both owned by root and
 * neither group- nor other-writable. Returns the refusal message, or null when the file may be used.
 */
export function fallbackFileProblem(path: string, file: Pick<Stats, 'uid' | 'mode'>, dir: Pick<Stats, 'uid' | 'mode'>): string | null {
  const why = 'whoever can write it could log in while the server is unreachable';
  if (file.uid !== 0) return `Offline fallback refused "${path}": it must be owned by root, not uid ${file.uid} (${why})`;
  if ((file.mode & 0o022) !== 0) return `Offline fallback refused "${path}": it must not be group- or other-writable (mode ${octal(file.mode)}; ${why})`;
  const d = dirname(path);
  if (dir.uid !== 0) return `Offline fallback refused "${path}": its directory "${d}" must be owned by root, not uid ${dir.uid} (${why})`;
  if ((dir.mode & 0o022) !== 0) return `Offline fallback refused "${path}": its directory "${d}" must not be group- or other-writable (mode ${octal(dir.mode)}; ${why})`;
  return null;
}

/** The check ga-local runs on the opened file (and a fresh stat of its directory). */
export async function fallbackFileCheck(path: string, st: Stats): Promise<string | null> {
  let dir: Stats;
  try {
    dir = await fsp.stat(dirname(path));
  } catch (e) {
    return `Offline fallback refused "${path}": cannot check its directory (${(e as NodeJS.ErrnoException).code ?? 'error'})`;
  }
  return fallbackFileProblem(path, st, dir);
}

export interface OfflineResult {
  result: 'success' | 'deny';
  /** The expanded secret file path, null when it was never worked out (bad options). */
  path: string | null;
  reason: string;
}

/**
 * The local check. Success only when local mode verified a code (`authenticated`); everything
 * else — a refused or missing file (`nullok` included), a wrong code, the grace period — denies.
 */
export async function runOfflineFallback(args: readonly string[], req: LocalRequest, io: LocalIo, deps: LocalDeps): Promise<OfflineResult> {
  let path: string | null = null;
  const out = await runLocalMode(
    args,
    req,
    {
      ...io,
      onPath: (p) => {
        path = p;
      },
    },
    { ...deps, fileCheck: fallbackFileCheck },
  );
  if (out.result === 'success' && out.reason === 'authenticated') return { result: 'success', path, reason: out.reason };
  return { result: 'deny', path, reason: out.result === 'deny' ? out.reason : out.reason === 'nullok' ? 'no-file' : out.reason };
}
