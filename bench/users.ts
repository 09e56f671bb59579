// Benchmark users: created in-process on the server's own data directory (SQLite WAL lets this
// process and `tandem serve` share the file), and a source of fresh, valid TOTP codes for them.
import { createIntegration } from '../src/core/integrations.js';
import type { Logger } from '../src/core/deps.js';
import { addToken } from '../src/core/tokens.js';
import { createUser } from '../src/core/users.js';
import { base32Decode } from '../src/protocol/base32.js';
import { hotp } from '../src/protocol/hotp.js';
import { totpStep } from '../src/protocol/totp.js';
import { openRuntime, type Runtime } from '../src/server/runtime.js';

const PERIOD_SECONDS = 30;
/** The server's default TOTP window (totpWindowSteps): steps now-1 .. now+1 are accepted. */
const WINDOW_STEPS = 1;
/**
 * A code is only handed out if it stays inside the window for this long after it is made, so a
 * request in flight across a 30-second step boundary is still valid when the server checks it.
 * This is autocannon's request timeout (load.ts): a slower answer counts as an error anyway.
 */
const STEP_MARGIN_MS = 10_000;

const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} };

export interface BenchUser {
  name: string;
  secret: Buffer;
  /** The lowest step the server will still accept for this user's token. */
  nextStep: number;
  /** A request with this user's code is in flight (its next code must wait for the answer). */
  busy: boolean;
}

export interface IssuedCode {
  username: string;
  passcode: string;
  /** The user to release() when the answer arrives; null for a deliberately wrong code. */
  user: BenchUser | null;
}

export class BenchDirectory {
  readonly users: BenchUser[] = [];
  private constructor(private readonly rt: Runtime) {}

  static async open(dataDir: string, env: Record<string, string>): Promise<BenchDirectory> {
    return new BenchDirectory(await openRuntime({ dataDir, env, log: quiet }));
  }

  async createIntegration(name: string): Promise<{ ikey: string; skey: string }> {
    const r = await createIntegration(this.rt.deps, { name });
    return { ikey: r.integration.ikey, skey: r.skey };
  }

  /** Adds users (each with one TOTP token) until there are `total`, until `deadline` or an abort. */
  async grow(total: number, deadline: number, signal: AbortSignal): Promise<void> {
    while (this.users.length < total && Date.now() < deadline && !signal.aborted) {
      const name = `bench-${String(this.users.length).padStart(6, '0')}`;
      await createUser(this.rt.deps, name);
      const { secret } = await addToken(this.rt.deps, name, { type: 'totp' });
      this.users.push({ name, secret: base32Decode(secret), nextStep: 0, busy: false });
    }
  }

  close(): Promise<void> {
    return this.rt.close();
  }
}

/**
 * Hands out (user, code) pairs the server will accept: each user's codes in rising step order,
 * never a step twice, users taken round-robin, and a user's next code only after the answer to
 * its previous one (the server refuses a step below the last one it accepted, so a later code
 * overtaking an earlier one in flight would turn the earlier one into a deny).
 */
export class CodeSource {
  issued = 0;
  /** Requests for which no fresh code was left (sent with a wrong code, counted as errors). */
  exhausted = 0;
  private cursor = 0;
  private busy = 0;
  private emptyAtHi = -1;

  constructor(private readonly users: BenchUser[]) {
    if (users.length === 0) throw new Error('no benchmark users');
  }

  /** How many codes every user can still give at `now` (at least; for sizing). */
  static codesPerUser(): number {
    // With the margin, the window [step(now+m)-1, step(now-m)+1] holds 2 or 3 steps.
    return 2 * WINDOW_STEPS;
  }

  next(now: number): IssuedCode {
    const lo = totpStep(now + STEP_MARGIN_MS, PERIOD_SECONDS) - WINDOW_STEPS;
    const hi = totpStep(now - STEP_MARGIN_MS, PERIOD_SECONDS) + WINDOW_STEPS;
    if (hi !== this.emptyAtHi) {
      for (let tried = 0; tried < this.users.length; tried++) {
        const u = this.users[this.cursor]!;
        this.cursor = (this.cursor + 1) % this.users.length;
        const step = Math.max(u.nextStep, lo);
        if (!u.busy && step <= hi) {
          u.nextStep = step + 1;
          u.busy = true;
          this.busy++;
          this.issued++;
          return { username: u.name, passcode: hotp(u.secret, step, { digits: 6, algorithm: 'sha1' }), user: u };
        }
      }
      // Nothing left for this window; unless a busy user may still come back, stop scanning.
      if (this.busy === 0) this.emptyAtHi = hi;
    }
    // Out of codes: still send a well-formed request (autocannon needs one), which will fail.
    this.exhausted++;
    return { username: this.users[0]!.name, passcode: '000000', user: null };
  }

  /** The answer to `user`'s request arrived: its next code may be sent. */
  release(user: BenchUser | null): void {
    if (user?.busy) {
      user.busy = false;
      this.busy--;
    }
  }

  /** Codes still available at `now` without waiting for the clock. */
  remaining(now: number): number {
    const lo = totpStep(now + STEP_MARGIN_MS, PERIOD_SECONDS) - WINDOW_STEPS;
    const hi = totpStep(now - STEP_MARGIN_MS, PERIOD_SECONDS) + WINDOW_STEPS;
    let n = 0;
    for (const u of this.users) n += Math.max(0, hi - Math.max(u.nextStep, lo) + 1);
    return n;
  }
}
