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

export interface Deps {
  store: Store;
  settings: Settings;
  keyring: Keyring;
  clock: Clock;
  random: Random;
  log: Logger;
}
