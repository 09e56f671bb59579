// What core/ needs from the outside world, passed in so tests can fix time and randomness.
import type { Store } from '../store/contract.js';
import type { Settings } from '../config/settings.js';
import type { Keyring } from './keyring.js';

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
}

export interface Random {
  bytes(n: number): Buffer;
}

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

/** Web Push delivery to the Tandem Authenticator (absent: the live channel alone). */
export interface DevicePusher {
  /** The VAPID public key (base64url) the app subscribes with. */
  readonly vapidPublicKey: string;
  /**
   * Deliver `payload` to one stored subscription (its JSON text). Never throws: 'gone' means the
   * push service no longer knows the subscription and it should be dropped.
   */
  send(subscription: string, payload: object, ttlSeconds: number): Promise<'sent' | 'gone' | 'failed'>;
}

export interface Deps {
  store: Store;
  settings: Settings;
  keyring: Keyring;
  clock: Clock;
  random: Random;
  log: Logger;
  pusher?: DevicePusher;
  /** Who is acting, recorded in admin audit entries (a console admin's name; absent: the CLI). */
  actor?: string;
}
