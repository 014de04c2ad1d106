/**
 * Blocks, log leaves, state roots and checkpoints: the hash-chained structures every node
 * computes identically and every verifier can recompute.
 *
 * - A block header commits to the previous block, the block's time, the Merkle log after the
 *   block (which commits to every transaction and its validation code) and the state root.
 * - Each transaction is one leaf of a single append-only RFC 9162 log across all blocks.
 * - A checkpoint is a node's signed statement of (log size, root, time, height, block hash).
 * @module
 */
import { fromBase64Url, fromHex, toBase64Url, toHex } from './bytes.js';
import { verify, type Ed25519Verify, type PublicKey } from './ed25519.js';
import { Domain, domainSeparated, domainSeparatedText, sha256, sha256Text, type Sha256 } from './hash.js';
import { canonicalBytes } from './jcs.js';
import { leafHash } from './merkle/rfc9162.js';
import type { SignedTx } from './tx.js';
import type { ValidationCode } from './validation.js';

/** 32 zero bytes in hex: the `prevHash` of block 0's parent, the initial state root's parent. */
export const ZERO_HASH = '0'.repeat(64);

/** The part of a block that is hashed and signed. */
export interface BlockHeader {
  v: 1;
  chainId: string;
  height: number;
  /** Hash of block `height - 1` (for height 0, the genesis hash). */
  prevHash: string;
  /** Time assigned by the orderer; contracts see only this. Non-decreasing. */
  timestampMs: number;
  txCount: number;
  /** Size of the Merkle log after this block. */
  logSize: number;
  /** RFC 9162 root of the log after this block (hex). */
  logRoot: string;
  /** State root after this block (hex); see {@link nextStateRoot}. */
  stateRoot: string;
  /** Id of the node that produced (ordered and executed) this block. */
  proposer: string;
}

/** A block as stored and served. `signature` is the proposer's over {@link blockHash}. */
export interface Block {
  header: BlockHeader;
  hash: string;
  signature: string;
  txs: SignedTx[];
  codes: ValidationCode[];
}

/** Hash of a block header (hex). */
export function blockHash(header: BlockHeader, hash: Sha256 = sha256): string {
  return toHex(hash(domainSeparated(Domain.blockHeader, canonicalBytes(header))));
}

/** Produces an Ed25519 signature with a key the caller holds (pure-JS or native). */
export type SignFn = (message: Uint8Array) => Uint8Array;

/** Signs a block hash as its proposer. */
export function signBlockHash(hashHex: string, sign: SignFn): string {
  return toBase64Url(sign(domainSeparated(Domain.blockHeader, fromHex(hashHex))));
}

/** Verifies a proposer's signature over a block hash. */
export function verifyBlockSignature(
  hashHex: string,
  signatureB64: string,
  key: PublicKey,
  verifyFn: Ed25519Verify = verify,
): boolean {
  try {
    return verifyFn(fromBase64Url(signatureB64), domainSeparated(Domain.blockHeader, fromHex(hashHex)), key);
  } catch {
    return false;
  }
}

/** What one log leaf records about a transaction. */
export interface LogLeaf {
  v: 1;
  txId: string;
  /** The transaction's signature, so the log commits to the exact signed envelope. */
  sig: string;
  height: number;
  /** Position within the block. */
  index: number;
  code: ValidationCode;
}

const LEAF_ID = /^[0-9a-f]{64}$/;
const LEAF_SIG = /^[A-Za-z0-9_-]*$/;
const LEAF_CODE = /^[A-Z_]+$/;

/**
 * The leaf bytes (input to RFC 9162 leaf hashing) for a transaction's outcome: the JCS of
 * {@link LogLeaf}. Built directly for the fixed shape (keys in JCS order; fields whose values
 * need no escaping), which is hot; anything else goes through the generic encoder. A test
 * checks both give the same bytes.
 */
export function logLeafBytes(leaf: LogLeaf): Uint8Array {
  const json = plainLeafJson(leaf);
  return json !== null
    ? domainSeparatedText(Domain.logLeaf, json)
    : domainSeparated(Domain.logLeaf, canonicalBytes(leaf));
}

/** The JCS of a leaf whose fields need no escaping (the usual case), or null. */
function plainLeafJson(leaf: LogLeaf): string | null {
  if (!LEAF_ID.test(leaf.txId) || !LEAF_SIG.test(leaf.sig) || !LEAF_CODE.test(leaf.code)) return null;
  return `{"code":"${leaf.code}","height":${leaf.height},"index":${leaf.index},"sig":"${leaf.sig}","txId":"${leaf.txId}","v":${leaf.v}}`;
}

/** `0x00` (RFC 9162 §2.1.1 leaf prefix), then the log-leaf domain tag and its NUL, as text. */
const LEAF_HASH_PREFIX = `\u0000${Domain.logLeaf}\u0000`;

/**
 * The RFC 9162 §2.1.1 leaf hash of a transaction's outcome, `leafHash(logLeafBytes(leaf))`,
 * hashing the leaf's text directly when it needs no escaping (the hot path: one per
 * transaction). @example range.append(logLeafHash(leaf))
 */
export function logLeafHash(leaf: LogLeaf): Uint8Array {
  const json = plainLeafJson(leaf);
  return json !== null ? sha256Text(LEAF_HASH_PREFIX + json) : leafHash(logLeafBytes(leaf));
}

/** One state change: `value` null deletes the key. */
export type StateWrite = readonly [key: string, value: string | null];

/**
 * The state root after a block: SHA-256 over the previous root and the block's write set
 * (sorted by key, last write wins). It commits to the whole state because the state is the
 * fold of all write sets from genesis (docs/adr/0003-state-root.md).
 */
export function nextStateRoot(
  prevRoot: string,
  writes: readonly StateWrite[],
  hash: Sha256 = sha256,
): string {
  const sorted = [...writes].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return toHex(hash(domainSeparated(Domain.stateRoot, canonicalBytes({ prev: prevRoot, writes: sorted }))));
}

/** A node's signed statement about the log. */
export interface Checkpoint {
  v: 1;
  chainId: string;
  /** Node that signed. */
  nodeId: string;
  logSize: number;
  logRoot: string;
  height: number;
  blockHash: string;
  timestampMs: number;
}

/** A checkpoint with its signature (base64url), as served by the API. */
export interface SignedCheckpoint {
  checkpoint: Checkpoint;
  signature: string;
}

/** Signs a checkpoint. */
export function signCheckpoint(checkpoint: Checkpoint, sign: SignFn): SignedCheckpoint {
  return {
    checkpoint,
    signature: toBase64Url(sign(domainSeparated(Domain.checkpoint, canonicalBytes(checkpoint)))),
  };
}

/** Verifies a checkpoint's signature under a node key; false on any malformation. */
export function verifyCheckpointSignature(
  signed: SignedCheckpoint,
  key: PublicKey,
  verifyFn: Ed25519Verify = verify,
): boolean {
  try {
    return verifyFn(
      fromBase64Url(signed.signature),
      domainSeparated(Domain.checkpoint, canonicalBytes(signed.checkpoint)),
      key,
    );
  } catch {
    return false;
  }
}
