// The device's keys and registration in IndexedDB. CryptoKeys are stored as CryptoKeys
// (structured clone keeps them non-extractable): the ECDSA private key and the TOTP HMAC key never
// exist as bytes the page could read.
import type { DeviceRecord } from './types.js';

const DB_NAME = 'tandem-authenticator';
const STORE = 'kv';

export interface Registration {
  device: DeviceRecord;
  keys: CryptoKeyPair;
  totpKey: CryptoKey;
}

function open(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(DB_NAME, 1);
    req.onupgradeneeded = () => {
      if (!req.result.objectStoreNames.contains(STORE)) req.result.createObjectStore(STORE);
    };
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error ?? new Error('IndexedDB unavailable'));
    req.onblocked = () => reject(new Error('IndexedDB is blocked by another tab'));
  });
}

async function run<T>(mode: IDBTransactionMode, work: (store: IDBObjectStore) => IDBRequest<T> | void): Promise<T | undefined> {
  const db = await open();
  try {
    return await new Promise<T | undefined>((resolve, reject) => {
      const tx = db.transaction(STORE, mode);
      const req = work(tx.objectStore(STORE));
      tx.oncomplete = () => resolve(req ? req.result : undefined);
      tx.onerror = () => reject(tx.error ?? new Error('IndexedDB transaction failed'));
      tx.onabort = () => reject(tx.error ?? new Error('IndexedDB transaction aborted'));
    });
  } finally {
    db.close();
  }
}

/** Keeps a freshly generated key pair before activation is attempted. */
export async function savePendingKeys(keys: CryptoKeyPair): Promise<void> {
  await run('readwrite', (s) => void s.put(keys, 'pendingKeys'));
}

/** Commits an activation: the registration replaces any earlier one, in one transaction. */
export async function saveRegistration(r: Registration): Promise<void> {
  await run('readwrite', (s) => {
    s.put(r.keys, 'keys');
    s.put(r.totpKey, 'totpKey');
    s.put(r.device, 'device');
    s.delete('pendingKeys');
  });
}

export async function loadRegistration(): Promise<Registration | null> {
  const db = await open();
  try {
    return await new Promise<Registration | null>((resolve, reject) => {
      const tx = db.transaction(STORE, 'readonly');
      const s = tx.objectStore(STORE);
      const device = s.get('device');
      const keys = s.get('keys');
      const totpKey = s.get('totpKey');
      tx.oncomplete = () => {
        const d = device.result as DeviceRecord | undefined;
        const k = keys.result as CryptoKeyPair | undefined;
        const t = totpKey.result as CryptoKey | undefined;
        resolve(d && k && t ? { device: d, keys: k, totpKey: t } : null);
      };
      tx.onerror = () => reject(tx.error ?? new Error('IndexedDB transaction failed'));
    });
  } finally {
    db.close();
  }
}

/** Forgets the registration and every key (only on the user's explicit request). */
export async function clearAll(): Promise<void> {
  await run('readwrite', (s) => void s.clear());
}
