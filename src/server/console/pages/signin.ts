// Sign-in (name, password and a code: one answer for every failure) and sign-out.
import type { FastifyInstance } from 'fastify';
import { checkAdminCredentials } from '../../../core/admins.js';
import { endSession, findSession, startSession } from '../../../core/admin-sessions.js';
import type { Core } from '../../../core/service.js';
import { field, readForm } from '../form.js';
import { html, type Html } from '../render.js';
import { CLEAR_COOKIE, cookieValue, guard, sameOrigin, sessionCookie, signedIn } from '../session.js';
import { page } from './layout.js';

function signInPage(error: string | null): Html {
  return page({
    title: 'Sign in',
    error,
    body: html`<form method="post" action="/console/signin">
<label>Name <input type="text" name="name" autocomplete="username" maxlength="64" required autofocus></label>
<label>Password <input type="password" name="password" autocomplete="current-password" maxlength="1024" required></label>
<label>Code from your authenticator app <input type="text" name="code" inputmode="numeric" autocomplete="one-time-code" maxlength="10" required></label>
<p><button type="submit">Sign in</button></p>
</form>`,
  });
}

export function registerSignIn(app: FastifyInstance, core: Core): void {
  app.get('/console/signin', async (request, reply) => {
    if (await findSession(core.deps, cookieValue(request))) return reply.code(303).header('location', '/console/users').send();
    return reply.type('text/html; charset=utf-8').send(signInPage(null).toString());
  });

  app.post('/console/signin', async (request, reply) => {
    const form = readForm(request.body);
    // Each attempt costs a full scrypt: bound them per source address (429 past the limit).
    core.limitAddress(request.ip);
    const admin = sameOrigin(request)
      ? await checkAdminCredentials(core.deps, { name: field(form, 'name'), password: field(form, 'password'), code: field(form, 'code'), peer: request.ip, purpose: 'sign_in' })
      : null;
    if (!admin) return reply.code(200).type('text/html; charset=utf-8').send(signInPage('Sign-in failed.').toString());
    const { id } = await startSession(core.deps, admin);
    return reply.code(303).header('set-cookie', sessionCookie(id)).header('location', '/console/users').send();
  });

  app.post('/console/logout', { preHandler: guard(core) }, async (request, reply) => {
    const s = signedIn(request);
    await endSession(s.deps, s.session);
    return reply.code(303).header('set-cookie', CLEAR_COOKIE).header('location', '/console/signin').send();
  });
}
