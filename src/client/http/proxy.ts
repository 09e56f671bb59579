// `http_proxy`: an HTTP CONNECT tunnel to host:port, as duo_unix https.c opens it. The TLS session
// then runs end to end inside the tunnel, so the proxy sees only the host name.
import { request as httpRequest } from 'node:http';
import type { Socket } from 'node:net';
import type { ProxyConfig } from '../config/types.js';

/** The proxy answered the CONNECT with something other than 200. */
export class ProxyRefusedError extends Error {
  constructor(readonly status: number) {
    super(`proxy answered CONNECT with HTTP ${status}`);
    this.name = 'ProxyRefusedError';
  }
}

export function connectThroughProxy(proxy: ProxyConfig, target: { host: string; port: number }, userAgent: string): Promise<Socket> {
  const authority = `${target.host.includes(':') ? `[${target.host}]` : target.host}:${target.port}`;
  const headers: Record<string, string> = { Host: authority, 'User-Agent': userAgent };
  if (proxy.auth !== null) headers['Proxy-Authorization'] = 'Basic ' + Buffer.from(proxy.auth, 'utf8').toString('base64');
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: proxy.host, port: proxy.port, method: 'CONNECT', path: authority, headers, agent: false, setHost: false });
    req.once('connect', (res, socket, head) => {
      res.resume();
      if (res.statusCode !== 200) {
        socket.destroy();
        return reject(new ProxyRefusedError(res.statusCode ?? 0));
      }
      // Anything the proxy sent past its own header would be the server's first TLS bytes, and a
      // TLS client speaks first: bytes here mean the proxy is not a plain tunnel.
      if (head.length > 0) {
        socket.destroy();
        return reject(Object.assign(new Error('proxy sent data before the TLS handshake'), { code: 'EPROXYDATA' }));
      }
      resolve(socket);
    });
    req.once('response', (res) => {
      res.resume();
      reject(new ProxyRefusedError(res.statusCode ?? 0));
    });
    req.once('error', reject);
    req.end();
  });
}
