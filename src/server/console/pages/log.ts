// The authentication log: filters (user, integration, result, factor, time range, operator actions)
// as GET query values, validated and echoed escaped; newest first; each entry's full context in a
// <details> key/value list (never raw JSON). The page updates live: console.js polls
// /console/api/log with the same filters and `after`, and builds new rows with textContent only.
// Both call core queryLog, as `tandem log` does.
import type { FastifyInstance, FastifyReply } from 'fastify';
import { queryLog, type LogQuery } from '../../../core/audit.js';
import type { Core } from '../../../core/service.js';
import type { AuditEntry } from '../../../store/contract.js';
import { ConsoleRefusal } from '../form.js';
import { html, type Html, when } from '../render.js';
import { guard, signedIn, type Signed } from '../session.js';
import { page } from './layout.js';

export const LOG_PAGE_LIMIT = 200;
const WORD = /^[A-Za-z0-9_.:-]{1,64}$/;
// ISO 8601 as the datetime-local input sends it (read as UTC) or with seconds and a zone.
const TIME = /^[0-9]{4}-[0-9]{2}-[0-9]{2}(T[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,3})?)?(Z|[+-][0-9]{2}:[0-9]{2})?)?$/;

export interface LogFilters {
  user: string;
  integration: string;
  result: string;
  factor: string;
  since: string;
  until: string;
  admin: boolean;
}

type Query = Record<string, unknown>;

function one(q: Query, name: string): string {
  const v = q[name];
  if (v === undefined) return '';
  if (typeof v !== 'string') throw new ConsoleRefusal(400, `The ${name} filter was given more than once.`);
  return v.trim();
}

function parseTime(name: string, v: string): number | undefined {
  if (v === '') return undefined;
  const zoned = /(Z|[+-][0-9]{2}:[0-9]{2})$/.test(v);
  const t = TIME.test(v) ? Date.parse(zoned ? v : v.includes('T') ? `${v}Z` : `${v}T00:00Z`) : NaN;
  if (Number.isNaN(t)) throw new ConsoleRefusal(400, `The ${name} filter must be a date and time like 2024-05-01T12:00 (UTC).`);
  return t;
}

/** Validates the query (400 for anything else) into the page's filters and core's LogQuery. */
export function readFilters(q: Query): { filters: LogFilters; query: LogQuery } {
  const f: LogFilters = {
    user: one(q, 'user'), integration: one(q, 'integration'), result: one(q, 'result'), factor: one(q, 'factor'),
    since: one(q, 'since'), until: one(q, 'until'), admin: one(q, 'admin') === '1',
  };
  if (f.user.length > 100 || /[\u0000-\u001f\u007f]/.test(f.user)) throw new ConsoleRefusal(400, 'The user filter must be a name of at most 100 characters.'); // eslint-disable-line no-control-regex
  for (const k of ['integration', 'result', 'factor'] as const) {
    if (f[k] !== '' && !WORD.test(f[k])) throw new ConsoleRefusal(400, `The ${k} filter may only contain letters, digits and _ . : -`);
  }
  const admin = one(q, 'admin');
  if (admin !== '' && admin !== '1') throw new ConsoleRefusal(400, 'The operator-actions toggle is on (1) or off.');
  const since = parseTime('since', f.since);
  const until = parseTime('until', f.until);
  const query: LogQuery = {
    ...(f.user ? { username: f.user } : {}),
    ...(f.integration ? { integration: f.integration } : {}),
    ...(f.result ? { result: f.result } : {}),
    ...(f.factor ? { factor: f.factor } : {}),
    ...(since !== undefined ? { since } : {}),
    ...(until !== undefined ? { until } : {}),
    includeAdmin: f.admin,
    limit: LOG_PAGE_LIMIT,
  };
  return { filters: f, query };
}

/** An entry's detail JSON as [key, text] pairs: strings as they are, anything else as JSON text. */
export function detailPairs(detail: string): Array<[string, string]> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(detail);
  } catch {
    return [['detail', detail]];
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return [['detail', JSON.stringify(parsed)]];
  return Object.entries(parsed as Record<string, unknown>).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v) ?? '']);
}

/** The JSON the live feed sends: plain strings and numbers, rendered by the script as text. */
export function entryJson(e: AuditEntry): Record<string, unknown> {
  return {
    key: `${e.nodeId}:${e.seq}`, time: e.time, when: when(e.time), event: e.event, username: e.username, factor: e.factor, result: e.result, reason: e.reason,
    ipaddr: e.ipaddr, hostname: e.hostname, integration: e.integration, txid: e.txid, context: [['node', e.nodeId], ['seq', String(e.seq)], ['txid', e.txid ?? '—'], ...detailPairs(e.detail)],
  };
}

const resultClass = (r: string): string => (r === 'allow' || r === 'ok' ? 'ok' : r === 'deny' || r === 'fraud' || r === 'refused' ? 'bad' : 'other');

function row(e: AuditEntry): Html {
  const j = entryJson(e);
  const ctx = j['context'] as Array<[string, string]>;
  return html`<tr data-key="${e.nodeId}:${e.seq}"><td>${when(e.time)}</td><td>${e.event}</td><td>${e.username ?? '—'}</td><td>${e.factor ?? '—'}</td><td class="result-${resultClass(e.result)}">${e.result}</td><td>${e.reason}</td><td>${e.ipaddr ?? '—'}</td><td>${e.hostname ?? '—'}</td><td>${e.integration ?? '—'}</td>
<td><details><summary>Context</summary><dl>${ctx.map(([k, v]) => html`<dt>${k}</dt><dd>${v}</dd>`)}</dl></details></td></tr>`;
}

function logPage(s: Signed, f: LogFilters, entries: AuditEntry[], now: number): Html {
  const live = f.until === '';
  const opt = (name: string, values: string[], current: string) =>
    html`<select name="${name}"><option value="">any</option>${values.map((v) => html`<option value="${v}"${v === current ? html` selected` : ''}>${v}</option>`)}${current !== '' && !values.includes(current) ? html`<option value="${current}" selected>${current}</option>` : ''}</select>`;
  return page({
    title: 'Authentication log',
    signed: s,
    body: html`<form method="get" action="/console/log" class="filters"><fieldset><legend>Filters</legend>
<label>User <input type="text" name="user" value="${f.user}" maxlength="100"></label>
<label>Integration (ikey) <input type="text" name="integration" value="${f.integration}" maxlength="64"></label>
<label>Result ${opt('result', ['allow', 'deny', 'waiting', 'enroll', 'auth', 'fraud', 'timeout', 'ok', 'refused', 'held'], f.result)}</label>
<label>Factor ${opt('factor', ['push', 'passcode', 'bypass_code', 'phone', 'sms', 'auto'], f.factor)}</label>
<label>From (UTC) <input type="datetime-local" name="since" value="${f.since}"></label>
<label>To (UTC) <input type="datetime-local" name="until" value="${f.until}"></label>
<label><input type="checkbox" name="admin" value="1"${f.admin ? html` checked` : ''}> Include operator actions, enrollments and devices</label>
<p><button type="submit">Show</button> <a href="/console/log">Clear</a></p></fieldset></form>
<p class="muted" id="log-status">${entries.length} entr${entries.length === 1 ? 'y' : 'ies'}, newest first${entries.length === LOG_PAGE_LIMIT ? ` (the latest ${LOG_PAGE_LIMIT})` : ''}.${live ? ' New entries appear at the top as they happen.' : ''}</p>
<table id="log"${live ? html` data-live="/console/api/log" data-after="${String(entries[0]?.time ?? now)}"` : ''}><thead><tr><th>Time</th><th>Event</th><th>User</th><th>Factor</th><th>Result</th><th>Reason</th><th>IP</th><th>Host</th><th>Integration</th><th></th></tr></thead>
<tbody>${entries.map(row)}</tbody></table>`,
  });
}

const sendHtml = (reply: FastifyReply, h: Html) => reply.type('text/html; charset=utf-8').send(h.toString());

export function registerLog(app: FastifyInstance, core: Core): void {
  app.register(async (scope) => {
    scope.addHook('preHandler', guard(core));

    scope.get<{ Querystring: Query }>('/console/log', async (request, reply) => {
      const s = signedIn(request);
      const { filters, query } = readFilters(request.query);
      return sendHtml(reply, logPage(s, filters, await queryLog(s.deps, query), s.deps.clock.now()));
    });

    // The live feed: entries at or after `after` (ms) with the page's filters; the script drops
    // the ones it already shows (by node and seq).
    scope.get<{ Querystring: Query }>('/console/api/log', async (request, reply) => {
      const s = signedIn(request);
      const after = one(request.query, 'after');
      if (!/^[0-9]{1,15}$/.test(after)) throw new ConsoleRefusal(400, 'after must be a time in milliseconds.');
      const { query } = readFilters({ ...request.query, after: undefined });
      const since = Math.max(Number(after), query.since ?? 0);
      const entries = await queryLog(s.deps, { ...query, since, limit: 100 });
      return reply.type('application/json; charset=utf-8').send(JSON.stringify({ now: s.deps.clock.now(), entries: entries.map(entryJson) }));
    });
  });
}
