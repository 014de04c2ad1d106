/**
 * RFC 9162 Merkle log: hashing, proof verification (plain and subtree), proof generation from
 * stored perfect nodes, and the append-only frontier. Browser-safe.
 * @module
 */
export {
  EMPTY_ROOT,
  HASH_SIZE,
  MerkleProofError,
  leafHash,
  nodeHash,
  rootFromInclusionProof,
  verifyConsistency,
  verifyInclusion,
} from './rfc9162.js';
export type { MerkleErrorCode } from './rfc9162.js';
export {
  isValidSubtree,
  rootFromSubtreeInclusionProof,
  verifySubtreeConsistency,
  verifySubtreeInclusion,
} from './subtree.js';
export { consistencyProof, inclusionProof, rootAt } from './prover.js';
export type { PerfectNodeReader } from './prover.js';
export { CompactRange } from './compact-range.js';
export type { CompactRangeOptions, PerfectNode } from './compact-range.js';
export { MerkleErrorCodes } from './errors.js';
