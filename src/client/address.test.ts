import { describe, expect, it } from 'vitest';
import { clientAddress, localIpv4 } from './address.js';

const local = () => '192.0.2.2';

describe('clientAddress', () => {
  it.each([
    ['203.0.113.7', false, '203.0.113.7'],
    ['203.0.113.7 50022 192.0.2.5 22', false, '203.0.113.7'], // SSH_CONNECTION
    ['2001:db8::9 50022 2001:db8::5 22', false, '2001:db8::9'], // IPv6 SSH_CONNECTION
    ['client.example.com', false, 'client.example.com'], // UseDNS host name passes through
    ['client.example.com', true, '192.0.2.2'], // fallback_local_ip
    ['203.0.113.7', true, '203.0.113.7'],
    ['', true, null],
    [null, true, null],
  ] as const)('%j (fallback %s) → %j', (raw, fallback, expected) => {
    expect(clientAddress(raw, fallback, local)).toBe(expected);
  });

  it('localIpv4 returns an address or null, never throws', async () => {
    const ip = await localIpv4();
    expect(ip === null || /^\d+\.\d+\.\d+\.\d+$/.test(ip)).toBe(true);
  });
});
