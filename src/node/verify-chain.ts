/**
 * Whole-chain verification from the raw store, trusting nothing in it: replays every block
 * from genesis with the same executor, and checks each block's canonical header, hash, link,
 * proposer signature, every transaction's signature and validation code, the Merkle log
 * (leaves, stored nodes, root, size), the state root, and the signed checkpoint; finally that
 * the stored state equals the replayed state. Stops at the first bad block and names it.
 * @module
 */
import { toHex } from '../protocol/bytes.js';
import {
  blockHash,
  nextStateRoot,
  verifyBlockSignature,
  verifyCheckpointSignature,
  type BlockHeader,
} from '../protocol/block.js';
import { constantTimeEqual } from '../protocol/bytes.js';
import { genesisHash as hashGenesis, validateGenesis, type Genesis } from '../protocol/genesis.js';
import { canonicalize } from '../protocol/jcs.js';
import { CompactRange } from '../protocol/merkle/index.js';
import { prepareBlock } from '../contracts/execute.js';
import { genesisWrites } from '../contracts/membership.js';
import { contractRegistry } from '../contracts/registry.js';
import type { LedgerReader } from '../contracts/state.js';
import { assembleBlock } from './block-assembly.js';
import { nativeSha256 } from './crypto/native.js';
import type { SignatureVerifier } from './signature-verifier.js';
import { LedgerStore } from './store/ledger-store.js';

export interface VerifyProgress {
  height: number;
  total: number;
}

export type VerifyResult =
  | { ok: true; height: number; txCount: number; logRoot: string; stateRoot: string }
  | { ok: false; badHeight: number | null; reason: string; height: number };

class Failure extends Error {
  constructor(
    readonly badHeight: number | null,
    reason: string,
  ) {
    super(reason);
  }
}

/**
 * Verifies the store at `storePath`. If `expectedGenesis` is given, the store's genesis must
 * equal it (pass the genesis file you trust).
 */
export async function verifyChain(opts: {
  storePath: string;
  verifier: SignatureVerifier;
  expectedGenesis?: Genesis;
  onProgress?: (p: VerifyProgress) => void;
}): Promise<VerifyResult> {
  const store = LedgerStore.open(opts.storePath, { readonly: true });
  let height = 0;
  try {
    const genesis = store.genesis();
    if (genesis === undefined) throw new Failure(null, 'store has no genesis');
    const validated = validateGenesis(genesis);
    if (store.getMeta('genesisHash') !== validated.hash)
      throw new Failure(0, 'stored genesis hash does not match the genesis');
    if (opts.expectedGenesis && hashGenesis(opts.expectedGenesis) !== validated.hash)
      throw new Failure(0, 'store was created with a different genesis than the one given');
    const state = new Map<string, string>();
    const consumed = new Set<string>();
    const reader: LedgerReader = { getState: (k) => state.get(k), isTxConsumed: (id) => consumed.has(id) };
    const applyWrites = (writes: readonly (readonly [string, string | null])[]): void => {
      for (const [k, v] of writes) {
        if (v === null) state.delete(k);
        else state.set(k, v);
      }
    };
    const gw = genesisWrites(validated);
    applyWrites(gw);
    let stateRoot = nextStateRoot('0'.repeat(64), gw, nativeSha256);
    if (store.getMeta('genesisStateRoot') !== stateRoot) throw new Failure(0, 'genesis state root mismatch');
    const registry = contractRegistry();
    const range = new CompactRange({ hash: nativeSha256 });
    let prevHash = validated.hash;
    let prevTs = genesis.createdAtMs;
    let txCount = 0;
    let nodeCount = 0;
    const last = store.lastBlock();
    const total = last?.height ?? 0;
    for (height = 1; height <= total; height++) {
      const fail = (reason: string): never => {
        throw new Failure(height, reason);
      };
      const b = store.getBlock(height);
      if (b === undefined) fail('block missing (gap in heights)');
      const blk = b!;
      let header: BlockHeader;
      try {
        header = JSON.parse(blk.headerJson) as BlockHeader;
        if (canonicalize(header) !== blk.headerJson) fail('header is not in canonical form');
      } catch (e) {
        if (e instanceof Failure) throw e;
        fail('header is not valid JSON');
      }
      header = header!;
      if (header.height !== height) fail(`header height ${header.height}`);
      if (header.chainId !== genesis.chainId) fail('header chainId differs from genesis');
      if (header.prevHash !== prevHash) fail('prevHash does not link to the previous block');
      if (!(header.timestampMs >= prevTs)) fail('block time goes backwards');
      const hash = blockHash(header, nativeSha256);
      if (hash !== blk.hash) fail('stored block hash does not match the header');
      const proposer = validated.nodeKeys.get(header.proposer);
      if (proposer === undefined) fail(`proposer ${header.proposer} is not a genesis node`);
      if (!verifyBlockSignature(hash, blk.signature, proposer!.publicKey))
        fail('proposer signature does not verify');
      const txs = store.txsOfBlock(height);
      if (txs.length !== header.txCount)
        fail(`header says ${header.txCount} transactions, store has ${txs.length}`);
      const ctx = {
        chainId: genesis.chainId,
        height,
        timestampMs: header.timestampMs,
        policies: genesis.policies,
      };
      const prepared = prepareBlock(
        reader,
        txs.map((t) => t.raw),
        ctx,
      );
      const flags = await opts.verifier.verifyBatch(prepared.jobs);
      const valid = new Uint8Array(txs.length);
      prepared.jobs.forEach((j, k) => (valid[j.index] = flags[k]!));
      const {
        header: replayed,
        outcome,
        consumed: spentFlags,
      } = assembleBlock({
        reader,
        prepared,
        valid,
        registry,
        range,
        prevHash,
        prevStateRoot: stateRoot,
        proposer: header.proposer,
        // Each stored row is checked before its leaf goes in, so the first bad one is named.
        onLeaf: (i, p, code) => {
          const t = txs[i]!;
          if (t.seq !== range.size) fail(`transaction ${i} has leaf index ${t.seq}, expected ${range.size}`);
          if (t.txId !== p.txId) fail(`transaction ${i}: stored id does not match its content`);
          if (t.code !== code) fail(`transaction ${i}: recorded code ${t.code}, replay gives ${code}`);
        },
        onNode: (level, index, hash) => {
          nodeCount++;
          let stored: Uint8Array;
          try {
            stored = store.node(level, index);
          } catch {
            fail(`Merkle node (${level}, ${index}) missing`);
          }
          if (!constantTimeEqual(stored!, hash)) fail(`Merkle node (${level}, ${index}) altered`);
        },
      });
      for (let i = 0; i < txs.length; i++) {
        const t = txs[i]!;
        if (t.consumed !== (spentFlags[i] === 1))
          fail(`transaction ${t.index}: replay-protection flag altered`);
      }
      for (const id of outcome.consumedTxIds) consumed.add(id);
      if (header.logSize !== replayed.logSize)
        fail(`logSize ${header.logSize}, replay gives ${replayed.logSize}`);
      if (header.logRoot !== replayed.logRoot) fail('log root does not match the replayed Merkle log');
      stateRoot = replayed.stateRoot;
      if (header.stateRoot !== stateRoot) fail('state root does not match the replayed state');
      // Every field is checked above; this catches anything else the node might have put in.
      if (canonicalize(replayed) !== blk.headerJson) fail('header differs from the replayed block');
      applyWrites(outcome.writes);
      const cp = store.checkpointAtHeight(height);
      if (cp === undefined) fail('checkpoint missing');
      const c = cp!.checkpoint;
      const cpKey = validated.nodeKeys.get(c.nodeId);
      if (cpKey === undefined || !verifyCheckpointSignature(cp!, cpKey.publicKey))
        fail('checkpoint signature does not verify');
      if (
        c.height !== height ||
        c.logSize !== header.logSize ||
        c.logRoot !== header.logRoot ||
        c.blockHash !== hash ||
        c.chainId !== genesis.chainId ||
        c.timestampMs !== header.timestampMs
      )
        fail('checkpoint does not match its block');
      txCount += txs.length;
      prevHash = hash;
      prevTs = header.timestampMs;
      opts.onProgress?.({ height, total });
    }
    height = total;
    // The live state table must be exactly the replayed state.
    let n = 0;
    for (const [k, v] of store.stateEntries()) {
      n++;
      if (state.get(k) !== v)
        throw new Failure(
          null,
          `state entry ${JSON.stringify(k.split('/')[0])}/… differs from the replayed state`,
        );
    }
    if (n !== state.size) throw new Failure(null, `state table has ${n} entries; replay has ${state.size}`);
    if (store.merkleNodeCount() !== nodeCount) throw new Failure(null, 'Merkle node table holds extra nodes');
    if (store.getBlock(total + 1) !== undefined) throw new Failure(total + 1, 'block beyond the head');
    return { ok: true, height: total, txCount, logRoot: toHex(range.root()), stateRoot };
  } catch (e) {
    if (e instanceof Failure) return { ok: false, badHeight: e.badHeight, reason: e.message, height };
    return {
      ok: false,
      badHeight: height || null,
      reason: `unreadable store: ${(e as Error).message}`,
      height,
    };
  } finally {
    store.close();
  }
}

/** Where two stores of one chain part ways, or that they agree up to the shorter one. */
export interface StoreComparison {
  /** Heights compared (1 … the lower of the two heads). */
  compared: number;
  /** The first height whose log root or state root differs, or null. */
  firstDivergent: number | null;
  reason: string | null;
}

/**
 * Compares two stores of the same chain block by block: log root (every transaction with its
 * validation code) and state root must be equal at every height both hold. Block hashes are not
 * compared: they name the node that executed them.
 */
export function compareStores(pathA: string, pathB: string): StoreComparison {
  const a = LedgerStore.open(pathA, { readonly: true });
  const b = LedgerStore.open(pathB, { readonly: true });
  try {
    const ga = a.genesis();
    const gb = b.genesis();
    if (ga === undefined || gb === undefined || hashGenesis(ga) !== hashGenesis(gb))
      return {
        compared: 0,
        firstDivergent: 0,
        reason: 'the stores belong to different chains (genesis differs)',
      };
    const top = Math.min(a.lastBlock()?.height ?? 0, b.lastBlock()?.height ?? 0);
    for (let h = 1; h <= top; h++) {
      const x = a.getBlock(h)!.header;
      const y = b.getBlock(h)!.header;
      if (x.logRoot !== y.logRoot)
        return {
          compared: h,
          firstDivergent: h,
          reason: `block ${h}: log roots differ (transactions or validation codes)`,
        };
      if (x.stateRoot !== y.stateRoot)
        return { compared: h, firstDivergent: h, reason: `block ${h}: state roots differ` };
    }
    return { compared: top, firstDivergent: null, reason: null };
  } finally {
    a.close();
    b.close();
  }
}
