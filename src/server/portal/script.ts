// The portal's one script (served at /portal/portal.js; CSP script-src 'self', nothing inline).
// On the "approve the push" page it asks, every two seconds, whether this session's push is still
// waiting, and sends the page's own "I approved it" form once it is not; the server decides. Without
// script the button does the same.
export const PORTAL_JS = `(() => {
  'use strict';
  const form = document.querySelector('form[data-push-txid]');
  if (!form) return;
  const txid = form.getAttribute('data-push-txid') || '';
  let tries = 0;
  const poll = async () => {
    tries += 1;
    try {
      const r = await fetch('/portal/prove/push/status?txid=' + encodeURIComponent(txid), { credentials: 'same-origin', cache: 'no-store' });
      if (r.ok) {
        const j = await r.json();
        if (j && j.state !== 'pending') {
          form.submit();
          return;
        }
      }
    } catch (e) {
      // A network hiccup: ask again.
    }
    if (tries < 150) setTimeout(poll, 2000);
  };
  setTimeout(poll, 1000);
})();
`;
