// The Tandem Authenticator's passkeys (docs/push.md §8), device-signed:
//   POST /app/api/passkey/options         (no body) → PublicKeyCredentialCreationOptionsJSON
//   POST /app/api/passkey/register        a registration response → {credentialId}
//   GET  /app/api/passkey/assert-options  → {rpId, allowCredentials, userVerification, timeout}
// The relying party is the request's host name, which must be one of settings.hosts (or
// publicUrl's host): anything else is `400 {"error":"passkey_unavailable"}` (WebAuthn has no IP
// relying parties, and a passkey is bound to the name it was made for).
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { assertionOptions, parseRegistrationResponse, registerPasskey, registrationOptions, relyingParty, type RelyingParty } from '../../core/passkeys.js';
import type { Core } from '../../core/service.js';
import { AppApiError, badRequest, deviceAuthed, parseJsonBody, registerAppApi } from '../device-request.js';

/** The relying party for this request's Host, or the app API error saying passkeys are not available here. */
export function requestRelyingParty(core: Core, request: FastifyRequest): RelyingParty {
  const rp = relyingParty(core.deps, requestHost(request));
  if (!rp) throw new AppApiError(400, 'passkey_unavailable');
  return rp;
}

export function requestHost(request: FastifyRequest): string | undefined {
  const h = request.headers.host;
  return typeof h === 'string' ? h : undefined;
}

const noQuery = (request: FastifyRequest): void => {
  if ((request.raw.url ?? '').includes('?')) throw badRequest();
};

export function registerAppPasskeys(app: FastifyInstance, core: Core): void {
  registerAppApi(app, core, (scope) => {
    scope.post(
      '/app/api/passkey/options',
      deviceAuthed(core, async (request, _reply, device) => {
        noQuery(request);
        if (Buffer.isBuffer(request.body) && request.body.length > 0) throw badRequest();
        return registrationOptions(core.deps, device, requestRelyingParty(core, request));
      }),
    );

    scope.post(
      '/app/api/passkey/register',
      deviceAuthed(core, async (request, _reply, device) => {
        noQuery(request);
        const response = parseRegistrationResponse(parseJsonBody(request));
        if (!response) throw badRequest();
        const r = await registerPasskey(core.deps, device, requestRelyingParty(core, request), response);
        if (!r.ok) throw new AppApiError(r.reason === 'too_many_passkeys' || r.reason === 'passkey_exists' ? 409 : 400, r.reason);
        return { credentialId: r.credentialId };
      }),
    );

    scope.get(
      '/app/api/passkey/assert-options',
      deviceAuthed(core, async (request, _reply, device) => {
        noQuery(request);
        return assertionOptions(core.deps, device, requestRelyingParty(core, request));
      }),
    );
  });
}
