/**
 * Native (OpenSSL, via node:crypto) SHA-256 and Ed25519 signing for the node's hot paths. Same
 * outputs as the protocol layer's pure-JS versions (tests cross-check), several times faster.
 * @module
 */
import { createPrivateKey, hash as nodeHash, sign as nodeSign, type KeyObject } from 'node:crypto';
import { toBase64Url } from '../../protocol/bytes.js';
import { publicKeyOf } from '../../protocol/ed25519.js';
import type { Sha256 } from '../../protocol/hash.js';

/** Native one-shot SHA-256. */
export const nativeSha256: Sha256 = (data) => nodeHash('sha256', data, 'buffer');

/** A signing function bound to one private key. */
export type Signer = (message: Uint8Array) => Uint8Array;

/** Ed25519 signer over a 32-byte seed using OpenSSL (deterministic, RFC 8032). */
export function nativeSigner(seed: Uint8Array): Signer {
  const key: KeyObject = createPrivateKey({
    key: { kty: 'OKP', crv: 'Ed25519', d: toBase64Url(seed), x: toBase64Url(publicKeyOf(seed)) },
    format: 'jwk',
  });
  return (message) => nodeSign(null, message, key);
}
