/**
 * Proof generation (RFC 9162 §2.1.3.1 inclusion, §2.1.4.1 consistency) for a log that stores only
 * the hashes of *perfect* subtrees, e.g. the nodes returned by {@link CompactRange.append}.
 *
 * A node is addressed as (level, index): it covers leaves `[index·2^level, (index+1)·2^level)`.
 * In a tree whose size is not a power of two, the right border also has *ephemeral* nodes that
 * cover a partial range; they are never stored, but recomputed here from the perfect nodes that
 * tile their range (at most one ephemeral node per proof, built from O(log n) reads).
 * @module
 */
import { sha256 } from '../hash.js';
import type { Sha256 } from '../hash.js';
import { MerkleProofError } from './errors.js';
import {
  checkCount,
  checkHash,
  copyBytes,
  emptyRootFor,
  half,
  isOdd,
  isPowerOfTwo,
  pow2,
  trailingZeros,
} from './internal.js';
import { nodeHash } from './rfc9162.js';

/**
 * Read access to stored perfect-subtree hashes. `node(level, index)` returns the 32-byte hash of
 * the perfect subtree covering leaves `[index·2^level, (index+1)·2^level)` (level 0 = leaf hashes,
 * `leafHash(entry)`). The provers only ask for nodes that are complete in the requested tree size.
 * Errors thrown by the reader propagate unchanged.
 * @example const reader: PerfectNodeReader = { node: (l, i) => store.get(`${l}:${i}`)! };
 */
export interface PerfectNodeReader {
  node(level: number, index: number): Uint8Array;
}

function read(reader: PerfectNodeReader, level: number, index: number): Uint8Array {
  const h = reader.node(level, index);
  checkHash(h, `stored node (${level}, ${index})`);
  return copyBytes(h); // proofs never alias the store's buffers
}

/**
 * Hash of the leaf range `[begin, end)`, where `begin` is a multiple of the largest power of two
 * ≤ `end − begin` (a node, perhaps ephemeral): tile the range with perfect nodes, largest first,
 * then fold them right to left, RFC 9162 §2.1.1 MTH on the right border.
 */
function rangeHash(reader: PerfectNodeReader, begin: number, end: number, hash: Sha256): Uint8Array {
  const parts: Uint8Array[] = [];
  let level = 0;
  while (pow2(level + 1) <= end - begin) level++;
  for (let offset = begin; offset < end; level--) {
    const width = pow2(level);
    if (end - offset >= width) {
      parts.push(read(reader, level, offset / width));
      offset += width;
    }
  }
  let h = parts[parts.length - 1]!;
  for (let i = parts.length - 2; i >= 0; i--) h = nodeHash(parts[i]!, h, hash);
  return h;
}

/** Hash of node (level, index) in the tree of `size` leaves: stored if perfect, else ephemeral. */
function nodeAt(
  reader: PerfectNodeReader,
  level: number,
  index: number,
  size: number,
  hash: Sha256,
): Uint8Array {
  const width = pow2(level);
  const begin = index * width;
  if (begin + width <= size) return read(reader, level, index);
  return rangeHash(reader, begin, size, hash);
}

/**
 * Appends to `out` the siblings on the path from node (level, fn) up to the root of the tree of
 * `size` leaves, lowest first: the left sibling when fn is odd (always perfect), the right sibling
 * when there is one (perhaps ephemeral), nothing on right-border levels without a sibling.
 */
function pathSiblings(
  reader: PerfectNodeReader,
  level: number,
  fn: number,
  size: number,
  hash: Sha256,
  out: Uint8Array[],
): Uint8Array[] {
  for (let sn = Math.floor((size - 1) / pow2(level)); sn > 0; fn = half(fn), sn = half(sn), level++) {
    if (isOdd(fn)) out.push(read(reader, level, fn - 1));
    else if (fn < sn) out.push(nodeAt(reader, level, fn + 1, size, hash));
  }
  return out;
}

/**
 * Inclusion proof (audit path, lowest level first) for leaf `index` in the tree of `size` leaves,
 * RFC 9162 §2.1.3.1 `PATH(index, D[size])`. Reads O(log size) nodes.
 * @throws MerkleProofError `SIZE_OUT_OF_RANGE` / `INDEX_OUT_OF_RANGE` for bad arguments,
 *   `BAD_HASH_LENGTH` if the reader returns a hash that is not 32 bytes
 * @example verifyInclusion(i, n, leafHash(entry), inclusionProof(reader, i, n), rootAt(reader, n));
 */
export function inclusionProof(
  reader: PerfectNodeReader,
  index: number,
  size: number,
  hash: Sha256 = sha256,
): Uint8Array[] {
  checkCount(size, 'SIZE_OUT_OF_RANGE', 'tree size');
  checkCount(index, 'INDEX_OUT_OF_RANGE', 'leaf index');
  if (index >= size) {
    throw new MerkleProofError('INDEX_OUT_OF_RANGE', `leaf index ${index} is not below tree size ${size}`);
  }
  return pathSiblings(reader, 0, index, size, hash, []);
}

/**
 * Consistency proof from tree size `size1` to `size2` (0 < size1 ≤ size2), RFC 9162 §2.1.4.1
 * `PROOF(size1, D[size2])`: the largest perfect node ending at `size1` (omitted when size1 is a
 * power of two), then its path siblings in the tree of `size2`. Empty when size1 = size2.
 * @throws MerkleProofError `SIZE_OUT_OF_RANGE` for bad sizes (including size1 = 0),
 *   `BAD_HASH_LENGTH` if the reader returns a hash that is not 32 bytes
 * @example verifyConsistency(m, n, consistencyProof(reader, m, n), rootAt(reader, m), rootAt(reader, n));
 */
export function consistencyProof(
  reader: PerfectNodeReader,
  size1: number,
  size2: number,
  hash: Sha256 = sha256,
): Uint8Array[] {
  checkCount(size1, 'SIZE_OUT_OF_RANGE', 'size1');
  checkCount(size2, 'SIZE_OUT_OF_RANGE', 'size2');
  if (size1 > size2) throw new MerkleProofError('SIZE_OUT_OF_RANGE', `size1 ${size1} > size2 ${size2}`);
  if (size1 === 0) {
    throw new MerkleProofError('SIZE_OUT_OF_RANGE', 'a consistency proof from the empty tree is meaningless');
  }
  if (size1 === size2) return [];
  const level = trailingZeros(size1);
  const fn = size1 / pow2(level) - 1;
  const out: Uint8Array[] = isPowerOfTwo(size1) ? [] : [read(reader, level, fn)];
  return pathSiblings(reader, level, fn, size2, hash, out);
}

/**
 * Root hash `MTH(D[size])` of the first `size` leaves (RFC 9162 §2.1.1), from the O(log size)
 * perfect nodes on the right border; `SHA-256("")` for size 0.
 * @throws MerkleProofError `SIZE_OUT_OF_RANGE` for a bad size, `BAD_HASH_LENGTH` for a bad stored node
 * @example const checkpointRoot = rootAt(reader, treeSize);
 */
export function rootAt(reader: PerfectNodeReader, size: number, hash: Sha256 = sha256): Uint8Array {
  checkCount(size, 'SIZE_OUT_OF_RANGE', 'tree size');
  if (size === 0) return emptyRootFor(hash);
  return rangeHash(reader, 0, size, hash);
}
