// Where the login comes from (`ipaddr`), and this host's own name and address (duo_unix.md §2.1,
// §2.2, §3.2).
import { createSocket } from 'node:dgram';
import { isIP, isIPv4 } from 'node:net';
import { hostname as osHostname } from 'node:os';

/**
 * The `ipaddr` to send, from PAM_RHOST (pam) or SSH_CONNECTION / `-h` (login_tandem):
 *   - an IPv4 or IPv6 address first (SSH_CONNECTION is "client port server port"): that address;
 *   - anything else (a host name under sshd's UseDNS): the text unchanged, unless
 *     `fallback_local_ip`, which sends this host's own address instead;
 *   - nothing: no ipaddr.
 */
export function clientAddress(raw: string | null, fallbackLocalIp: boolean, localIp: () => string | null): string | null {
  if (raw === null) return null;
  const text = raw.trim();
  if (text === '') return null;
  const first = text.split(/\s+/)[0]!;
  if (isIP(first) !== 0) return first;
  if (fallbackLocalIp) return localIp();
  return text.slice(0, 255);
}

/**
 * This host's IPv4 address toward the outside: a UDP socket "connected" to a documentation
 * address (duo_unix HEAD uses 192.0.2.1) sends nothing but makes the kernel pick a source
 * address. Null when there is no route.
 */
export function localIpv4(): Promise<string | null> {
  return new Promise((resolve) => {
    let done = false;
    const socket = createSocket('udp4');
    const finish = (ip: string | null): void => {
      if (done) return;
      done = true;
      try {
        socket.close();
      } catch {
        /* already closed */
      }
      resolve(ip);
    };
    socket.once('error', () => finish(null));
    try {
      socket.connect(53, '192.0.2.1', () => {
        try {
          const a = socket.address();
          finish(isIPv4(a.address) && a.address !== '0.0.0.0' ? a.address : null);
        } catch {
          finish(null);
        }
      });
    } catch {
      finish(null);
    }
  });
}

/** The `hostname` parameter: gethostname(). duo_unix canonicalises it through DNS; we do not wait on DNS for it. */
export function localHostname(): string {
  return osHostname().slice(0, 255);
}
