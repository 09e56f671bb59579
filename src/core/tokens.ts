// TOTP/HOTP tokens. Seeds are sealed at rest with AAD bound to the token row, so a sealed seed
// copied onto another row does not open.
import { base32Encode } from '../protocol/base32.js';
import { buildOtpauthUri } from '../protocol/otpauth.js';
import { hotpResync } from '../protocol/totp.js';
import type { OtpAlgorithm, TokenRow, TokenType } from '../store/contract.js';
import type { Deps } from './deps.js';
import { CoreError } from './errors.js';
import { newTokenId } from './ids.js';
import { adminAudit } from './integrations.js';
import { mustFindUser } from './users.js';

export const ISSUER = 'Tandem';
/** RFC 4226 §4 requires at least 128 bits; we generate 160 (the SHA-1 block-friendly size). */
const GENERATED_SECRET_BYTES = 20;
const MIN_SECRET_BYTES = 16;
/** How far `token resync` searches ahead of the expected HOTP counter. */
const RESYNC_SEARCH = 1000;

export const seedAad = (tokenId: string, userId: string): string => `token/${tokenId}/${userId}/seed`;

/** A seed sealed for its token row (also used for the Tandem Authenticator's token, core/devices.ts). */
export function sealSeed(deps: Pick<Deps, 'keyring'>, tokenId: string, userId: string, secret: Buffer): string {
  return deps.keyring.seal('totp-seed', seedAad(tokenId, userId), secret);
}

export interface TokenOptions {
  type: TokenType;
  /** Imported seed; generated when absent. */
  secret?: Buffer;
  digits?: 6 | 8;
  algorithm?: OtpAlgorithm;
  period?: number;
  counter?: number;
}

export interface TokenView {
  tokenId: string;
  type: TokenType;
  digits: 6 | 8;
  algorithm: OtpAlgorithm;
  period: number | null;
  createdAt: number;
}

const view = (t: TokenRow): TokenView => ({ tokenId: t.id, type: t.type, digits: t.digits, algorithm: t.algorithm, period: t.period, createdAt: t.createdAt });

export async function addToken(deps: Deps, username: string, o: TokenOptions): Promise<{ token: TokenView; otpauth: string; secret: string }> {
  const user = await mustFindUser(deps, username);
  if (o.type !== 'totp' && o.type !== 'hotp') throw new CoreError('bad_request', 'type must be totp or hotp');
  const digits = o.digits ?? 6;
  if (digits !== 6 && digits !== 8) throw new CoreError('bad_request', 'digits must be 6 or 8');
  const algorithm = o.algorithm ?? 'sha1';
  if (!['sha1', 'sha256', 'sha512'].includes(algorithm)) throw new CoreError('bad_request', 'algorithm must be sha1, sha256 or sha512');
  const period = o.type === 'totp' ? (o.period ?? 30) : null;
  if (period !== null && (!Number.isInteger(period) || period < 1 || period > 300)) throw new CoreError('bad_request', 'period must be 1 to 300 seconds');
  const counter = o.type === 'hotp' ? (o.counter ?? 0) : 0;
  if (!Number.isSafeInteger(counter) || counter < 0) throw new CoreError('bad_request', 'counter must be a non-negative integer');
  const secret = o.secret ?? deps.random.bytes(GENERATED_SECRET_BYTES);
  if (secret.length < MIN_SECRET_BYTES) throw new CoreError('bad_request', `the seed must be at least ${MIN_SECRET_BYTES} bytes (RFC 4226 §4)`);
  if (secret.length > 128) throw new CoreError('bad_request', 'the seed is longer than 128 bytes');

  const id = newTokenId(deps.random);
  const row: TokenRow = {
    id,
    userId: user.id,
    type: o.type,
    secretSealed: sealSeed(deps, id, user.id, secret),
    digits,
    algorithm,
    period,
    nextCounter: counter,
    createdAt: deps.clock.now(),
  };
  await deps.store.addToken(row);
  await adminAudit(deps, 'token_added', { tokenId: id, type: o.type, imported: o.secret !== undefined }, user.username);
  const secretBase32 = base32Encode(secret);
  const otpauth = buildOtpauthUri({
    type: o.type,
    issuer: ISSUER,
    account: user.username,
    secretBase32,
    digits,
    algorithm,
    ...(o.type === 'totp' ? { period: period ?? 30 } : { counter }),
  });
  return { token: view(row), otpauth, secret: secretBase32 };
}

export async function listTokens(deps: Deps, username: string): Promise<TokenView[]> {
  const user = await mustFindUser(deps, username);
  return (await deps.store.listTokens(user.id)).map(view);
}

export async function removeToken(deps: Deps, username: string, tokenId: string): Promise<void> {
  const user = await mustFindUser(deps, username);
  const t = await deps.store.getToken(tokenId);
  if (!t || t.userId !== user.id) throw new CoreError('not_found', `user ${username} has no token ${tokenId}`);
  await deps.store.removeToken(tokenId);
  await adminAudit(deps, 'token_removed', { tokenId }, user.username);
}

export function openSeed(deps: Pick<Deps, 'keyring'>, t: TokenRow): Buffer {
  return deps.keyring.unseal('totp-seed', seedAad(t.id, t.userId), t.secretSealed);
}

/** Resynchronise an HOTP token from two consecutive codes the user reads off it. */
export async function resyncToken(deps: Deps, username: string, code1: string, code2: string): Promise<{ tokenId: string }> {
  const user = await mustFindUser(deps, username);
  for (const t of await deps.store.listTokens(user.id)) {
    if (t.type !== 'hotp') continue;
    const next = hotpResync({ secret: openSeed(deps, t), code1, code2, digits: t.digits, algorithm: t.algorithm, from: t.nextCounter, maxSearch: RESYNC_SEARCH });
    if (next !== null) {
      await deps.store.setTokenCounter(t.id, next);
      await adminAudit(deps, 'token_resynced', { tokenId: t.id }, user.username);
      return { tokenId: t.id };
    }
  }
  throw new CoreError('not_found', `no HOTP token of ${username} produced those two codes in sequence`);
}
