// The Tandem Authenticator's activation and device calls (docs/push.md §1–2): POST
// /app/api/activate (unsigned: the code is the credential), GET /app/api/device, POST
// /app/api/subscription, GET /app/api/config, and GET /app/qr (the /enroll barcode as SVG).
import type { FastifyInstance } from 'fastify';
import QRCode from 'qrcode';
import { endpointAllowed, parseSubscription } from '../../channels/web-push.js';
import { ACTIVATION_CODE_PATTERN, activate, activationLink, describeDevice, isInvalidActivation, setSubscription } from '../../core/devices.js';
import { CoreError } from '../../core/errors.js';
import type { Core } from '../../core/service.js';
import { AppApiError, badRequest, deviceAuthed, hasExactKeys, isPlainObject, parseJsonBody, registerAppApi } from '../device-request.js';

const vapidPublicKey = (core: Core): string | null => core.deps.pusher?.vapidPublicKey ?? null;

/** A Web Push subscription as the browser's PushSubscription.toJSON() gives it, or null; canonical JSON text. */
function subscriptionText(core: Core, raw: unknown): string | null {
  if (raw === null) return null;
  let sub;
  try {
    sub = parseSubscription(raw);
  } catch {
    throw badRequest();
  }
  if (!endpointAllowed(sub.endpoint, core.deps.settings.pushServiceHosts)) throw badRequest();
  return JSON.stringify(sub);
}

export function registerAppDevices(app: FastifyInstance, core: Core): void {
  registerAppApi(app, core, (scope) => {
    scope.post('/app/api/activate', async (request) => {
      core.limitAddress(request.ip);
      const body = parseJsonBody(request);
      if (!isPlainObject(body) || !hasExactKeys(body, ['code', 'publicKey'], ['name'])) throw badRequest();
      try {
        const r = await activate(core.deps, { code: body['code'], publicKeyJwk: body['publicKey'], name: body['name'] });
        return { deviceId: r.deviceId, username: r.username, totp: r.totp, vapidPublicKey: vapidPublicKey(core) };
      } catch (e) {
        if (isInvalidActivation(e)) throw new AppApiError(400, 'invalid_activation');
        if (e instanceof CoreError && e.code === 'bad_request') throw badRequest();
        throw e;
      }
    });

    scope.get(
      '/app/api/device',
      deviceAuthed(core, async (_request, _reply, device) => describeDevice(core.deps, device)),
    );

    scope.post(
      '/app/api/subscription',
      deviceAuthed(core, async (request, reply, device) => {
        const text = subscriptionText(core, parseJsonBody(request));
        await setSubscription(core.deps, device, text);
        return reply.code(204).send();
      }),
    );

    scope.get('/app/api/config', async () => ({ vapidPublicKey: vapidPublicKey(core) }));

    // The activation_barcode of /auth/v2/enroll: a QR code of the activation link, for a
    // syntactically valid code only (nothing is looked up: the image reveals nothing new).
    scope.get('/app/qr', async (request, reply) => {
      core.limitAddress(request.ip);
      const q = request.query as Record<string, unknown>;
      const code = q['code'];
      if (typeof code !== 'string' || !ACTIVATION_CODE_PATTERN.test(code) || Object.keys(q).length !== 1) throw badRequest();
      const svg = await QRCode.toString(activationLink(core.deps, code), { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
      return reply
        .header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'")
        .header('x-content-type-options', 'nosniff')
        .header('referrer-policy', 'no-referrer')
        .type('image/svg+xml')
        .send(svg);
    });
  });
}
