// Replays every published vector in test/vectors/*.json against src/protocol. Each entry has
// { name, source, inputs, expected }; `source` says where the expected value comes from.
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { hotp, type OtpAlgorithm, type OtpDigits } from '../../src/protocol/hotp.js';
import { findOtpMatch, totpCandidates, totpStep } from '../../src/protocol/totp.js';
import { canonicalizeParams } from '../../src/protocol/duo-canon.js';
import { parseForm } from '../../src/protocol/form.js';
import {
  authorizationHeader,
  canonicalString,
  parseAuthorization,
  sign,
  verifySignature,
  xDuoHeaderHash,
  type SigDigest,
  type SigVersion,
  type SignedRequest,
  type VerifyInput,
} from '../../src/protocol/duo-signing.js';

interface Vector<I, E> {
  name: string;
  source: string;
  inputs: I;
  expected: E;
}

function load<I, E>(file: string): Array<Vector<I, E>> {
  const vectors = JSON.parse(readFileSync(new URL(file, import.meta.url), 'utf8')) as Array<Vector<I, E>>;
  for (const v of vectors) {
    // Every vector must say where its expected value comes from.
    if (!v.name || !v.source || v.inputs === undefined || v.expected === undefined) throw new Error(`incomplete vector in ${file}`);
  }
  return vectors;
}

type Pairs = Array<[string, string]>;

const hotpVectors = load<
  { secretAscii: string; counter: number; digits: OtpDigits; algorithm: OtpAlgorithm },
  { code: string }
>('./rfc4226-hotp.json');

const totpVectors = load<
  { secretAscii: string; timeSeconds: number; periodSeconds: number; digits: OtpDigits; algorithm: OtpAlgorithm },
  { stepHex: string; code: string }
>('./rfc6238-totp.json');

interface SigningInputs {
  version: SigVersion;
  digest: SigDigest;
  ikey: string;
  skey: string;
  method: string;
  host: string;
  path: string;
  params: Pairs;
  date?: string;
  body?: string;
  xDuoHeaders?: Pairs;
  jsonBody?: boolean;
  /** The params as they travel on the wire (query string or form body), when known. */
  wire?: string;
}
interface SigningExpected {
  canonical?: string;
  signature?: string;
  authorization?: string;
  signaturePrefix?: string;
  signatureSuffix?: string;
  authorizationPrefix?: string;
}
const signingVectors = load<SigningInputs, SigningExpected>('./duo-signing.json');

type CanonInputs =
  | { kind: 'params'; params: Pairs }
  | { kind: 'canonical'; version: SigVersion; method: string; host: string; path: string; date?: string; params: Pairs; body?: string; xDuoHeaders?: Pairs }
  | { kind: 'xDuoHeaderHash'; headers: Pairs }
  | { kind: 'bodyHash'; body: string };
const canonVectors = load<CanonInputs, { line?: string; canonical?: string; hash?: string; bodyHash?: string }>('./duo-canonicalization.json');

describe('RFC 4226 HOTP', () => {
  it.each(hotpVectors.map((v) => [v.name, v] as const))('%s', (_name, v) => {
    const secret = Buffer.from(v.inputs.secretAscii, 'ascii');
    expect(hotp(secret, v.inputs.counter, { digits: v.inputs.digits, algorithm: v.inputs.algorithm })).toBe(v.expected.code);
    expect(findOtpMatch({ secret, code: v.expected.code, digits: v.inputs.digits, algorithm: v.inputs.algorithm, candidates: [v.inputs.counter] })).toBe(v.inputs.counter);
  });
});

describe('RFC 6238 TOTP', () => {
  it.each(totpVectors.map((v) => [v.name, v] as const))('%s', (_name, v) => {
    const { secretAscii, timeSeconds, periodSeconds, digits, algorithm } = v.inputs;
    const secret = Buffer.from(secretAscii, 'ascii');
    const nowMs = timeSeconds * 1000;
    const step = totpStep(nowMs, periodSeconds);
    expect(step).toBe(parseInt(v.expected.stepHex, 16));
    expect(hotp(secret, step, { digits, algorithm })).toBe(v.expected.code);
    // The verifier finds the step through the usual ±1 window.
    const candidates = totpCandidates(nowMs, periodSeconds, 1, 0);
    expect(findOtpMatch({ secret, code: v.expected.code, digits, algorithm, candidates })).toBe(step);
  });
});

function requestOf(i: SigningInputs): SignedRequest {
  return { method: i.method, host: i.host, path: i.path, params: i.params, date: i.date, body: i.body, xDuoHeaders: i.xDuoHeaders };
}

function verifyInputOf(i: SigningInputs, signature: string): VerifyInput {
  return {
    signature,
    skeys: [i.skey],
    hosts: [i.host],
    method: i.method,
    path: i.path,
    date: i.date,
    params: i.params,
    body: Buffer.from(i.body ?? '', 'utf8'),
    xDuoHeaders: i.xDuoHeaders ?? [],
    jsonBody: i.jsonBody ?? false,
    allowV1: i.version === 1,
  };
}

function flipHexChar(hex: string, index: number): string {
  const c = hex[index]!;
  return hex.slice(0, index) + (c === '0' ? '1' : '0') + hex.slice(index + 1);
}

describe('Duo request signing', () => {
  it.each(signingVectors.map((v) => [v.name, v] as const))('%s', (_name, v) => {
    const i = v.inputs;
    const e = v.expected;
    const req = requestOf(i);
    if (e.canonical !== undefined) expect(canonicalString(i.version, req)).toBe(e.canonical);

    const signature = sign(i.version, i.digest, i.skey, req);
    const header = authorizationHeader(i.ikey, signature);
    if (e.signature !== undefined) expect(signature).toBe(e.signature);
    if (e.authorization !== undefined) expect(header).toBe(e.authorization);
    if (e.signaturePrefix !== undefined) expect(signature.startsWith(e.signaturePrefix)).toBe(true);
    if (e.signatureSuffix !== undefined) expect(signature.endsWith(e.signatureSuffix)).toBe(true);
    if (e.authorizationPrefix !== undefined) expect(header.startsWith(e.authorizationPrefix)).toBe(true);
    expect(e.signature ?? e.authorization).toBeDefined();

    // What the server does with the header it receives.
    const parsed = parseAuthorization(e.authorization ?? header);
    expect(parsed).toEqual({ ikey: i.ikey, signature });

    // Wire form decodes to the same canonical params (decode, then re-encode: duo_api.md §1.3).
    if (i.wire !== undefined) expect(canonicalizeParams(parseForm(i.wire))).toBe(canonicalizeParams(i.params));

    // The verifier accepts the genuine signature with the right version and digest...
    const accepted = verifySignature(verifyInputOf(i, signature));
    expect(accepted).toMatchObject({ version: i.version, digest: i.digest, host: i.host.toLowerCase(), skeyIndex: 0 });
    // ...also when the right skey is second and the true host is not the first candidate.
    const rotated = verifySignature({ ...verifyInputOf(i, signature), skeys: ['x'.repeat(40), i.skey], hosts: ['other.example', i.host] });
    expect(rotated).toMatchObject({ skeyIndex: 1, host: i.host.toLowerCase() });

    // ...and rejects a one-character change of the signature, at the start and at the end...
    expect(verifySignature(verifyInputOf(i, flipHexChar(signature, 0)))).toBeNull();
    expect(verifySignature(verifyInputOf(i, flipHexChar(signature, signature.length - 1)))).toBeNull();
    // ...or of the signed request: one byte of the path, the date, the body, a param.
    expect(verifySignature({ ...verifyInputOf(i, signature), path: i.path + 'x' })).toBeNull();
    if (i.date !== undefined) expect(verifySignature({ ...verifyInputOf(i, signature), date: i.date.replace(/.$/, (c) => (c === '0' ? '1' : '0')) })).toBeNull();
    if (i.version >= 4) {
      const body = Buffer.from(i.body ?? '', 'utf8');
      const changed = body.length === 0 ? Buffer.from(' ') : Buffer.from(body.map((b, k) => (k === 0 ? b ^ 1 : b)));
      expect(verifySignature({ ...verifyInputOf(i, signature), body: changed })).toBeNull();
    }
    if (i.params.length > 0) {
      const params: Pairs = i.params.map(([k, val], k2) => [k, k2 === 0 ? val + 'x' : val]);
      expect(verifySignature({ ...verifyInputOf(i, signature), params })).toBeNull();
    }
  });
});

describe('Duo canonicalisation', () => {
  it.each(canonVectors.map((v) => [v.name, v] as const))('%s', (_name, v) => {
    const i = v.inputs;
    switch (i.kind) {
      case 'params':
        expect(canonicalizeParams(i.params)).toBe(v.expected.line);
        break;
      case 'canonical':
        expect(canonicalString(i.version, { method: i.method, host: i.host, path: i.path, params: i.params, date: i.date, body: i.body, xDuoHeaders: i.xDuoHeaders })).toBe(v.expected.canonical);
        break;
      case 'xDuoHeaderHash':
        expect(xDuoHeaderHash(i.headers)).toBe(v.expected.hash);
        break;
      case 'bodyHash': {
        // Line 6 of a v4 canonical string is the body hash.
        const lines = canonicalString(4, { method: 'POST', host: 'h', path: '/', params: [], date: 'd', body: i.body }).split('\n');
        expect(lines[5]).toBe(v.expected.bodyHash);
        break;
      }
    }
  });
});
