/**
 * The custodian's hot path with native AES-256-GCM (OpenSSL, synchronous): the same format as
 * the browser-safe `wrapKey`/`unwrapKey` in protocol/envelope.ts — base64url(nonce(12) ‖ ct(32)
 * ‖ tag(16)) — without WebCrypto's per-call asynchronous round trip. A test checks both agree.
 * @module
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { fromBase64Url, toBase64Url } from '../../../protocol/bytes.js';
import { EnvelopeError } from '../../../protocol/envelope.js';

/** Native equivalent of envelope `wrapKey`. */
export function wrapKeyNative(kek: Uint8Array, key: Uint8Array, aad: Uint8Array): string {
  const nonce = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', kek, nonce);
  c.setAAD(aad);
  const ct = Buffer.concat([c.update(key), c.final()]);
  return toBase64Url(Buffer.concat([nonce, ct, c.getAuthTag()]));
}

/** Native equivalent of envelope `unwrapKey`; `DECRYPT_FAILED` on any mismatch. */
export function unwrapKeyNative(kek: Uint8Array, wrapped: string, aad: Uint8Array): Uint8Array {
  let bytes: Uint8Array;
  try {
    bytes = fromBase64Url(wrapped);
  } catch {
    throw new EnvelopeError('MALFORMED_ENVELOPE', 'wrapped key is not base64url');
  }
  if (bytes.length !== 12 + 32 + 16)
    throw new EnvelopeError('MALFORMED_ENVELOPE', 'wrapped key has the wrong length');
  try {
    const d = createDecipheriv('aes-256-gcm', kek, bytes.subarray(0, 12));
    d.setAAD(aad);
    d.setAuthTag(bytes.subarray(44));
    return new Uint8Array(Buffer.concat([d.update(bytes.subarray(12, 44)), d.final()]));
  } catch {
    throw new EnvelopeError('DECRYPT_FAILED');
  }
}
