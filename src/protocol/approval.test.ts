import { describe, expect, it } from 'vitest';
import { approvalMessage, deviceRequestMessage, lengthPrefixed, type ApprovalFields } from './approval.js';

const base: ApprovalFields = {
  txid: 'tx', username: 'alice', integration: 'DIXXXXXXXXXXXXXXXXXX', hostname: 'h', ipaddr: '192.0.2.1',
  pushinfoSha256: 'ab', decision: 'approve', deviceId: 'DP1', nonce: 'n', expiresAt: 1000, number: '',
};

describe('length-prefixed encoding', () => {
  it('writes a 4-byte big-endian length before each UTF-8 field', () => {
    expect(Buffer.from(lengthPrefixed(['ab', '', 'é'])).toString('hex')).toBe('00000002' + '6162' + '00000000' + '00000002' + 'c3a9');
  });

  it('cannot be confused by moving characters between fields', () => {
    const a = approvalMessage({ ...base, hostname: 'h', ipaddr: 'x' });
    const b = approvalMessage({ ...base, hostname: 'hx', ipaddr: '' });
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(false);
  });

  it('gives every decision, number and nonce its own message', () => {
    const seen = new Set<string>();
    for (const change of [{}, { decision: 'deny' as const }, { decision: 'fraud' as const }, { number: '123' }, { nonce: 'm' }, { expiresAt: 1001 }, { txid: 'tx2' }, { deviceId: 'DP2' }]) {
      seen.add(Buffer.from(approvalMessage({ ...base, ...change })).toString('hex'));
    }
    expect(seen.size).toBe(8);
  });

  it('separates approvals from device requests by tag', () => {
    const req = deviceRequestMessage({ deviceId: 'DP1', method: 'GET', path: '/app/api/requests', time: 5, bodySha256: 'e3' });
    expect(Buffer.from(req).subarray(4, 27).toString()).toBe('TANDEM-DEVICE-REQUEST-1');
    expect(Buffer.from(approvalMessage(base)).subarray(4, 21).toString()).toBe('TANDEM-APPROVAL-1');
  });

  it('refuses a non-integer expiry or time', () => {
    expect(() => approvalMessage({ ...base, expiresAt: 1.5 })).toThrow(RangeError);
    expect(() => deviceRequestMessage({ deviceId: 'd', method: 'GET', path: '/', time: -1, bodySha256: '' })).toThrow(RangeError);
  });
});
