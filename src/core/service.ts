// The node's core: per-node state (rate limiters, long-poll bookkeeping) around the domain
// functions. The HTTP routes and the CLI both call through here; neither touches the store.
import { auth, authStatus, type AuthRequest, type AuthResponse } from './auth.js';
import { appendAudit } from './audit.js';
import type { LoginContext, RequestContext } from './context.js';
import { stripControlChars as printable } from '../protocol/text-checks.js';
import type { Deps } from './deps.js';
import { CoreError } from './errors.js';
import { integrationKeys } from './integrations.js';
import { preauth, type PreauthRequest, type PreauthResponse } from './preauth.js';
import { RateLimiter } from './rate-limit.js';
import type { TxStatus } from './transactions.js';

/** Don't write last-used on every request: once a minute per integration is plenty. */
const TOUCH_EVERY_MS = 60_000;

export class Core {
  private readonly limiter: RateLimiter;
  private readonly lastSeen = new Map<string, number>();
  private readonly touched = new Map<string, number>();

  constructor(readonly deps: Deps) {
    this.limiter = new RateLimiter(deps.clock);
  }

  /** Keys for verifying a request signed with `ikey` (undefined: unknown ikey). */
  integrationKeys(ikey: string): ReturnType<typeof integrationKeys> {
    return integrationKeys(this.deps, ikey);
  }

  /** Per-integration rate limit and last-used bookkeeping for an authenticated request. */
  async admit(ctx: RequestContext): Promise<void> {
    const retry = this.limiter.hit(`integration:${ctx.integration.id}`, this.deps.settings.rateLimitIntegrationPerMinute);
    if (retry !== null) throw new CoreError('rate_limited', 'too many requests for this integration', retry);
    const now = this.deps.clock.now();
    if (now - (this.touched.get(ctx.integration.id) ?? 0) >= TOUCH_EVERY_MS) {
      this.touched.set(ctx.integration.id, now);
      await this.deps.store.touchIntegration(ctx.integration.id, now);
    }
  }

  /** Rate limit for unauthenticated requests (activation, QR codes), per source address. */
  limitAddress(peer: string): void {
    const retry = this.limiter.hit(`address:${peer}`, this.deps.settings.rateLimitAddressPerMinute);
    if (retry !== null) throw new CoreError('rate_limited', 'too many requests from this address', retry);
  }

  preauth(ctx: RequestContext, req: PreauthRequest): Promise<PreauthResponse> {
    return preauth(this.deps, this.limiter, ctx, req);
  }

  auth(ctx: RequestContext, req: AuthRequest, signal?: AbortSignal): Promise<AuthResponse> {
    return auth(this.deps, this.limiter, ctx, req, signal);
  }

  /** Audit an authenticated request refused before a decision (bad parameters, rate limit). */
  async refused(ctx: RequestContext, event: 'preauth' | 'auth', named: string, code: string, detail: string, login: LoginContext): Promise<void> {
    await appendAudit(this.deps, {
      event,
      integration: ctx.integration.ikey,
      // The name comes from the host unchecked: keep it printable and bounded.
      username: printable(named).slice(0, 255),
      factor: null,
      result: 'error',
      reason: code,
      ipaddr: login.ipaddr,
      hostname: login.hostname,
      txid: null,
      detail: { peer: ctx.peer, detail },
    });
  }

  authStatus(ctx: RequestContext, txid: string, signal?: AbortSignal): Promise<TxStatus> {
    return authStatus(this.deps, this.lastSeen, ctx, txid, signal);
  }
}
