// The page shell every console page shares: head with the one style sheet and script, the
// navigation and sign-out form when signed in, and notices.
import { html, type Html, type Interpolation } from '../render.js';
import type { Signed } from '../session.js';

export interface PageOptions {
  title: string;
  signed?: Signed;
  notice?: string | null;
  error?: string | null;
  body: Interpolation;
}

export function page(o: PageOptions): Html {
  const s = o.signed;
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${o.title} · Tandem console</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/console/static/console.css">
<script src="/console/static/console.js" defer></script>
</head>
<body>
<header>
<strong>Tandem console</strong>
${s ? html`<nav><a href="/console/">Dashboard</a> · <a href="/console/log">Log</a> · <a href="/console/users">Users</a> · <a href="/console/integrations">Integrations</a> · <a href="/console/enrollments">Enrollments</a> · <a href="/console/admins">Admins</a></nav>
<div class="who"><span>Signed in as <b>${s.session.admin.name}</b></span>
<form method="post" action="/console/logout">${csrfField(s)}<button type="submit">Sign out</button></form></div>` : ''}
</header>
<main>
<h1>${o.title}</h1>
${o.notice ? html`<p class="notice" role="status">${o.notice}</p>` : ''}
${o.error ? html`<p class="error" role="alert">${o.error}</p>` : ''}
${o.body}
</main>
</body>
</html>
`;
}

export const csrfField = (s: Signed): Html => html`<input type="hidden" name="csrf" value="${s.session.csrf}">`;

/** Password and code fields for sensitive actions (not needed within the re-auth window). */
export const reauthFields = (): Html => html`<label>Your password <input type="password" name="reauth_password" autocomplete="current-password" maxlength="1024"></label>
<label>A current code from your authenticator <input type="text" name="reauth_code" inputmode="numeric" autocomplete="one-time-code" maxlength="10"></label>
<p class="muted">Needed unless you signed in or confirmed in the last few minutes.</p>`;

/** A one-button POST form. */
export function actionForm(s: Signed, action: string, label: string, hidden: Record<string, string>, o: { confirm?: string; danger?: boolean; extra?: Html } = {}): Html {
  return html`<form method="post" action="${action}" class="${o.extra ? '' : 'inline'}"${o.confirm ? html` data-confirm="${o.confirm}"` : ''}>${csrfField(s)}${Object.entries(hidden).map(([k, v]) => html`<input type="hidden" name="${k}" value="${v}">`)}${o.extra ?? ''}<button type="submit"${o.danger ? html` class="danger"` : ''}>${label}</button></form>`;
}
