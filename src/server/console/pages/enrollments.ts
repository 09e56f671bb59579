// Held enrollments (integrations with enrollment approval 'admin'): list, approve, deny — the
// portal's core functions, as `tandem enrollment list|approve|deny`, with the admin's name as
// `by` in their enrollment audit entries.
import type { FastifyInstance } from 'fastify';
import { approveEnrollment, denyEnrollment, listEnrollments } from '../../../core/enrollments.js';
import type { Core } from '../../../core/service.js';
import { field } from '../form.js';
import { html, type Html, when } from '../render.js';
import { guard, signedIn, type Signed } from '../session.js';
import { actionForm, page } from './layout.js';

async function enrollmentsPage(s: Signed, all: boolean, o: { notice?: string | null; body?: Html } = {}): Promise<Html> {
  const rows = await listEnrollments(s.deps, { all });
  return page({
    title: 'Held enrollments',
    signed: s,
    notice: o.notice ?? null,
    body: html`${o.body ?? ''}<p class="muted">Enrollments wait here when their integration's enrollment approval is "admin" (set it on the integration's page). Nothing held works for login until approved.</p>
<p>${all ? html`<a href="/console/enrollments">Pending only</a>` : html`<a href="/console/enrollments?all=1">Include decided ones</a>`}</p>
${rows.length === 0 ? html`<p class="muted">No ${all ? '' : 'pending '}held enrollments.</p>` : html`<table><thead><tr><th>ID</th><th>User</th><th>Kind</th><th>Integration</th><th>State</th><th>Created</th><th></th></tr></thead><tbody>
${rows.map((r) => html`<tr><td>${r.id}</td><td>${r.username}</td><td>${r.kind}</td><td>${r.integration ?? '—'}</td><td>${r.state}</td><td>${when(r.createdAt)}</td><td>${r.state === 'pending' ? html`${actionForm(s, '/console/enrollment/approve', 'Approve', { id: r.id })} ${actionForm(s, '/console/enrollment/deny', 'Deny', { id: r.id }, { confirm: 'Deny this enrollment?' })}` : ''}</td></tr>`)}
</tbody></table>`}`,
  });
}

export function registerEnrollments(app: FastifyInstance, core: Core): void {
  app.register(async (scope) => {
    scope.addHook('preHandler', guard(core));
    const send = (h: Html) => h.toString();

    scope.get<{ Querystring: { all?: unknown; done?: unknown } }>('/console/enrollments', async (request, reply) => {
      const s = signedIn(request);
      const notice = request.query.done === 'denied' ? 'Enrollment denied.' : null;
      return reply.type('text/html; charset=utf-8').send(send(await enrollmentsPage(s, request.query.all === '1', { notice })));
    });

    scope.post('/console/enrollment/approve', async (request, reply) => {
      const s = signedIn(request);
      const r = await approveEnrollment(s.deps, field(s.form, 'id'), s.session.admin.name);
      const body = r.activation
        ? html`<div class="secret"><p>Approved. Send ${r.username} this activation link for the Tandem Authenticator (works once, until ${when(r.activation.expiresAt)}):</p><pre data-copy>${r.activation.link}</pre></div>`
        : html`<p class="notice">Approved: ${r.username}'s authenticator app (token ${r.tokenId ?? ''}) now works.</p>`;
      return reply.type('text/html; charset=utf-8').send(send(await enrollmentsPage(s, false, { body })));
    });

    scope.post('/console/enrollment/deny', async (request, reply) => {
      const s = signedIn(request);
      await denyEnrollment(s.deps, field(s.form, 'id'), s.session.admin.name);
      return reply.code(303).header('location', '/console/enrollments?done=denied').send();
    });
  });
}
