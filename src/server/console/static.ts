// The console's only script and style sheet, served from /console/static/ (CSP: script-src
// 'self', no inline script or style). The script is progressive enhancement: every page works
// without it. It builds DOM with text nodes only.
export const CONSOLE_JS = `'use strict';
document.addEventListener('submit', function (e) {
  var form = e.target;
  var ask = form && form.getAttribute && form.getAttribute('data-confirm');
  if (ask && !window.confirm(ask)) e.preventDefault();
});
document.querySelectorAll('pre[data-copy]').forEach(function (pre) {
  if (!navigator.clipboard) return;
  var button = document.createElement('button');
  button.type = 'button';
  button.className = 'copy';
  button.textContent = 'Copy';
  button.addEventListener('click', function () {
    navigator.clipboard.writeText(pre.textContent || '').then(function () { button.textContent = 'Copied'; });
  });
  pre.parentNode.insertBefore(button, pre.nextSibling);
});
// The live log: poll the JSON feed with the page's filters and put new entries on top, built from
// text nodes only (a host name or username is never parsed as HTML).
(function () {
  var table = document.querySelector('table[data-live]');
  if (!table || !window.fetch) return;
  var body = table.tBodies[0];
  var after = Number(table.getAttribute('data-after')) || 0;
  var seen = {};
  Array.prototype.forEach.call(body.rows, function (tr) { seen[tr.getAttribute('data-key')] = true; });
  function cell(tr, text, cls) {
    var td = document.createElement('td');
    td.textContent = text === null || text === undefined ? '\u2014' : String(text);
    if (cls) td.className = cls;
    tr.appendChild(td);
  }
  function resultClass(r) {
    return r === 'allow' || r === 'ok' ? 'ok' : r === 'deny' || r === 'fraud' || r === 'refused' ? 'bad' : 'other';
  }
  function row(e) {
    var tr = document.createElement('tr');
    tr.setAttribute('data-key', e.key);
    tr.className = 'new';
    [e.when, e.event, e.username, e.factor].forEach(function (v) { cell(tr, v); });
    cell(tr, e.result, 'result-' + resultClass(e.result));
    [e.reason, e.ipaddr, e.hostname, e.integration].forEach(function (v) { cell(tr, v); });
    var td = document.createElement('td');
    var details = document.createElement('details');
    var summary = document.createElement('summary');
    summary.textContent = 'Context';
    details.appendChild(summary);
    var dl = document.createElement('dl');
    (e.context || []).forEach(function (kv) {
      var dt = document.createElement('dt');
      dt.textContent = String(kv[0]);
      var dd = document.createElement('dd');
      dd.textContent = String(kv[1]);
      dl.appendChild(dt);
      dl.appendChild(dd);
    });
    details.appendChild(dl);
    td.appendChild(details);
    tr.appendChild(td);
    return tr;
  }
  function poll() {
    var q = new URLSearchParams(location.search);
    q.set('after', String(after));
    fetch(table.getAttribute('data-live') + '?' + q.toString(), { credentials: 'same-origin', cache: 'no-store', headers: { accept: 'application/json' } })
      .then(function (r) {
        var type = r.headers.get('content-type') || '';
        if (!r.ok || type.indexOf('application/json') !== 0) throw new Error('feed unavailable');
        return r.json();
      })
      .then(function (data) {
        var fresh = (data.entries || []).filter(function (e) { return !seen[e.key]; });
        for (var i = fresh.length - 1; i >= 0; i--) {
          seen[fresh[i].key] = true;
          body.insertBefore(row(fresh[i]), body.firstChild);
          if (fresh[i].time > after) after = fresh[i].time;
        }
        setTimeout(poll, 2000);
      })
      .catch(function () { setTimeout(poll, 10000); });
  }
  setTimeout(poll, 2000);
})();
`;

export const CONSOLE_CSS = `
:root { font-family: system-ui, sans-serif; color: #1d2430; background: #f5f6f8; }
body { margin: 0; }
header { display: flex; align-items: center; gap: 1.5rem; padding: .75rem 1.5rem; background: #1d2430; color: #fff; }
header a { color: #fff; text-decoration: none; }
header .who { margin-left: auto; display: flex; gap: 1rem; align-items: center; }
header form { margin: 0; }
main { max-width: 70rem; margin: 1.5rem auto; padding: 0 1.5rem; }
h1 { font-size: 1.5rem; }
table { border-collapse: collapse; width: 100%; background: #fff; }
th, td { text-align: left; padding: .4rem .6rem; border-bottom: 1px solid #dde1e6; vertical-align: top; }
form.inline { display: inline; }
fieldset { border: 1px solid #dde1e6; background: #fff; margin: 1rem 0; padding: 1rem; }
label { display: block; margin: .5rem 0 .2rem; }
input[type=text], input[type=password], input[type=search], input[type=number], select { padding: .35rem; min-width: 16rem; }
button { padding: .35rem .8rem; cursor: pointer; }
button.danger { background: #a4161a; color: #fff; border: 1px solid #7a1013; }
.notice { background: #e6f4ea; border: 1px solid #9ad0a8; padding: .6rem 1rem; }
.error { background: #fdecea; border: 1px solid #f1a7a1; padding: .6rem 1rem; }
.secret { background: #fff8e1; border: 1px solid #f0d27a; padding: .6rem 1rem; }
pre { background: #fff; border: 1px solid #dde1e6; padding: .75rem; overflow-x: auto; white-space: pre-wrap; word-break: break-all; }
.status-locked, .status-disabled { color: #a4161a; font-weight: 600; }
.status-bypass { color: #8a5a00; font-weight: 600; }
img.qr { width: 14rem; height: 14rem; background: #fff; }
.muted { color: #5b6472; }
nav a { margin: 0 .15rem; }
.result-ok { color: #2b8a3e; font-weight: 600; }
.result-bad { color: #a4161a; font-weight: 600; }
tr.new { background: #fff8e1; }
details[open] { min-width: 18rem; }
details dl { display: grid; grid-template-columns: max-content 1fr; gap: .2rem .8rem; margin: .4rem 0; }
details dt { font-weight: 600; }
details dd { margin: 0; word-break: break-all; }
.filters label { display: inline-block; margin-right: 1rem; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(22rem, 1fr)); gap: 1rem; }
figure.chart { background: #fff; border: 1px solid #dde1e6; margin: 0; padding: .75rem; }
figure.chart figcaption { font-weight: 600; margin-bottom: .4rem; }
ul.legend { list-style: none; padding: 0; margin: .4rem 0 0; display: flex; flex-wrap: wrap; gap: .8rem; }
.kv { display: inline-block; margin-right: .6rem; }
`;
