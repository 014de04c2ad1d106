/**
 * Block assembly: the one place that turns a prepared, signature-checked batch into a block's
 * outcome and header (execution, Merkle log leaves, log root, state root). The live node and
 * `healthledger verify` both call it, so a replay cannot drift from what the node committed.
 * Pure: no I/O and no clock; everything comes from the arguments. Signature checks stay with
 * the caller (they are async and batched natively, and the node skips ones it already did).
 * @module
 */
import { toHex } from '../protocol/bytes.js';
import { logLeafHash, nextStateRoot, type BlockHeader } from '../protocol/block.js';
import type { Sha256 } from '../protocol/hash.js';
import type { CompactRange } from '../protocol/merkle/index.js';
import type { ValidationCode } from '../protocol/validation.js';
import {
  executeBlock,
  type BlockOutcome,
  type PreparedBlock,
  type PreparedTx,
} from '../contracts/execute.js';
import type { ContractRegistry } from '../contracts/registry.js';
import type { LedgerReader } from '../contracts/state.js';
import { nativeSha256 } from './crypto/native.js';

/** What a block is assembled from. */
export interface AssemblyInput {
  /** State at the block's start (the same view {@link PreparedBlock} was prepared against). */
  reader: LedgerReader;
  /** The ordered batch, decoded and with signers resolved (`prepareBlock`). */
  prepared: PreparedBlock;
  /** Per transaction index: 1 if its signature job verified (strict RFC 8032), else 0. */
  valid: Uint8Array;
  registry: ContractRegistry;
  /** The chain's Merkle log before this block; advanced in place by the block's leaves. */
  range: CompactRange;
  /** Hash of the previous block (the genesis hash for block 1). */
  prevHash: string;
  /** State root after the previous block. */
  prevStateRoot: string;
  /** Node id the header names as proposer. */
  proposer: string;
  /**
   * Sees each transaction with its code just before its leaf is appended (`verify` checks the
   * stored row here, so it names the first bad transaction before any Merkle mismatch).
   * Throwing aborts assembly and leaves `range` unusable.
   */
  onLeaf?: (index: number, tx: PreparedTx, code: ValidationCode) => void;
  /**
   * Sees every perfect Merkle node the block completes, in {@link CompactRange.appendEach}
   * order; `hash` is valid only during the call. Throwing aborts assembly and leaves `range`
   * unusable.
   */
  onNode?: (level: number, index: number, hash: Uint8Array) => void;
  /** SHA-256 for the state root (default: the native one). */
  hash?: Sha256;
}

/** An assembled, unsigned block. */
export interface AssembledBlock {
  header: BlockHeader;
  outcome: BlockOutcome;
  /**
   * Per transaction: 1 if this row marks its id spent (the first accepted occurrence; replays
   * are recorded, not spent).
   */
  consumed: Uint8Array;
}

const ignoreNode = (): void => {};

/**
 * Executes `prepared` against `reader`, appends one log leaf per transaction to `range`, and
 * builds the block header. Deterministic: equal inputs give byte-identical headers.
 * @example const { header } = assembleBlock({ reader, prepared, valid, registry, range, prevHash, prevStateRoot, proposer });
 */
export function assembleBlock(input: AssemblyInput): AssembledBlock {
  const { prepared, valid, range, onLeaf } = input;
  const ctx = prepared.ctx;
  const outcome = executeBlock(input.reader, prepared, (i) => valid[i] === 1, input.registry);
  const n = prepared.txs.length;
  const spent = new Set(outcome.consumedTxIds);
  const consumed = new Uint8Array(n);
  const onNode = input.onNode ?? ignoreNode;
  for (let i = 0; i < n; i++) {
    const p = prepared.txs[i]!;
    const code = outcome.codes[i]!;
    if (onLeaf !== undefined) onLeaf(i, p, code);
    range.appendEach(
      logLeafHash({ v: 1, txId: p.txId, sig: p.decoded?.tx.sig ?? '', height: ctx.height, index: i, code }),
      onNode,
    );
    if (code !== 'DUPLICATE_TX' && spent.delete(p.txId)) consumed[i] = 1;
  }
  const header: BlockHeader = {
    v: 1,
    chainId: ctx.chainId,
    height: ctx.height,
    prevHash: input.prevHash,
    timestampMs: ctx.timestampMs,
    txCount: n,
    logSize: range.size,
    logRoot: toHex(range.root()),
    stateRoot: nextStateRoot(input.prevStateRoot, outcome.writes, input.hash ?? nativeSha256),
    proposer: input.proposer,
  };
  return { header, outcome, consumed };
}
