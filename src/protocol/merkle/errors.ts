/**
 * The one error type thrown by the Merkle verifiers and provers.
 * @module
 */

/** Size in bytes of every Merkle tree hash (SHA-256, RFC 9162 §2.1.1). */
export const HASH_SIZE = 32;

/**
 * Why a Merkle proof (or a request to build one) was rejected:
 * - `INDEX_OUT_OF_RANGE`: the leaf index is not a safe non-negative integer, or lies outside the
 *   tree `[0, size)` or the subtree `[start, end)`.
 * - `SIZE_OUT_OF_RANGE`: a tree size or range bound is not a safe non-negative integer, or the
 *   sizes are out of order (`size1 > size2`, `end > size`, `start > end`), or `size1 = 0` for a
 *   consistency proof (meaningless; RFC 9162 §2.1.4 requires `0 < size1`).
 * - `INVALID_SUBTREE`: `[start, end)` is not a subtree: `start` is not a multiple of the smallest
 *   power of two ≥ `end − start`.
 * - `WRONG_PROOF_SIZE`: the proof is not an array, or has more or fewer hashes than the sizes imply.
 * - `BAD_HASH_LENGTH`: a leaf hash, proof hash, root (or a stored node) is not a 32-byte `Uint8Array`.
 * - `ROOT_MISMATCH`: the proof is well formed but the recomputed root differs from the given one.
 */
export type MerkleErrorCode =
  | 'INDEX_OUT_OF_RANGE'
  | 'SIZE_OUT_OF_RANGE'
  | 'INVALID_SUBTREE'
  | 'WRONG_PROOF_SIZE'
  | 'BAD_HASH_LENGTH'
  | 'ROOT_MISMATCH';

/** Every {@link MerkleErrorCode} with its meaning (for docs/errors.md). */
export const MerkleErrorCodes: Record<MerkleErrorCode, string> = {
  INDEX_OUT_OF_RANGE:
    'The leaf index is not a safe non-negative integer or lies outside the tree or subtree.',
  SIZE_OUT_OF_RANGE:
    'A tree size or bound is invalid or out of order (size1 > size2, or size1 = 0 for consistency).',
  INVALID_SUBTREE: '[start, end) is not a subtree (start not a multiple of the covering power of two).',
  WRONG_PROOF_SIZE: 'The proof has more or fewer hashes than the sizes imply.',
  BAD_HASH_LENGTH: 'A leaf hash, proof hash or root is not 32 bytes.',
  ROOT_MISMATCH: 'The proof is well formed but recomputes a different root.',
};

/**
 * Thrown for every rejected proof or invalid argument; switch on `code`, not on the message.
 * @example
 * try { verifyInclusion(i, n, leaf, proof, root); } catch (e) {
 *   if (e instanceof MerkleProofError && e.code === 'ROOT_MISMATCH') { ... }
 * }
 */
export class MerkleProofError extends Error {
  /** Machine-readable reason, see {@link MerkleErrorCode}. */
  readonly code: MerkleErrorCode;

  /** @param code why the proof was rejected; @param message human-readable detail. */
  constructor(code: MerkleErrorCode, message: string) {
    super(`${code}: ${message}`);
    this.name = 'MerkleProofError';
    this.code = code;
  }
}
