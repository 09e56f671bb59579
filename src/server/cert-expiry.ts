// An expired server certificate locks out every fail-closed host at once, so the server says so
// in its log well before: at startup and daily once fewer than 30 days are left.
import { certificateInfo } from '../core/pki.js';

export const CERT_WARN_MS = 30 * 86400_000;

/** The warning to log for this certificate at `now`, or null while it has time left. */
export function certificateExpiryWarning(certPem: string, now: number): { msg: string; notAfter: string; daysLeft: number } | null {
  const { notAfter } = certificateInfo(certPem);
  const left = notAfter.getTime() - now;
  if (left >= CERT_WARN_MS) return null;
  return {
    msg: left <= 0
      ? 'the server certificate has EXPIRED: every fail-closed host is locked out. Run "tandem cert reissue" and restart'
      : 'the server certificate expires soon; every fail-closed host is locked out once it does. Run "tandem cert reissue" and restart',
    notAfter: notAfter.toISOString(),
    daysLeft: Math.floor(left / 86400_000),
  };
}
