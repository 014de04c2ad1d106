/**
 * Subtree inclusion and consistency proofs: the generalisation of RFC 9162 §2.1.3 / §2.1.4 proofs
 * from a tree prefix `[0, m)` to any *subtree* `[start, end)` (draft-ietf-plants-merkle-tree-certs,
 * as implemented by transparency-dev/merkle `VerifySubtreeInclusion` / `VerifySubtreeConsistency`).
 *
 * `[start, end)` is a subtree when `start` is a multiple of the smallest power of two ≥ `end − start`:
 * its leaves then form the left part of one node of the full tree, and its hash is simply
 * `MTH(D[start:end])`. `[0, m)` is always a subtree, so these functions also cover the RFC cases.
 * Same attacker model as `rfc9162.ts`: every bound, length and hash size is checked before hashing.
 * @module
 */
import { constantTimeEqual } from '../bytes.js';
import { sha256 } from '../hash.js';
import type { Sha256 } from '../hash.js';
import { MerkleProofError } from './errors.js';
import {
  assertSameRoot,
  bitCeil,
  checkCount,
  checkHash,
  checkProof,
  commonAncestorLevel,
  emptyRootFor,
  half,
  isOdd,
  isPowerOfTwo,
  pow2,
  trailingZeros,
} from './internal.js';
import { nodeHash, rootFromInclusionProof } from './rfc9162.js';

/**
 * True when `[start, end)` is a valid subtree: `start ≤ end` and either `start = 0`, `start = end`
 * (the empty subtree), or `start` is a multiple of the smallest power of two ≥ `end − start`.
 * Arguments that are not safe non-negative integers give `false`.
 * @example isValidSubtree(8, 13) // true;  isValidSubtree(2, 5) // false
 */
export function isValidSubtree(start: number, end: number): boolean {
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || start > end) return false;
  if (start === 0 || start === end) return true;
  return start % bitCeil(end - start) === 0;
}

function checkRange(start: number, end: number): void {
  checkCount(start, 'SIZE_OUT_OF_RANGE', 'subtree start');
  checkCount(end, 'SIZE_OUT_OF_RANGE', 'subtree end');
  if (start > end) throw new MerkleProofError('SIZE_OUT_OF_RANGE', `subtree start ${start} > end ${end}`);
  if (!isValidSubtree(start, end)) {
    throw new MerkleProofError('INVALID_SUBTREE', `[${start}, ${end}) is not a subtree`);
  }
}

/**
 * Recomputes the hash of subtree `[start, end)` from the hash of leaf `index` (start ≤ index < end)
 * and its subtree inclusion proof. Because a valid subtree hashes like a standalone tree, this is
 * the RFC 9162 §2.1.3.2 computation for leaf `index − start` of a tree of `end − start` leaves.
 * @throws MerkleProofError `SIZE_OUT_OF_RANGE`, `INVALID_SUBTREE`, `INDEX_OUT_OF_RANGE`,
 *   `BAD_HASH_LENGTH`, `WRONG_PROOF_SIZE`
 * @example rootFromSubtreeInclusionProof(9, 8, 16, leafHash(entry9), proof) // MTH(D[8:16])
 */
export function rootFromSubtreeInclusionProof(
  index: number,
  start: number,
  end: number,
  leafHash: Uint8Array,
  proof: Uint8Array[],
  hash: Sha256 = sha256,
): Uint8Array {
  checkRange(start, end);
  checkCount(index, 'INDEX_OUT_OF_RANGE', 'leaf index');
  if (index < start || index >= end) {
    throw new MerkleProofError(
      'INDEX_OUT_OF_RANGE',
      `leaf index ${index} outside subtree [${start}, ${end})`,
    );
  }
  return rootFromInclusionProof(index - start, end - start, leafHash, proof, hash);
}

/**
 * Verifies that `leafHash` is leaf `index` of subtree `[start, end)` whose hash is `root`.
 * @throws MerkleProofError `SIZE_OUT_OF_RANGE`, `INVALID_SUBTREE`, `INDEX_OUT_OF_RANGE`,
 *   `BAD_HASH_LENGTH`, `WRONG_PROOF_SIZE`, `ROOT_MISMATCH`
 * @example verifySubtreeInclusion(9, 8, 16, leafHash(entry9), proof, subtreeRoot);
 */
export function verifySubtreeInclusion(
  index: number,
  start: number,
  end: number,
  leafHash: Uint8Array,
  proof: Uint8Array[],
  root: Uint8Array,
  hash: Sha256 = sha256,
): void {
  checkHash(root, 'subtree root');
  const computed = rootFromSubtreeInclusionProof(index, start, end, leafHash, proof, hash);
  if (!constantTimeEqual(computed, root)) {
    throw new MerkleProofError(
      'ROOT_MISMATCH',
      `inclusion proof for leaf ${index} of [${start}, ${end}) fails`,
    );
  }
}

/**
 * Verifies that subtree `[start, end)` with hash `root1` is part of the tree of `size` leaves with
 * root `root2`. Generalises RFC 9162 §2.1.4.2 (which is the case `start = 0`, `end = size1`).
 *
 * Proof layout (lowest level first): if `end < size` and the subtree is not perfect, first the
 * hash of the largest perfect node ending at `end`; then, walking up from that node (or from the
 * subtree's root node when `end = size`), each sibling hash: left siblings (which, below the
 * subtree root's level, lie inside the subtree and so also rebuild `root1`) and right siblings
 * (which lie beyond `end` and only rebuild `root2`). Levels where the path has no sibling
 * (right border of a non-perfect tree) contribute nothing.
 *
 * Edge rules, matching transparency-dev/merkle and its vectors:
 * - `start = end` (empty subtree): the proof must be empty and `root1` must be the empty-tree hash
 *   `SHA-256("")`; `root2` is not examined (the empty range is part of every tree).
 * - `start = 0`, `end = size`: the proof must be empty and `root1` must equal `root2` (byte
 *   equality; nothing is hashed, so the 32-byte rule is not applied).
 * @throws MerkleProofError `SIZE_OUT_OF_RANGE`, `INVALID_SUBTREE`, `BAD_HASH_LENGTH`,
 *   `WRONG_PROOF_SIZE`, `ROOT_MISMATCH`
 * @example verifySubtreeConsistency(8, 13, 20, proof, subtreeRoot, checkpointRoot);
 */
export function verifySubtreeConsistency(
  start: number,
  end: number,
  size: number,
  proof: Uint8Array[],
  root1: Uint8Array,
  root2: Uint8Array,
  hash: Sha256 = sha256,
): void {
  checkRange(start, end);
  checkCount(size, 'SIZE_OUT_OF_RANGE', 'tree size');
  if (end > size) throw new MerkleProofError('SIZE_OUT_OF_RANGE', `subtree end ${end} > tree size ${size}`);

  if (start === end) {
    checkProof(proof, 0);
    checkHash(root1, 'subtree root');
    if (!constantTimeEqual(root1, emptyRootFor(hash))) {
      throw new MerkleProofError('ROOT_MISMATCH', 'an empty subtree must have the empty-tree hash');
    }
    return;
  }
  if (start === 0 && end === size) {
    checkProof(proof, 0);
    assertSameRoot(root1, root2, 'subtree equals the tree');
    return;
  }
  checkHash(root1, 'subtree root');
  checkHash(root2, 'tree root');

  // Level of the subtree's root node: below it, left siblings on the path are inside the subtree.
  const rootLevel = commonAncestorLevel(start, end - 1);
  let level: number;
  let fn: number;
  let seeded: boolean; // true: the first proof hash is the starting node; false: start from root1
  if (end === size) {
    // The subtree's root node is on the tree's right border: start from it, only left siblings follow.
    level = rootLevel;
    fn = start / pow2(level);
    seeded = false;
  } else {
    // Start from the largest perfect node ending at `end`; it is the subtree root itself when the
    // subtree is perfect (then the verifier already holds its hash, root1).
    level = trailingZeros(end - start);
    fn = Math.floor((end - 1) / pow2(level));
    seeded = !isPowerOfTwo(end - start);
  }
  let sn = Math.floor((size - 1) / pow2(level));

  // Exact proof length, computed before any hashing.
  let want = seeded ? 1 : 0;
  for (let f = fn, s = sn; s > 0; f = half(f), s = half(s)) if (isOdd(f) || f < s) want++;
  checkProof(proof, want);

  let i = 0;
  let fr = seeded ? proof[i++]! : root1;
  let sr = fr;
  for (; sn > 0; fn = half(fn), sn = half(sn), level++) {
    if (isOdd(fn)) {
      const c = proof[i++]!;
      if (level < rootLevel) fr = nodeHash(c, fr, hash);
      sr = nodeHash(c, sr, hash);
    } else if (fn < sn) {
      sr = nodeHash(sr, proof[i++]!, hash);
    }
  }
  const ok1 = constantTimeEqual(fr, root1);
  const ok2 = constantTimeEqual(sr, root2);
  if (!(ok1 && ok2)) {
    throw new MerkleProofError(
      'ROOT_MISMATCH',
      `subtree [${start}, ${end}) is not consistent with tree ${size}`,
    );
  }
}
