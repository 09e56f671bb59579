import { webcrypto } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { approvalMessage, deviceRequestMessage } from '../protocol/approval.js';
import type { DeviceRow } from '../store/contract.js';
import { sha256Hex, verifyDeviceSignature } from './device-auth.js';

async function device(): Promise<{ row: DeviceRow; key: webcrypto.CryptoKey }> {
  const pair = await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify']);
  const jwk = await webcrypto.subtle.exportKey('jwk', pair.publicKey);
  const row: DeviceRow = {
    id: 'DPAAAAAAAAAAAAAAAAAA',
    userId: 'DUAAAAAAAAAAAAAAAAAA',
    name: 'phone',
    publicKeyJwk: JSON.stringify({ kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y }),
    tokenId: 'DHAAAAAAAAAAAAAAAAAA',
    pushSubscription: null,
    createdAt: 0,
    lastSeenAt: null,
  };
  return { row, key: pair.privateKey };
}

const sign = async (key: webcrypto.CryptoKey, m: Uint8Array): Promise<string> =>
  Buffer.from(await webcrypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, key, m)).toString('base64url');

describe('verifyDeviceSignature', () => {
  it('accepts a WebCrypto P1363 signature and nothing else', async () => {
    const { row, key } = await device();
    const other = await device();
    const m = deviceRequestMessage({ deviceId: row.id, method: 'GET', path: '/app/api/device', time: 1, bodySha256: sha256Hex('') });
    const sig = await sign(key, m);
    expect(verifyDeviceSignature(row, m, sig)).toBe(true);
    expect(verifyDeviceSignature(other.row, m, sig)).toBe(false);
    const m2 = deviceRequestMessage({ deviceId: row.id, method: 'GET', path: '/app/api/device?x', time: 1, bodySha256: sha256Hex('') });
    expect(verifyDeviceSignature(row, m2, sig)).toBe(false);
    // The approval tag separates the two kinds of message.
    const a = approvalMessage({ txid: 't', username: 'u', integration: 'i', hostname: '', ipaddr: '', pushinfoSha256: sha256Hex(''), decision: 'approve', deviceId: row.id, nonce: 'n', expiresAt: 1, number: '' });
    expect(verifyDeviceSignature(row, a, sig)).toBe(false);
    expect(verifyDeviceSignature(row, a, await sign(key, a))).toBe(true);
  });

  it('malformed signatures and keys are false, never a throw', async () => {
    const { row, key } = await device();
    const m = new Uint8Array([1, 2, 3]);
    const sig = await sign(key, m);
    const der = Buffer.from(sig, 'base64url');
    for (const bad of ['', 'x', sig + 'A', sig.slice(0, -1), Buffer.alloc(64).toString('base64url'), der.toString('base64'), 42 as unknown as string]) {
      expect(verifyDeviceSignature(row, m, bad)).toBe(false);
    }
    expect(verifyDeviceSignature({ ...row, publicKeyJwk: 'not json' }, m, sig)).toBe(false);
    expect(verifyDeviceSignature({ ...row, publicKeyJwk: JSON.stringify({ kty: 'EC', crv: 'P-384', x: 'AA', y: 'AA' }) }, m, sig)).toBe(false);
  });
});
