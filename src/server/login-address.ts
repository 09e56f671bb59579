// The `ipaddr` a host reports for a login. Duo documents an IPv4 address, but stock clients send
// whatever they have (duo_unix.md §10 item 8): PAM_RHOST may be a host name (sshd with UseDNS
// yes), login_duo may pass a whole SSH_CONNECTION ("client port server port"), and IPv6 appears
// too. None of that is a reason to refuse a login; the address is recorded, not trusted.
import { isIP } from 'node:net';
import { stripControlChars } from '../protocol/text-checks.js';

export interface LoginAddress {
  /** The client's IP address, when one could be read. */
  ip: string | null;
  /** What the host sent, printable and bounded, for the audit log. */
  reported: string;
}

const MAX = 255;

export function parseLoginAddress(raw: string): LoginAddress {
  const reported = stripControlChars(raw).trim().slice(0, MAX);
  const first = reported.split(/\s+/)[0] ?? '';
  // "[::1]" and "::ffff:192.0.2.1" forms; a zone id (%eth0) is kept as part of the text only.
  const unbracketed = first.replace(/^\[(.*)\]$/, '$1');
  const ip = isIP(unbracketed) !== 0 ? unbracketed : null;
  return { ip, reported };
}
