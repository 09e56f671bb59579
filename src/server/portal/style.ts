// The portal's one stylesheet (served at /portal/portal.css; no inline style anywhere). Calm,
// mobile first: one column, large touch targets, system fonts.
export const PORTAL_CSS = `
:root { color-scheme: light dark; --fg: #1d2430; --muted: #5b6575; --bg: #f6f7f9; --card: #fff; --line: #dde1e7; --accent: #2456c7; --bad: #a32121; --good: #1f6f3a; }
@media (prefers-color-scheme: dark) { :root { --fg: #e7eaf0; --muted: #a3acba; --bg: #14171c; --card: #1d2129; --line: #2f3540; --accent: #7ea2ff; --bad: #ff8a8a; --good: #7fd39a; } }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); }
main { max-width: 34rem; margin: 0 auto; padding: 1.25rem 1rem 3rem; }
header { padding: .75rem 1rem; border-bottom: 1px solid var(--line); background: var(--card); }
header p { margin: 0; max-width: 34rem; margin: 0 auto; font-weight: 600; }
h1 { font-size: 1.4rem; margin: .5rem 0 1rem; }
h2 { font-size: 1.1rem; margin: 0 0 .5rem; }
section { background: var(--card); border: 1px solid var(--line); border-radius: 12px; padding: 1rem; margin: 0 0 1rem; }
p { margin: .5rem 0; }
.muted { color: var(--muted); font-size: .95rem; }
.notice { border-left: 4px solid var(--good); padding-left: .75rem; }
.error { border-left: 4px solid var(--bad); padding-left: .75rem; color: var(--bad); }
form { margin: .75rem 0 0; }
label { display: block; font-weight: 600; margin-bottom: .25rem; }
input[type=text] { width: 100%; font: inherit; font-size: 1.3rem; letter-spacing: .15em; padding: .6rem .75rem; border: 1px solid var(--line); border-radius: 8px; background: var(--bg); color: var(--fg); }
button, .button { display: inline-block; min-height: 44px; font: inherit; font-weight: 600; padding: .6rem 1.1rem; border-radius: 8px; border: 1px solid var(--accent); background: var(--accent); color: #fff; text-decoration: none; cursor: pointer; margin-top: .5rem; }
button.secondary { background: transparent; color: var(--accent); }
ul.factors { list-style: none; padding: 0; margin: 0; }
ul.factors li { display: flex; justify-content: space-between; align-items: center; gap: .5rem; padding: .5rem 0; border-top: 1px solid var(--line); flex-wrap: wrap; }
ul.factors li:first-child { border-top: 0; }
ul.factors form { margin: 0; }
img.qr { display: block; width: min(100%, 16rem); height: auto; margin: .5rem auto; background: #fff; border-radius: 8px; padding: .5rem; }
code.secret, code.link { display: block; word-break: break-all; font-size: 1rem; padding: .5rem; border: 1px dashed var(--line); border-radius: 8px; }
`;
