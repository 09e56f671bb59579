// A scripted Tandem Authenticator for tests and benches: what the web app does, with node's
// WebCrypto (the same ECDSA P-256 key handling a browser has: a non-extractable private key) and
// the shared encodings of src/protocol/approval.ts. It talks HTTPS to the server on loopback,
// trusting only the site CA, over one keep-alive agent; or, for fastify.inject tests, through any
// `DeviceTransport` (see injectTransport).
import { createHash, webcrypto } from 'node:crypto';
import { Agent, request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { approvalMessage, deviceRequestMessage, type Decision } from '../../src/protocol/approval.js';
import { base32Decode } from '../../src/protocol/base32.js';
import { hotp } from '../../src/protocol/hotp.js';
import { totpStep } from '../../src/protocol/totp.js';

const subtle = webcrypto.subtle;

export interface DeviceResponse {
  status: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  json: any;
  headers: Record<string, string | string[] | undefined>;
}

/** Sends one request; `path` includes the query. */
export type DeviceTransport = (method: string, path: string, headers: Record<string, string>, body: Buffer | undefined) => Promise<DeviceResponse>;

function parseJson(text: string): unknown {
  if (text === '') return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** HTTPS to `baseUrl` trusting only `ca`; a named host is reached on 127.0.0.1 (with SNI and certificate check for the name). */
export function httpsTransport(baseUrl: string, ca: string): { send: DeviceTransport; agent: Agent } {
  const url = new URL(baseUrl);
  const agent = new Agent({ keepAlive: true, ca, maxSockets: 8 });
  const named = isIP(url.hostname.replace(/^\[|\]$/g, '')) === 0;
  const send: DeviceTransport = (method, path, headers, body) =>
    new Promise((resolve, reject) => {
      const req = httpsRequest(
        {
          agent,
          method,
          host: named ? '127.0.0.1' : url.hostname.replace(/^\[|\]$/g, ''),
          port: url.port || 443,
          path,
          ...(named ? { servername: url.hostname } : {}),
          headers: { ...headers, host: url.host, ...(body ? { 'content-length': String(body.length) } : {}) },
          timeout: 120_000,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, json: parseJson(Buffer.concat(chunks).toString('utf8')), headers: res.headers }));
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`${method} ${path} timed out`)));
      req.on('error', reject);
      req.end(body);
    });
  return { send, agent };
}

/** Requests through fastify.inject (no network), for test/http. */
export function injectTransport(app: FastifyInstance): DeviceTransport {
  return async (method, path, headers, body) => {
    const res = await app.inject({ method: method as 'GET', url: path, headers, ...(body ? { payload: body } : {}) });
    return { status: res.statusCode, json: parseJson(res.body), headers: res.headers as DeviceResponse['headers'] };
  };
}

export interface ActivateOptions {
  /** The site CA (PEM) to trust; ignored when `transport` is given. */
  ca: string;
  name?: string;
  /** Send through this instead of HTTPS (e.g. injectTransport(app)). */
  transport?: DeviceTransport;
}

export interface SignedFetchOptions {
  /** The Tandem-Time to send (default: now). */
  time?: number;
  /** Sign these fields instead of the real ones (tampering tests). */
  signPath?: string;
  signBody?: Buffer;
  signMethod?: string;
  /** Another device id, in the header and the signed message (signed with this device's key). */
  deviceId?: string;
  /** Raw body bytes instead of JSON (no Content-Type unless given). */
  rawBody?: Buffer;
  contentType?: string;
  /** Extra headers (e.g. `host`, which names the WebAuthn relying party). */
  headers?: Record<string, string>;
}

/** What decide() may add to the usual body (docs/push.md §8). */
export interface DecideExtras {
  /** A WebAuthn assertion, sent as `assertion`. */
  assertion?: unknown;
  /** Extra request headers (e.g. `host`). */
  headers?: Record<string, string>;
}

const sha256Hex = (b: Uint8Array | string): string => createHash('sha256').update(b).digest('hex');

export class ScriptedDevice {
  private constructor(
    readonly deviceId: string,
    readonly username: string,
    readonly totpSecret: string,
    readonly activation: DeviceResponse,
    private readonly key: webcrypto.CryptoKey,
    readonly publicKeyJwk: { kty: string; crv: string; x: string; y: string },
    private readonly send: DeviceTransport,
    private readonly agent: Agent | null,
  ) {}

  /** A fresh key pair (private key non-extractable) and its public JWK as the app posts it. */
  static async newKey(): Promise<{ key: webcrypto.CryptoKey; jwk: { kty: string; crv: string; x: string; y: string } }> {
    const pair = await subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify']);
    const full = await subtle.exportKey('jwk', pair.publicKey);
    return { key: pair.privateKey, jwk: { kty: full.kty!, crv: full.crv!, x: full.x!, y: full.y! } };
  }

  /** POST /app/api/activate with a new key; throws unless the server answers 200. */
  static async activate(baseUrl: string, code: string, opts: ActivateOptions): Promise<ScriptedDevice> {
    const t = opts.transport ? { send: opts.transport, agent: null } : httpsTransport(baseUrl, opts.ca);
    const { key, jwk } = await ScriptedDevice.newKey();
    const body = Buffer.from(JSON.stringify({ code, publicKey: jwk, name: opts.name ?? 'Scripted Authenticator' }));
    const res = await t.send('POST', '/app/api/activate', { 'content-type': 'application/json' }, body);
    if (res.status !== 200) {
      t.agent?.destroy();
      throw new Error(`activation failed: ${res.status} ${JSON.stringify(res.json)}`);
    }
    const j = res.json as { deviceId: string; username: string; totp: { secret: string } };
    return new ScriptedDevice(j.deviceId, j.username, j.totp.secret, res, key, jwk, t.send, t.agent);
  }

  /** P1363 (r‖s) ECDSA P-256 / SHA-256 signature, base64url — what WebCrypto produces. */
  async sign(message: Uint8Array): Promise<string> {
    const sig = await subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, this.key, message);
    return Buffer.from(sig).toString('base64url');
  }

  /** A device-signed request; `body` (if any) is sent as JSON. */
  async signedFetch(method: string, path: string, body?: unknown, o: SignedFetchOptions = {}): Promise<DeviceResponse> {
    const bytes = o.rawBody ?? (body === undefined ? undefined : Buffer.from(JSON.stringify(body)));
    const time = o.time ?? Date.now();
    const signature = await this.sign(
      deviceRequestMessage({
        deviceId: o.deviceId ?? this.deviceId,
        method: (o.signMethod ?? method).toUpperCase(),
        path: o.signPath ?? path,
        time,
        bodySha256: sha256Hex(o.signBody ?? bytes ?? new Uint8Array(0)),
      }),
    );
    const headers: Record<string, string> = {
      ...o.headers,
      'tandem-device': o.deviceId ?? this.deviceId,
      'tandem-time': String(time),
      'tandem-signature': signature,
    };
    const type = o.contentType ?? (bytes && !o.rawBody ? 'application/json' : undefined);
    if (type) headers['content-type'] = type;
    return this.send(method, path, headers, bytes);
  }

  /** GET /app/api/requests (with `wait` seconds and the fingerprint the app holds). */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  async requests(wait?: number, known?: string): Promise<{ requests: any[]; fingerprint: string }> {
    const q = new URLSearchParams();
    if (wait !== undefined) q.set('wait', String(wait));
    if (known !== undefined) q.set('known', known);
    const qs = q.toString();
    const res = await this.signedFetch('GET', `/app/api/requests${qs ? `?${qs}` : ''}`);
    if (res.status !== 200) throw new Error(`requests failed: ${res.status} ${JSON.stringify(res.json)}`);
    return res.json as { requests: unknown[]; fingerprint: string } as never;
  }

  /** The signed approval message for a listed request (docs/push.md §3). */
  approvalFor(req: ListedRequest, decision: Decision, number?: string): Uint8Array {
    return approvalMessage({
      txid: req.txid,
      username: req.username,
      integration: req.integration,
      hostname: req.hostname ?? '',
      ipaddr: req.ipaddr ?? '',
      pushinfoSha256: sha256Hex(req.pushinfo ?? ''),
      decision,
      deviceId: this.deviceId,
      nonce: req.nonce,
      expiresAt: req.expiresAt,
      number: number ?? '',
    });
  }

  /** POST /app/api/decide: signs the approval for `req` and sends it. */
  async decide(req: ListedRequest, decision: Decision, number?: string, extras?: DecideExtras): Promise<DeviceResponse> {
    const signature = await this.sign(this.approvalFor(req, decision, number));
    const body: Record<string, unknown> = { txid: req.txid, decision, number: number ?? '', signature };
    if (extras?.assertion !== undefined) body['assertion'] = extras.assertion;
    return this.signedFetch('POST', '/app/api/decide', body, extras?.headers ? { headers: extras.headers } : {});
  }

  /** The app's current TOTP code (6 digits, 30 s, SHA-1), as its offline code screen shows. */
  totp(now: number = Date.now()): string {
    return hotp(base32Decode(this.totpSecret), totpStep(now, 30), { digits: 6, algorithm: 'sha1' });
  }

  /** Drops the keep-alive connections (HTTPS transport only). */
  close(): void {
    this.agent?.destroy();
  }
}

/** The fields of a request entry the approval is built from (docs/push.md §2). */
export interface ListedRequest {
  txid: string;
  username: string;
  integration: string;
  hostname: string | null;
  ipaddr: string | null;
  pushinfo: string | null;
  nonce: string;
  expiresAt: number;
}
