/**
 * The right border ("frontier") of an append-only RFC 9162 Merkle tree: one perfect node per set
 * bit of the tree size, enough to append leaves and compute the root in O(log n) hashes without
 * keeping the leaves.
 * @module
 */
import { sha256 } from '../hash.js';
import type { Sha256 } from '../hash.js';
import { MerkleProofError } from './errors.js';
import { checkCount, checkHash, copyBytes, emptyRootFor, plainBytes, pow2 } from './internal.js';
import type { PerfectNodeReader } from './prover.js';

/** A perfect node: the hash of leaves `[index·2^level, (index+1)·2^level)`. */
export interface PerfectNode {
  readonly level: number;
  readonly index: number;
  readonly hash: Uint8Array;
}

/** Options for {@link CompactRange}: `hash` injects a (e.g. native) SHA-256. */
export interface CompactRangeOptions {
  readonly hash?: Sha256 | undefined;
}

/**
 * Append-only Merkle tree frontier. Each {@link CompactRange.append} returns the perfect nodes it
 * completed so the caller can persist them (they are exactly what a {@link PerfectNodeReader}
 * serves to the provers); {@link CompactRange.fromNodes} rebuilds the frontier after a restart.
 * @example
 * const range = new CompactRange();
 * for (const n of range.append(leafHash(entry))) store.set(`${n.level}:${n.index}`, n.hash);
 * const root = range.root();
 */
export class CompactRange {
  readonly #hash: Sha256;
  #size = 0;
  /** Frontier nodes, highest level (leftmost) first. */
  #nodes: PerfectNode[] = [];
  /** `0x01 || left || right` (RFC 9162 §2.1.1), filled per interior node. */
  readonly #nodeInput = new Uint8Array(65).fill(1, 0, 1);

  /** An empty range (size 0). */
  constructor(options: CompactRangeOptions = {}) {
    this.#hash = options.hash ?? sha256;
  }

  /** Number of leaves appended so far. */
  get size(): number {
    return this.#size;
  }

  /**
   * Appends one leaf (its 32-byte RFC 9162 §2.1.1 leaf hash) and returns every perfect node this
   * completes: the level-0 leaf node first, then each newly completed parent, lowest first.
   * @throws MerkleProofError `BAD_HASH_LENGTH` for a leaf hash that is not 32 bytes,
   *   `SIZE_OUT_OF_RANGE` if the size would exceed `Number.MAX_SAFE_INTEGER`
   */
  append(leafHash: Uint8Array): PerfectNode[] {
    const completed: PerfectNode[] = [];
    this.appendEach(leafHash, (level, index, hash) =>
      completed.push({ level, index, hash: copyBytes(hash) }),
    );
    return completed;
  }

  /**
   * {@link CompactRange.append} without the copies, for hot loops that store the nodes as they
   * come: `visit` sees each completed node in the same order. `hash` is the range's own array,
   * valid to read (not to keep or modify) during the call; `visit` must not throw.
   * @example range.appendEach(leafHash(entry), (level, index, hash) => out.set(hash, 32 * n++))
   */
  appendEach(leafHash: Uint8Array, visit: (level: number, index: number, hash: Uint8Array) => void): void {
    checkHash(leafHash, 'leaf hash');
    if (this.#size >= Number.MAX_SAFE_INTEGER) {
      throw new MerkleProofError('SIZE_OUT_OF_RANGE', 'tree size would exceed Number.MAX_SAFE_INTEGER');
    }
    let level = 0;
    let index = this.#size;
    let hash = copyBytes(leafHash);
    visit(level, index, hash);
    // Merge with the frontier while its lowest node is the left sibling of the new node.
    for (
      let last = this.#nodes.at(-1);
      last !== undefined && last.level === level;
      last = this.#nodes.at(-1)
    ) {
      this.#nodes.pop();
      hash = this.#nodeHash(last.hash, hash);
      level++;
      index = last.index / 2;
      visit(level, index, hash);
    }
    this.#nodes.push({ level, index, hash });
    this.#size++;
  }

  /** `nodeHash` (rfc9162.ts) through one reused input buffer (no concatenation per node). */
  #nodeHash(left: Uint8Array, right: Uint8Array): Uint8Array {
    const input = this.#nodeInput;
    input.set(left, 1);
    input.set(right, 33);
    return plainBytes(this.#hash(input));
  }

  /** Root hash `MTH(D[size])` (RFC 9162 §2.1.1): the frontier folded right to left; `SHA-256("")` when empty. */
  root(): Uint8Array {
    const nodes = this.#nodes;
    if (nodes.length === 0) return emptyRootFor(this.#hash);
    let h = nodes[nodes.length - 1]!.hash;
    for (let i = nodes.length - 2; i >= 0; i--) h = this.#nodeHash(nodes[i]!.hash, h);
    return h === nodes[nodes.length - 1]!.hash ? copyBytes(h) : h;
  }

  /** A copy of the frontier: one perfect node per set bit of `size`, highest level (leftmost) first. */
  frontier(): PerfectNode[] {
    return this.#nodes.map((n) => ({ level: n.level, index: n.index, hash: copyBytes(n.hash) }));
  }

  /**
   * Rebuilds the frontier of a tree of `size` leaves from stored perfect nodes (O(log size) reads).
   * @throws MerkleProofError `SIZE_OUT_OF_RANGE` for a bad size, `BAD_HASH_LENGTH` for a bad stored node
   * @example const range = CompactRange.fromNodes(storedSize, { node: (l, i) => store.get(`${l}:${i}`)! });
   */
  static fromNodes(size: number, reader: PerfectNodeReader, options: CompactRangeOptions = {}): CompactRange {
    checkCount(size, 'SIZE_OUT_OF_RANGE', 'tree size');
    const range = new CompactRange(options);
    let level = 0;
    while (pow2(level + 1) <= size) level++;
    for (let offset = 0; offset < size; level--) {
      const width = pow2(level);
      if (size - offset >= width) {
        const index = offset / width;
        const h = reader.node(level, index);
        checkHash(h, `stored node (${level}, ${index})`);
        range.#nodes.push({ level, index, hash: copyBytes(h) });
        offset += width;
      }
    }
    range.#size = size;
    return range;
  }
}
