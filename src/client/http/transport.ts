// HTTPS to the Tandem server on node:https: one keep-alive connection for the whole login (as
// duo_unix), TLS verified against `cafile` only (never the system store), optionally through an
// HTTP CONNECT proxy, and a hard deadline on every request. Errors come back as TransportError
// with enough detail for the caller to decide between `unreachable` and `failed`.
import { Agent, request as httpsRequest, type AgentOptions, type RequestOptions } from 'node:https';
import type { IncomingHttpHeaders } from 'node:http';
import { isIP } from 'node:net';
import type { Duplex } from 'node:stream';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import type { ProxyConfig } from '../config/types.js';
import { socketErrorCode } from './errors.js';
import { ProxyRefusedError, connectThroughProxy } from './proxy.js';

export const MAX_RESPONSE_BYTES = 64 * 1024;
/** A keep-alive connection idle longer than this is not reused: the server may be closing it. */
const MAX_IDLE_REUSE_MS = 20_000;

export interface TransportOptions {
  host: string;
  port: number;
  /** PEM CA bundle; the only trust anchors. Ignored when verify is false. */
  ca: string | null;
  verify: boolean;
  proxy: ProxyConfig | null;
  userAgent: string;
}

export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/**
 * stage: where it failed. `connect` — before a connection existed (DNS, TCP, proxy); `tls` — the
 * handshake or certificate; `timeout` — the deadline passed before response headers arrived;
 * `response` — after headers arrived (body cut short, too large, stalled); `other` — anything else
 * (a reset while sending, …).
 */
export type TransportStage = 'connect' | 'tls' | 'timeout' | 'response' | 'other';

export class TransportError extends Error {
  constructor(
    readonly stage: TransportStage,
    readonly code: string | null,
    message: string,
    readonly proxyStatus: number | null = null,
  ) {
    super(message);
    this.name = 'TransportError';
  }
}

function tlsOptions(o: TransportOptions): ConnectionOptions {
  const base: ConnectionOptions = { minVersion: 'TLSv1.2' };
  // SNI carries names only (RFC 6066 §3); Node warns when given an address.
  if (isIP(o.host) === 0) base.servername = o.host;
  if (!o.verify) return { ...base, rejectUnauthorized: false, checkServerIdentity: () => undefined };
  return { ...base, ca: o.ca ?? [], rejectUnauthorized: true };
}

class TandemAgent extends Agent {
  constructor(
    private readonly o: TransportOptions,
    private readonly connectTimeoutMs: () => number,
  ) {
    super({ keepAlive: true, maxSockets: 1, maxFreeSockets: 1, scheduling: 'lifo', ...(tlsOptions(o) as AgentOptions) });
  }

  override createConnection(options: RequestOptions, callback?: (err: Error | null, stream: Duplex) => void): Duplex | null | undefined {
    if (this.o.proxy === null) return super.createConnection(options, callback);
    const cb = callback!;
    const timeoutMs = this.connectTimeoutMs();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(Object.assign(new Error('proxy connect timed out'), { code: 'ETIMEDOUT' })), timeoutMs);
    });
    const tunnel = connectThroughProxy(this.o.proxy, { host: this.o.host, port: this.o.port }, this.o.userAgent);
    Promise.race([tunnel, timedOut]).then(
      (socket) => {
        clearTimeout(timer);
        cb(null, tlsConnect({ ...tlsOptions(this.o), socket }));
      },
      (err: Error) => {
        clearTimeout(timer);
        // A tunnel that opens after the deadline is closed at once.
        tunnel.then((s) => s.destroy(), () => undefined);
        cb(err, undefined as unknown as Duplex);
      },
    );
    return undefined;
  }
}

const TLS_CODE = /^(ERR_TLS_|ERR_SSL_|CERT_|UNABLE_TO_|SELF_SIGNED|DEPTH_ZERO|HOSTNAME_MISMATCH|ERR_OSSL)/;

export class Transport {
  private agent: TandemAgent;
  private lastUse = 0;
  private currentTimeoutMs = 15_000;

  constructor(private readonly o: TransportOptions) {
    this.agent = this.newAgent();
  }

  private newAgent(): TandemAgent {
    return new TandemAgent(this.o, () => this.currentTimeoutMs);
  }

  close(): void {
    this.agent.destroy();
  }

  /**
   * One request. `timeoutMs` bounds everything: connecting, the handshake, waiting for the
   * answer and reading it. Resolves with any HTTP status; rejects with TransportError.
   */
  request(method: 'GET' | 'POST', pathAndQuery: string, headers: Record<string, string>, body: string | null, timeoutMs: number): Promise<RawResponse> {
    const now = Date.now();
    if (this.lastUse !== 0 && now - this.lastUse > MAX_IDLE_REUSE_MS) {
      this.agent.destroy();
      this.agent = this.newAgent();
    }
    this.currentTimeoutMs = timeoutMs;
    return new Promise<RawResponse>((resolve, reject) => {
      let settled = false;
      let gotHeaders = false;
      let socketConnected = false;
      const finish = (err: TransportError | null, res?: RawResponse): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.lastUse = Date.now();
        if (err) reject(err);
        else resolve(res!);
      };
      const req = httpsRequest({
        agent: this.agent,
        host: this.o.host,
        port: this.o.port,
        method,
        path: pathAndQuery,
        headers: body === null ? headers : { ...headers, 'Content-Type': 'application/x-www-form-urlencoded', 'Content-Length': String(Buffer.byteLength(body)) },
      });
      const timer = setTimeout(() => {
        const e = new TransportError(gotHeaders ? 'response' : 'timeout', 'ETIMEDOUT', gotHeaders ? 'the response body did not arrive in time' : `no response within ${Math.round(timeoutMs / 1000)} s`);
        finish(e);
        req.destroy(e);
      }, timeoutMs);
      req.on('socket', (socket) => {
        const markConnected = (): void => {
          socketConnected = true;
        };
        if (!(socket as { connecting?: boolean }).connecting) markConnected();
        else socket.once('connect', markConnected);
      });
      req.on('error', (err) => {
        if (settled) return;
        if (err instanceof TransportError) return finish(err);
        if (err instanceof ProxyRefusedError) return finish(new TransportError('connect', 'EPROXY', err.message, err.status));
        const code = socketErrorCode(err);
        let stage: TransportStage;
        if (code !== null && TLS_CODE.test(code)) stage = 'tls';
        else if (gotHeaders) stage = 'response';
        else if (!socketConnected) stage = 'connect';
        else stage = 'other';
        finish(new TransportError(stage, code, `${code ?? 'error'}: ${err.message}`));
      });
      req.on('response', (res) => {
        gotHeaders = true;
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_RESPONSE_BYTES) {
            const e = new TransportError('response', 'ETOOBIG', `response larger than ${MAX_RESPONSE_BYTES} bytes`);
            finish(e);
            req.destroy(e);
            return;
          }
          chunks.push(chunk);
        });
        res.on('end', () => {
          if (!res.complete) return finish(new TransportError('response', 'ECONNRESET', 'the response was cut short'));
          finish(null, { status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) });
        });
        res.on('aborted', () => finish(new TransportError('response', 'ECONNRESET', 'the response was cut short')));
        res.on('error', (err) => finish(new TransportError('response', socketErrorCode(err), `reading the response failed: ${err.message}`)));
      });
      if (body !== null) req.end(body);
      else req.end();
    });
  }
}
