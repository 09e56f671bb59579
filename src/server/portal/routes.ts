// The self-service enrollment portal at /portal (issue 7): link → "Continue" (POST) → a 15-minute
// session bound to the link's user → add the Tandem Authenticator or an authenticator app, prove
// an existing factor (a code, or an approved push), remove one. Server-rendered HTML, strict CSP,
// one static script (portal.js, only to follow a proof push); every POST needs
// the session cookie and its CSRF token, and is refused from another site.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import QRCode from 'qrcode';
import { CoreError } from '../../core/errors.js';
import { addAuthenticator, confirmTotp, pendingTotpOffer, PortalRefusal, portalOverview, proofPushState, proveByPush, proveFactor, removeFactor, startProofPush, startTotp } from '../../core/portal/factors.js';
import { enrollLinkUsable, exchangeEnrollLink } from '../../core/portal/links.js';
import { csrfToken, csrfValid, endPortalSession, loadPortalSession } from '../../core/portal/session.js';
import type { Core } from '../../core/service.js';
import type { PortalSessionRow } from '../../store/contract.js';
import type { ServerLogger } from '../logger.js';
import { BadForm, clearSessionCookie, crossSite, PORTAL_BODY_LIMIT, portalHeaders, readForm, sendPage, sessionCookie, setSessionCookie } from './http.js';
import { authenticatorPage, expiredLinkPage, homePage, linkPage, messagePage, noSessionPage, pushWaitPage, totpPage } from './pages.js';
import { PORTAL_JS } from './script.js';
import { PORTAL_CSS } from './style.js';

const qrDataUri = async (text: string): Promise<string> =>
  `data:image/svg+xml;base64,${Buffer.from(await QRCode.toString(text, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 })).toString('base64')}`;

interface Authed {
  id: string;
  session: PortalSessionRow;
  form: Record<string, string>;
}

export function registerPortal(app: FastifyInstance, core: Core, log?: Pick<ServerLogger, 'error'>): void {
  const deps = core.deps;
  void app.register(async (portal) => {
    portal.setErrorHandler((err, request, reply) => {
      const status = (err as { statusCode?: number }).statusCode;
      if (err instanceof BadForm || status === 413 || status === 400) return sendPage(reply, status === 413 ? 413 : 400, messagePage('That request could not be read', 'Go back and try again.'));
      if (err instanceof CoreError && err.code === 'rate_limited') {
        reply.header('Retry-After', String(err.retryAfterSeconds ?? 60));
        return sendPage(reply, 429, messagePage('Too many attempts', 'Wait a minute and try again.'));
      }
      log?.error('portal error', { path: (request.raw.url ?? '').slice(0, 100), error: String(err) });
      return sendPage(reply, 500, messagePage('Something went wrong', 'Nothing was changed. Try again in a moment.'));
    });

    const home = async (reply: FastifyReply, a: { id: string; session: PortalSessionRow }, note?: { ok: boolean; text: string }, status = 200): Promise<FastifyReply> => {
      const session = (await loadPortalSession(deps, a.id)) ?? a.session;
      return sendPage(reply, status, homePage(await portalOverview(deps, session), csrfToken(a.id), note));
    };

    /** Session, same-site, CSRF: any failure is a 403 page and nothing changes. */
    const authed = async (request: FastifyRequest, reply: FastifyReply, fields: readonly string[]): Promise<Authed | undefined> => {
      if (crossSite(request)) {
        sendPage(reply, 403, messagePage('Refused', 'This form must be sent from the portal itself.'));
        return undefined;
      }
      const id = sessionCookie(request);
      const session = await loadPortalSession(deps, id);
      if (!session || id === undefined) {
        sendPage(reply, 403, noSessionPage());
        return undefined;
      }
      const form = readForm(request, ['csrf', ...fields]);
      if (!csrfValid(id, form['csrf'])) {
        sendPage(reply, 403, messagePage('Refused', 'This form has expired. Go back to the portal and try again.'));
        return undefined;
      }
      return { id, session, form };
    };

    /** Runs a session action; a refusal is shown on the home page, nothing changed. */
    const guarded = async (reply: FastifyReply, a: Authed, action: () => Promise<FastifyReply>): Promise<FastifyReply> => {
      try {
        return await action();
      } catch (e) {
        if (e instanceof PortalRefusal) return home(reply, a, { ok: false, text: e.message }, 403);
        throw e;
      }
    };

    const opts = { bodyLimit: PORTAL_BODY_LIMIT };

    portal.get('/portal/portal.css', (_request, reply) => portalHeaders(reply).header('Cache-Control', 'no-cache').type('text/css; charset=utf-8').send(PORTAL_CSS));

    portal.get<{ Params: { token: string } }>('/portal/enroll/:token', async (request, reply) => {
      const token = request.params.token;
      if (!(await enrollLinkUsable(deps, token))) return sendPage(reply, 410, expiredLinkPage());
      return sendPage(reply, 200, linkPage(`/portal/enroll/${token}`));
    });

    portal.post<{ Params: { token: string } }>('/portal/enroll/:token', opts, async (request, reply) => {
      if (crossSite(request)) return sendPage(reply, 403, messagePage('Refused', 'Open the link itself to continue.'));
      core.limitAddress(request.ip);
      const session = await exchangeEnrollLink(deps, request.params.token, request.ip);
      if (!session) return sendPage(reply, 410, expiredLinkPage());
      setSessionCookie(reply, session.id);
      return portalHeaders(reply).code(303).header('Location', '/portal/').send();
    });

    portal.get('/portal', (_request, reply) => portalHeaders(reply).redirect('/portal/', 301));
    portal.get('/portal/', async (request, reply) => {
      const id = sessionCookie(request);
      const session = await loadPortalSession(deps, id);
      if (!session || id === undefined) return sendPage(reply, 403, noSessionPage());
      try {
        return await home(reply, { id, session });
      } catch (e) {
        if (e instanceof PortalRefusal) return sendPage(reply, 403, messagePage('Not available', e.message));
        throw e;
      }
    });

    portal.post('/portal/prove', opts, async (request, reply) => {
      const a = await authed(request, reply, ['code']);
      if (!a) return reply;
      core.limitAddress(request.ip);
      const ok = await proveFactor(deps, a.session, a.form['code'] ?? '');
      return home(reply, a, ok ? { ok: true, text: 'Confirmed. You can now add or remove sign-in methods.' } : { ok: false, text: 'That code did not work. Try the next one.' }, ok ? 200 : 403);
    });

    portal.get('/portal/portal.js', (_request, reply) => portalHeaders(reply).header('Cache-Control', 'no-cache').type('text/javascript; charset=utf-8').send(PORTAL_JS));

    // Proof by an approved push (docs/push.md: a push with the portal as its context).
    portal.post('/portal/prove/push', opts, async (request, reply) => {
      const a = await authed(request, reply, []);
      if (!a) return reply;
      core.limitAddress(request.ip);
      const r = await startProofPush(deps, a.session, request.ip);
      if (r.kind === 'refused') return home(reply, a, { ok: false, text: r.text }, 409);
      return sendPage(reply, 200, pushWaitPage(r, csrfToken(a.id)));
    });

    /** The waiting page's script asks here (session cookie; a GET that changes nothing). */
    portal.get<{ Querystring: { txid?: string } }>('/portal/prove/push/status', async (request, reply) => {
      const session = await loadPortalSession(deps, sessionCookie(request));
      const txid = request.query.txid;
      if (!session || typeof txid !== 'string') return portalHeaders(reply).code(403).send({ state: 'refused' });
      return portalHeaders(reply).send({ state: await proofPushState(deps, session, txid) });
    });

    portal.post('/portal/prove/push/check', opts, async (request, reply) => {
      const a = await authed(request, reply, ['txid']);
      if (!a) return reply;
      const txid = a.form['txid'] ?? '';
      const state = await proveByPush(deps, a.session, txid);
      if (state === 'approved') return home(reply, a, { ok: true, text: 'Confirmed. You can now add or remove sign-in methods.' });
      if (state === 'pending') {
        const challenge = await deps.store.getPushChallenge(txid);
        const again = { txid, matchCode: challenge?.matchCode ?? null, expiresAt: challenge?.expiresAt ?? deps.clock.now() };
        return sendPage(reply, 409, pushWaitPage(again, csrfToken(a.id), 'Not approved yet. Approve the request in the app, then try again.'));
      }
      return home(reply, a, { ok: false, text: 'The request was denied or has expired. Send a new one, or enter a code.' }, 403);
    });

    portal.post('/portal/totp', opts, async (request, reply) => {
      const a = await authed(request, reply, []);
      if (!a) return reply;
      return guarded(reply, a, async () => {
        const offer = await startTotp(deps, a.session);
        return sendPage(reply, 200, totpPage(offer, await qrDataUri(offer.otpauth), csrfToken(a.id)));
      });
    });

    portal.post('/portal/totp/confirm', opts, async (request, reply) => {
      const a = await authed(request, reply, ['code']);
      if (!a) return reply;
      return guarded(reply, a, async () => {
        const result = await confirmTotp(deps, a.session, a.form['code'] ?? '');
        if (result === 'saved') return home(reply, a, { ok: true, text: 'Your authenticator app is set up. Use its codes when you log in.' });
        if (result === 'held') return home(reply, a, { ok: true, text: 'Saved. An administrator must approve it before it works.' });
        if (result === 'nothing_pending') return home(reply, a, { ok: false, text: 'Nothing to confirm: start again.' }, 409);
        const offer = await pendingTotpOffer(deps, a.session);
        if (!offer) return home(reply, a, { ok: false, text: 'Nothing to confirm: start again.' }, 409);
        return sendPage(reply, 422, totpPage(offer, await qrDataUri(offer.otpauth), csrfToken(a.id), 'That code did not match. Check the time on your phone and try the current code.'));
      });
    });

    portal.post('/portal/authenticator', opts, async (request, reply) => {
      const a = await authed(request, reply, []);
      if (!a) return reply;
      return guarded(reply, a, async () => {
        const r = await addAuthenticator(deps, a.session);
        if ('held' in r) return home(reply, a, { ok: true, text: 'Requested. An administrator must approve it; they will send you the activation link.' });
        return sendPage(reply, 200, authenticatorPage(r.activation.link, await qrDataUri(r.activation.link), r.activation.expiresAt));
      });
    });

    portal.post('/portal/remove', opts, async (request, reply) => {
      const a = await authed(request, reply, ['kind', 'id']);
      if (!a) return reply;
      return guarded(reply, a, async () => {
        await removeFactor(deps, a.session, a.form['kind'] ?? '', a.form['id'] ?? '');
        return home(reply, a, { ok: true, text: 'Removed.' });
      });
    });

    portal.post('/portal/logout', opts, async (request, reply) => {
      const a = await authed(request, reply, []);
      if (!a) return reply;
      await endPortalSession(deps, a.id);
      clearSessionCookie(reply);
      return sendPage(reply, 200, messagePage('All done', 'You can close this page.'));
    });
  });
}
