// The portal's pages. Every string from a user, a host or the database is interpolated through
// `html`, which escapes it; no page has inline script or style.
import type { PortalFactor, PortalOverview, TotpOffer } from '../../core/portal/factors.js';
import { html, type Html } from './html.js';

export const NEW_LINK_HELP = 'Log in again to get a new link, or ask your administrator for a new one (tandem user enroll-link).';

function layout(title: string, body: Html): string {
  return `<!doctype html>${html`<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><meta name="referrer" content="no-referrer"><title>${title} · Tandem</title><link rel="icon" href="data:,"><link rel="stylesheet" href="/portal/portal.css"></head><body><header><p>Tandem two-factor authentication</p></header><main>${body}</main></body></html>`.text}`;
}

const csrfField = (csrf: string): Html => html`<input type="hidden" name="csrf" value="${csrf}">`;

function codeForm(action: string, csrf: string, label: string, button: string): Html {
  return html`<form method="post" action="${action}">${csrfField(csrf)}<label for="code">${label}</label><input type="text" id="code" name="code" inputmode="numeric" autocomplete="one-time-code" maxlength="64" required><button type="submit">${button}</button></form>`;
}

export function linkPage(action: string): string {
  return layout(
    'Set up two-factor sign-in',
    html`<h1>Set up two-factor sign-in</h1><section><p>This link lets you add a way to confirm your logins: the Tandem Authenticator or an authenticator app on your phone.</p><p class="muted">The link works once. It opens a session of 15 minutes.</p><form method="post" action="${action}"><button type="submit">Continue</button></form></section>`,
  );
}

export function messagePage(title: string, text: string, extra?: string): string {
  return layout(title, html`<h1>${title}</h1><section><p>${text}</p>${extra ? html`<p class="muted">${extra}</p>` : ''}</section>`);
}

export const expiredLinkPage = (): string => messagePage('This link has expired or was already used', 'Enrollment links work once and only for a short time.', NEW_LINK_HELP);
export const noSessionPage = (): string => messagePage('Your session has ended', 'Portal sessions last 15 minutes. Open a new enrollment link to continue.', NEW_LINK_HELP);

const passkeyCount = (n: number): string => (n === 0 ? 'no passkey' : n === 1 ? '1 passkey' : `${n} passkeys`);

/**
 * Passkeys are only a pointer here (docs/push.md §9): a Tandem passkey belongs to one Tandem
 * Authenticator and confirms the approvals made on it, so it is added inside the app on that
 * phone (a device-signed registration), never from this page, which may be on another computer.
 */
function passkeySection(o: PortalOverview): Html {
  const hasDevice = o.factors.some((f) => f.kind === 'device');
  const required = o.passkeyRequired ? html`<p data-testid="passkey-required">On this system, approving a login in the Tandem Authenticator needs a passkey in the app.</p>` : '';
  const body = hasDevice
    ? html`<p>A passkey (your phone's fingerprint, face or screen lock) is added <strong>inside the Tandem Authenticator</strong>, not on this page: it then confirms each approval you make on that phone. On your phone, open the app and press <strong>Add a passkey</strong>.</p><p><a href="/app/" data-testid="open-app-for-passkey">Open the Tandem Authenticator</a></p>`
    : html`<p class="muted">A passkey confirms the approvals you make in the Tandem Authenticator, and is added inside the app. Add the Tandem Authenticator first. A terminal login cannot use a passkey by itself: it asks for a push or a code.</p>`;
  return html`<section data-testid="passkey-section"><h2>Passkey</h2>${required}${body}</section>`;
}

function factorItem(f: PortalFactor, csrf: string): Html {
  return html`<li><span>${f.label}<br><span class="muted">added ${new Date(f.createdAt).toISOString().slice(0, 10)}${f.passkeys !== undefined ? html`, <span data-testid="device-passkeys">${passkeyCount(f.passkeys)}</span>` : ''}</span></span><form method="post" action="/portal/remove">${csrfField(csrf)}<input type="hidden" name="kind" value="${f.kind}"><input type="hidden" name="id" value="${f.id}"><button type="submit" class="secondary">Remove</button></form></li>`;
}

export function homePage(o: PortalOverview, csrf: string, note?: { ok: boolean; text: string }): string {
  const proof = o.mustProve
    ? html`<section><h2>First, confirm it is you</h2><p>Your account already has a way to sign in. Enter a current code from it (or a bypass code from your administrator) before adding or removing anything.</p>${codeForm('/portal/prove', csrf, 'Code', 'Confirm')}${o.canPush ? html`<p class="muted">Or approve a request on your Tandem Authenticator:</p><form method="post" action="/portal/prove/push">${csrfField(csrf)}<button type="submit" class="secondary">Send a push to my phone</button></form>` : ''}</section>`
    : '';
  const held = o.approval === 'admin' ? html`<p class="muted">New sign-in methods on this system are checked by an administrator before they work.</p>` : '';
  return layout(
    'Your sign-in methods',
    html`<h1>Your sign-in methods</h1>
<p>Signed in to the portal as <strong>${o.user.username}</strong>.</p>
${note ? html`<p class="${note.ok ? 'notice' : 'error'}">${note.text}</p>` : ''}
${proof}
<section><h2>What you have</h2>${o.factors.length === 0 ? html`<p class="muted">Nothing yet.</p>` : html`<ul class="factors">${o.factors.map((f) => factorItem(f, csrf))}</ul>`}${o.held > 0 ? html`<p class="muted">${o.held} waiting for an administrator's approval.</p>` : ''}</section>
<section><h2>Add a sign-in method</h2>${held}
<form method="post" action="/portal/authenticator">${csrfField(csrf)}<button type="submit">Tandem Authenticator (push and codes)</button></form>
<form method="post" action="/portal/totp">${csrfField(csrf)}<button type="submit">Authenticator app (codes)</button></form>
<p class="muted">Text message and phone call: not available on this server.</p></section>
${passkeySection(o)}
<form method="post" action="/portal/logout">${csrfField(csrf)}<button type="submit" class="secondary">Done</button></form>`,
  );
}

export function totpPage(offer: TotpOffer, qrDataUri: string, csrf: string, error?: string): string {
  return layout(
    'Add an authenticator app',
    html`<h1>Add an authenticator app</h1>
${error ? html`<p class="error">${error}</p>` : ''}
<section><h2>1. Scan this code with your app</h2><img class="qr" src="${qrDataUri}" alt="QR code of the authenticator app setup link">
<p class="muted">On this phone? <a href="${offer.otpauth}">Open in your authenticator app</a>. Or type this key:</p><code class="secret" data-testid="totp-secret">${offer.secret}</code></section>
<section><h2>2. Enter the code your app shows</h2><p class="muted">It is saved only once a correct code is entered.</p>${codeForm('/portal/totp/confirm', csrf, 'Code from the app', 'Save')}</section>
<p><a href="/portal/">Cancel</a></p>`,
  );
}

export function authenticatorPage(link: string, qrDataUri: string, expiresAt: number): string {
  return layout(
    'Add the Tandem Authenticator',
    html`<h1>Add the Tandem Authenticator</h1>
<section><h2>On another device? Scan this with your phone's camera</h2><img class="qr" src="${qrDataUri}" alt="QR code of the activation link"></section>
<section><h2>Opened on your phone?</h2><p><a class="button" href="${link}" data-testid="activation-link">Set up this phone with one tap</a></p><p class="muted">Or open this link on the phone:</p><code class="link">${link}</code><p class="muted">It works once, until ${new Date(expiresAt).toISOString().replace('T', ' ').slice(0, 16)} UTC.</p></section>
<p><a href="/portal/">Back</a></p>`,
  );
}

/** Waiting for the proof push: the match code (if any), "I approved it", and the polling script. */
export function pushWaitPage(o: { txid: string; matchCode: string | null; expiresAt: number }, csrf: string, note?: string): string {
  return layout(
    'Approve the request on your phone',
    html`<h1>Approve the request on your phone</h1>
${note ? html`<p class="error">${note}</p>` : ''}
<section><p>Your Tandem Authenticator shows a request from the <strong>enrollment portal</strong>. Approve it there.</p>
${o.matchCode !== null ? html`<p>When the app asks, enter this number: <strong class="match" data-testid="push-match">${o.matchCode}</strong></p>` : ''}
<p class="muted">This page continues by itself once you have answered. The request expires at ${new Date(o.expiresAt).toISOString().slice(11, 19)} UTC.</p>
<form method="post" action="/portal/prove/push/check" data-push-txid="${o.txid}">${csrfField(csrf)}<input type="hidden" name="txid" value="${o.txid}"><button type="submit">I approved it</button></form></section>
<p><a href="/portal/">Back</a></p><script src="/portal/portal.js" defer></script>`,
  );
}
