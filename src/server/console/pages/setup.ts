// First run of an admin through the one-time link from `tandem admin create` / `reset`: a
// password and an authenticator app (QR code, otpauth link, confirmed by a code) in one form.
// The link is used only when both are right; a used, expired or unknown link says so.
import type { FastifyInstance } from 'fastify';
import QRCode from 'qrcode';
import { completeSetup, setupState, type SetupState } from '../../../core/admins.js';
import { CoreError } from '../../../core/errors.js';
import type { Core } from '../../../core/service.js';
import { MIN_PASSWORD } from '../../../core/admin-password.js';
import { field, readForm } from '../form.js';
import { html, type Html } from '../render.js';
import { page } from './layout.js';

const SORRY: Record<Exclude<SetupState['state'], 'valid'>, string> = {
  used: 'This setup link has already been used. Sign in, or ask for a new link (tandem admin reset NAME).',
  expired: 'This setup link has expired. Ask for a new one: tandem admin reset NAME.',
  unknown: 'This setup link is not valid. Ask for a new one: tandem admin reset NAME.',
};

async function setupPage(token: string, s: Extract<SetupState, { state: 'valid' }>, error: string | null): Promise<Html> {
  const svg = await QRCode.toString(s.otpauth, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
  const qr = `data:image/svg+xml;base64,${Buffer.from(svg).toString('base64')}`;
  return page({
    title: 'Set up your console account',
    error,
    body: html`<p>Welcome, <b>${s.admin.name}</b>. Choose a password and add this account to an authenticator app; the console asks for both at every sign-in.</p>
<form method="post" action="/console/setup/${token}">
<fieldset><legend>1. Password</legend>
<label>New password (at least ${MIN_PASSWORD} characters) <input type="password" name="password" autocomplete="new-password" minlength="${MIN_PASSWORD}" maxlength="1024" required></label>
<label>The same password again <input type="password" name="confirm" autocomplete="new-password" maxlength="1024" required></label>
</fieldset>
<fieldset><legend>2. Authenticator app</legend>
<p>Scan the code, or open <a href="${s.otpauth}">the otpauth link</a>, or type the key.</p>
<img class="qr" src="${qr}" alt="QR code for your authenticator app">
<p>Key: <code>${s.secret}</code></p>
<label>Code the app now shows <input type="text" name="code" inputmode="numeric" autocomplete="one-time-code" maxlength="10" required></label>
</fieldset>
<p><button type="submit">Finish setup</button></p>
</form>`,
  });
}

const sendHtml = (reply: import('fastify').FastifyReply, status: number, h: Html) => reply.code(status).type('text/html; charset=utf-8').send(h.toString());

export function registerSetup(app: FastifyInstance, core: Core): void {
  app.get<{ Params: { token: string } }>('/console/setup/:token', async (request, reply) => {
    const s = await setupState(core.deps, request.params.token);
    if (s.state !== 'valid') return sendHtml(reply, 410, page({ title: 'Setup link', error: SORRY[s.state], body: '' }));
    return sendHtml(reply, 200, await setupPage(request.params.token, s, null));
  });

  app.post<{ Params: { token: string } }>('/console/setup/:token', async (request, reply) => {
    const token = request.params.token;
    const form = readForm(request.body);
    core.limitAddress(request.ip);
    try {
      const admin = await completeSetup(core.deps, token, { password: field(form, 'password'), confirm: field(form, 'confirm'), code: field(form, 'code') });
      return sendHtml(reply, 200, page({
        title: 'Setup complete',
        notice: `Your account ${admin.name} is ready.`,
        body: html`<p><a href="/console/signin">Sign in</a> with your name, password and a code from the app.</p>`,
      }));
    } catch (e) {
      if (!(e instanceof CoreError)) throw e;
      const s = await setupState(core.deps, token);
      if (s.state !== 'valid') return sendHtml(reply, 410, page({ title: 'Setup link', error: SORRY[s.state], body: '' }));
      return sendHtml(reply, 400, await setupPage(token, s, e.detail));
    }
  });
}
