/**
 * Ed25519 (RFC 8032) for the browser-safe layer.
 *
 * Verification follows libsodium's rules exactly, so a browser and every node accept the same
 * signatures (a difference would be a consensus split): S canonical (S < L, RFC 8032 §5.1.7),
 * A canonical and not of small order, R not of small order, and the cofactorless equation
 * checked by encoding: R == encode([S]B − [k]A). noble's own `verify` uses the cofactored
 * equation, which accepts small-order R and mixed-order keys that libsodium rejects, so only
 * its point arithmetic is used here. All verifiers pass every Wycheproof ed25519 vector and
 * agree on the small-order and mixed-order cases (src/node/crypto/ed25519-native.test.ts).
 * @module
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { sha512 } from '@noble/hashes/sha2.js';
import { concatBytes } from './bytes.js';

const Point = ed25519.Point;
const L = Point.Fn.ORDER;

function leToBigint(bytes: Uint8Array): bigint {
  let n = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(bytes[i]!);
  return n;
}

/** A 32-byte Ed25519 private key seed (RFC 8032 §5.1.5). */
export type PrivateKey = Uint8Array;
/** A 32-byte encoded Ed25519 public key. */
export type PublicKey = Uint8Array;

export const PUBLIC_KEY_LENGTH = 32;
export const SIGNATURE_LENGTH = 64;

/** A fresh key pair from the platform CSPRNG. @example const { privateKey, publicKey } = generateKeyPair() */
export function generateKeyPair(): { privateKey: PrivateKey; publicKey: PublicKey } {
  const privateKey = ed25519.utils.randomSecretKey();
  return { privateKey, publicKey: ed25519.getPublicKey(privateKey) };
}

/** The public key of a 32-byte seed. */
export function publicKeyOf(privateKey: PrivateKey): PublicKey {
  return ed25519.getPublicKey(privateKey);
}

/** Signs `message` (pure Ed25519, no prehash). Deterministic per RFC 8032. */
export function sign(message: Uint8Array, privateKey: PrivateKey): Uint8Array {
  return ed25519.sign(message, privateKey);
}

/**
 * Strict RFC 8032 verification. Returns false (never throws) for a wrong-length key or
 * signature, a non-canonical or off-curve point, S ≥ L, or a signature that does not verify.
 */
export function verify(signature: Uint8Array, message: Uint8Array, publicKey: PublicKey): boolean {
  if (signature.length !== SIGNATURE_LENGTH || publicKey.length !== PUBLIC_KEY_LENGTH) return false;
  const rBytes = signature.subarray(0, 32);
  const s = leToBigint(signature.subarray(32, 64));
  if (s >= L) return false; // RFC 8032 §5.1.7: reject non-canonical S (malleability)
  try {
    const A = Point.fromBytes(publicKey, false); // strict: y < p, on the curve
    if (A.isSmallOrder()) return false;
    const R = Point.fromBytes(rBytes, false);
    if (R.isSmallOrder()) return false;
    const k = leToBigint(sha512(concatBytes(rBytes, publicKey, message))) % L;
    const check = Point.BASE.multiplyUnsafe(s).subtract(A.multiplyUnsafe(k));
    const encoded = check.toBytes();
    let diff = 0;
    for (let i = 0; i < 32; i++) diff |= encoded[i]! ^ rBytes[i]!;
    return diff === 0;
  } catch {
    return false;
  }
}

/** A verifier with the same rules as {@link verify}: lets the node plug in a native one. */
export type Ed25519Verify = (signature: Uint8Array, message: Uint8Array, publicKey: PublicKey) => boolean;
