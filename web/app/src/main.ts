// The Tandem Authenticator (docs/push.md): activation, the live list of login requests with
// signed approvals, the device's TOTP code, and optional Web Push.
import type { Decision } from '../../../src/protocol/approval.js';
import { activate, ApiError, decide, getConfig, getDevice, listRequests, putSubscription, type DecideResult, type DeviceAuth } from './api.js';
import { byId } from './dom.js';
import { base32Decode, fromBase64url } from './encoding.js';
import { clearAll, loadRegistration, saveRegistration, savePendingKeys, type Registration } from './keystore.js';
import { addPasskey, approvalAssertion, passkeyCount, passkeyErrorText, passkeysSupported } from './passkeys.js';
import { generateDeviceKeys, publicJwk } from './signing.js';
import { shown } from './text.js';
import { importTotpKey, secondsLeft, totpCode, totpStep } from './totp.js';
import type { DeviceRecord, LoginRequest } from './types.js';
import { RequestListView } from './views.js';

const LONG_POLL_SECONDS = 25;
const BACKOFF_MIN_MS = 1_000;
const BACKOFF_MAX_MS = 60_000;
const DEFAULT_NAME = 'Tandem Authenticator';

type Tone = 'info' | 'ok' | 'error';

function setStatus(text: string, tone: Tone = 'info'): void {
  const s = byId('status');
  s.textContent = text;
  s.dataset.tone = tone;
}

function setConnection(text: string): void {
  byId('connection').textContent = text;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function errorText(e: unknown): string {
  if (e instanceof ApiError) {
    if (e.status === 401) return 'The server did not accept this device (it may have been removed, or this phone’s clock is wrong).';
    if (e.status === 429) return 'Too many attempts. Wait a moment and try again.';
    if (e.error === 'passkey_unavailable') return 'Passkeys work only when this app is opened at the server’s own host name.';
    return `The server answered with an error (${e.status}).`;
  }
  if (e instanceof TypeError) return 'Could not reach the server. Check the connection and try again.';
  return e instanceof Error ? e.message : String(e);
}

// ---------------------------------------------------------------------------------------------
// Service worker

function registerServiceWorker(onPush: () => void): void {
  if (!('serviceWorker' in navigator)) return;
  navigator.serviceWorker.addEventListener('message', (e: MessageEvent) => {
    const d = e.data as { kind?: unknown } | null;
    if (d && typeof d === 'object' && d.kind === 'login-request') onPush();
  });
  navigator.serviceWorker.register('/app/sw.js', { scope: '/app/' }).catch(() => {
    // No offline shell and no Web Push; the live channel still works.
  });
}

// ---------------------------------------------------------------------------------------------
// Activation

function activationCode(): string | null {
  const hash = location.hash.startsWith('#') ? location.hash.slice(1) : location.hash;
  const code = new URLSearchParams(hash).get('activate');
  return code !== null && code !== '' ? code : null;
}

function clearFragment(): void {
  history.replaceState(null, '', `${location.pathname}${location.search}`);
}

function showActivation(code: string, existing: Registration | null, done: (r: Registration) => void): void {
  const section = byId('activate');
  const form = byId<HTMLFormElement>('activate-form');
  const name = byId<HTMLInputElement>('activate-name');
  const submit = byId<HTMLButtonElement>('activate-submit');
  byId('activate-replace').hidden = existing === null;
  name.value = DEFAULT_NAME;
  section.hidden = false;
  setStatus('Name this device, then activate it.');

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const deviceName = name.value.trim();
    if (deviceName === '' || deviceName.length > 100) {
      setStatus('Give this device a name (up to 100 characters).', 'error');
      name.focus();
      return;
    }
    submit.disabled = true;
    name.disabled = true;
    setStatus('Activating…');
    void (async () => {
      try {
        if (!globalThis.crypto?.subtle) throw new Error('This page must be opened over HTTPS to create a device key.');
        const keys = await generateDeviceKeys();
        await savePendingKeys(keys);
        const answer = await activate(code, await publicJwk(keys.publicKey), deviceName);
        const totpKey = await importTotpKey(base32Decode(answer.totp.secret));
        const device: DeviceRecord = { deviceId: answer.deviceId, username: answer.username, name: deviceName, digits: answer.totp.digits as 6 | 8, period: answer.totp.period };
        const registration: Registration = { device, keys, totpKey };
        await saveRegistration(registration);
        clearFragment();
        section.hidden = true;
        setStatus(`This device is now registered for ${shown(answer.username)}.`, 'ok');
        done(registration);
      } catch (err) {
        if (err instanceof ApiError && (err.status === 400 || err.status === 404 || err.status === 410)) {
          clearFragment();
          setStatus('This activation link is invalid, has expired or was already used. Ask your administrator for a new one.', 'error');
          return;
        }
        setStatus(`Activation failed: ${errorText(err)}`, 'error');
        submit.disabled = false;
        name.disabled = false;
      }
    })();
  });
  name.focus();
  name.select();
}

// ---------------------------------------------------------------------------------------------
// The registered device

function resultText(result: DecideResult, decision: Decision): string {
  switch (result) {
    case 'allow':
      return 'Approved. The login can continue.';
    case 'deny':
      return 'Denied. The login was refused.';
    case 'fraud':
      return 'Denied and reported as fraud. Your account is locked until an administrator unlocks it.';
    case 'refused':
      return decision === 'approve'
        ? 'Not approved: the request had expired, was already answered, or the number did not match.'
        : 'The server did not take this answer: the request had expired or was already answered.';
  }
}

class Session {
  private readonly auth: DeviceAuth;
  private readonly list: RequestListView;
  private readonly decided = new Set<string>();
  private known: string | null = null;
  private stopped = false;
  private lastStep = -1;
  private pending = 0;

  constructor(private readonly reg: Registration) {
    this.auth = { deviceId: reg.device.deviceId, privateKey: reg.keys.privateKey };
    this.list = new RequestListView(byId('requests-list'), byId('requests-empty'), {
      decide: (request, decision, number) => this.decide(request, decision, number),
    });
  }

  start(): void {
    const d = this.reg.device;
    byId('device').hidden = false;
    byId('requests').hidden = false;
    byId('totp').hidden = false;
    byId('device-user').textContent = shown(d.username);
    byId('device-name').textContent = shown(d.name);
    byId('device-id').textContent = d.deviceId;
    byId('welcome').hidden = true;

    this.tick();
    void this.refresh();
    void this.loop();
    void this.checkDevice();
    void this.setupPush();
    void this.setupPasskeys();
    document.addEventListener('visibilitychange', () => {
      if (document.visibilityState === 'visible') void this.refresh();
    });
    window.addEventListener('online', () => void this.refresh());
    this.setupForget();
  }

  /** Called when the service worker relays a push. */
  onPush(): void {
    void this.refresh();
  }

  // -- requests -------------------------------------------------------------------------------

  private apply(requests: readonly LoginRequest[], fingerprint: string): void {
    this.known = fingerprint;
    const shownRequests = requests.filter((r) => !this.decided.has(r.txid));
    this.pending = shownRequests.length;
    this.list.render(shownRequests);
    document.title = this.pending > 0 ? `(${this.pending}) Tandem Authenticator` : 'Tandem Authenticator';
  }

  async refresh(): Promise<void> {
    try {
      const l = await listRequests(this.auth, 0, null);
      this.apply(l.requests, l.fingerprint);
    } catch {
      // The live channel reports connection trouble; a failed refresh changes nothing.
    }
  }

  /** The live channel: one held poll after another; bounded exponential backoff on errors. */
  private async loop(): Promise<void> {
    let backoff = BACKOFF_MIN_MS;
    while (!this.stopped) {
      const started = Date.now();
      const abort = new AbortController();
      const timer = setTimeout(() => abort.abort(), (LONG_POLL_SECONDS + 20) * 1000);
      try {
        const before = this.known;
        const l = await listRequests(this.auth, LONG_POLL_SECONDS, this.known, abort.signal);
        this.apply(l.requests, l.fingerprint);
        setConnection('Live: new requests appear here.');
        backoff = BACKOFF_MIN_MS;
        // A server that answers at once without a change must not turn this into a busy loop.
        if (l.fingerprint === before && Date.now() - started < 1000) await sleep(1000);
      } catch (e) {
        const wait = backoff + Math.floor(Math.random() * 500);
        setConnection(`Offline: ${errorText(e)} Retrying in ${Math.round(wait / 1000)} s.`);
        await sleep(wait);
        backoff = Math.min(backoff * 2, BACKOFF_MAX_MS);
      } finally {
        clearTimeout(timer);
      }
    }
  }

  private async decide(request: LoginRequest, decision: Decision, number: string): Promise<void> {
    let result: DecideResult;
    // An approval the policy covers with a passkey: the user verifies on the authenticator first
    // (docs/push.md §8). Deny and fraud stay one tap.
    let assertion: unknown;
    if (decision === 'approve' && request.passkeyRequired) {
      try {
        assertion = await approvalAssertion(this.auth, request, number);
      } catch (e) {
        throw new Error(`Not sent: ${passkeyErrorText(e)}`);
      }
    }
    try {
      result = await decide(this.auth, request, decision, number, assertion);
    } catch (e) {
      throw new Error(`Not sent: ${errorText(e)}`);
    }
    this.decided.add(request.txid);
    this.list.remove(request.txid);
    this.pending = Math.max(0, this.pending - 1);
    setStatus(resultText(result, decision), result === 'allow' ? 'ok' : result === 'refused' ? 'error' : 'info');
    void this.refresh();
  }

  private async checkDevice(): Promise<void> {
    try {
      await getDevice(this.auth);
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) {
        setStatus('The server no longer accepts this device. It may have been removed; ask your administrator for a new activation link.', 'error');
        byId('forget').hidden = false;
      }
    }
  }

  // -- TOTP, and the per-second tick --------------------------------------------------------

  private tick(): void {
    const now = Date.now();
    const { digits, period } = this.reg.device;
    const step = totpStep(now, period);
    if (step !== this.lastStep) {
      this.lastStep = step;
      totpCode(this.reg.totpKey, now, { digits, period }).then(
        (code) => {
          if (totpStep(Date.now(), period) === step) byId('totp-code').textContent = code;
        },
        () => {
          byId('totp-code').textContent = '—';
        },
      );
    }
    const left = secondsLeft(now, period);
    byId('totp-left').textContent = `${left} s`;
    const bar = byId<HTMLProgressElement>('totp-bar');
    bar.max = period;
    bar.value = left;
    this.list.tick(now);
    setTimeout(() => this.tick(), 1000 - (Date.now() % 1000) + 5);
  }

  // -- Web Push ---------------------------------------------------------------------------------

  private async setupPush(): Promise<void> {
    const box = byId('push');
    const button = byId<HTMLButtonElement>('enable-push');
    const note = byId('push-note');
    if (!('serviceWorker' in navigator) || !('PushManager' in window)) return;
    let key: string | null;
    try {
      key = (await getConfig()).vapidPublicKey;
    } catch {
      return;
    }
    if (key === null) return;
    const serverKey = key;
    box.hidden = false;
    const ready = (): Promise<ServiceWorkerRegistration> =>
      Promise.race([navigator.serviceWorker.ready, sleep(10_000).then(() => Promise.reject(new Error('the service worker did not start')))]);
    const send = (sub: PushSubscription): Promise<void> => {
      const j = sub.toJSON();
      if (typeof j.endpoint !== 'string' || typeof j.keys?.p256dh !== 'string' || typeof j.keys.auth !== 'string') throw new Error('the browser gave an incomplete subscription');
      return putSubscription(this.auth, { endpoint: j.endpoint, keys: { p256dh: j.keys.p256dh, auth: j.keys.auth } });
    };
    try {
      const existing = await (await ready()).pushManager.getSubscription();
      if (existing) {
        await send(existing);
        note.textContent = 'Notifications are on.';
        return;
      }
    } catch {
      // Offer the button anyway.
    }
    if (typeof Notification !== 'undefined' && Notification.permission === 'denied') {
      note.textContent = 'Notifications are blocked for this site in the browser settings. Requests still appear while the app is open.';
      return;
    }
    button.hidden = false;
    note.textContent = 'Get a notification when a login needs you, even when the app is closed.';
    button.addEventListener('click', () => {
      button.disabled = true;
      note.textContent = 'Enabling notifications…';
      void (async () => {
        try {
          const reg = await ready();
          const sub = await reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: fromBase64url(serverKey) });
          await send(sub);
          button.hidden = true;
          note.textContent = 'Notifications are on.';
        } catch (e) {
          button.disabled = false;
          note.textContent = `Notifications are not available here (${e instanceof Error ? e.message : String(e)}). Requests still appear while the app is open.`;
        }
      })();
    });
  }

  // -- passkeys (docs/push.md §8) ----------------------------------------------------------------

  private async setupPasskeys(): Promise<void> {
    const box = byId('passkey');
    const button = byId<HTMLButtonElement>('add-passkey');
    const note = byId('passkey-status');
    box.hidden = false;
    if (!passkeysSupported()) {
      note.textContent = 'This browser cannot use passkeys.';
      return;
    }
    const describe = (n: number): string =>
      n === 0 ? 'No passkey yet. Some logins may ask for one: add it now, it takes a fingerprint, face or screen lock.' : `${n} passkey${n === 1 ? '' : 's'} registered for this device.`;
    try {
      note.textContent = describe(await passkeyCount(this.auth));
    } catch (e) {
      note.textContent = `Passkeys are not available here (${errorText(e)}).`;
      return;
    }
    button.hidden = false;
    button.addEventListener('click', () => {
      button.disabled = true;
      note.textContent = 'Follow your browser’s prompt to create a passkey…';
      void (async () => {
        try {
          await addPasskey(this.auth);
          note.dataset.tone = 'ok';
          note.textContent = `Passkey added. ${describe(await passkeyCount(this.auth).catch(() => 1))}`;
        } catch (e) {
          note.dataset.tone = 'error';
          note.textContent = `No passkey added: ${e instanceof ApiError ? errorText(e) : passkeyErrorText(e)}`;
        } finally {
          button.disabled = false;
        }
      })();
    });
  }

  // -- forgetting the device ----------------------------------------------------------------------

  private setupForget(): void {
    const forget = byId<HTMLButtonElement>('forget');
    const confirm = byId<HTMLButtonElement>('forget-confirm');
    forget.addEventListener('click', () => {
      confirm.hidden = false;
      confirm.focus();
    });
    confirm.addEventListener('click', () => {
      this.stopped = true;
      void clearAll().then(() => location.replace('/app/'));
    });
  }
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  let session: Session | null = null;
  registerServiceWorker(() => session?.onPush());
  const begin = (r: Registration): void => {
    session = new Session(r);
    session.start();
  };

  let existing: Registration | null = null;
  try {
    existing = await loadRegistration();
  } catch {
    setStatus('This browser does not let the app store its keys (private browsing?). It cannot be used here.', 'error');
    return;
  }
  // An activation link opened while the app is already open only changes the fragment.
  window.addEventListener('hashchange', () => {
    if (activationCode() !== null) location.reload();
  });
  const code = activationCode();
  if (code !== null) {
    showActivation(code, existing, begin);
    return;
  }
  if (existing) {
    begin(existing);
    return;
  }
  byId('welcome').hidden = false;
  setStatus('No device is registered here yet. Open the activation link your administrator gave you.');
}

void main();
