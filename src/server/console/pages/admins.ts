// Console administrators: list, create, disable and reset (new setup link) — the core functions
// of `tandem admin create|list|disable|reset`. Creating, disabling and resetting need
// re-authentication; an admin cannot disable or reset themselves here (that would end their own
// session; the CLI on the server can).
import type { FastifyInstance } from 'fastify';
import { createAdmin, disableAdmin, listAdmins, resetAdmin, type SetupLinkView } from '../../../core/admins.js';
import type { Core } from '../../../core/service.js';
import { ConsoleRefusal, field } from '../form.js';
import { requireReauth } from '../reauth.js';
import { html, type Html, when } from '../render.js';
import { guard, signedIn, type Signed } from '../session.js';
import { csrfField, page, reauthFields } from './layout.js';

async function adminsPage(s: Signed, o: { notice?: string | null; setup?: SetupLinkView } = {}): Promise<Html> {
  const admins = await listAdmins(s.deps);
  const me = s.session.admin.name;
  const act = (action: string, label: string, name: string, confirm: string) => html`<details><summary>${label}</summary><form method="post" action="${action}" data-confirm="${confirm}">${csrfField(s)}<input type="hidden" name="name" value="${name}">${reauthFields()}<p><button type="submit" class="danger">${label}</button></p></form></details>`;
  return page({
    title: 'Admins',
    signed: s,
    notice: o.notice ?? null,
    body: html`${o.setup ? html`<div class="secret"><p>Setup link for ${o.setup.name}, shown only now (works once, until ${when(o.setup.expiresAt)}). Send it over a channel you trust:</p><pre data-copy>${o.setup.link}</pre></div>` : ''}
<table><thead><tr><th>Name</th><th>Status</th><th>Created</th><th>Setup link expires</th><th></th></tr></thead><tbody>
${admins.map((a) => html`<tr><td>${a.name}${a.name === me ? ' (you)' : ''}</td><td class="status-${a.status}">${a.status}</td><td>${when(a.createdAt)}</td><td>${when(a.setupExpiresAt)}</td><td>${a.name === me ? '' : html`${a.status === 'disabled' ? '' : act('/console/admin/disable', 'Disable', a.name, 'Disable this admin? Their sessions end now.')}${act('/console/admin/reset', 'Reset', a.name, 'Reset this admin? Their password and authenticator stop working and they get a new setup link.')}`}</td></tr>`)}
</tbody></table>
<form method="post" action="/console/admin/create"><fieldset><legend>New admin</legend>${csrfField(s)}
<label>Name <input type="text" name="name" maxlength="64" required></label>
${reauthFields()}
<p><button type="submit">Create and show the setup link</button></p></fieldset></form>`,
  });
}

export function registerAdmins(app: FastifyInstance, core: Core): void {
  app.register(async (scope) => {
    scope.addHook('preHandler', guard(core));
    const send = (reply: import('fastify').FastifyReply, h: Html) => reply.type('text/html; charset=utf-8').send(h.toString());

    scope.get('/console/admins', async (request, reply) => send(reply, await adminsPage(signedIn(request))));

    const notSelf = (s: Signed): string => {
      const name = field(s.form, 'name');
      if (name === s.session.admin.name) throw new ConsoleRefusal(409, 'You cannot do that to yourself here; use tandem admin on the server.');
      return name;
    };

    scope.post('/console/admin/create', async (request, reply) => {
      const s = signedIn(request);
      await requireReauth(s);
      const setup = await createAdmin(s.deps, field(s.form, 'name'));
      return send(reply, await adminsPage(s, { notice: 'Admin created.', setup }));
    });

    scope.post('/console/admin/disable', async (request, reply) => {
      const s = signedIn(request);
      const name = notSelf(s);
      await requireReauth(s);
      await disableAdmin(s.deps, name);
      return send(reply, await adminsPage(s, { notice: 'Admin disabled; their sessions have ended.' }));
    });

    scope.post('/console/admin/reset', async (request, reply) => {
      const s = signedIn(request);
      const name = notSelf(s);
      await requireReauth(s);
      const setup = await resetAdmin(s.deps, name);
      return send(reply, await adminsPage(s, { notice: 'Admin reset.', setup }));
    });
  });
}
