// The app's device signatures (web/app/src/signing.ts, api.ts) checked the way the server checks
// them: node:crypto ECDSA P-256 / SHA-256 verification with dsaEncoding 'ieee-p1363' over the
// shared encodings of src/protocol/approval.ts.
import { createHash, createPublicKey, verify, type JsonWebKey } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { approvalMessage, deviceRequestMessage, type Decision } from '../../src/protocol/approval.js';
import { signedRequest } from '../../web/app/src/api.js';
import { fromBase64url } from '../../web/app/src/encoding.js';
import { generateDeviceKeys, publicJwk, signApproval, signedRequestHeaders } from '../../web/app/src/signing.js';
import type { LoginRequest } from '../../web/app/src/types.js';

const sha256 = (b: Uint8Array | string): string => createHash('sha256').update(b).digest('hex');

let keys: CryptoKeyPair;
let jwk: { kty: string; crv: string; x: string; y: string };

function verifies(message: Uint8Array, signatureB64url: string): boolean {
  const sig = fromBase64url(signatureB64url);
  expect(sig).toHaveLength(64); // P1363 r‖s, 32 bytes each
  return verify('sha256', message, { key: createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' }), dsaEncoding: 'ieee-p1363' }, sig);
}

beforeAll(async () => {
  keys = await generateDeviceKeys();
  jwk = await publicJwk(keys.publicKey);
});

describe('device keys', () => {
  it('are ECDSA P-256 with a non-extractable private key', async () => {
    expect(keys.privateKey.extractable).toBe(false);
    expect(keys.privateKey.algorithm).toMatchObject({ name: 'ECDSA', namedCurve: 'P-256' });
    await expect(crypto.subtle.exportKey('jwk', keys.privateKey)).rejects.toThrow();
  });

  it('export only kty/crv/x/y of the public key', () => {
    expect(Object.keys(jwk).sort()).toEqual(['crv', 'kty', 'x', 'y']);
    expect(jwk).toMatchObject({ kty: 'EC', crv: 'P-256' });
    expect(fromBase64url(jwk.x)).toHaveLength(32);
  });
});

describe('signed requests', () => {
  const deviceId = 'DPTESTDEVICE0000000000';

  it('sign GET with the hash of the empty body', async () => {
    const time = 1_700_000_000_123;
    const h = await signedRequestHeaders({ deviceId, privateKey: keys.privateKey, method: 'get', path: '/app/api/requests?wait=25&known=abc', time });
    expect(h['Tandem-Device']).toBe(deviceId);
    expect(h['Tandem-Time']).toBe(String(time));
    const message = deviceRequestMessage({ deviceId, method: 'GET', path: '/app/api/requests?wait=25&known=abc', time, bodySha256: sha256('') });
    expect(verifies(message, h['Tandem-Signature']!)).toBe(true);
    // Another path, method, time or body does not verify.
    expect(verifies(deviceRequestMessage({ deviceId, method: 'GET', path: '/app/api/requests?wait=0&known=abc', time, bodySha256: sha256('') }), h['Tandem-Signature']!)).toBe(false);
    expect(verifies(deviceRequestMessage({ deviceId, method: 'POST', path: '/app/api/requests?wait=25&known=abc', time, bodySha256: sha256('') }), h['Tandem-Signature']!)).toBe(false);
    expect(verifies(deviceRequestMessage({ deviceId, method: 'GET', path: '/app/api/requests?wait=25&known=abc', time: time + 1, bodySha256: sha256('') }), h['Tandem-Signature']!)).toBe(false);
  });

  it('sign POST over the exact body bytes sent', async () => {
    const json = { txid: 'x', decision: 'approve', number: '', signature: 'sig', note: 'ünïcødé ‮' };
    const { url, init } = await signedRequest({ deviceId, privateKey: keys.privateKey }, 'post', '/app/api/decide', json, () => 42);
    expect(url).toBe('/app/api/decide');
    expect(init.method).toBe('POST');
    expect(init.headers['Content-Type']).toBe('application/json');
    const sent = init.body as Uint8Array;
    expect(Buffer.from(sent).toString('utf8')).toBe(JSON.stringify(json));
    const message = deviceRequestMessage({ deviceId, method: 'POST', path: '/app/api/decide', time: 42, bodySha256: sha256(sent) });
    expect(init.headers['Tandem-Time']).toBe('42');
    expect(verifies(message, init.headers['Tandem-Signature']!)).toBe(true);
  });

  it('sign a null body (unsubscribe) as the JSON text "null"', async () => {
    const { init } = await signedRequest({ deviceId, privateKey: keys.privateKey }, 'POST', '/app/api/subscription', null, () => 7);
    expect(Buffer.from(init.body as Uint8Array).toString()).toBe('null');
    expect(verifies(deviceRequestMessage({ deviceId, method: 'POST', path: '/app/api/subscription', time: 7, bodySha256: sha256('null') }), init.headers['Tandem-Signature']!)).toBe(true);
  });

  it('send GET without a body or Content-Type', async () => {
    const { init } = await signedRequest({ deviceId, privateKey: keys.privateKey }, 'GET', '/app/api/device');
    expect(init.body).toBeUndefined();
    expect(init.headers['Content-Type']).toBeUndefined();
    expect(Math.abs(Number(init.headers['Tandem-Time']) - Date.now())).toBeLessThan(5000);
  });
});

describe('approval signatures', () => {
  const deviceId = 'DPAPPROVER000000000000';
  const request: LoginRequest = {
    txid: '0b0e6f4a-1111-4222-8333-944445555666',
    username: 'alice',
    displayUsername: 'Alice A.',
    integration: 'DIXXXXXXXXXXXXXXXXXX',
    integrationName: 'SSH',
    hostname: 'host‮.example',
    ipaddr: '192.0.2.7',
    pushinfo: 'command=sudo%20rm&tty=%2Fdev%2Fpts%2F1',
    type: 'login',
    createdAt: 1_700_000_000_000,
    expiresAt: 1_700_000_060_000,
    nonce: 'bm9uY2Utbm9uY2Utbm9uY2U',
    numberRequired: true,
  };

  function expected(decision: Decision, number: string, r: LoginRequest = request): Uint8Array {
    return approvalMessage({
      txid: r.txid,
      username: r.username,
      integration: r.integration,
      hostname: r.hostname ?? '',
      ipaddr: r.ipaddr ?? '',
      pushinfoSha256: sha256(r.pushinfo ?? ''),
      decision,
      deviceId,
      nonce: r.nonce,
      expiresAt: r.expiresAt,
      number,
    });
  }

  it.each(['approve', 'deny', 'fraud'] as const)('verifies for %s over the documented fields', async (decision) => {
    const number = decision === 'approve' ? '042' : '';
    const sig = await signApproval({ privateKey: keys.privateKey, deviceId, request, decision, number });
    expect(verifies(expected(decision, number), sig)).toBe(true);
  });

  it('binds the decision, the typed number and the pushinfo text', async () => {
    const sig = await signApproval({ privateKey: keys.privateKey, deviceId, request, decision: 'approve', number: '123' });
    expect(verifies(expected('approve', '124'), sig)).toBe(false);
    expect(verifies(expected('deny', '123'), sig)).toBe(false);
    expect(verifies(expected('approve', '123', { ...request, pushinfo: 'command=sudo%20ls&tty=%2Fdev%2Fpts%2F1' }), sig)).toBe(false);
    expect(verifies(expected('approve', '123', { ...request, username: 'Alice A.' }), sig)).toBe(false);
  });

  it("hashes '' for absent hostname, ipaddr and pushinfo", async () => {
    const bare: LoginRequest = { ...request, hostname: null, ipaddr: undefined, pushinfo: null, numberRequired: false };
    const sig = await signApproval({ privateKey: keys.privateKey, deviceId, request: bare, decision: 'approve', number: '' });
    expect(verifies(expected('approve', '', bare), sig)).toBe(true);
    expect(sha256('')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });
});
