/**
 * Ed25519 (RFC 8032) for the browser-safe layer. Verification is strict RFC 8032 §5.1.7
 * (cofactorless, canonical S < L, canonical encodings; `zip215: false`), the same accept/reject
 * rules as the node's native verifiers: all of them pass every Wycheproof ed25519 vector.
 * @module
 */
import { ed25519 } from '@noble/curves/ed25519.js';

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
  try {
    return ed25519.verify(signature, message, publicKey, { zip215: false });
  } catch {
    return false;
  }
}

/** A verifier with the same rules as {@link verify}: lets the node plug in a native one. */
export type Ed25519Verify = (signature: Uint8Array, message: Uint8Array, publicKey: PublicKey) => boolean;
