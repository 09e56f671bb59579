// Passkeys (docs/push.md §8) through @simplewebauthn/browser: registering one for this device, and
// the assertion that covers an approval when the request needs it. The assertion's challenge is
// computed here, from the same fields the device key signs: base64url(SHA-256(approval message)).
// Only approvals ask for it; Deny and "report as fraud" stay one tap with the device key.
import { browserSupportsWebAuthn, startAuthentication, startRegistration, WebAuthnError } from '@simplewebauthn/browser';
import type { PublicKeyCredentialCreationOptionsJSON } from '@simplewebauthn/browser';
import { passkeyAssertOptions, passkeyRegistrationOptions, registerPasskey, type DeviceAuth } from './api.js';
import { approvalChallenge } from './signing.js';
import type { LoginRequest } from './types.js';

export const passkeysSupported = (): boolean => browserSupportsWebAuthn();

/** Asks the browser for a new passkey (user verification required) and registers it; its credential id. */
export async function addPasskey(auth: DeviceAuth): Promise<string> {
  const optionsJSON = (await passkeyRegistrationOptions(auth)) as PublicKeyCredentialCreationOptionsJSON;
  const response = await startRegistration({ optionsJSON });
  return registerPasskey(auth, response);
}

/** How many passkeys the server holds for this device. */
export async function passkeyCount(auth: DeviceAuth): Promise<number> {
  return (await passkeyAssertOptions(auth)).allowCredentials.length;
}

/** The assertion that covers approving `request` with `number` (what the server rebuilds and checks). */
export async function approvalAssertion(auth: DeviceAuth, request: LoginRequest, number: string): Promise<unknown> {
  const options = await passkeyAssertOptions(auth);
  if (options.allowCredentials.length === 0) throw new Error('This login needs a passkey, and this device has none yet. Add one below, or deny the request.');
  const challenge = await approvalChallenge({ deviceId: auth.deviceId, request, decision: 'approve', number });
  return startAuthentication({
    optionsJSON: { challenge, rpId: options.rpId, allowCredentials: options.allowCredentials as never, userVerification: 'required', timeout: options.timeout },
  });
}

/** A user-facing sentence for a WebAuthn failure. */
export function passkeyErrorText(e: unknown): string {
  if (e instanceof WebAuthnError) {
    if (e.code === 'ERROR_CEREMONY_ABORTED') return 'The passkey check was cancelled.';
    if (e.code === 'ERROR_AUTHENTICATOR_PREVIOUSLY_REGISTERED') return 'This passkey is already registered for this device.';
  }
  if (e instanceof Error && e.name === 'NotAllowedError') return 'The passkey check was cancelled or timed out.';
  return e instanceof Error ? e.message : String(e);
}
