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
`;
