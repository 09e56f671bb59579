// The dashboard: logins over time by result and by factor (inline SVG made with the escaping
// template: no chart library, no script), locked users with unlock buttons, pending pushes, and
// recent enrollment events. Aggregates come from core/dashboard.ts (a GROUP BY in the store).
import type { FastifyInstance } from 'fastify';
import { CHART_RANGES, loginChart, lockedUsers, pendingPushes, recentEnrollmentEvents, type ChartBucket, type ChartRange } from '../../../core/dashboard.js';
import type { Core } from '../../../core/service.js';
import { ConsoleRefusal } from '../form.js';
import { html, type Html, when } from '../render.js';
import { guard, signedIn } from '../session.js';
import { detailPairs } from './log.js';
import { actionForm, page } from './layout.js';

// Colours not used by FIXED, so an unnamed key never looks like allow or deny.
const PALETTE = ['#e67700', '#7048e8', '#0c8599', '#d6336c', '#5c940d', '#364fc7', '#a61e4d', '#495057'];
const FIXED: Record<string, string> = { allow: '#2b8a3e', deny: '#c92a2a', fraud: '#862e9c', timeout: '#e67700', enroll: '#1971c2', push: '#1971c2', passcode: '#2f9e44', bypass_code: '#f08c00', none: '#868e96' };

function colors(keys: string[]): Map<string, string> {
  const m = new Map<string, string>();
  let i = 0;
  for (const k of keys) m.set(k, FIXED[k] ?? PALETTE[i++ % PALETTE.length]!);
  return m;
}

/** A stacked bar chart: one bar per bucket, one segment per key. */
export function barChart(title: string, buckets: ChartBucket[], by: 'byResult' | 'byFactor', label: (start: number) => string): Html {
  const keys = [...new Set(buckets.flatMap((b) => Object.keys(b[by])))].sort();
  const color = colors(keys);
  const W = 720, H = 200, left = 36, bottom = 24, top = 8;
  const max = Math.max(1, ...buckets.map((b) => b.total));
  const slot = (W - left) / buckets.length;
  const bw = Math.max(2, slot * 0.7);
  const y = (v: number) => top + (H - top - bottom) * (1 - v / max);
  const bars = buckets.map((b, i) => {
    let acc = 0;
    const x = left + i * slot + (slot - bw) / 2;
    return html`<g>${keys.filter((k) => (b[by][k] ?? 0) > 0).map((k) => {
      const v = b[by][k]!;
      const y1 = y(acc + v), y0 = y(acc);
      acc += v;
      return html`<rect x="${x.toFixed(1)}" y="${y1.toFixed(1)}" width="${bw.toFixed(1)}" height="${Math.max(0, y0 - y1).toFixed(1)}" fill="${color.get(k)!}" data-key="${k}"><title>${label(b.start)}: ${k} ${v}</title></rect>`;
    })}${i % Math.ceil(buckets.length / 8) === 0 ? html`<text x="${(left + i * slot + slot / 2).toFixed(1)}" y="${H - 6}" text-anchor="middle" font-size="10" fill="#5b6472">${label(b.start)}</text>` : ''}</g>`;
  });
  return html`<figure class="chart"><figcaption>${title}</figcaption>
<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="100%" role="img" aria-label="${title}">
<line x1="${left}" y1="${H - bottom}" x2="${W}" y2="${H - bottom}" stroke="#adb5bd"/>
<text x="${left - 4}" y="${top + 8}" text-anchor="end" font-size="10" fill="#5b6472">${max}</text>
<text x="${left - 4}" y="${H - bottom}" text-anchor="end" font-size="10" fill="#5b6472">0</text>
${bars}
</svg>
<ul class="legend">${keys.map((k) => html`<li><svg width="10" height="10" aria-hidden="true"><rect width="10" height="10" fill="${color.get(k)!}"/></svg> ${k}</li>`)}${keys.length === 0 ? html`<li class="muted">No logins in this period.</li>` : ''}</ul>
</figure>`;
}

const age = (secs: number): string => (secs < 60 ? `${secs} s` : secs < 3600 ? `${Math.floor(secs / 60)} min` : `${Math.floor(secs / 3600)} h`);

export function registerDashboard(app: FastifyInstance, core: Core): void {
  app.register(async (scope) => {
    scope.addHook('preHandler', guard(core));
    scope.get<{ Querystring: { range?: unknown } }>('/console/', async (request, reply) => {
      const s = signedIn(request);
      const r = request.query.range ?? '24h';
      if (typeof r !== 'string' || !(r in CHART_RANGES)) throw new ConsoleRefusal(400, 'The range is 24h or 7d.');
      const range = r as ChartRange;
      const [chart, locked, pending, enrollments] = await Promise.all([loginChart(s.deps, range), lockedUsers(s.deps), pendingPushes(s.deps), recentEnrollmentEvents(s.deps)]);
      const label = range === '24h' ? (t: number) => new Date(t).toISOString().slice(11, 16) : (t: number) => new Date(t).toISOString().slice(5, 10);
      const total = chart.reduce((n, b) => n + b.total, 0);
      const body = html`<p>Logins in the last ${range === '24h' ? '24 hours, per hour' : '7 days, per day'} (UTC): ${total}. ${range === '24h' ? html`<a href="/console/?range=7d">Last 7 days</a>` : html`<a href="/console/?range=24h">Last 24 hours</a>`}</p>
<div class="charts">${barChart('Logins by result', chart, 'byResult', label)}${barChart('Logins by factor', chart, 'byFactor', label)}</div>
<h2>Locked users (${locked.length})</h2>
${locked.length === 0 ? html`<p class="muted">None.</p>` : html`<table><thead><tr><th>User</th><th>Failures</th><th>Locked until</th><th></th></tr></thead><tbody>
${locked.map((u) => html`<tr><td><a href="/console/user?name=${encodeURIComponent(u.username)}">${u.username}</a></td><td>${u.failures}</td><td>${when(u.lockedUntil)}</td><td>${actionForm(s, '/console/user/unlock', 'Unlock', { name: u.username })}</td></tr>`)}
</tbody></table>`}
<h2>Pending pushes (${pending.length})</h2>
${pending.length === 0 ? html`<p class="muted">None.</p>` : html`<table><thead><tr><th>User</th><th>Host</th><th>IP</th><th>Age</th></tr></thead><tbody>
${pending.map((p) => html`<tr><td>${p.username}</td><td>${p.hostname ?? '—'}</td><td>${p.ipaddr ?? '—'}</td><td>${age(p.ageSeconds)}</td></tr>`)}
</tbody></table>`}
<h2>Recent enrollments, approvals and removals</h2>
${enrollments.length === 0 ? html`<p class="muted">None.</p>` : html`<table><thead><tr><th>Time</th><th>User</th><th>What</th><th>Result</th><th>Integration</th><th>Details</th></tr></thead><tbody>
${enrollments.map((e) => html`<tr><td>${when(e.time)}</td><td>${e.username ?? '—'}</td><td>${e.reason}</td><td>${e.result}</td><td>${e.integration ?? '—'}</td><td>${detailPairs(e.detail).map(([k, v]) => html`<span class="kv">${k}: ${v}</span> `)}</td></tr>`)}
</tbody></table>`}
<p><a href="/console/log?admin=1">The full log</a> · <a href="/console/enrollments">Held enrollments</a></p>`;
      return reply.type('text/html; charset=utf-8').send(page({ title: 'Dashboard', signed: s, body }).toString());
    });
  });
}
