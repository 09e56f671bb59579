// Users: the list with search and a status filter, creating users, and a user's page with every
// action the CLI has on them (unlock, disable/enable, bypass status, delete, tokens, devices,
// bypass codes). Each action
// calls the same core function as the CLI, with the admin as the audit entry's actor.
import type { FastifyInstance, FastifyReply } from 'fastify';
import QRCode from 'qrcode';
import { createAdminEnrollLink } from '../../../core/portal/links.js';
import { adminAudit } from '../../../core/integrations.js';
import { clearBypassCodes, createBypassCodes, listBypassCodes } from '../../../core/bypass.js';
import { createActivation, listDevices, removeDevice } from '../../../core/devices.js';
import type { Core } from '../../../core/service.js';
import { addToken, listTokens, removeToken, resyncToken } from '../../../core/tokens.js';
import { addAlias, createUser, deleteUser, removeAlias, listUsers, setUserBypass, setUserEnabled, showUser, unlockUser, type UserView } from '../../../core/users.js';
import { ConsoleRefusal, field } from '../form.js';
import { requireReauth } from '../reauth.js';
import { html, type Html, when } from '../render.js';
import { guard, signedIn, type Signed } from '../session.js';
import { actionForm, csrfField, page, reauthFields } from './layout.js';

/** Notices after an action, by key: the redirect carries a key, never text. */
const DONE: Record<string, string> = {
  created: 'User created.',
  unlocked: 'User unlocked.',
  disabled: 'User disabled.',
  enabled: 'User enabled.',
  bypass: 'User in bypass status: logins need no second factor until you enable them again.',
  deleted: 'User deleted.',
  token_removed: 'Token removed.',
  device_removed: 'Device removed.',
  bypass_cleared: 'Bypass codes removed.',
  alias_added: 'Alias added.',
  alias_removed: 'Alias removed.',
  token_resynced: 'Token resynchronized.',
};

const qrDataUri = async (text: string): Promise<string> =>
  `data:image/svg+xml;base64,${Buffer.from(await QRCode.toString(text, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 })).toString('base64')}`;

const userUrl = (name: string, done?: string): string => `/console/user?name=${encodeURIComponent(name)}${done ? `&done=${done}` : ''}`;
const sendHtml = (reply: FastifyReply, h: Html, status = 200) => reply.code(status).type('text/html; charset=utf-8').send(h.toString());
const statusOf = (u: UserView): string => (u.status === 'locked out' ? 'locked' : u.status);
/** The list's status filter: what statusOf shows. */
const STATUSES = ['active', 'bypass', 'disabled', 'locked'] as const;

function intField(s: Signed, name: string, fallback: number): number {
  const v = field(s.form, name).trim();
  if (v === '') return fallback;
  if (!/^[0-9]{1,9}$/.test(v)) throw new ConsoleRefusal(400, `${name} must be a whole number.`);
  return Number(v);
}

function usersPage(s: Signed, users: UserView[], q: string, status: string, notice: string | null): Html {
  const needle = q.toLowerCase();
  const shown = users
    .filter((u) => needle === '' || [u.username, ...u.aliases].some((n) => n.toLowerCase().includes(needle)))
    .filter((u) => status === '' || statusOf(u) === status);
  return page({
    title: 'Users',
    signed: s,
    notice,
    body: html`<form method="get" action="/console/users"><label>Search <input type="search" name="q" value="${q}" maxlength="100"></label>
<label>Status <select name="status"><option value="">any</option>${STATUSES.map((v) => html`<option value="${v}"${v === status ? html` selected` : ''}>${v}</option>`)}</select></label> <button type="submit">Search</button></form>
<table><thead><tr><th>User</th><th>Aliases</th><th>Status</th><th>Failures</th><th>Last login</th></tr></thead><tbody>
${shown.map((u) => html`<tr><td><a href="${userUrl(u.username)}">${u.username}</a></td><td>${u.aliases.join(', ')}</td><td class="status-${statusOf(u)}">${statusOf(u)}</td><td>${u.failures}</td><td>${when(u.lastLoginAt)}</td></tr>`)}
</tbody></table>
${shown.length === 0 ? html`<p class="muted">No users${q || status ? ' match' : ''}.</p>` : ''}
<form method="post" action="/console/users/create"><fieldset><legend>New user</legend>${csrfField(s)}
<label>Username <input type="text" name="username" maxlength="100" required></label>
<label>Aliases (comma-separated, optional) <input type="text" name="aliases" maxlength="1000"></label>
<p><button type="submit">Create user</button></p></fieldset></form>`,
  });
}

async function userPage(s: Signed, name: string, o: { notice?: string | null; codes?: string[]; shown?: Html } = {}): Promise<Html> {
  const u = await showUser(s.deps, name);
  const [tokens, devices, bypass] = await Promise.all([listTokens(s.deps, name), listDevices(s.deps, name), listBypassCodes(s.deps, name)]);
  const n = { name: u.username };
  return page({
    title: `User ${u.username}`,
    signed: s,
    notice: o.notice ?? null,
    body: html`<p><a href="/console/users">← Users</a></p>
${o.shown ?? ''}
<table><tbody>
<tr><th>Username</th><td>${u.username}</td></tr>
<tr><th>User id</th><td>${u.userId}</td></tr>
<tr><th>Aliases</th><td>${u.aliases.join(', ') || '—'}</td></tr>
<tr><th>Status</th><td class="status-${statusOf(u)}">${statusOf(u)}${u.status === 'locked out' && u.accountStatus === 'bypass' ? ' (bypass status once unlocked)' : ''}${bypass.length ? ' (has bypass codes)' : ''}</td></tr>
<tr><th>Failures</th><td>${u.failures}</td></tr>
<tr><th>Locked until</th><td>${when(u.lockedUntil)}</td></tr>
<tr><th>Created</th><td>${when(u.createdAt)}</td></tr>
<tr><th>Last login</th><td>${when(u.lastLoginAt)}</td></tr>
</tbody></table>
<p>${actionForm(s, '/console/user/unlock', 'Unlock', n)}
${u.accountStatus === 'disabled' ? actionForm(s, '/console/user/enable', 'Enable', n) : actionForm(s, '/console/user/disable', 'Disable', n, { confirm: 'Disable this user? Every login will be denied.' })}
${u.accountStatus === 'bypass' ? actionForm(s, '/console/user/enable', 'Enable (require 2FA again)', n) : ''}</p>
${u.accountStatus === 'active' ? html`<form method="post" action="/console/user/status/bypass" data-confirm="Let this user in with the password alone, without a second factor, until you enable them again? This is audited."><fieldset><legend>Bypass 2FA (Duo's bypass status: for an emergency such as a lost phone; a lock still denies)</legend>${csrfField(s)}<input type="hidden" name="name" value="${u.username}">
${reauthFields()}
<p><button type="submit" class="danger">Bypass 2FA</button></p></fieldset></form>` : ''}

<h2>Aliases</h2>
${u.aliases.length === 0 ? html`<p class="muted">None.</p>` : html`<ul>${u.aliases.map((a) => html`<li>${a} ${actionForm(s, '/console/user/alias/remove', 'Remove', { ...n, alias: a }, { confirm: 'Remove this alias?' })}</li>`)}</ul>`}
<form method="post" action="/console/user/alias/add"><fieldset><legend>Add an alias</legend>${csrfField(s)}<input type="hidden" name="name" value="${u.username}">
<label>Alias <input type="text" name="alias" maxlength="100" required></label>
<p><button type="submit">Add alias</button></p></fieldset></form>

<h2>Enrollment</h2>
<form method="post" action="/console/user/enroll-link"><fieldset><legend>Enrollment link (the user adds their own factors in the portal)</legend>${csrfField(s)}<input type="hidden" name="name" value="${u.username}">
<label>Valid for days (1–30) <input type="number" name="valid_days" value="7" min="1" max="30"></label>
<p><button type="submit">Make a link</button></p></fieldset></form>

<h2>Tokens</h2>
${tokens.length === 0 ? html`<p class="muted">None.</p>` : html`<table><thead><tr><th>Token</th><th>Type</th><th>Digits</th><th>Created</th><th></th></tr></thead><tbody>
${tokens.map((t) => html`<tr><td>${t.tokenId}</td><td>${t.type}</td><td>${t.digits}</td><td>${when(t.createdAt)}</td><td>${actionForm(s, '/console/user/token/remove', 'Remove', { ...n, token: t.tokenId }, { confirm: 'Remove this token?' })}</td></tr>`)}
</tbody></table>`}
<form method="post" action="/console/user/token/add"><fieldset><legend>Add a token</legend>${csrfField(s)}<input type="hidden" name="name" value="${u.username}">
<label>Type <select name="type"><option value="totp">TOTP (time-based, authenticator apps)</option><option value="hotp">HOTP (counter-based)</option></select></label>
<label>Digits <select name="digits"><option value="6">6</option><option value="8">8</option></select></label>
<p><button type="submit">Add token</button></p></fieldset></form>
${tokens.length === 0 ? '' : html`<form method="post" action="/console/user/token/resync"><fieldset><legend>Resynchronize (two consecutive codes from the user's token)</legend>${csrfField(s)}<input type="hidden" name="name" value="${u.username}">
<label>First code <input type="text" name="code1" inputmode="numeric" maxlength="8" required></label>
<label>Next code <input type="text" name="code2" inputmode="numeric" maxlength="8" required></label>
<p><button type="submit">Resync</button></p></fieldset></form>`}

<h2>Devices</h2>
${devices.length === 0 ? html`<p class="muted">None.</p>` : html`<table><thead><tr><th>Device</th><th>Name</th><th>Created</th><th>Last seen</th><th></th></tr></thead><tbody>
${devices.map((d) => html`<tr><td>${d.deviceId}</td><td>${d.name}</td><td>${when(d.createdAt)}</td><td>${when(d.lastSeenAt)}</td><td>${actionForm(s, '/console/user/device/remove', 'Remove', { ...n, device: d.deviceId }, { confirm: 'Remove this device?' })}</td></tr>`)}
</tbody></table>`}
<form method="post" action="/console/user/device/activate"><fieldset><legend>Activation link for the Tandem Authenticator</legend>${csrfField(s)}<input type="hidden" name="name" value="${u.username}">
<label>Valid for hours (1–720) <input type="number" name="valid_hours" value="${String(Math.max(1, Math.round(s.deps.settings.deviceActivationSeconds / 3600)))}" min="1" max="720"></label>
<p><button type="submit">Make an activation link</button></p></fieldset></form>

<h2>Bypass codes</h2>
${o.codes ? html`<div class="secret"><p>New bypass codes for ${u.username}, shown only now:</p><pre data-copy>${o.codes.join('\n')}</pre></div>` : ''}
<p>${bypass.length} code${bypass.length === 1 ? '' : 's'} on file.${bypass.length ? html` ${actionForm(s, '/console/user/bypass/clear', 'Remove all', n, { confirm: 'Remove all bypass codes?' })}` : ''}</p>
<form method="post" action="/console/user/bypass/create"><fieldset><legend>New bypass codes</legend>${csrfField(s)}<input type="hidden" name="name" value="${u.username}">
<label>How many (1–10) <input type="number" name="count" value="1" min="1" max="10"></label>
<label>Uses each (0: unlimited) <input type="number" name="uses" value="1" min="0" max="1000"></label>
<label>Valid for seconds (0: no expiry) <input type="number" name="valid_secs" value="0" min="0"></label>
<p><button type="submit">Create</button></p></fieldset></form>

<h2>Delete</h2>
<form method="post" action="/console/user/delete" data-confirm="Delete this user with their aliases, tokens, devices and bypass codes?"><fieldset>${csrfField(s)}<input type="hidden" name="name" value="${u.username}">
${reauthFields()}
<p><button type="submit" class="danger">Delete user</button></p></fieldset></form>`,
  });
}

export function registerUsers(app: FastifyInstance, core: Core): void {
  app.register(async (scope) => {
    scope.addHook('preHandler', guard(core));

    scope.get<{ Querystring: { q?: string; status?: string; done?: string } }>('/console/users', async (request, reply) => {
      const s = signedIn(request);
      const q = typeof request.query.q === 'string' ? request.query.q.slice(0, 100) : '';
      const status = (STATUSES as readonly unknown[]).includes(request.query.status) ? (request.query.status as string) : '';
      return sendHtml(reply, usersPage(s, await listUsers(s.deps), q, status, DONE[request.query.done ?? ''] ?? null));
    });

    scope.get<{ Querystring: { name?: string; done?: string } }>('/console/user', async (request, reply) => {
      const s = signedIn(request);
      return sendHtml(reply, await userPage(s, String(request.query.name ?? ''), { notice: DONE[request.query.done ?? ''] ?? null }));
    });

    scope.post('/console/users/create', async (request, reply) => {
      const s = signedIn(request);
      const aliases = field(s.form, 'aliases').split(',').map((a) => a.trim()).filter((a) => a !== '');
      const u = await createUser(s.deps, field(s.form, 'username'), aliases);
      return reply.code(303).header('location', userUrl(u.username, 'created')).send();
    });

    const simple = (path: string, done: string, act: (s: Signed, name: string) => Promise<unknown>, next: 'user' | 'users' = 'user') => {
      scope.post(path, async (request, reply) => {
        const s = signedIn(request);
        const name = field(s.form, 'name');
        await act(s, name);
        return reply.code(303).header('location', next === 'user' ? userUrl(name, done) : `/console/users?done=${done}`).send();
      });
    };
    simple('/console/user/unlock', 'unlocked', (s, name) => unlockUser(s.deps, name));
    simple('/console/user/disable', 'disabled', (s, name) => setUserEnabled(s.deps, name, false));
    simple('/console/user/enable', 'enabled', (s, name) => setUserEnabled(s.deps, name, true));
    // It removes the second factor: re-authentication, like deleting a user.
    simple('/console/user/status/bypass', 'bypass', async (s, name) => {
      await showUser(s.deps, name); // an unknown user is "not found", not a re-auth prompt
      await requireReauth(s);
      await setUserBypass(s.deps, name);
    });
    simple('/console/user/token/remove', 'token_removed', (s, name) => removeToken(s.deps, name, field(s.form, 'token')));
    simple('/console/user/device/remove', 'device_removed', (s, name) => removeDevice(s.deps, name, field(s.form, 'device')));
    simple('/console/user/bypass/clear', 'bypass_cleared', (s, name) => clearBypassCodes(s.deps, name));
    simple('/console/user/delete', 'deleted', async (s, name) => {
      await showUser(s.deps, name); // an unknown user is "not found", not a re-auth prompt
      await requireReauth(s);
      await deleteUser(s.deps, name);
    }, 'users');

    simple('/console/user/alias/add', 'alias_added', (s, name) => addAlias(s.deps, name, field(s.form, 'alias')));
    simple('/console/user/alias/remove', 'alias_removed', (s, name) => removeAlias(s.deps, name, field(s.form, 'alias')));
    simple('/console/user/token/resync', 'token_resynced', (s, name) => resyncToken(s.deps, name, field(s.form, 'code1').trim(), field(s.form, 'code2').trim()));

    scope.post('/console/user/enroll-link', async (request, reply) => {
      const s = signedIn(request);
      const name = field(s.form, 'name');
      const days = intField(s, 'valid_days', 7);
      if (days < 1 || days > 30) throw new ConsoleRefusal(400, 'Valid for 1 to 30 days.');
      const link = await createAdminEnrollLink(s.deps, name, days * 86400);
      // The portal's link audit entry says via 'cli' and carries no actor: record who made it.
      await adminAudit(s.deps, 'enroll_link_created', { expiresAt: link.expiresAt }, link.username);
      return sendHtml(reply, await userPage(s, name, {
        notice: 'Enrollment link made.',
        shown: html`<div class="secret"><p>Enrollment link for ${link.username}, shown only now (works once, until ${when(link.expiresAt)}):</p><pre data-copy>${link.url}</pre><img class="qr" src="${await qrDataUri(link.url)}" alt="QR code of the enrollment link"></div>`,
      }));
    });

    scope.post('/console/user/token/add', async (request, reply) => {
      const s = signedIn(request);
      const name = field(s.form, 'name');
      const type = field(s.form, 'type');
      if (type !== 'totp' && type !== 'hotp') throw new ConsoleRefusal(400, 'The token type is totp or hotp.');
      const digits = field(s.form, 'digits') || '6';
      if (digits !== '6' && digits !== '8') throw new ConsoleRefusal(400, 'Tokens have 6 or 8 digits.');
      const r = await addToken(s.deps, name, { type, digits: digits === '8' ? 8 : 6 });
      return sendHtml(reply, await userPage(s, name, {
        notice: 'Token added.',
        shown: html`<div class="secret"><p>Token ${r.token.tokenId}: scan this into the authenticator app now. The secret is shown only once.</p><img class="qr" src="${await qrDataUri(r.otpauth)}" alt="QR code of the otpauth link"><pre data-copy>${r.otpauth}</pre><p>Secret (base32): <code>${r.secret}</code></p></div>`,
      }));
    });

    scope.post('/console/user/device/activate', async (request, reply) => {
      const s = signedIn(request);
      const name = field(s.form, 'name');
      const hours = intField(s, 'valid_hours', Math.max(1, Math.round(s.deps.settings.deviceActivationSeconds / 3600)));
      if (hours < 1 || hours > 720) throw new ConsoleRefusal(400, 'Valid for 1 to 720 hours.');
      const a = await createActivation(s.deps, name, hours * 3600, { via: 'console' });
      return sendHtml(reply, await userPage(s, name, {
        notice: 'Activation link made.',
        shown: html`<div class="secret"><p>Activation link for ${a.username}'s Tandem Authenticator, shown only now (works once, until ${when(a.expiresAt)}): open it on the phone, or scan the code with it.</p><pre data-copy>${a.link}</pre><img class="qr" src="${await qrDataUri(a.link)}" alt="QR code of the activation link"></div>`,
      }));
    });

    scope.post('/console/user/bypass/create', async (request, reply) => {
      const s = signedIn(request);
      const name = field(s.form, 'name');
      const r = await createBypassCodes(s.deps, name, { count: intField(s, 'count', 1), uses: intField(s, 'uses', 1), validSecs: intField(s, 'valid_secs', 0) });
      return sendHtml(reply, await userPage(s, name, { notice: 'Bypass codes created.', codes: r.codes }));
    });
  });
}
