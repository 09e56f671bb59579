// Integrations: list, create (the skey and ready-to-paste client configs shown once — the same
// text `tandem integration create` prints), rotate an skey (re-authentication; shown once), and
// the policy forms — push settings, factors allowed and the failmode hint — (the same core
// function as `tandem integration policy`), and the hosts whose failmode differs from the hint.
import type { FastifyInstance, FastifyReply } from 'fastify';
import { apiHost, clientConfigBlock, LEGACY_V1_WARNING, tandemClientConfigBlock, TANDEM_CLIENT_CONFIGS } from '../../../core/client-config.js';
import { adminAudit, createIntegration, deleteIntegration, failmodeMismatchHosts, listIntegrations, parseNewUserPolicy, rotateSkey, setNewUserPolicy, setPushPolicy, showIntegration, showPushPolicy, type IntegrationView } from '../../../core/integrations.js';
import { setEnrollmentApproval } from '../../../core/enrollments.js';
import type { Core } from '../../../core/service.js';
import { ALLOWED_FACTORS, type FailmodeHint, type PushPolicy } from '../../../store/contract.js';
import { ConsoleRefusal, field } from '../form.js';
import { requireReauth } from '../reauth.js';
import { html, type Html, when } from '../render.js';
import { guard, signedIn, type Signed } from '../session.js';
import { csrfField, page, reauthFields } from './layout.js';

const sendHtml = (reply: FastifyReply, h: Html, status = 200) => reply.code(status).type('text/html; charset=utf-8').send(h.toString());
const integrationUrl = (ikey: string, done?: string): string => `/console/integration?ikey=${encodeURIComponent(ikey)}${done ? `&done=${done}` : ''}`;

function listPage(s: Signed, list: IntegrationView[], notice: string | null = null): Html {
  return page({
    title: 'Integrations',
    signed: s,
    notice,
    body: html`<table><thead><tr><th>Name</th><th>ikey</th><th>New-user policy</th><th>Legacy v1</th><th>Created</th><th>Last used</th></tr></thead><tbody>
${list.map((i) => html`<tr><td><a href="${integrationUrl(i.ikey)}">${i.name}</a></td><td>${i.ikey}</td><td>${i.newUserPolicy}</td><td>${i.legacyV1 ? 'yes' : 'no'}</td><td>${when(i.createdAt)}</td><td>${when(i.lastUsedAt)}</td></tr>`)}
</tbody></table>
${list.length === 0 ? html`<p class="muted">No integrations yet.</p>` : ''}
<form method="post" action="/console/integrations/create"><fieldset><legend>New integration</legend>${csrfField(s)}
<label>Name (for the hosts that will use it) <input type="text" name="name" maxlength="100" required></label>
<label>Users Tandem does not know <select name="new_user_policy"><option value="enroll">enroll (send them the enrollment link)</option><option value="allow">allow</option><option value="deny">deny</option></select></label>
<label><input type="checkbox" name="legacy_v1" value="yes"> Also accept legacy v1 signatures (Debian/Ubuntu login-duo/libpam-duo 1.11.3 only)</label>
<p><button type="submit">Create integration</button></p></fieldset></form>`,
  });
}

function configsHtml(o: { name: string; ikey: string; skey: string; host: string; cafile: string; failmode: FailmodeHint }): Html {
  return html`<h2>login_duo / pam_duo (stock duo_unix)</h2>
<pre data-copy>${clientConfigBlock(o)}</pre>
<h2>pam_tandem / login_tandem (${TANDEM_CLIENT_CONFIGS.pam}, ${TANDEM_CLIENT_CONFIGS.login})</h2>
<pre data-copy>${tandemClientConfigBlock(o)}</pre>
<p>Copy ${o.cafile} to each host and point cafile at the copy if the path differs there.</p>`;
}

async function detailPage(s: Signed, ikey: string, o: { notice?: string | null; body?: Html } = {}): Promise<Html> {
  const i = await showIntegration(s.deps, ikey);
  const p = await showPushPolicy(s.deps, ikey);
  const e = p.effective;
  const approval = (await s.deps.store.getIntegrationByIkey(ikey))?.enrollmentApproval ?? 'open';
  const mismatched = await failmodeMismatchHosts(s.deps, ikey);
  const FACTOR_LABELS: Record<string, string> = { push: 'push (Tandem Authenticator)', passcode: 'passcode (authenticator app, app codes, hardware/software tokens)', bypass: 'bypass codes' };
  const def = (k: keyof PushPolicy): string => (p.policy[k] === undefined ? ' (site default)' : '');
  const opt = (name: string, values: string[], current: string) =>
    html`<select name="${name}"><option value="">keep</option>${values.map((v) => html`<option value="${v}"${v === current ? html` selected` : ''}>${v}</option>`)}</select>`;
  return page({
    title: `Integration ${i.name}`,
    signed: s,
    notice: o.notice ?? null,
    body: html`<p><a href="/console/integrations">← Integrations</a></p>
${o.body ?? ''}
<table><tbody>
<tr><th>Name</th><td>${i.name}</td></tr><tr><th>ikey</th><td>${i.ikey}</td></tr>
<tr><th>API host</th><td>${apiHost(s.deps.settings)}</td></tr>
<tr><th>New-user policy</th><td>${i.newUserPolicy}</td></tr>
<tr><th>Legacy v1</th><td>${i.legacyV1 ? 'yes' : 'no'}</td></tr>
<tr><th>Created</th><td>${when(i.createdAt)}</td></tr><tr><th>Last used</th><td>${when(i.lastUsedAt)}</td></tr>
<tr><th>Previous skey valid until</th><td>${when(i.previousSkeyValidUntil)}</td></tr>
</tbody></table>
${i.legacyV1 ? html`<p class="error">${LEGACY_V1_WARNING}</p>` : ''}
<h2>Users and enrollment</h2>
<form method="post" action="/console/integration/new-user-policy"><fieldset>${csrfField(s)}<input type="hidden" name="ikey" value="${i.ikey}">
<label>Users Tandem does not know ${opt('new_user_policy', ['enroll', 'allow', 'deny'], i.newUserPolicy)}</label>
<p><button type="submit">Save new-user policy</button></p></fieldset></form>
<form method="post" action="/console/integration/enrollment-approval"><fieldset>${csrfField(s)}<input type="hidden" name="ikey" value="${i.ikey}">
<label>Enrollments through the portal: ${approval} ${opt('enrollment_approval', ['open', 'admin'], approval)}</label>
<p class="muted">open: whoever holds the link enrolls (Duo's default); admin: each enrollment waits for approval under Enrollments.</p>
<p><button type="submit">Save enrollment approval</button></p></fieldset></form>
<h2>Push policy</h2>
<form method="post" action="/console/integration/policy"><fieldset>${csrfField(s)}<input type="hidden" name="ikey" value="${i.ikey}">
<label>Verified push (number matching): ${e.verifiedPush}${def('verifiedPush')} ${opt('verified_push', ['off', 'required'], '')}</label>
<label>Max pending pushes per user: ${e.maxPending}${def('maxPending')} <input type="number" name="max_pending" min="1" max="100"></label>
<label>Denial threshold: ${e.denialThreshold}${def('denialThreshold')} <input type="number" name="denial_threshold" min="1" max="1000"></label>
<label>Cooldown (seconds): ${e.cooldownSeconds}${def('cooldownSeconds')} <input type="number" name="cooldown_secs" min="1" max="2592000"></label>
<label>Fraud reports lock the user: ${e.fraudLocks ? 'yes' : 'no'}${def('fraudLocks')} ${opt('fraud_locks', ['yes', 'no'], '')}</label>
<label>Approval needs: ${e.approvalAuth}${def('approvalAuth')} ${opt('approval', ['device-key', 'passkey'], '')}</label>
<p><button type="submit">Save policy</button></p></fieldset></form>
<h2>Factors and failmode</h2>
<form method="post" action="/console/integration/factors"><fieldset>${csrfField(s)}<input type="hidden" name="ikey" value="${i.ikey}">
<p>Factors allowed: ${e.factors.join(', ')}${def('factors')}</p>
${ALLOWED_FACTORS.map((f) => html`<label><input type="checkbox" name="factor_${f}" value="yes"${e.factors.includes(f) ? html` checked` : ''}> ${FACTOR_LABELS[f] ?? f}</label>`)}
<label>Failmode hint (the client configs' failmode): ${e.failmodeHint}${def('failmodeHint')} ${opt('failmode_hint', ['secure', 'safe'], '')}</label>
<p class="muted">secure: a host that cannot reach Tandem denies logins; safe: it lets them in without a second factor.</p>
<p><button type="submit">Save factors and failmode</button></p></fieldset></form>
<p>Hosts that sent another failmode than the hint in the last 7 days: <strong>${String(mismatched.length)}</strong>${mismatched.length > 0 ? html` (${mismatched.slice(0, 20).join(', ')}${mismatched.length > 20 ? ', …' : ''})` : ''}</p>
<h2>Rotate the skey</h2>
<form method="post" action="/console/integration/rotate" data-confirm="Give this integration a new skey?"><fieldset>${csrfField(s)}<input type="hidden" name="ikey" value="${i.ikey}">
<p>The previous skey keeps working for ${Math.round(s.deps.settings.skeyOverlapSeconds / 3600)} hours after rotating.</p>
${reauthFields()}
<p><button type="submit" class="danger">Rotate skey</button></p></fieldset></form>
<h2>Delete</h2>
<form method="post" action="/console/integration/delete" data-confirm="Delete this integration? Hosts using it can no longer authenticate."><fieldset>${csrfField(s)}<input type="hidden" name="ikey" value="${i.ikey}">
<label><input type="checkbox" name="force" value="yes"> Delete even if hosts used it in the last 24 hours</label>
${reauthFields()}
<p><button type="submit" class="danger">Delete integration</button></p></fieldset></form>`,
  });
}

function policyChanges(s: Signed): PushPolicy {
  const c: PushPolicy = {};
  const f = (k: string) => field(s.form, k).trim();
  const num = (k: string): number | undefined => {
    const v = f(k);
    if (v === '') return undefined;
    if (!/^[0-9]{1,9}$/.test(v)) throw new ConsoleRefusal(400, 'Numbers only in the policy fields.');
    return Number(v);
  };
  const vp = f('verified_push');
  if (vp !== '') c.verifiedPush = vp as 'off' | 'required';
  const mp = num('max_pending');
  if (mp !== undefined) c.maxPending = mp;
  const dt = num('denial_threshold');
  if (dt !== undefined) c.denialThreshold = dt;
  const cd = num('cooldown_secs');
  if (cd !== undefined) c.cooldownSeconds = cd;
  const fl = f('fraud_locks');
  if (fl !== '') {
    if (fl !== 'yes' && fl !== 'no') throw new ConsoleRefusal(400, 'Fraud locks must be yes or no.');
    c.fraudLocks = fl === 'yes';
  }
  const ap = f('approval');
  if (ap !== '') c.approvalAuth = ap as 'device-key' | 'passkey';
  return c; // setPushPolicy validates every value
}

/** The factors form: every checkbox is sent (unchecked: not allowed); the failmode hint may be kept. */
function factorChanges(s: Signed): PushPolicy {
  const c: PushPolicy = {};
  const factors = ALLOWED_FACTORS.filter((f) => {
    const v = field(s.form, `factor_${f}`);
    if (v !== '' && v !== 'yes') throw new ConsoleRefusal(400, 'Each factor is a yes/no choice.');
    return v === 'yes';
  });
  if (factors.length === 0) throw new ConsoleRefusal(400, 'Allow at least one factor.');
  c.factors = factors;
  const hint = field(s.form, 'failmode_hint').trim();
  if (hint !== '') c.failmodeHint = hint as FailmodeHint;
  return c; // setPushPolicy validates every value
}

export function registerIntegrations(app: FastifyInstance, core: Core, caCert: string): void {
  app.register(async (scope) => {
    scope.addHook('preHandler', guard(core));

    scope.get<{ Querystring: { done?: unknown } }>('/console/integrations', async (request, reply) => {
      const s = signedIn(request);
      return sendHtml(reply, listPage(s, await listIntegrations(s.deps), request.query.done === 'deleted' ? 'Integration deleted.' : null));
    });

    scope.get<{ Querystring: { ikey?: string; done?: string } }>('/console/integration', async (request, reply) => {
      const s = signedIn(request);
      const notices: Record<string, string> = { policy: 'Push policy saved.', factors: 'Factors and failmode saved.', new_user_policy: 'New-user policy saved.', enrollment_approval: 'Enrollment approval saved.' };
      return sendHtml(reply, await detailPage(s, String(request.query.ikey ?? ''), { notice: notices[String(request.query.done ?? '')] ?? null }));
    });

    scope.post('/console/integrations/create', async (request, reply) => {
      const s = signedIn(request);
      const legacy = field(s.form, 'legacy_v1');
      if (legacy !== '' && legacy !== 'yes') throw new ConsoleRefusal(400, 'Legacy v1 is a yes/no choice.');
      const { integration, skey } = await createIntegration(s.deps, {
        name: field(s.form, 'name'),
        newUserPolicy: parseNewUserPolicy(field(s.form, 'new_user_policy') || 'enroll'),
        legacyV1: legacy === 'yes',
      });
      const cfg = { name: integration.name, ikey: integration.ikey, skey, host: apiHost(s.deps.settings), cafile: caCert, failmode: (await showPushPolicy(s.deps, integration.ikey)).effective.failmodeHint };
      return sendHtml(reply, await detailPage(s, integration.ikey, {
        notice: 'Integration created.',
        body: html`<div class="secret"><p>The skey is shown only now: <code>${skey}</code></p>${configsHtml(cfg)}</div>`,
      }));
    });

    scope.post('/console/integration/rotate', async (request, reply) => {
      const s = signedIn(request);
      const ikey = field(s.form, 'ikey');
      const i = await showIntegration(s.deps, ikey); // unknown: "not found", not a re-auth prompt
      await requireReauth(s);
      const r = await rotateSkey(s.deps, ikey);
      const cfg = { name: i.name, ikey, skey: r.skey, host: apiHost(s.deps.settings), cafile: caCert, failmode: (await showPushPolicy(s.deps, ikey)).effective.failmodeHint };
      return sendHtml(reply, await detailPage(s, ikey, {
        notice: 'New skey made.',
        body: html`<div class="secret"><p>The new skey, shown only now: <code>${r.skey}</code>. The previous one keeps working until ${when(r.previousValidUntil)}; update "skey =" on every host before then.</p>${configsHtml(cfg)}</div>`,
      }));
    });

    scope.post('/console/integration/new-user-policy', async (request, reply) => {
      const s = signedIn(request);
      const ikey = field(s.form, 'ikey');
      await setNewUserPolicy(s.deps, ikey, field(s.form, 'new_user_policy'));
      return reply.code(303).header('location', integrationUrl(ikey, 'new_user_policy')).send();
    });

    scope.post('/console/integration/enrollment-approval', async (request, reply) => {
      const s = signedIn(request);
      const ikey = field(s.form, 'ikey');
      const approval = field(s.form, 'enrollment_approval');
      await setEnrollmentApproval(s.deps, ikey, approval);
      // The portal's policy_set entry says by 'cli' and carries no actor: record who set it.
      await adminAudit(s.deps, 'enrollment_approval_set', { ikey, enrollmentApproval: approval });
      return reply.code(303).header('location', integrationUrl(ikey, 'enrollment_approval')).send();
    });

    scope.post('/console/integration/delete', async (request, reply) => {
      const s = signedIn(request);
      const ikey = field(s.form, 'ikey');
      const force = field(s.form, 'force');
      if (force !== '' && force !== 'yes') throw new ConsoleRefusal(400, 'Force is a yes/no choice.');
      await showIntegration(s.deps, ikey); // unknown: "not found", not a re-auth prompt
      await requireReauth(s);
      await deleteIntegration(s.deps, ikey, force === 'yes');
      return reply.code(303).header('location', '/console/integrations?done=deleted').send();
    });

    scope.post('/console/integration/factors', async (request, reply) => {
      const s = signedIn(request);
      const ikey = field(s.form, 'ikey');
      await setPushPolicy(s.deps, ikey, factorChanges(s));
      return reply.code(303).header('location', integrationUrl(ikey, 'factors')).send();
    });

    scope.post('/console/integration/policy', async (request, reply) => {
      const s = signedIn(request);
      const ikey = field(s.form, 'ikey');
      await setPushPolicy(s.deps, ikey, policyChanges(s));
      return reply.code(303).header('location', integrationUrl(ikey, 'policy')).send();
    });
  });
}
