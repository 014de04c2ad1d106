/**
 * RFC 9162 (Certificate Transparency v2) Merkle tree hashing and proof verification.
 *
 * Every verifier here assumes the proof, the sizes and the roots come from an attacker: sizes and
 * indices must be safe non-negative integers inside their bounds, the proof must have exactly the
 * length the sizes imply, and every hash must be 32 bytes — all checked before any hashing. Roots
 * are compared with {@link constantTimeEqual}. The only exception thrown is {@link MerkleProofError}.
 * @module
 */
import { concatBytes, constantTimeEqual } from '../bytes.js';
import { sha256 } from '../hash.js';
import type { Sha256 } from '../hash.js';
import { MerkleProofError } from './errors.js';
import {
  assertSameRoot,
  checkCount,
  checkHash,
  checkProof,
  copyBytes,
  half,
  isOdd,
  isPowerOfTwo,
  plainBytes,
} from './internal.js';

export { HASH_SIZE, MerkleProofError } from './errors.js';
export type { MerkleErrorCode } from './errors.js';

const LEAF_PREFIX = new Uint8Array([0x00]);
const NODE_PREFIX = new Uint8Array([0x01]);

/**
 * Leaf hash, RFC 9162 §2.1.1: `SHA-256(0x00 || leaf)`. The 0x00 prefix keeps leaves and interior
 * nodes in separate domains (second-preimage resistance). Always a plain `Uint8Array`, even when
 * the injected hash returns a `Buffer`.
 * @example toHex(leafHash(new Uint8Array())) // '6e340b9c…' (the empty leaf)
 */
export function leafHash(leaf: Uint8Array, hash: Sha256 = sha256): Uint8Array {
  return plainBytes(hash(concatBytes(LEAF_PREFIX, leaf)));
}

/**
 * Interior node hash, RFC 9162 §2.1.1: `SHA-256(0x01 || left || right)`.
 * @example nodeHash(leafHash(a), leafHash(b)) // MTH of the two-leaf tree [a, b]
 */
export function nodeHash(left: Uint8Array, right: Uint8Array, hash: Sha256 = sha256): Uint8Array {
  return plainBytes(hash(concatBytes(NODE_PREFIX, left, right)));
}

/**
 * Root of the empty tree, RFC 9162 §2.1.1: `MTH({}) = SHA-256("")` (e3b0c442…b855). Treat it as
 * read-only; the verifiers compare against their own private copy.
 */
export const EMPTY_ROOT: Uint8Array = copyBytes(sha256(new Uint8Array(0)));

/**
 * Number of hashes in the inclusion proof of leaf `index` in a tree of `size` leaves: the number
 * of iterations the RFC 9162 §2.1.3.2 loop makes before `sn` reaches 0. Requires index < size.
 */
function inclusionProofLength(index: number, size: number): number {
  let fn = index;
  let sn = size - 1;
  let n = 0;
  while (sn > 0) {
    n++;
    if (fn === sn) {
      while (!isOdd(fn) && fn !== 0) {
        fn = half(fn);
        sn = half(sn);
      }
    }
    fn = half(fn);
    sn = half(sn);
  }
  return n;
}

function checkInclusionArgs(index: number, size: number, leaf: Uint8Array, proof: Uint8Array[]): void {
  checkCount(size, 'SIZE_OUT_OF_RANGE', 'tree size');
  checkCount(index, 'INDEX_OUT_OF_RANGE', 'leaf index');
  if (index >= size) {
    throw new MerkleProofError('INDEX_OUT_OF_RANGE', `leaf index ${index} is not below tree size ${size}`);
  }
  checkHash(leaf, 'leaf hash');
  checkProof(proof, inclusionProofLength(index, size));
}

/** RFC 9162 §2.1.3.2 steps 2–4, on arguments already validated by checkInclusionArgs. */
function chainInclusion(
  index: number,
  size: number,
  leaf: Uint8Array,
  proof: Uint8Array[],
  hash: Sha256,
): Uint8Array {
  let fn = index;
  let sn = size - 1;
  let r = leaf;
  for (const p of proof) {
    if (isOdd(fn) || fn === sn) {
      // p is a left sibling. If fn is even (fn == sn: a right-border node with no sibling at this
      // level), first climb to the level where the path has a left sibling.
      r = nodeHash(p, r, hash);
      while (!isOdd(fn) && fn !== 0) {
        fn = half(fn);
        sn = half(sn);
      }
    } else {
      r = nodeHash(r, p, hash);
    }
    fn = half(fn);
    sn = half(sn);
  }
  return r;
}

/**
 * Recomputes the root of a tree of `size` leaves from the hash of leaf `index` and its inclusion
 * proof (audit path, lowest level first), RFC 9162 §2.1.3.2. Validates the index, the hash
 * lengths and the exact proof length first. Prefer {@link verifyInclusion} when you hold a root.
 * @throws MerkleProofError `INDEX_OUT_OF_RANGE`, `SIZE_OUT_OF_RANGE`, `BAD_HASH_LENGTH`, `WRONG_PROOF_SIZE`
 * @example const root = rootFromInclusionProof(5, 8, leafHash(entry), proof);
 */
export function rootFromInclusionProof(
  index: number,
  size: number,
  leafHash: Uint8Array,
  proof: Uint8Array[],
  hash: Sha256 = sha256,
): Uint8Array {
  checkInclusionArgs(index, size, leafHash, proof);
  return chainInclusion(index, size, leafHash, proof, hash);
}

/**
 * Verifies that `leafHash` is leaf `index` of the tree of `size` leaves whose root is `root`
 * (RFC 9162 §2.1.3.2). Returns normally on success.
 * @throws MerkleProofError `INDEX_OUT_OF_RANGE`, `SIZE_OUT_OF_RANGE`, `BAD_HASH_LENGTH`,
 *   `WRONG_PROOF_SIZE`, or `ROOT_MISMATCH`
 * @example verifyInclusion(5, 8, leafHash(entry), proof, checkpointRoot); // throws if not included
 */
export function verifyInclusion(
  index: number,
  size: number,
  leafHash: Uint8Array,
  proof: Uint8Array[],
  root: Uint8Array,
  hash: Sha256 = sha256,
): void {
  checkInclusionArgs(index, size, leafHash, proof);
  checkHash(root, 'root');
  const computed = chainInclusion(index, size, leafHash, proof, hash);
  if (!constantTimeEqual(computed, root)) {
    throw new MerkleProofError(
      'ROOT_MISMATCH',
      `inclusion proof for leaf ${index} of ${size} does not match root`,
    );
  }
}

/**
 * Number of hashes in the consistency proof from `size1` to `size2` (0 < size1 < size2): the
 * seed hash (omitted when size1 is a power of two, whose root the verifier already holds) plus
 * the iterations of the RFC 9162 §2.1.4.2 step 6 loop until `sn` reaches 0.
 */
function consistencyProofLength(size1: number, size2: number): number {
  let n = isPowerOfTwo(size1) ? 0 : 1;
  let fn = size1 - 1;
  let sn = size2 - 1;
  while (isOdd(fn)) {
    fn = half(fn);
    sn = half(sn);
  }
  while (sn > 0) {
    n++;
    if (fn === sn) {
      while (!isOdd(fn) && fn !== 0) {
        fn = half(fn);
        sn = half(sn);
      }
    }
    fn = half(fn);
    sn = half(sn);
  }
  return n;
}

/**
 * Verifies that the tree of `size2` leaves with root `root2` extends the tree of `size1` leaves
 * with root `root1` (RFC 9162 §2.1.4.2). Edge rules (as in transparency-dev/merkle and its test
 * vectors):
 * - `size1 > size2` or `size1 = 0` is rejected with `SIZE_OUT_OF_RANGE` (a consistency proof
 *   from the empty tree proves nothing);
 * - `size1 = size2` needs an empty proof and `root1` equal to `root2` (byte equality only:
 *   nothing is hashed, so the 32-byte length rule is not applied in this case).
 * @throws MerkleProofError `SIZE_OUT_OF_RANGE`, `BAD_HASH_LENGTH`, `WRONG_PROOF_SIZE`, `ROOT_MISMATCH`
 * @example verifyConsistency(oldSize, newSize, proof, oldRoot, newRoot); // throws if the log forked
 */
export function verifyConsistency(
  size1: number,
  size2: number,
  proof: Uint8Array[],
  root1: Uint8Array,
  root2: Uint8Array,
  hash: Sha256 = sha256,
): void {
  checkCount(size1, 'SIZE_OUT_OF_RANGE', 'size1');
  checkCount(size2, 'SIZE_OUT_OF_RANGE', 'size2');
  if (size1 > size2) throw new MerkleProofError('SIZE_OUT_OF_RANGE', `size1 ${size1} > size2 ${size2}`);
  if (size1 === 0) {
    throw new MerkleProofError('SIZE_OUT_OF_RANGE', 'a consistency proof from the empty tree is meaningless');
  }
  if (size1 === size2) {
    checkProof(proof, 0);
    assertSameRoot(root1, root2, 'equal tree sizes');
    return;
  }
  checkHash(root1, 'root1');
  checkHash(root2, 'root2');
  checkProof(proof, consistencyProofLength(size1, size2));

  // Step 2: when size1 is a power of two the proof omits its root; prepend root1 as the seed.
  const path = isPowerOfTwo(size1) ? [root1, ...proof] : proof;
  // Steps 3–4.
  let fn = size1 - 1;
  let sn = size2 - 1;
  while (isOdd(fn)) {
    fn = half(fn);
    sn = half(sn);
  }
  // Step 5.
  let fr = path[0]!;
  let sr = fr;
  // Step 6 (its "sn is 0" failure cannot occur: the proof length was checked above).
  for (let i = 1; i < path.length; i++) {
    const c = path[i]!;
    if (isOdd(fn) || fn === sn) {
      fr = nodeHash(c, fr, hash);
      sr = nodeHash(c, sr, hash);
      while (!isOdd(fn) && fn !== 0) {
        fn = half(fn);
        sn = half(sn);
      }
    } else {
      sr = nodeHash(sr, c, hash);
    }
    fn = half(fn);
    sn = half(sn);
  }
  // Step 7: evaluate both comparisons before failing, so timing does not tell which one failed.
  const ok1 = constantTimeEqual(fr, root1);
  const ok2 = constantTimeEqual(sr, root2);
  if (!(ok1 && ok2) || sn !== 0) {
    throw new MerkleProofError(
      'ROOT_MISMATCH',
      `consistency proof ${size1} → ${size2} does not match the roots`,
    );
  }
}
