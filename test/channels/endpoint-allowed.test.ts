import { describe, expect, it } from 'vitest';
import { endpointAllowed } from '../../src/channels/web-push.js';

const HOSTS = ['fcm.googleapis.com', '*.push.apple.com', '127.0.0.1'];

describe('endpointAllowed', () => {
  it('accepts listed hosts and subdomains of *. patterns', () => {
    expect(endpointAllowed('https://fcm.googleapis.com/fcm/send/x', HOSTS)).toBe(true);
    expect(endpointAllowed('https://web.push.apple.com/QO', HOSTS)).toBe(true);
    expect(endpointAllowed('https://127.0.0.1:8443/push/1', HOSTS)).toBe(true);
  });

  it('refuses everything else', () => {
    for (const e of [
      'https://push.apple.com/x', // the bare domain is not a subdomain
      'https://evilpush.apple.com.attacker.example/x',
      'https://fcm.googleapis.com.attacker.example/x',
      'https://xfcm.googleapis.com/x',
      'https://169.254.169.254/latest',
      'https://localhost/x',
      'not a url',
    ]) expect(endpointAllowed(e, HOSTS), e).toBe(false);
  });
});
