// Fixed-window request counters per key (integration, user), in memory on each node. A site with
// N nodes therefore allows up to N times the limit; the limits exist to stop a host holding an
// skey from hammering one user, not to meter precisely.
import type { Clock } from './deps.js';

const WINDOW_MS = 60_000;
/** Bound memory under a flood of distinct keys: beyond this, old windows are dropped first. */
const MAX_KEYS = 100_000;

export class RateLimiter {
  private readonly windows = new Map<string, { start: number; count: number }>();
  constructor(private readonly clock: Clock) {}

  /** Counts one request; returns null if allowed, else the seconds until the window resets. */
  hit(key: string, limitPerMinute: number): number | null {
    const now = this.clock.now();
    let w = this.windows.get(key);
    if (!w || now - w.start >= WINDOW_MS) {
      if (!w && this.windows.size >= MAX_KEYS) this.prune(now);
      w = { start: now, count: 0 };
      this.windows.set(key, w);
    }
    w.count++;
    if (w.count <= limitPerMinute) return null;
    // Duo's clients back off up to 32 s; a Retry-After within that lets them recover alone.
    return Math.max(1, Math.min(32, Math.ceil((w.start + WINDOW_MS - now) / 1000)));
  }

  private prune(now: number): void {
    for (const [k, w] of this.windows) if (now - w.start >= WINDOW_MS) this.windows.delete(k);
    if (this.windows.size >= MAX_KEYS) this.windows.clear();
  }
}
