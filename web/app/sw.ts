// The Tandem Authenticator's service worker (scope /app/): the app shell for offline use (the
// TOTP code works without a network), Web Push → a notification plus a nudge to open pages, and
// notification clicks. The app API (/app/api/*) is never cached or intercepted.
export {};
declare const self: ServiceWorkerGlobalScope;
/** Set at build time from the shell files' contents, so a new build installs a fresh cache. */
declare const __SHELL_VERSION__: string;

const CACHE = `tandem-app-${__SHELL_VERSION__}`;
const SHELL = ['/app/', '/app/app.js', '/app/app.css', '/app/manifest.webmanifest', '/app/icon.svg', '/app/icon-192.png', '/app/icon-512.png'];
const MAX_TEXT = 200;

self.addEventListener('install', (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      .then((c) => c.addAll(SHELL.map((u) => new Request(u, { cache: 'reload' }))))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((names) => Promise.all(names.filter((n) => n.startsWith('tandem-app-') && n !== CACHE).map((n) => caches.delete(n))))
      .then(() => self.clients.claim()),
  );
});

async function networkFirst(request: Request, key: string): Promise<Response> {
  const cache = await caches.open(CACHE);
  try {
    const response = await fetch(request);
    if (response.ok) await cache.put(key, response.clone());
    return response;
  } catch (e) {
    const cached = await cache.match(key);
    if (cached) return cached;
    throw e;
  }
}

async function cacheFirst(request: Request, key: string): Promise<Response> {
  const cached = await caches.match(key);
  if (cached) return cached;
  return networkFirst(request, key);
}

self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin || !url.pathname.startsWith('/app/') || url.pathname.startsWith('/app/api/')) return;
  if (request.mode === 'navigate' || url.pathname === '/app/' || url.pathname === '/app/index.html') {
    // The HTML: network first (a new build is picked up at once), the cached shell offline.
    event.respondWith(networkFirst(request, '/app/'));
    return;
  }
  if (url.pathname === '/app/sw.js' || !SHELL.includes(url.pathname)) return;
  // Other shell files are versioned together with this worker (CACHE), so the cache is current.
  event.respondWith(cacheFirst(request, url.pathname));
});

interface PushInfo {
  txid: string;
  username: string;
  hostname: string;
}

function clean(v: unknown): string {
  if (typeof v !== 'string') return '';
  // Notification text is plain text; drop controls and cut hostile lengths.
  // eslint-disable-next-line no-control-regex
  const t = v.replace(/[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, '');
  return t.length > MAX_TEXT ? `${t.slice(0, MAX_TEXT)}…` : t;
}

/** The payload, or null when it is not a login request (malformed data never throws). */
function parsePush(event: PushEvent): PushInfo | null {
  try {
    const data: unknown = event.data ? JSON.parse(event.data.text()) : null;
    if (typeof data !== 'object' || data === null) return null;
    const d = data as Record<string, unknown>;
    if (d.kind !== 'login-request' || typeof d.txid !== 'string' || d.txid === '') return null;
    return { txid: clean(d.txid), username: clean(d.username), hostname: clean(d.hostname) };
  } catch {
    return null;
  }
}

self.addEventListener('push', (event) => {
  const info = parsePush(event);
  const body = info ? (info.hostname ? `${info.username}@${info.hostname}` : info.username) || 'Open the Tandem Authenticator.' : 'Open the Tandem Authenticator to see the request.';
  event.waitUntil(
    (async () => {
      const clients = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
      for (const c of clients) c.postMessage({ kind: 'login-request', txid: info?.txid ?? null });
      // userVisibleOnly: every push shows a notification, even a malformed one.
      await self.registration.showNotification('Login request', {
        body,
        tag: info?.txid ?? 'tandem-login-request',
        data: { txid: info?.txid ?? null },
        icon: '/app/icon-192.png',
        requireInteraction: true,
      });
    })(),
  );
});

self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  event.waitUntil(
    (async () => {
      const clients = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
      for (const c of clients) {
        if (new URL(c.url).pathname.startsWith('/app/')) {
          c.postMessage({ kind: 'login-request', txid: null });
          await c.focus();
          return;
        }
      }
      await self.clients.openWindow('/app/');
    })(),
  );
});
