/**
 * Internal helpers shared by the Merkle files: exact integer arithmetic on JS numbers (no 32-bit
 * bitwise operators, so every safe integer up to 2^53 − 1 works) and input validation that throws
 * only {@link MerkleProofError}. Not re-exported from `index.ts`.
 * @module
 */
import { constantTimeEqual } from '../bytes.js';
import { sha256 } from '../hash.js';
import type { Sha256 } from '../hash.js';
import { HASH_SIZE, MerkleProofError } from './errors.js';
import type { MerkleErrorCode } from './errors.js';

/** `floor(x / 2)`, i.e. a one-bit right shift that is exact for every safe integer. */
export function half(x: number): number {
  return Math.floor(x / 2);
}

/** True when the least significant bit of the non-negative integer `x` is set. */
export function isOdd(x: number): boolean {
  return x % 2 === 1;
}

/** `2 ** level` as an exact number (levels never exceed 53 here). */
export function pow2(level: number): number {
  return 2 ** level;
}

/**
 * A fresh plain `Uint8Array` copy of `b`. (`b.slice()` is not enough: on a Node `Buffer` — which an
 * injected hash may return — `slice` makes a view that shares memory.)
 */
export function copyBytes(b: Uint8Array): Uint8Array {
  return new Uint8Array(b);
}

/** `b` itself if it is a plain `Uint8Array`, else a plain copy (normalises e.g. a `Buffer` digest). */
export function plainBytes(b: Uint8Array): Uint8Array {
  return Object.getPrototypeOf(b) === Uint8Array.prototype ? b : new Uint8Array(b);
}

/** Number of trailing zero bits of the positive integer `x`. */
export function trailingZeros(x: number): number {
  let n = 0;
  while (x % 2 === 0) {
    x /= 2;
    n++;
  }
  return n;
}

/** True when the positive integer `x` is an exact power of two. */
export function isPowerOfTwo(x: number): boolean {
  return x > 0 && x === pow2(trailingZeros(x));
}

/**
 * Height of the lowest common ancestor of leaves `a` and `b` (the bit length of `a XOR b`): the
 * number of one-bit right shifts after which both are equal.
 */
export function commonAncestorLevel(a: number, b: number): number {
  let n = 0;
  while (a !== b) {
    a = half(a);
    b = half(b);
    n++;
  }
  return n;
}

/** Smallest power of two ≥ `n` (1 for n ≤ 1). */
export function bitCeil(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

/** Throws `code` unless `x` is a safe non-negative integer (rejects NaN, fractions, -1, 2^64 …). */
export function checkCount(x: unknown, code: MerkleErrorCode, what: string): asserts x is number {
  if (typeof x !== 'number' || !Number.isSafeInteger(x) || x < 0) {
    throw new MerkleProofError(code, `${what} must be a safe non-negative integer, got ${String(x)}`);
  }
}

/** Throws `BAD_HASH_LENGTH` unless `h` is a `Uint8Array` of exactly 32 bytes. */
export function checkHash(h: unknown, what: string): asserts h is Uint8Array {
  if (!(h instanceof Uint8Array) || h.length !== HASH_SIZE) {
    const got = h instanceof Uint8Array ? `${h.length} bytes` : typeof h;
    throw new MerkleProofError('BAD_HASH_LENGTH', `${what} must be ${HASH_SIZE} bytes, got ${got}`);
  }
}

/**
 * Throws `WRONG_PROOF_SIZE` unless `proof` is an array of exactly `want` entries, then
 * `BAD_HASH_LENGTH` unless every entry is a 32-byte `Uint8Array`.
 */
export function checkProof(proof: unknown, want: number): asserts proof is Uint8Array[] {
  if (!Array.isArray(proof)) throw new MerkleProofError('WRONG_PROOF_SIZE', 'proof must be an array');
  if (proof.length !== want) {
    throw new MerkleProofError('WRONG_PROOF_SIZE', `wrong proof size ${proof.length}, want ${want}`);
  }
  for (let i = 0; i < proof.length; i++) checkHash(proof[i], `proof[${i}]`);
}

const EMPTY_ROOT_PRIVATE = copyBytes(sha256(new Uint8Array(0)));

/**
 * A fresh copy of `MTH({}) = HASH("")` under `hash` (RFC 9162 §2.1.1), cached for the default hash.
 */
export function emptyRootFor(hash: Sha256): Uint8Array {
  return copyBytes(hash === sha256 ? EMPTY_ROOT_PRIVATE : hash(new Uint8Array(0)));
}

/** Throws `BAD_HASH_LENGTH` unless both are byte arrays, then `ROOT_MISMATCH` unless equal. */
export function assertSameRoot(a: unknown, b: unknown, what: string): void {
  if (!(a instanceof Uint8Array) || !(b instanceof Uint8Array)) {
    throw new MerkleProofError('BAD_HASH_LENGTH', `${what}: roots must be byte arrays`);
  }
  if (!constantTimeEqual(a, b)) throw new MerkleProofError('ROOT_MISMATCH', `${what}: roots differ`);
}
