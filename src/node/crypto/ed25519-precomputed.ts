/**
 * The node's fast Ed25519 verifier: a small native addon (`native/ed25519/verify.c`, built by
 * `scripts/build-native.mjs` into `build/native/`) that keeps a precomputed table per public
 * key, so a verification is 128 table additions instead of libsodium's ~253 doublings plus
 * additions (ADR 0010). Its accept/reject rules are libsodium's, bit for bit; the tests
 * cross-check it against libsodium on every Wycheproof vector, the small- and mixed-order edge
 * cases and random tampering.
 *
 * Optional: if the addon was not built (no C compiler), {@link precomputedVerifier} is
 * `undefined` and callers use libsodium ({@link verifySodium}) with the same results.
 * @module
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { PUBLIC_KEY_LENGTH, SIGNATURE_LENGTH } from '../../protocol/ed25519.js';
import type { Ed25519Verify } from '../../protocol/ed25519.js';

/** What the addon exports (it ships no type declarations). */
export interface PrecomputedVerifier {
  /** libsodium `crypto_sign_verify_detached` rules; false (never throws) for wrong lengths. */
  verify(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean;
  /**
   * Verifies a verify-pool chunk (layout in verify-pool.worker.ts); one flag byte per item.
   * Throws `RangeError` for a malformed chunk.
   */
  verifyPacked(chunk: ArrayBuffer | Uint8Array): Uint8Array<ArrayBuffer>;
  /** Encoding of [scalar]B for a 32-byte little-endian scalar below 2^255 (tests the tables). */
  scalarMultBase(scalar: Uint8Array): Uint8Array;
  /** This thread's key-table cache: lookups answered from it and tables built. */
  cacheStats(): { hits: number; misses: number };
}

/** Where the build puts the addon: `build/native/` at the package root (from src/ or dist/). */
const ADDON_PATH = fileURLToPath(new URL('../../../build/native/hl_ed25519.node', import.meta.url));

function load(): PrecomputedVerifier | undefined {
  if (process.env['HEALTHLEDGER_ED25519'] === 'sodium' || !existsSync(ADDON_PATH)) return undefined;
  return createRequire(import.meta.url)(ADDON_PATH) as PrecomputedVerifier;
}

/**
 * The addon for this thread (each worker thread loads its own instance and key cache), or
 * `undefined` if it is not built or `HEALTHLEDGER_ED25519=sodium` asks for libsodium.
 *
 * @example precomputedVerifier?.verify(signature, message, publicKey) // true | false
 */
export const precomputedVerifier: PrecomputedVerifier | undefined = load();

/** Which verifier this process uses, for logs and metrics. */
export const ed25519Backend: 'precomputed' | 'libsodium' = precomputedVerifier ? 'precomputed' : 'libsodium';

/**
 * {@link Ed25519Verify} over the addon, or `undefined` without it.
 *
 * @example verifyPrecomputed?.(sig, message, publicKey)
 */
export const verifyPrecomputed: Ed25519Verify | undefined = precomputedVerifier
  ? (signature, message, publicKey) =>
      signature.length === SIGNATURE_LENGTH &&
      publicKey.length === PUBLIC_KEY_LENGTH &&
      precomputedVerifier.verify(signature, message, publicKey)
  : undefined;
