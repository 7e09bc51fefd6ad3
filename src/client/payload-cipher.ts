// End-to-end encryption of relayed payloads (offer, answer, candidate) with a
// shared password, so the server relays ciphertext only. Wire format: docs/CLIENT.md.

import { fromBase64Url, toBase64Url } from './base64url.js';
import { SigverClientError } from './client-error.js';
import type { RelayKind } from '../protocol/client-message.js';

/** The `enc` tag of the only format so far. */
export const CIPHER_FORMAT = 'v1';
/** PBKDF2-HMAC-SHA-256 iterations of format v1. */
export const PBKDF2_ITERATIONS = 100_000;
const SALT_BYTES = 16;
const IV_BYTES = 12;
/** Derived keys kept per salt; each peer uses one salt per client. */
const MAX_CACHED_KEYS = 64;

/** An encrypted payload as it travels: `{"enc": "v1", "salt", "iv", "ct"}`, base64url fields. */
export interface SealedPayload {
  readonly enc: typeof CIPHER_FORMAT;
  readonly salt: string;
  readonly iv: string;
  readonly ct: string;
}

/** True when `value` has the shape of a {@link SealedPayload} (of any format). */
export function looksSealed(value: unknown): value is { readonly enc: unknown } {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && Object.hasOwn(value, 'enc');
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * Seals and opens relayed payloads with AES-256-GCM under a key derived
 * from a password with PBKDF2. The associated data binds each ciphertext to
 * its kind and to the Sigver key, so the server cannot move a payload to
 * another kind or another key.
 */
export class PayloadCipher {
  readonly #password: Uint8Array<ArrayBuffer>;
  readonly #keys = new Map<string, Promise<CryptoKey>>();
  #ownSalt: string | undefined;

  constructor(password: string) {
    this.#password = new Uint8Array(encoder.encode(password));
  }

  /** Encrypts `data` (any JSON value) as a `kind` payload for key `key`. */
  async seal(kind: RelayKind, key: string, data: unknown): Promise<SealedPayload> {
    this.#ownSalt ??= toBase64Url(globalThis.crypto.getRandomValues(new Uint8Array(SALT_BYTES)));
    const salt = this.#ownSalt;
    const iv = globalThis.crypto.getRandomValues(new Uint8Array(IV_BYTES));
    const cryptoKey = await this.#keyFor(salt);
    const plaintext = new Uint8Array(encoder.encode(JSON.stringify(data ?? null)));
    const ct = await globalThis.crypto.subtle.encrypt(
      { name: 'AES-GCM', iv, additionalData: associatedData(kind, key) },
      cryptoKey,
      plaintext,
    );
    return { enc: CIPHER_FORMAT, salt, iv: toBase64Url(iv), ct: toBase64Url(new Uint8Array(ct)) };
  }

  /**
   * Decrypts a `kind` payload for key `key`. Rejects with `DECRYPT_FAILED`
   * for anything that is not a v1 sealed payload made with the same
   * password, kind and key: a plaintext payload is refused, so the server
   * cannot downgrade a session to clear text.
   */
  async open(kind: RelayKind, key: string, payload: unknown): Promise<unknown> {
    if (!looksSealed(payload))
      throw new SigverClientError('DECRYPT_FAILED', 'Expected an encrypted payload, got clear text');
    const { enc, salt, iv, ct } = payload as Partial<Record<string, unknown>>;
    if (enc !== CIPHER_FORMAT)
      throw new SigverClientError('DECRYPT_FAILED', `Unknown payload encryption format ${JSON.stringify(enc)}`);
    const ivBytes = typeof iv === 'string' ? fromBase64Url(iv) : undefined;
    const ctBytes = typeof ct === 'string' ? fromBase64Url(ct) : undefined;
    const saltBytes = typeof salt === 'string' ? fromBase64Url(salt) : undefined;
    if (ivBytes?.length !== IV_BYTES || ctBytes === undefined || saltBytes?.length !== SALT_BYTES) {
      throw new SigverClientError('DECRYPT_FAILED', 'Malformed encrypted payload');
    }
    let plaintext: ArrayBuffer;
    try {
      plaintext = await globalThis.crypto.subtle.decrypt(
        { name: 'AES-GCM', iv: ivBytes, additionalData: associatedData(kind, key) },
        await this.#keyFor(salt as string),
        ctBytes,
      );
    } catch (cause) {
      throw new SigverClientError('DECRYPT_FAILED', undefined, { cause });
    }
    try {
      return JSON.parse(decoder.decode(plaintext)) as unknown;
    } catch (cause) {
      throw new SigverClientError('DECRYPT_FAILED', 'Decrypted payload is not JSON', { cause });
    }
  }

  #keyFor(salt: string): Promise<CryptoKey> {
    let key = this.#keys.get(salt);
    if (key === undefined) {
      // A peer could send many salts; bound the cache (oldest first out).
      if (this.#keys.size >= MAX_CACHED_KEYS) {
        const oldest = this.#keys.keys().next().value;
        if (oldest !== undefined && oldest !== this.#ownSalt) this.#keys.delete(oldest);
      }
      key = deriveKey(this.#password, fromBase64Url(salt) ?? new Uint8Array());
      this.#keys.set(salt, key);
    }
    return key;
  }
}

async function deriveKey(password: Uint8Array<ArrayBuffer>, salt: Uint8Array<ArrayBuffer>): Promise<CryptoKey> {
  const material = await globalThis.crypto.subtle.importKey('raw', password, 'PBKDF2', false, ['deriveKey']);
  return globalThis.crypto.subtle.deriveKey(
    { name: 'PBKDF2', hash: 'SHA-256', salt, iterations: PBKDF2_ITERATIONS },
    material,
    { name: 'AES-GCM', length: 256 },
    false,
    ['encrypt', 'decrypt'],
  );
}

/** `["sigver-e2e","v1",kind,key]` as UTF-8 JSON: unambiguous for any key text. */
function associatedData(kind: RelayKind, key: string): Uint8Array<ArrayBuffer> {
  return new Uint8Array(encoder.encode(JSON.stringify(['sigver-e2e', CIPHER_FORMAT, kind, key])));
}
