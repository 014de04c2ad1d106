/**
 * Native Ed25519 for the node: libsodium (via sodium-native) is the fast path and the reference
 * for the node's accept/reject rules; node:crypto (OpenSSL) is a second, independent
 * implementation. Rules (RFC 8032 §5.1.7 plus libsodium's hardening): exact lengths, S < L,
 * canonical A, A and R not of small order, cofactorless equation [S]B = R + [k]A.
 *
 * OpenSSL alone accepts small-order A/R (e.g. A = identity, R = identity, S = 0 "verifies" for
 * every message), so {@link verifyNodeCrypto} applies libsodium's checks before calling it.
 * All three verifiers (these two and the protocol's noble `verify`) pass every Wycheproof
 * ed25519 vector, but see ed25519-native.test.ts for edge cases outside Wycheproof where the
 * protocol's cofactored noble verifier still differs (mixed-order keys, small-order R).
 * @module
 */
import { createPublicKey, verify as cryptoVerify } from 'node:crypto';
import { createRequire } from 'node:module';
import { fromHex, toBase64Url } from '../../protocol/bytes.js';
import { PUBLIC_KEY_LENGTH, SIGNATURE_LENGTH } from '../../protocol/ed25519.js';
import type { Ed25519Verify } from '../../protocol/ed25519.js';

/** The slice of the sodium-native API used here (the package ships no type declarations). */
interface SodiumSign {
  crypto_sign_verify_detached(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean;
  crypto_sign_seed_keypair(publicKey: Uint8Array, secretKey: Uint8Array, seed: Uint8Array): void;
  crypto_sign_detached(signature: Uint8Array, message: Uint8Array, secretKey: Uint8Array): void;
  sodium_memzero(buffer: Uint8Array): void;
}

// CommonJS addon; loaded through require so the missing typings stay confined to this interface.
const sodium = createRequire(import.meta.url)('sodium-native') as SodiumSign;

/** RFC 8032 §5.1.5: the 32-byte seed is the private key. */
const SEED_LENGTH = 32;
/** libsodium's expanded secret key: seed || public key. */
const SODIUM_SECRET_KEY_LENGTH = 64;

/**
 * The y-coordinates (little-endian, sign bit clear) of every point of order 1, 2, 4 or 8,
 * including the non-canonical encodings y = p and y = p + 1: libsodium's
 * `ge25519_has_small_order` blocklist, so this layer rejects exactly what libsodium rejects.
 */
const SMALL_ORDER_Y: readonly Uint8Array[] = [
  '0000000000000000000000000000000000000000000000000000000000000000', // y = 0 (order 4)
  '0100000000000000000000000000000000000000000000000000000000000000', // y = 1 (identity)
  '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05', // order 8
  'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a', // order 8
  'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f', // y = p - 1 (order 2)
  'edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f', // y = p ≡ 0 (order 4)
  'eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f', // y = p + 1 ≡ 1 (identity)
].map(fromHex);

/**
 * True if `point` encodes a point of small order (1, 2, 4 or 8), whatever its sign bit and
 * including non-canonical encodings. Such a public key or R lets one signature verify for many
 * messages or keys; libsodium rejects them, RFC 8032 does not mention them, OpenSSL accepts them.
 *
 * @example isSmallOrderEncoding(fromHex('01' + '00'.repeat(31))) // true (the identity)
 */
export function isSmallOrderEncoding(point: Uint8Array): boolean {
  if (point.length !== 32) return false;
  next: for (const y of SMALL_ORDER_Y) {
    for (let i = 0; i < 31; i++) if (point[i] !== y[i]) continue next;
    if ((point[31]! & 0x7f) === y[31]) return true;
  }
  return false;
}

/**
 * True if the y-coordinate of `point` is fully reduced (y < p = 2^255 - 19), RFC 8032 §5.1.3
 * step 1. Non-canonical y is 0x7fff…ff(ed..ff) with the sign bit masked.
 */
export function isCanonicalPointEncoding(point: Uint8Array): boolean {
  if (point.length !== 32) return false;
  if ((point[31]! & 0x7f) !== 0x7f) return true;
  for (let i = 30; i > 0; i--) if (point[i] !== 0xff) return true;
  return point[0]! < 0xed;
}

/**
 * libsodium `crypto_sign_verify_detached`. Lengths are checked first because sodium-native only
 * asserts a *minimum* signature length (a 65-byte "signature with garbage" would otherwise be
 * truncated and accepted) and throws on short input. Never throws.
 *
 * @example verifySodium(sig, message, publicKey) // true | false
 */
export const verifySodium: Ed25519Verify = (signature, message, publicKey) => {
  if (signature.length !== SIGNATURE_LENGTH || publicKey.length !== PUBLIC_KEY_LENGTH) return false;
  try {
    return sodium.crypto_sign_verify_detached(signature, message, publicKey);
  } catch {
    return false;
  }
};

/**
 * node:crypto (OpenSSL) verification: imports the raw key as a JWK `{kty:'OKP',crv:'Ed25519',x}`
 * (RFC 8037 §2) and calls `crypto.verify(null, …)` (Ed25519 takes no separate digest). Invalid
 * keys or signatures return false; never throws. Slower than {@link verifySodium} (a KeyObject
 * per call); kept as an independent cross-check.
 *
 * Before OpenSSL runs, applies the libsodium checks OpenSSL lacks: canonical A, and neither A
 * nor R of small order. Without them OpenSSL accepts signatures libsodium rejects (consensus
 * split), e.g. A = R = identity, S = 0 for any message.
 */
export const verifyNodeCrypto: Ed25519Verify = (signature, message, publicKey) => {
  if (signature.length !== SIGNATURE_LENGTH || publicKey.length !== PUBLIC_KEY_LENGTH) return false;
  if (!isCanonicalPointEncoding(publicKey) || isSmallOrderEncoding(publicKey)) return false;
  if (isSmallOrderEncoding(signature.subarray(0, 32))) return false;
  try {
    const key = createPublicKey({
      key: { kty: 'OKP', crv: 'Ed25519', x: toBase64Url(publicKey) },
      format: 'jwk',
    });
    return cryptoVerify(null, message, key, signature);
  } catch {
    return false;
  }
};

/**
 * Signs `message` with the 32-byte RFC 8032 seed using libsodium. Deterministic (§5.1.6), so the
 * result is byte-identical to the protocol's pure-JS `sign`. The expanded secret key is wiped
 * after use. Throws `TypeError` for a seed that is not 32 bytes.
 *
 * @example const sig = signNative(utf8('hello'), seed) // 64-byte Uint8Array
 */
export function signNative(message: Uint8Array, seed32: Uint8Array): Uint8Array {
  if (seed32.length !== SEED_LENGTH) throw new TypeError(`Ed25519 seed must be ${SEED_LENGTH} bytes`);
  const publicKey = new Uint8Array(PUBLIC_KEY_LENGTH);
  const secretKey = new Uint8Array(SODIUM_SECRET_KEY_LENGTH);
  const signature = new Uint8Array(SIGNATURE_LENGTH);
  try {
    sodium.crypto_sign_seed_keypair(publicKey, secretKey, seed32);
    sodium.crypto_sign_detached(signature, message, secretKey);
  } finally {
    sodium.sodium_memzero(secretKey);
  }
  return signature;
}
