// A real headless Chromium (Debian's package, driven by playwright-core) for browser tests.
//
// The browser TRUSTS the site CA it is given, exactly as a user's browser would after importing
// it: each browser gets a fresh HOME whose NSS database ($HOME/.pki/nssdb, where Chromium on Linux
// looks for locally added roots) holds the CA as a trusted TLS issuer. Certificate errors are never
// ignored: service workers, Web Push and WebAuthn all refuse an origin whose certificate is not
// trusted, so a test that ignored errors would test nothing.
//
// Everything is on loopback; every wait is bounded and names what it waited for.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type CDPSession, type Page } from 'playwright-core';
import { cleanupAll, requireTool, ROOT } from './server-process.js';

/** Debian's launcher script (package `chromium`); it execs /usr/lib/chromium/chromium. */
export const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_BINARY = '/usr/lib/chromium/chromium';
/** NSS's certutil (package `libnss3-tools`). */
const CERTUTIL = '/usr/bin/certutil';
/** The nickname the site CA gets in the profile's NSS database. */
export const CA_NICKNAME = 'tandem-test-ca';
/** Where screenshots go: test-artifacts/screenshots/<name>.png (ignored by git). */
export const SCREENSHOT_DIR = join(ROOT, 'test-artifacts', 'screenshots');

/** Default bound for every wait here, and Playwright's default action/navigation timeout. */
const WAIT_MS = 10_000;
const LAUNCH_MS = 30_000;
const CLOSE_MS = 10_000;

const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** What CDP's WebAuthn.getCredentials returns per credential (binary fields are base64). */
export interface VirtualCredential {
  credentialId: string;
  isResidentCredential: boolean;
  rpId?: string;
  privateKey: string;
  userHandle?: string;
  signCount: number;
}

export interface VirtualAuthenticator {
  authenticatorId: string;
  /** The credentials the authenticator holds now (CDP WebAuthn.getCredentials). */
  credentials(): Promise<VirtualCredential[]>;
  /** Removes the authenticator from the page (WebAuthn.removeVirtualAuthenticator). */
  remove(): Promise<void>;
}

export interface PushMessage {
  /** The origin of the service worker's registration, e.g. https://localhost:8443 (no trailing slash). */
  origin: string;
  /** From serviceWorkerRegistrationId(); when omitted, the origin's only registration is used. */
  registrationId?: string;
  /** The push payload, as `event.data.text()` sees it in the worker. */
  data: string;
}

export interface TestBrowser {
  /** The persistent (non-incognito) context: service workers and push work as in a real profile. */
  context: BrowserContext;
  /** The temporary directory holding HOME, the NSS database and the profile; removed by close(). */
  dir: string;
  newPage(): Promise<Page>;
  /** Closes the browser (killing it if it does not close in time) and removes the temp dir. Idempotent. */
  close(): Promise<void>;
  /** Saves a PNG at test-artifacts/screenshots/<name>.png and returns its path. */
  screenshot(page: Page, name: string): Promise<string>;
  /** Waits until a service worker registration with exactly this scope exists; returns its id. */
  serviceWorkerRegistrationId(page: Page, scopeUrl: string, timeoutMs?: number): Promise<string>;
  /** Dispatches a `push` event to the registration's active worker (CDP ServiceWorker.deliverPushMessage). */
  deliverPush(page: Page, message: PushMessage, timeoutMs?: number): Promise<void>;
  /** A CTAP2 platform authenticator (resident keys, user verification) that answers by itself. */
  addVirtualAuthenticator(page: Page): Promise<VirtualAuthenticator>;
}

function run(file: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { timeout: WAIT_MS }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${file} ${args.join(' ')} failed: ${err.message}\n${stdout}${stderr}`));
      else resolve();
    });
  });
}

/** Resolves with `promise`, or rejects naming `what` when it takes longer than `ms`. */
export async function bounded<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Makes $home/.pki/nssdb with the CA trusted for TLS server certificates ("C,,"). */
async function trustCa(home: string, caPem: string): Promise<void> {
  const db = join(home, '.pki', 'nssdb');
  mkdirSync(db, { recursive: true, mode: 0o700 });
  const caFile = join(home, 'ca.pem');
  writeFileSync(caFile, caPem);
  await run(CERTUTIL, ['-N', '-d', `sql:${db}`, '--empty-password']);
  await run(CERTUTIL, ['-A', '-d', `sql:${db}`, '-n', CA_NICKNAME, '-t', 'C,,', '-i', caFile]);
  // Read it back: a CA that did not land in the database would only show as a cert error later.
  await run(CERTUTIL, ['-L', '-d', `sql:${db}`, '-n', CA_NICKNAME]);
}

/** Browser processes whose command line names this profile directory (the ones we started). */
function processesUsing(userDataDir: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (argv.includes(`--user-data-dir=${userDataDir}`)) pids.push(Number(entry));
    } catch {
      // the process ended meanwhile
    }
  }
  return pids;
}

export async function launchBrowser(opts: { caPem: string }): Promise<TestBrowser> {
  requireTool(CHROMIUM, 'Debian package chromium');
  requireTool(CHROMIUM_BINARY, 'Debian package chromium');
  requireTool(CERTUTIL, 'Debian package libnss3-tools (certutil)');
  if (!opts.caPem.includes('-----BEGIN CERTIFICATE-----')) throw new Error('launchBrowser: caPem holds no PEM certificate');

  const dir = mkdtempSync(join(tmpdir(), 'tandem-browser-'));
  const home = join(dir, 'home');
  const userDataDir = join(dir, 'profile');
  let context: BrowserContext | undefined;
  const removeDir = (): void => rmSync(dir, { recursive: true, force: true });
  const killLeftovers = (): void => {
    for (const pid of processesUsing(userDataDir)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  };
  try {
    mkdirSync(userDataDir, { recursive: true });
    await trustCa(home, opts.caPem);
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      timeout: LAUNCH_MS,
      env: {
        ...process.env,
        HOME: home,
        XDG_CONFIG_HOME: join(home, '.config'),
        XDG_CACHE_HOME: join(home, '.cache'),
        XDG_DATA_HOME: join(home, '.local', 'share'),
      },
      args: ARGS,
    });
  } catch (e) {
    killLeftovers();
    removeDir();
    throw e;
  }
  const ctx = context;
  ctx.setDefaultTimeout(WAIT_MS);
  ctx.setDefaultNavigationTimeout(WAIT_MS);
  const sessions = new WeakMap<Page, Promise<CDPSession>>();
  const session = (page: Page): Promise<CDPSession> => {
    let s = sessions.get(page);
    if (!s) {
      s = bounded(ctx.newCDPSession(page), WAIT_MS, 'a CDP session for the page');
      s.catch(() => sessions.delete(page));
      sessions.set(page, s);
    }
    return s;
  };
  let closed: Promise<void> | undefined;

  const browser: TestBrowser = {
    context: ctx,
    dir,
    async newPage() {
      return ctx.newPage();
    },
    close() {
      closed ??= cleanupAll('test browser', [
        // A hung browser must not hang afterAll: bounded close, then kill what is left by pid.
        () => bounded(ctx.close(), CLOSE_MS, 'Chromium to close').catch((e: unknown) => {
          killLeftovers();
          throw e;
        }),
        killLeftovers,
        removeDir,
      ]);
      return closed;
    },
    async screenshot(page, name) {
      if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name)) throw new Error(`screenshot name ${JSON.stringify(name)}: use letters, digits, '.', '_' and '-'`);
      mkdirSync(SCREENSHOT_DIR, { recursive: true });
      const path = join(SCREENSHOT_DIR, `${name}.png`);
      await page.screenshot({ path, timeout: WAIT_MS });
      return path;
    },
    async serviceWorkerRegistrationId(page, scopeUrl, timeoutMs = WAIT_MS) {
      const reg = await waitForRegistration(await session(page), (r) => r.scopeURL === scopeUrl, timeoutMs, `a service worker registration with scope ${scopeUrl}`);
      return reg.registrationId;
    },
    async deliverPush(page, { origin, registrationId, data }, timeoutMs = WAIT_MS) {
      const s = await session(page);
      const o = new URL(origin).origin;
      const reg = await waitForRegistration(
        s,
        (r) => (registrationId === undefined ? new URL(r.scopeURL).origin === o : r.registrationId === registrationId),
        timeoutMs,
        registrationId === undefined ? `a service worker registration of ${o}` : `service worker registration ${registrationId}`,
        { activated: true, unique: registrationId === undefined },
      );
      await s.send('ServiceWorker.deliverPushMessage', { origin: o, registrationId: reg.registrationId, data }, { timeout: timeoutMs });
    },
    async addVirtualAuthenticator(page) {
      const s = await session(page);
      await s.send('WebAuthn.enable', { enableUI: false });
      const { authenticatorId } = await s.send('WebAuthn.addVirtualAuthenticator', {
        options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
      });
      return {
        authenticatorId,
        async credentials() {
          return (await s.send('WebAuthn.getCredentials', { authenticatorId })).credentials as VirtualCredential[];
        },
        async remove() {
          await s.send('WebAuthn.removeVirtualAuthenticator', { authenticatorId });
        },
      };
    },
  };
  return browser;
}

interface Registration {
  registrationId: string;
  scopeURL: string;
  isDeleted: boolean;
}
interface Version {
  versionId: string;
  registrationId: string;
  status: string;
}

/**
 * Enables the ServiceWorker domain on `s` (Chromium then reports every registration it knows and
 * every later change) and waits for a live registration matching `match`; with `activated`, also
 * for an activated worker version in it. `unique` refuses more than one match.
 */
async function waitForRegistration(
  s: CDPSession,
  match: (r: Registration) => boolean,
  timeoutMs: number,
  what: string,
  { activated = false, unique = false }: { activated?: boolean; unique?: boolean } = {},
): Promise<Registration> {
  const registrations = new Map<string, Registration>();
  const versions = new Map<string, Version>();
  let wake: () => void = () => undefined;
  const onRegs = (e: { registrations: Registration[] }): void => {
    for (const r of e.registrations) registrations.set(r.registrationId, r);
    wake();
  };
  const onVersions = (e: { versions: Version[] }): void => {
    for (const v of e.versions) versions.set(v.versionId, v);
    wake();
  };
  s.on('ServiceWorker.workerRegistrationUpdated', onRegs);
  s.on('ServiceWorker.workerVersionUpdated', onVersions);
  const found = (): Registration | Error | undefined => {
    const live = [...registrations.values()].filter((r) => !r.isDeleted && match(r));
    if (unique && live.length > 1) return new Error(`${what}: ${live.length} registrations match (${live.map((r) => r.scopeURL).join(', ')}); pass registrationId`);
    const ready = live.filter((r) => !activated || [...versions.values()].some((v) => v.registrationId === r.registrationId && v.status === 'activated'));
    return ready[0];
  };
  try {
    // Disable first so a second wait on the same session gets the full current state again.
    await s.send('ServiceWorker.disable', undefined, { timeout: timeoutMs });
    await s.send('ServiceWorker.enable', undefined, { timeout: timeoutMs });
    const result = await bounded(
      new Promise<Registration>((resolve, reject) => {
        wake = () => {
          const r = found();
          if (r instanceof Error) reject(r);
          else if (r) resolve(r);
        };
        wake();
      }),
      timeoutMs,
      activated ? `${what} with an activated worker` : what,
    ).catch((e: unknown) => {
      const seen = [...registrations.values()].map((r) => `${r.registrationId} ${r.scopeURL}${r.isDeleted ? ' (deleted)' : ''}`).join('; ') || 'none';
      const vs = [...versions.values()].map((v) => `${v.registrationId}:${v.status}`).join(', ') || 'none';
      throw new Error(`${(e as Error).message} (registrations seen: ${seen}; versions: ${vs})`);
    });
    return result;
  } finally {
    s.off('ServiceWorker.workerRegistrationUpdated', onRegs);
    s.off('ServiceWorker.workerVersionUpdated', onVersions);
  }
}
