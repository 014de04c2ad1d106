/**
 * A HealthLedger node: accepts signed transactions, hands them to the orderer, applies ordered
 * batches with the pure executor, persists each block atomically, and serves blocks, receipts,
 * checkpoints and proofs. Adapters (store, orderer, signature verifier, clock) are injected;
 * the node holds no module-level state.
 * @module
 */
import { toHex } from '../protocol/bytes.js';
import {
  blockHash,
  nextStateRoot,
  signBlockHash,
  signCheckpoint,
  type Block,
  type BlockHeader,
  type SignedCheckpoint,
} from '../protocol/block.js';
import { HealthLedgerError } from '../protocol/errors.js';
import { validateGenesis, type Genesis, type ValidatedGenesis } from '../protocol/genesis.js';
import { canonicalize } from '../protocol/jcs.js';
import { CompactRange, consistencyProof, inclusionProof } from '../protocol/merkle/index.js';
import type { Receipt } from '../protocol/receipt.js';
import { decodeRawTx, decodeTx, isDecodeFailure, type DecodedTx, type SignedTx } from '../protocol/tx.js';
import type { ValidationCode } from '../protocol/validation.js';
import { isInvalid, readMember, type MemberRecord } from '../contracts/contract.js';
import { prepareBlock, publicKeyBytes, type BlockContext } from '../contracts/execute.js';
import { genesisWrites } from '../contracts/membership.js';
import { contractRegistry, type ContractRegistry } from '../contracts/registry.js';
import type { LedgerReader } from '../contracts/state.js';
import { assembleBlock } from './block-assembly.js';
import { nativeSha256, type Signer } from './crypto/native.js';
import { Metrics } from './metrics.js';
import type { Clock, OrderedBatch, Orderer } from './ordering/orderer.js';
import type { SignatureVerifier } from './signature-verifier.js';
import { merkleNodeKey, type LedgerStore } from './store/ledger-store.js';
import { InlineBlockWriter, type BlockWriter } from './store/block-writer.js';

/** Where the node's chain stands after its last committed block. */
export interface ChainHead {
  height: number;
  hash: string;
  stateRoot: string;
  logSize: number;
  logRoot: string;
  timestampMs: number;
}

/** The outcome of a committed transaction, as reported to a waiting submitter. */
export interface Commitment {
  txId: string;
  height: number;
  index: number;
  seq: number;
  code: ValidationCode;
}

/** One submitted transaction's result. */
export type SubmitResult =
  | { txId: string; status: 'committed'; commitment: Commitment }
  | { txId: string; status: 'accepted' }
  | { txId: string | null; status: 'rejected'; error: HealthLedgerError };

export interface LedgerNodeOptions {
  store: LedgerStore;
  genesis: Genesis;
  nodeId: string;
  /** Signs blocks and checkpoints with the node's key (must match the genesis node key). */
  sign: Signer;
  orderer: Orderer;
  verifier: SignatureVerifier;
  clock: Clock;
  contracts?: ContractRegistry;
  /** Where durable commits happen (default: inline on this thread, through `store`). */
  writer?: BlockWriter;
  /** Called with events worth logging (never with payloads: no PHI in logs). */
  log?: (event: string, fields: Record<string, unknown>) => void;
}

/** Blocks the node may execute ahead of durability. */
const MAX_IN_FLIGHT = 2;

interface InFlightBlock {
  height: number;
  writes: Map<string, string | null>;
  consumed: Set<string>;
  /** Settles once the block is durable (or the node halted). */
  durable: Promise<void>;
}

interface Waiter {
  resolve: (c: Commitment) => void;
  reject: (e: Error) => void;
}

export class LedgerNode {
  readonly genesis: ValidatedGenesis;
  readonly metrics = new Metrics();
  private readonly store: LedgerStore;
  private readonly registry: ContractRegistry;
  private readonly reader: LedgerReader;
  private readonly log: NonNullable<LedgerNodeOptions['log']>;
  private head: ChainHead;
  private readonly range: CompactRange;
  /** Signatures this node verified at submission: txId → [sig, publicKey]; spares a second check. */
  private readonly verified = new Map<string, readonly [sig: string, publicKey: string]>();
  /** Transactions decoded at submission, by canonical text: spares decoding them again at execution. */
  private readonly decodedByRaw = new Map<string, DecodedTx>();
  /** Members read since the last block (membership changes only by blocks, so it is cleared per block). */
  private readonly memberCache = new Map<string, MemberRecord | undefined>();
  /** Transactions handed to the orderer and not yet committed. */
  private readonly pending = new Set<string>();
  private readonly waiters = new Map<string, Waiter[]>();
  private readonly listeners = new Set<(block: Block) => void>();
  private halted: string | null = null;
  private stopped = false;
  /** The last block that is durable (what the API serves); `head` runs ahead of it. */
  private committedHead: ChainHead;
  /** Executed blocks not yet durable, oldest first: their writes are visible to execution. */
  private readonly inFlight: InFlightBlock[] = [];
  private readonly writer: BlockWriter;

  private constructor(private readonly opts: LedgerNodeOptions) {
    this.store = opts.store;
    this.genesis = validateGenesis(opts.genesis);
    this.registry = opts.contracts ?? contractRegistry();
    this.log = opts.log ?? (() => {});
    const key = this.genesis.nodeKeys.get(opts.nodeId);
    if (key === undefined) throw new Error(`node ${opts.nodeId} is not in the genesis file`);
    this.writer = opts.writer ?? new InlineBlockWriter(opts.store);
    // State as execution must see it: blocks still being written, newest first, then the store.
    this.reader = {
      getState: (k) => {
        for (let i = this.inFlight.length - 1; i >= 0; i--) {
          const w = this.inFlight[i]!.writes;
          if (w.has(k)) return w.get(k) ?? undefined;
        }
        return this.store.getState(k);
      },
      isTxConsumed: (id) => this.inFlight.some((b) => b.consumed.has(id)) || this.store.isTxConsumed(id),
    };
    LedgerNode.prepareStore(this.store, opts.genesis);
    const last = this.store.lastBlock();
    this.range =
      last === undefined
        ? new CompactRange({ hash: nativeSha256 })
        : CompactRange.fromNodes(last.header.logSize, this.store, { hash: nativeSha256 });
    this.head =
      last === undefined
        ? {
            height: 0,
            hash: this.genesis.hash,
            stateRoot: this.store.getMeta('genesisStateRoot')!,
            logSize: 0,
            logRoot: toHex(this.range.root()),
            timestampMs: this.genesis.genesis.createdAtMs,
          }
        : {
            height: last.height,
            hash: last.hash,
            stateRoot: last.header.stateRoot,
            logSize: last.header.logSize,
            logRoot: last.header.logRoot,
            timestampMs: last.header.timestampMs,
          };
    if (toHex(this.range.root()) !== this.head.logRoot)
      throw new Error(
        'store is inconsistent: Merkle nodes do not match the last block (run `healthledger verify`)',
      );
    this.committedHead = { ...this.head };
    // Build the replay and state-key filters now, before any commit is in flight.
    this.store.noteConsumed([]);
    this.store.trackStateKeys();
    this.metrics.setHeight(this.head.height);
  }

  /** Writes the genesis state into a new store (idempotent; checks the genesis of an existing one). */
  static prepareStore(store: LedgerStore, genesis: Genesis): void {
    const validated = validateGenesis(genesis);
    const stored = store.getMeta('genesisHash');
    if (stored !== undefined) {
      if (stored !== validated.hash)
        throw new Error('genesis file does not match the one this store was created with');
      return;
    }
    const writes = genesisWrites(validated);
    const root = nextStateRoot('0'.repeat(64), writes, nativeSha256);
    store.initGenesis(canonicalize(validated.genesis), validated.hash, writes, root);
  }

  /** Opens the node on its store and starts consuming ordered batches. */
  static start(opts: LedgerNodeOptions): LedgerNode {
    const node = new LedgerNode(opts);
    opts.orderer.start(node.head.height + 1, node.head.timestampMs, (b) => node.applyBatch(b));
    node.log('node.started', { nodeId: opts.nodeId, height: node.head.height, logSize: node.head.logSize });
    return node;
  }

  get nodeId(): string {
    return this.opts.nodeId;
  }

  get chainId(): string {
    return this.genesis.genesis.chainId;
  }

  /** The last durable block's summary. */
  chainHead(): ChainHead {
    return { ...this.committedHead };
  }

  /** Why writes are halted, or null. */
  get haltReason(): string | null {
    return this.halted;
  }

  /** Subscribes to committed blocks; returns the unsubscribe function. */
  onBlock(listener: (block: Block) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Checks and queues transactions for ordering. Each gets a result: rejected with a documented
   * code (nothing changed), accepted (queued), or — with `wait` — committed with its code.
   * Checks here mirror the executor's so clients learn of bad input at once; the executor
   * decides again at commit, against the state then.
   */
  async submit(
    inputs: readonly unknown[],
    opts: { wait: boolean; timeoutMs: number },
  ): Promise<SubmitResult[]> {
    if (this.halted !== null || this.stopped)
      throw new HealthLedgerError('NODE_UNAVAILABLE', this.halted ?? 'node is stopping');
    const policies = this.genesis.genesis.policies;
    const results: SubmitResult[] = new Array(inputs.length);
    const candidates: { i: number; txId: string; decoded: DecodedTx; pub: string }[] = [];
    const jobs: { signature: Uint8Array; message: Uint8Array; publicKey: Uint8Array }[] = [];
    const seen = new Set<string>();
    const keyBytes = new Map<string, Uint8Array>();
    const now = this.opts.clock.now();
    for (let i = 0; i < inputs.length; i++) {
      const d = decodeTx(inputs[i], policies.maxTxBytes);
      if (isDecodeFailure(d)) {
        results[i] = { txId: null, status: 'rejected', error: new HealthLedgerError(d.code, d.reason) };
        continue;
      }
      const reject = (code: ConstructorParameters<typeof HealthLedgerError>[0], message?: string): void => {
        results[i] = {
          txId: d.txId,
          status: 'rejected',
          error: new HealthLedgerError(code, message, { txId: d.txId }),
        };
      };
      const body = d.tx.body;
      if (body.chainId !== this.chainId) {
        reject('WRONG_CHAIN_ID', `this node serves chain ${this.chainId}`);
        continue;
      }
      if (seen.has(d.txId) || this.pending.has(d.txId) || this.reader.isTxConsumed(d.txId)) {
        reject('DUPLICATE_TX');
        continue;
      }
      const member = this.member(body.signer);
      if (member === undefined) {
        reject('UNKNOWN_SIGNER');
        continue;
      }
      const precheck = this.precheck(member, body.type, body.payload, body.timestampMs, now);
      if (precheck !== null) {
        reject(precheck[0], precheck[1]);
        continue;
      }
      seen.add(d.txId);
      candidates.push({ i, txId: d.txId, decoded: d, pub: member.publicKey });
      jobs.push({
        signature: d.signature,
        message: d.signingBytes,
        publicKey: publicKeyBytes(keyBytes, member.publicKey),
      });
    }
    const flags = jobs.length > 0 ? await this.opts.verifier.verifyBatch(jobs) : new Uint8Array(0);
    const accepted: string[] = [];
    const waiting: { i: number; txId: string }[] = [];
    for (let k = 0; k < candidates.length; k++) {
      const c = candidates[k]!;
      if (flags[k] !== 1) {
        results[c.i] = {
          txId: c.txId,
          status: 'rejected',
          error: new HealthLedgerError('BAD_SIGNATURE', undefined, { txId: c.txId }),
        };
        continue;
      }
      if (this.pending.has(c.txId)) {
        // Raced with an identical submission while verifying.
        results[c.i] = {
          txId: c.txId,
          status: 'rejected',
          error: new HealthLedgerError('DUPLICATE_TX', undefined, { txId: c.txId }),
        };
        continue;
      }
      this.verified.set(c.txId, [c.decoded.tx.sig, c.pub]);
      this.decodedByRaw.set(c.decoded.encoded, c.decoded);
      this.pending.add(c.txId);
      accepted.push(c.decoded.encoded);
      results[c.i] = { txId: c.txId, status: 'accepted' };
      if (opts.wait) waiting.push({ i: c.i, txId: c.txId });
    }
    // Waiters are registered before the orderer sees the transactions: it may commit them at once.
    const allCommitted = waiting.length > 0 ? this.waitForAll(waiting, results, opts.timeoutMs) : undefined;
    if (accepted.length > 0) {
      try {
        await this.opts.orderer.broadcast(accepted);
      } catch (e) {
        // Not queued: undo, and report the orderer's reason for each.
        for (const c of candidates) {
          if (results[c.i]?.status !== 'accepted') continue;
          this.pending.delete(c.txId);
          this.verified.delete(c.txId);
          this.decodedByRaw.delete(c.decoded.encoded);
          const error = e instanceof HealthLedgerError ? e : new HealthLedgerError('NODE_UNAVAILABLE');
          results[c.i] = { txId: c.txId, status: 'rejected', error };
          this.rejectWaiters(c.txId, error);
        }
        await allCommitted;
        return results;
      }
      this.metrics.submitted(accepted.length);
    }
    await allCommitted;
    return results;
  }

  private member(memberId: string): MemberRecord | undefined {
    if (this.memberCache.has(memberId)) return this.memberCache.get(memberId);
    const m = readMember(this.reader.getState, memberId);
    this.memberCache.set(memberId, m);
    return m;
  }

  /** The executor's role, validity, window and payload checks, against current state. */
  private precheck(
    member: MemberRecord,
    type: string,
    payload: SignedTx['body']['payload'],
    timestampMs: number,
    now: number,
  ): [ConstructorParameters<typeof HealthLedgerError>[0], string?] | null {
    if (member.revokedAtHeight !== null) return ['SIGNER_REVOKED'];
    if (now < member.notBeforeMs || now > member.notAfterMs) return ['CERT_EXPIRED'];
    if (Math.abs(timestampMs - now) > this.genesis.genesis.policies.timestampWindowMs)
      return ['TIMESTAMP_OUT_OF_WINDOW'];
    const contract = this.registry.get(type);
    if (contract === undefined) return ['UNKNOWN_TX_TYPE', `no contract handles ${type}`];
    if (contract.roles !== 'any' && !contract.roles.includes(member.role))
      return ['UNAUTHORIZED_ROLE', `${type} requires one of: ${contract.roles.join(', ')}`];
    const parsed = contract.parse(payload);
    if (isInvalid(parsed)) return ['INVALID_PAYLOAD', parsed.invalid];
    return null;
  }

  /**
   * Resolves once every transaction in `waiting` has committed (its result becomes `committed`),
   * been rejected (`rejected` with the reason), or `timeoutMs` passed (`COMMIT_TIMEOUT` for the
   * rest). One promise and one timer per submission, not per transaction: at tens of thousands of
   * transactions per second, per-transaction promises and timers were a measurable share of the
   * event loop and the garbage collector's work.
   */
  private waitForAll(
    waiting: readonly { i: number; txId: string }[],
    results: SubmitResult[],
    timeoutMs: number,
  ): Promise<void> {
    return new Promise<void>((done) => {
      let remaining = waiting.length;
      let settled = false;
      const registered: Waiter[] = [];
      const finish = (): void => {
        if (--remaining === 0 && !settled) {
          settled = true;
          clearTimeout(timer);
          done();
        }
      };
      const timer = setTimeout(() => {
        if (settled) return;
        settled = true;
        for (let k = 0; k < registered.length; k++) {
          const txId = waiting[k]!.txId;
          const waiter = registered[k]!;
          const list = this.waiters.get(txId);
          if (!list) continue;
          const at = list.indexOf(waiter);
          if (at >= 0) list.splice(at, 1);
          if (list.length === 0) this.waiters.delete(txId);
        }
        for (const { i, txId } of waiting) {
          if (results[i]?.status === 'accepted')
            results[i] = {
              txId,
              status: 'rejected',
              error: new HealthLedgerError('COMMIT_TIMEOUT', undefined, { txId }),
            };
        }
        done();
      }, timeoutMs);
      for (const { i, txId } of waiting) {
        const waiter: Waiter = {
          resolve: (commitment) => {
            if (settled) return;
            results[i] = { txId, status: 'committed', commitment };
            finish();
          },
          reject: (error) => {
            if (settled) return;
            results[i] = {
              txId,
              status: 'rejected',
              error: error instanceof HealthLedgerError ? error : new HealthLedgerError('INTERNAL'),
            };
            finish();
          },
        };
        registered.push(waiter);
        const list = this.waiters.get(txId);
        if (list) list.push(waiter);
        else this.waiters.set(txId, [waiter]);
      }
    });
  }

  private rejectWaiters(txId: string, error: Error): void {
    const list = this.waiters.get(txId);
    if (!list) return;
    this.waiters.delete(txId);
    for (const w of list) w.reject(error);
  }

  /**
   * Applies one ordered batch as the block of the same height: executes it now (against state
   * including blocks still being written), hands the commit to the block writer, and returns, so
   * the next batch can execute while this one becomes durable. Submitters are answered only when
   * it is durable. At most {@link MAX_IN_FLIGHT} blocks wait for the writer. Fail-stop on error.
   */
  private async applyBatch(batch: OrderedBatch): Promise<void> {
    if (this.halted !== null) throw new Error(this.halted);
    while (this.inFlight.length >= MAX_IN_FLIGHT) await this.inFlight[0]!.durable;
    if (this.halted !== null) throw new Error(this.halted);
    const started = performance.now();
    try {
      if (batch.seq !== this.head.height + 1)
        throw new Error(`batch ${batch.seq} does not follow height ${this.head.height}: refusing a gap`);
      const ctx: BlockContext = {
        chainId: this.chainId,
        height: batch.seq,
        timestampMs: batch.timestampMs,
        policies: this.genesis.genesis.policies,
      };
      const prepared = prepareBlock(
        this.reader,
        batch.txs,
        ctx,
        (raw, max) => this.decodedByRaw.get(raw) ?? decodeRawTx(raw, max),
      );
      for (const p of prepared.txs) this.decodedByRaw.delete(p.raw);
      // Signatures this node already verified under the same key need no second check.
      const valid = new Uint8Array(batch.txs.length);
      const toVerify: typeof prepared.jobs = [];
      for (const job of prepared.jobs) {
        const p = prepared.txs[job.index]!;
        const cached = this.verified.get(p.txId);
        if (cached !== undefined && cached[0] === p.decoded!.tx.sig && cached[1] === p.signer!.publicKey)
          valid[job.index] = 1;
        else toVerify.push(job);
      }
      if (toVerify.length > 0) {
        const flags = await this.opts.verifier.verifyBatch(toVerify);
        for (let k = 0; k < toVerify.length; k++) valid[toVerify[k]!.index] = flags[k]!;
      }
      const n = prepared.txs.length;
      // A block of n leaves completes fewer than 2n + log2(size) perfect nodes.
      const maxNodes = 2 * n + 64;
      const nodeKeys = new Float64Array(maxNodes);
      const nodeHashes = new Uint8Array(32 * maxNodes);
      let nodes = 0;
      const { header, outcome, consumed } = assembleBlock({
        reader: this.reader,
        prepared,
        valid,
        registry: this.registry,
        range: this.range,
        prevHash: this.head.hash,
        prevStateRoot: this.head.stateRoot,
        proposer: this.opts.nodeId,
        onNode: (level, index, hash) => {
          nodeKeys[nodes] = merkleNodeKey(level, index);
          nodeHashes.set(hash, 32 * nodes++);
        },
      });
      const txIds = new Uint8Array(32 * n);
      const raws: string[] = new Array<string>(n);
      const txIdBytes = Buffer.from(txIds.buffer, txIds.byteOffset, txIds.byteLength);
      for (let i = 0; i < n; i++) {
        const p = prepared.txs[i]!;
        txIdBytes.write(p.txId, 32 * i, 'hex');
        raws[i] = p.raw;
      }
      const headerJson = canonicalize(header);
      const hash = blockHash(header, nativeSha256);
      const signature = signBlockHash(hash, this.opts.sign);
      const checkpoint: SignedCheckpoint = signCheckpoint(
        {
          v: 1,
          chainId: this.chainId,
          nodeId: this.opts.nodeId,
          logSize: header.logSize,
          logRoot: header.logRoot,
          height: header.height,
          blockHash: hash,
          timestampMs: header.timestampMs,
        },
        this.opts.sign,
      );
      const acceptedIds = outcome.consumedTxIds;
      this.store.noteConsumed(acceptedIds);
      this.store.noteStateWrites(outcome.writes);
      const block: InFlightBlock = {
        height: header.height,
        writes: new Map(outcome.writes),
        consumed: new Set(acceptedIds),
        durable: Promise.resolve(),
      };
      const head: ChainHead = {
        height: header.height,
        hash,
        stateRoot: header.stateRoot,
        logSize: header.logSize,
        logRoot: header.logRoot,
        timestampMs: header.timestampMs,
      };
      const codes = outcome.codes;
      // Execution already listed the ids in block order.
      const txIdList = outcome.txIds;
      const committedBlock = (): Block => ({
        header,
        hash,
        signature,
        txs: prepared.txs.map((p) => p.decoded?.tx ?? (JSON.parse(p.raw) as SignedTx)),
        codes,
      });
      block.durable = this.writer
        .write({
          header,
          headerJson,
          hash,
          signature,
          txIds,
          raws,
          codes,
          consumed,
          writes: outcome.writes,
          nodeKeys: nodeKeys.slice(0, nodes),
          nodeHashes: nodeHashes.slice(0, 32 * nodes),
          checkpoint,
        })
        .then(
          () => this.onDurable(block, head, txIdList, codes, performance.now() - started, committedBlock),
          (e: unknown) => this.halt(`block ${header.height} failed to commit: ${(e as Error).message}`),
        );
      this.inFlight.push(block);
      this.head = head;
      this.memberCache.clear();
    } catch (e) {
      // The in-memory Merkle frontier may be ahead of the store: stop writing; a restart rebuilds from disk.
      this.halt(`block ${batch.seq} failed to apply: ${(e as Error).message}`);
      throw e;
    }
  }

  /** A block is durable: publish it and answer its submitters. */
  private onDurable(
    block: InFlightBlock,
    head: ChainHead,
    txIds: readonly string[],
    codes: readonly ValidationCode[],
    applyMs: number,
    committedBlock: () => Block,
  ): void {
    if (this.inFlight[0] !== block) throw new Error('blocks became durable out of order');
    this.inFlight.shift();
    this.committedHead = head;
    this.metrics.blockCommitted(head.height, codes, applyMs);
    const firstSeq = head.logSize - txIds.length;
    for (let i = 0; i < txIds.length; i++) {
      const txId = txIds[i]!;
      this.pending.delete(txId);
      this.verified.delete(txId);
      const list = this.waiters.get(txId);
      if (list) {
        this.waiters.delete(txId);
        const commitment: Commitment = {
          txId,
          height: head.height,
          index: i,
          seq: firstSeq + i,
          code: codes[i]!,
        };
        for (const w of list) w.resolve(commitment);
      }
    }
    if (this.listeners.size > 0) {
      const b = committedBlock();
      for (const l of this.listeners) l(b);
    }
  }

  /** Stops accepting writes for good (until restart), failing everyone waiting. */
  halt(reason: string): void {
    if (this.halted !== null) return;
    this.halted = reason;
    this.log('node.halted', { reason });
    for (const txId of [...this.waiters.keys()])
      this.rejectWaiters(txId, new HealthLedgerError('NODE_UNAVAILABLE', reason));
  }

  /** A stored block with its transactions, or undefined. */
  getBlock(height: number): Block | undefined {
    const b = this.store.getBlock(height);
    if (b === undefined) return undefined;
    const txs = this.store.txsOfBlock(height);
    return {
      header: b.header,
      hash: b.hash,
      signature: b.signature,
      txs: txs.map((t) => JSON.parse(t.raw) as SignedTx),
      codes: txs.map((t) => t.code),
    };
  }

  /** A stored block's header and hash, without reading its transactions. */
  getBlockHeader(height: number): { header: BlockHeader; hash: string } | undefined {
    const b = this.store.getBlock(height);
    return b === undefined ? undefined : { header: b.header, hash: b.hash };
  }

  /** Block headers from `from` (inclusive), at most `limit`. */
  listBlocks(from: number, limit: number): { header: BlockHeader; hash: string; signature: string }[] {
    const out: { header: BlockHeader; hash: string; signature: string }[] = [];
    for (let h = from; h <= this.committedHead.height && out.length < limit; h++) {
      const b = this.store.getBlock(h);
      if (b) out.push({ header: b.header, hash: b.hash, signature: b.signature });
    }
    return out;
  }

  /** The latest signed checkpoint (none before the first block). */
  latestCheckpoint(): SignedCheckpoint | undefined {
    return this.store.latestCheckpoint();
  }

  /** The checkpoint issued after block `height`. */
  checkpointAtHeight(height: number): SignedCheckpoint | undefined {
    return this.store.checkpointAtHeight(height);
  }

  /**
   * A receipt for `txId`, proven against the checkpoint of its own block, or of the block that
   * ended with log size `treeSize` when given.
   */
  getReceipt(txId: string, treeSize?: number): Receipt {
    if (!/^[0-9a-f]{64}$/.test(txId))
      throw new HealthLedgerError('MALFORMED_REQUEST', 'txId must be 64 lower-case hex characters');
    const tx = this.store.txById(txId);
    if (tx === undefined) throw new HealthLedgerError('NOT_FOUND', `no committed transaction ${txId}`);
    let checkpoint: SignedCheckpoint | undefined;
    if (treeSize === undefined) checkpoint = this.store.checkpointAtHeight(tx.height);
    else {
      if (treeSize <= tx.seq)
        throw new HealthLedgerError('INVALID_RANGE', `treeSize must exceed the leaf index ${tx.seq}`);
      checkpoint = this.store.checkpointBySize(treeSize);
      if (checkpoint === undefined)
        throw new HealthLedgerError('NOT_FOUND', `no checkpoint with log size ${treeSize}`);
    }
    if (checkpoint === undefined)
      throw new HealthLedgerError('INTERNAL', 'checkpoint missing for committed block');
    const proof = inclusionProof(this.store, tx.seq, checkpoint.checkpoint.logSize, nativeSha256).map(toHex);
    return {
      txId,
      tx: JSON.parse(tx.raw) as SignedTx,
      height: tx.height,
      index: tx.index,
      seq: tx.seq,
      code: tx.code,
      checkpoint,
      proof,
    };
  }

  /** RFC 9162 consistency proof between two log sizes this node has checkpointed. */
  consistency(
    fromSize: number,
    toSize: number,
  ): { from: SignedCheckpoint; to: SignedCheckpoint; proof: string[] } {
    const size = this.committedHead.logSize;
    if (!(fromSize >= 1 && fromSize <= toSize && toSize <= size))
      throw new HealthLedgerError('INVALID_RANGE', `need 1 ≤ from ≤ to ≤ ${size}`);
    const from = this.store.checkpointBySize(fromSize);
    const to = this.store.checkpointBySize(toSize);
    if (from === undefined || to === undefined)
      throw new HealthLedgerError(
        'NOT_FOUND',
        'both sizes must be log sizes of checkpoints (block boundaries)',
      );
    return { from, to, proof: consistencyProof(this.store, fromSize, toSize, nativeSha256).map(toHex) };
  }

  /** An enrolled member's record. */
  getMember(memberId: string): MemberRecord | undefined {
    return readMember((k) => this.store.getState(k), memberId);
  }

  /** Raw state value (for contracts' read APIs). */
  getState(key: string): string | undefined {
    return this.store.getState(key);
  }

  /** Transactions queued and not yet committed. */
  get pendingCount(): number {
    return this.pending.size;
  }

  /** Stops ordering, fails any waiters, closes the verifier (the caller closes the store). */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await this.opts.orderer.stop();
    await Promise.all(this.inFlight.map((b) => b.durable));
    await this.writer.close();
    for (const txId of [...this.waiters.keys()])
      this.rejectWaiters(txId, new HealthLedgerError('NODE_UNAVAILABLE', 'node stopped before commit'));
    await this.opts.verifier.close();
    this.log('node.stopped', { height: this.committedHead.height });
  }
}
