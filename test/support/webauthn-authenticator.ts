// A software WebAuthn authenticator for tests (docs/push.md §8): one ES256 (P-256) credential made
// with node:crypto, attestation 'none' registration responses and assertions built byte for byte
// as a browser and a platform authenticator would (WebAuthn L2 §6.1, §6.5, §7):
//
//   authenticatorData = SHA-256(rpId) ‖ flags ‖ signCount (u32 BE) ‖ [attested credential data]
//   attested credential data = AAGUID (16) ‖ credIdLen (u16 BE) ‖ credId ‖ COSE_Key (CBOR)
//   attestationObject = CBOR {fmt: "none", attStmt: {}, authData}
//   signature = ECDSA-SHA256 (DER) over authenticatorData ‖ SHA-256(clientDataJSON)
//
// Every field a test may want to break (origin, rpId, flags, counter, challenge, type) can be
// overridden per call.
import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';

// ---- a minimal CBOR encoder (RFC 8949): unsigned/negative integers, byte and text strings, maps

function head(major: number, n: number): Buffer {
  if (n < 24) return Buffer.from([(major << 5) | n]);
  if (n < 0x100) return Buffer.from([(major << 5) | 24, n]);
  if (n < 0x10000) {
    const b = Buffer.alloc(3);
    b[0] = (major << 5) | 25;
    b.writeUInt16BE(n, 1);
    return b;
  }
  const b = Buffer.alloc(5);
  b[0] = (major << 5) | 26;
  b.writeUInt32BE(n, 1);
  return b;
}

export type Cbor = number | string | Uint8Array | Map<number | string, Cbor> | { [k: string]: Cbor };

export function cbor(v: Cbor): Buffer {
  if (typeof v === 'number') {
    if (!Number.isInteger(v) || Math.abs(v) > 0xffffffff) throw new RangeError('cbor: only 32-bit integers');
    return v >= 0 ? head(0, v) : head(1, -1 - v);
  }
  if (typeof v === 'string') {
    const b = Buffer.from(v, 'utf8');
    return Buffer.concat([head(3, b.length), b]);
  }
  if (v instanceof Uint8Array) return Buffer.concat([head(2, v.length), v]);
  const entries: [number | string, Cbor][] = v instanceof Map ? [...v.entries()] : Object.entries(v);
  return Buffer.concat([head(5, entries.length), ...entries.flatMap(([k, x]) => [cbor(k), cbor(x)])]);
}

// ---- the authenticator

export const FLAG_UP = 0x01;
export const FLAG_UV = 0x04;
export const FLAG_AT = 0x40;

const sha256 = (b: Uint8Array | string): Buffer => createHash('sha256').update(b).digest();
const b64u = (b: Uint8Array): string => Buffer.from(b).toString('base64url');

export interface CeremonyOverrides {
  /** clientDataJSON.origin (default: the authenticator's origin). */
  origin?: string;
  /** The RP ID hashed into authenticatorData (default: the one asked for). */
  rpId?: string;
  /** authenticatorData flags (default UP|UV, plus AT for registration). */
  flags?: number;
  /** The signature counter to report (default: the next one). */
  counter?: number;
  /** clientDataJSON.type (default webauthn.create / webauthn.get). */
  type?: string;
  /** clientDataJSON.challenge (default: the one asked for). */
  challenge?: string;
  /** userHandle of an assertion (default: the registered user id, base64url). */
  userHandle?: string;
}

export interface RegistrationJSON {
  id: string;
  rawId: string;
  type: 'public-key';
  response: { clientDataJSON: string; attestationObject: string; transports: string[] };
  clientExtensionResults: Record<string, never>;
  authenticatorAttachment: 'platform';
}

export interface AssertionJSON {
  id: string;
  rawId: string;
  type: 'public-key';
  response: { clientDataJSON: string; authenticatorData: string; signature: string; userHandle?: string };
  clientExtensionResults: Record<string, never>;
  authenticatorAttachment: 'platform';
}

export class SoftwareAuthenticator {
  readonly credentialId: Buffer = randomBytes(32);
  private readonly privateKey: KeyObject;
  private readonly publicKey: KeyObject;
  /** The signature counter last used (0: never used; stays 0 when `counting` is false). */
  counter = 0;
  private userId = '';

  /** `origin`: where the app runs, e.g. https://api.tandem.test:8443. `counting: false` always reports 0. */
  constructor(
    readonly origin: string,
    readonly counting = true,
  ) {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    this.privateKey = privateKey;
    this.publicKey = publicKey;
  }

  get id(): string {
    return b64u(this.credentialId);
  }

  /** The credential's COSE_Key: EC2, ES256, P-256, x, y. */
  coseKey(): Buffer {
    const jwk = this.publicKey.export({ format: 'jwk' });
    return cbor(new Map<number, Cbor>([[1, 2], [3, -7], [-1, 1], [-2, Buffer.from(jwk.x!, 'base64url')], [-3, Buffer.from(jwk.y!, 'base64url')]]));
  }

  private nextCounter(o: CeremonyOverrides): number {
    if (o.counter !== undefined) return o.counter;
    if (this.counting) this.counter += 1;
    return this.counter;
  }

  private authData(rpId: string, flags: number, counter: number, attested: Buffer | null): Buffer {
    const c = Buffer.alloc(4);
    c.writeUInt32BE(counter >>> 0, 0);
    return Buffer.concat([sha256(rpId), Buffer.from([flags]), c, ...(attested ? [attested] : [])]);
  }

  /** navigator.credentials.create with the server's options (as JSON): a RegistrationResponseJSON. */
  register(options: { challenge: string; rp: { id?: string }; user: { id: string } }, o: CeremonyOverrides = {}): RegistrationJSON {
    this.userId = options.user.id;
    const rpId = o.rpId ?? options.rp.id ?? new URL(this.origin).hostname;
    const clientData = Buffer.from(JSON.stringify({ type: o.type ?? 'webauthn.create', challenge: o.challenge ?? options.challenge, origin: o.origin ?? this.origin, crossOrigin: false }));
    const idLen = Buffer.alloc(2);
    idLen.writeUInt16BE(this.credentialId.length, 0);
    const attested = Buffer.concat([Buffer.alloc(16) /* AAGUID: none */, idLen, this.credentialId, this.coseKey()]);
    const authData = this.authData(rpId, o.flags ?? FLAG_UP | FLAG_UV | FLAG_AT, this.nextCounter(o), attested);
    const attestationObject = cbor({ fmt: 'none', attStmt: {}, authData });
    return {
      id: this.id,
      rawId: this.id,
      type: 'public-key',
      response: { clientDataJSON: b64u(clientData), attestationObject: b64u(attestationObject), transports: ['internal', 'hybrid'] },
      clientExtensionResults: {},
      authenticatorAttachment: 'platform',
    };
  }

  /** navigator.credentials.get for `challenge` (base64url) at `rpId`: an AuthenticationResponseJSON. */
  assert(challenge: string, rpId: string, o: CeremonyOverrides = {}): AssertionJSON {
    const clientData = Buffer.from(JSON.stringify({ type: o.type ?? 'webauthn.get', challenge: o.challenge ?? challenge, origin: o.origin ?? this.origin, crossOrigin: false }));
    const authData = this.authData(o.rpId ?? rpId, o.flags ?? FLAG_UP | FLAG_UV, this.nextCounter(o), null);
    const signature = sign('sha256', Buffer.concat([authData, sha256(clientData)]), this.privateKey);
    const userHandle = o.userHandle ?? this.userId;
    return {
      id: this.id,
      rawId: this.id,
      type: 'public-key',
      response: { clientDataJSON: b64u(clientData), authenticatorData: b64u(authData), signature: b64u(signature), ...(userHandle !== '' ? { userHandle } : {}) },
      clientExtensionResults: {},
      authenticatorAttachment: 'platform',
    };
  }
}
