import { describe, expect, it } from 'vitest';
import { createSiteCa, issueServerCert } from '../core/pki.js';
import { certificateExpiryWarning } from './cert-expiry.js';

describe('certificateExpiryWarning', () => {
  it('is silent with time left, warns inside 30 days and after expiry', async () => {
    const now = new Date('2026-01-01T00:00:00Z');
    const ca = await createSiteCa({ now, serialHex: '01', commonName: 'Test CA' });
    const cert = await issueServerCert({ ca, hosts: ['localhost'], now, serialHex: '02', days: 90 });
    const at = (days: number) => now.getTime() + days * 86400_000;
    expect(certificateExpiryWarning(cert.certPem, at(0))).toBeNull();
    const soon = certificateExpiryWarning(cert.certPem, at(70));
    expect(soon?.msg).toMatch(/expires soon/);
    expect(soon?.daysLeft).toBeGreaterThanOrEqual(19);
    expect(soon?.daysLeft).toBeLessThanOrEqual(20);
    expect(certificateExpiryWarning(cert.certPem, at(95))?.msg).toMatch(/EXPIRED/);
  });
});
