import { describe, it, expect, vi, afterEach } from 'vitest';
import { createHash, createHmac } from 'node:crypto';
import * as compare from './compare.js';
import {
  authorizationHeader,
  canonicalString,
  parseAuthorization,
  sign,
  verifySignature,
  xDuoHeaderHash,
  type SignedRequest,
  type VerifyInput,
} from './duo-signing.js';
import { ProtocolError } from './errors.js';

const SKEY = 'abcdefghijABCDEFGHIJabcdefghijABCDEFGHIJ';
const IKEY = 'DI0123456789ABCDEFGH';
const DATE = 'Mon, 06 Jan 2025 15:04:05 -0000';
const EMPTY_SHA512 = createHash('sha512').update('').digest('hex');

const REQ: SignedRequest = {
  method: 'post',
  host: 'API-Test1234.example.com',
  path: '/auth/v2/preauth',
  params: [
    ['username', 'alice'],
    ['ipaddr', '192.0.2.10'],
  ],
  date: DATE,
};

afterEach(() => {
  vi.restoreAllMocks();
});

function verifyInput(over: Partial<VerifyInput> & { signature: string }): VerifyInput {
  return {
    skeys: [SKEY],
    hosts: ['api-test1234.example.com'],
    method: 'POST',
    path: REQ.path,
    date: DATE,
    params: REQ.params,
    body: new Uint8Array(0),
    xDuoHeaders: [],
    jsonBody: false,
    allowV1: false,
    ...over,
  };
}

describe('canonicalString', () => {
  it('v1 has no date: METHOD, host, path, params', () => {
    expect(canonicalString(1, REQ)).toBe('POST\napi-test1234.example.com\n/auth/v2/preauth\nipaddr=192.0.2.10&username=alice');
  });

  it('v2 prepends the date', () => {
    expect(canonicalString(2, REQ)).toBe(`${DATE}\nPOST\napi-test1234.example.com\n/auth/v2/preauth\nipaddr=192.0.2.10&username=alice`);
  });

  it('v4 appends the body hash, v5 also the x-duo header hash', () => {
    const body = '{"a":1}';
    const bodyHash = createHash('sha512').update(body).digest('hex');
    const req = { ...REQ, params: [], body };
    expect(canonicalString(4, req).split('\n')).toEqual([DATE, 'POST', 'api-test1234.example.com', '/auth/v2/preauth', '', bodyHash]);
    expect(canonicalString(5, req).split('\n')).toEqual([DATE, 'POST', 'api-test1234.example.com', '/auth/v2/preauth', '', bodyHash, EMPTY_SHA512]);
  });

  it('hashes an absent body as the empty string, and takes bytes as well as text', () => {
    expect(canonicalString(4, { ...REQ, body: undefined }).split('\n')[5]).toBe(EMPTY_SHA512);
    expect(canonicalString(4, { ...REQ, body: Buffer.from('é') })).toBe(canonicalString(4, { ...REQ, body: 'é' }));
  });

  it('keeps the path exactly (case and percent-encoding)', () => {
    expect(canonicalString(2, { ...REQ, path: '/admin/v1/users/a%40b.com/Phones' }).split('\n')[3]).toBe('/admin/v1/users/a%40b.com/Phones');
  });

  it('refuses v2/v4/v5 without a date', () => {
    for (const v of [2, 4, 5] as const) expect(() => canonicalString(v, { ...REQ, date: undefined })).toThrow(ProtocolError);
  });
});

describe('xDuoHeaderHash', () => {
  it('is sha512("") with no headers', () => {
    expect(xDuoHeaderHash([])).toBe(EMPTY_SHA512);
  });

  it('lowercases names, sorts them and joins name\\0value', () => {
    const expected = createHash('sha512').update('x-duo-a\0one\0x-duo-b\0two').digest('hex');
    expect(xDuoHeaderHash([['X-Duo-B', 'two'], ['x-duo-A', 'one']])).toBe(expected);
  });

  it('ignores headers that are not x-duo*', () => {
    expect(xDuoHeaderHash([['X-Duo-Date', DATE], ['Content-Type', 'application/json'], ['x-du', 'no']])).toBe(xDuoHeaderHash([['x-duo-date', DATE]]));
  });

  it('does not lowercase values', () => {
    expect(xDuoHeaderHash([['x-duo-a', 'V']])).not.toBe(xDuoHeaderHash([['x-duo-a', 'v']]));
  });
});

describe('sign / authorizationHeader', () => {
  it('gives lowercase hex of the right length for each digest', () => {
    expect(sign(2, 'sha1', SKEY, REQ)).toMatch(/^[0-9a-f]{40}$/);
    expect(sign(2, 'sha512', SKEY, REQ)).toMatch(/^[0-9a-f]{128}$/);
  });

  it('builds Basic base64(ikey:sig)', () => {
    expect(authorizationHeader('DI', 'ab')).toBe('Basic ' + Buffer.from('DI:ab').toString('base64'));
  });
});

describe('parseAuthorization', () => {
  const sig40 = 'f42bdfb2ddd5b8306b08a89611563817e34b6051';
  const sig128 = 'a'.repeat(128);
  const basic = (s: string) => 'Basic ' + Buffer.from(s, 'latin1').toString('base64');

  it('parses what authorizationHeader builds, for both lengths', () => {
    expect(parseAuthorization(authorizationHeader(IKEY, sig40))).toEqual({ ikey: IKEY, signature: sig40 });
    expect(parseAuthorization(authorizationHeader(IKEY, sig128))).toEqual({ ikey: IKEY, signature: sig128 });
  });

  it('lowercases an uppercase-hex signature and accepts any case of the scheme', () => {
    expect(parseAuthorization(basic(`${IKEY}:${sig40.toUpperCase()}`))).toEqual({ ikey: IKEY, signature: sig40 });
    expect(parseAuthorization('basic ' + Buffer.from(`${IKEY}:${sig40}`).toString('base64'))).toEqual({ ikey: IKEY, signature: sig40 });
  });

  it('rejects missing, non-Basic or malformed headers', () => {
    for (const bad of [
      undefined,
      '',
      'Basic',
      'Basic ',
      'Bearer ' + Buffer.from(`${IKEY}:${sig40}`).toString('base64'),
      'Basic  ' + Buffer.from(`${IKEY}:${sig40}`).toString('base64'),
      ' Basic ' + Buffer.from(`${IKEY}:${sig40}`).toString('base64'),
      'Basic ' + Buffer.from(`${IKEY}:${sig40}`).toString('base64') + ' ',
      'Basic ' + Buffer.from(`${IKEY}:${sig40}`).toString('base64url').replace(/=+$/, '') + '_',
      'Basic ' + Buffer.from(`${IKEY}:${sig40}`).toString('base64').replace(/=+$/, ''),
      'Basic ' + Buffer.from(`${IKEY}:${sig40}`).toString('base64') + '\n',
      'Basic !!!!',
      'Basic ====',
    ]) expect(parseAuthorization(bad), String(bad)).toBeNull();
  });

  it('rejects non-canonical base64 (non-zero trailing bits)', () => {
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
    const good = Buffer.from(`${IKEY}:${sig40}`).toString('base64'); // 61 bytes: "==" padding
    expect(good.endsWith('==')).toBe(true);
    // The last data character carries 2 data bits and 4 zero bits; set one of the zero bits.
    const last = alphabet.indexOf(good[good.length - 3]!);
    const tweaked = good.slice(0, -3) + alphabet[last | 1]! + '==';
    expect(tweaked).not.toBe(good);
    expect(Buffer.from(tweaked, 'base64').equals(Buffer.from(good, 'base64'))).toBe(true); // Node would accept it
    expect(parseAuthorization('Basic ' + tweaked)).toBeNull();
    expect(parseAuthorization('Basic ' + good)).not.toBeNull();
  });

  it('rejects bad credentials inside valid base64', () => {
    for (const bad of [
      `${IKEY}${sig40}`, // no ':'
      `${IKEY}:${sig40}:x`, // two ':'
      `:${sig40}`, // empty ikey
      `${'D'.repeat(65)}:${sig40}`, // ikey too long
      `DI 0123:${sig40}`, // space in ikey
      `DI\u00e9:${sig40}`, // non-ASCII ikey
      `DI\x01:${sig40}`, // control char
      `${IKEY}:`, // empty signature
      `${IKEY}:${sig40.slice(1)}`, // 39 hex
      `${IKEY}:${sig40}0`, // 41 hex
      `${IKEY}:${'a'.repeat(64)}`, // SHA-256 length: not a Duo digest
      `${IKEY}:${'g'.repeat(40)}`, // not hex
      `${IKEY}:${sig40} `,
    ]) expect(parseAuthorization(basic(bad)), bad).toBeNull();
  });

  it('accepts a 64-character ikey and rejects oversized headers without decoding', () => {
    expect(parseAuthorization(basic(`${'D'.repeat(64)}:${sig128}`))).not.toBeNull();
    expect(parseAuthorization('Basic ' + 'A'.repeat(10_000))).toBeNull();
  });
});

describe('verifySignature', () => {
  it('identifies v2 SHA1 and v2 SHA512', () => {
    expect(verifySignature(verifyInput({ signature: sign(2, 'sha1', SKEY, REQ) }))).toEqual({ version: 2, digest: 'sha1', host: 'api-test1234.example.com', skeyIndex: 0 });
    expect(verifySignature(verifyInput({ signature: sign(2, 'sha512', SKEY, REQ) }))).toMatchObject({ version: 2, digest: 'sha512' });
  });

  it('accepts an uppercase-hex signature', () => {
    expect(verifySignature(verifyInput({ signature: sign(2, 'sha1', SKEY, REQ).toUpperCase() }))).toMatchObject({ version: 2 });
  });

  it('accepts v1 only when allowed (it has no date and can be replayed forever)', () => {
    for (const digest of ['sha1', 'sha512'] as const) {
      const signature = sign(1, digest, SKEY, REQ);
      expect(verifySignature(verifyInput({ signature }))).toBeNull();
      expect(verifySignature(verifyInput({ signature, allowV1: true }))).toMatchObject({ version: 1, digest });
      expect(verifySignature(verifyInput({ signature, allowV1: true, date: undefined }))).toMatchObject({ version: 1, digest });
    }
  });

  it('needs a date for v2/v4/v5', () => {
    expect(verifySignature(verifyInput({ signature: sign(2, 'sha512', SKEY, REQ), date: undefined }))).toBeNull();
  });

  it('identifies v4 and v5 over the raw body, including x-duo headers for v5', () => {
    const body = Buffer.from('{"username":"alice"}');
    const headers: Array<[string, string]> = [['X-Duo-Date', DATE]];
    const req = { ...REQ, params: [], body, xDuoHeaders: headers };
    const v4 = sign(4, 'sha512', SKEY, req);
    const v5 = sign(5, 'sha512', SKEY, req);
    const base = { params: [], body, xDuoHeaders: headers, jsonBody: true };
    expect(verifySignature(verifyInput({ ...base, signature: v4 }))).toMatchObject({ version: 4 });
    expect(verifySignature(verifyInput({ ...base, signature: v5 }))).toMatchObject({ version: 5 });
    // v5 breaks when an x-duo header is dropped or added; v4 does not look at them.
    expect(verifySignature(verifyInput({ ...base, xDuoHeaders: [], signature: v5 }))).toBeNull();
    expect(verifySignature(verifyInput({ ...base, xDuoHeaders: [...headers, ['x-duo-extra', '1']], signature: v5 }))).toBeNull();
    expect(verifySignature(verifyInput({ ...base, xDuoHeaders: [], signature: v4 }))).toMatchObject({ version: 4 });
  });

  it('tries v4/v5 also for non-JSON requests (a v5 GET has no body)', () => {
    const v5 = sign(5, 'sha512', SKEY, { ...REQ, method: 'GET' });
    expect(verifySignature(verifyInput({ method: 'GET', signature: v5 }))).toMatchObject({ version: 5 });
  });

  it('with a JSON body, only v4/v5 can match', () => {
    const body = Buffer.from('{}');
    expect(verifySignature(verifyInput({ body, jsonBody: true, signature: sign(2, 'sha512', SKEY, REQ) }))).toBeNull();
    expect(verifySignature(verifyInput({ body, jsonBody: true, allowV1: true, signature: sign(1, 'sha512', SKEY, REQ) }))).toBeNull();
    expect(verifySignature(verifyInput({ body, jsonBody: true, signature: sign(2, 'sha1', SKEY, REQ) }))).toBeNull();
  });

  it('does not accept a SHA1-length signature as v4/v5', () => {
    const v5 = sign(5, 'sha512', SKEY, REQ);
    expect(verifySignature(verifyInput({ signature: v5.slice(0, 40) }))).toBeNull();
  });

  it('uppercases the method and lowercases host candidates', () => {
    const signature = sign(2, 'sha512', SKEY, REQ);
    expect(verifySignature(verifyInput({ signature, method: 'post', hosts: ['API-TEST1234.EXAMPLE.COM'] }))).toMatchObject({ host: 'api-test1234.example.com' });
  });

  it('also tries a host exactly as given (duo_unix does not lowercase its configured host)', () => {
    const duoUnixCanonical = canonicalString(2, REQ).replace('api-test1234.example.com', 'API-Test1234.example.com');
    const signature = createHmac('sha512', SKEY).update(duoUnixCanonical).digest('hex');
    expect(verifySignature(verifyInput({ signature, hosts: ['api-test1234.example.com'] }))).toBeNull();
    expect(verifySignature(verifyInput({ signature, hosts: ['API-Test1234.example.com'] }))).toMatchObject({ host: 'API-Test1234.example.com' });
  });

  it('tries every host candidate (with and without port) and every skey', () => {
    const signature = sign(2, 'sha512', 'second-skey', { ...REQ, host: 'api-test1234.example.com:8443' });
    expect(
      verifySignature(verifyInput({ signature, skeys: [SKEY, 'second-skey'], hosts: ['api-test1234.example.com', 'api-test1234.example.com:8443'] })),
    ).toEqual({ version: 2, digest: 'sha512', host: 'api-test1234.example.com:8443', skeyIndex: 1 });
  });

  it('rejects wrong skey, params, path, date or method', () => {
    const signature = sign(2, 'sha512', SKEY, REQ);
    expect(verifySignature(verifyInput({ signature, skeys: ['nope'] }))).toBeNull();
    expect(verifySignature(verifyInput({ signature, skeys: [] }))).toBeNull();
    expect(verifySignature(verifyInput({ signature, hosts: [] }))).toBeNull();
    expect(verifySignature(verifyInput({ signature, params: [['username', 'mallory'], ['ipaddr', '192.0.2.10']] }))).toBeNull();
    expect(verifySignature(verifyInput({ signature, params: [...REQ.params, ['extra', '']] }))).toBeNull();
    expect(verifySignature(verifyInput({ signature, path: '/auth/v2/auth' }))).toBeNull();
    expect(verifySignature(verifyInput({ signature, date: 'Mon, 06 Jan 2025 15:04:06 -0000' }))).toBeNull();
    expect(verifySignature(verifyInput({ signature, method: 'GET' }))).toBeNull();
  });

  it('rejects malformed signatures without computing anything', () => {
    const spy = vi.spyOn(compare, 'constantTimeEqual');
    for (const bad of ['', 'zz', 'g'.repeat(40), 'a'.repeat(39), 'a'.repeat(64), 'a'.repeat(129), ' ' + 'a'.repeat(40)]) {
      expect(verifySignature(verifyInput({ signature: bad }))).toBeNull();
    }
    expect(spy).not.toHaveBeenCalled();
  });

  it('compares through constantTimeEqual', () => {
    const spy = vi.spyOn(compare, 'constantTimeEqual');
    verifySignature(verifyInput({ signature: 'a'.repeat(128), allowV1: true }));
    // v5, v4, v2, v1 × one host × one skey.
    expect(spy).toHaveBeenCalledTimes(4);
  });
});
