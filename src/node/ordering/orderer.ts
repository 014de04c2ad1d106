/**
 * The ordering service interface (as Hyperledger Fabric separates ordering from execution).
 * An orderer fixes a total order of transactions and cuts it into batches; it never executes
 * them. Every node applies the same batches in the same order, so any backend that honours this
 * contract (the embedded in-process orderer, an etcd Raft cluster) plugs in without touching
 * execution.
 * @module
 */

/** A cut batch: becomes the block of the same height. */
export interface OrderedBatch {
  /** Sequence number = block height, starting at 1, without gaps. */
  seq: number;
  /** Block time assigned by the orderer; non-decreasing across batches. */
  timestampMs: number;
  /** Canonical JSON transactions, in order. */
  txs: string[];
}

/** Called for each batch, strictly in sequence; the orderer waits for the promise before the next. */
export type BatchHandler = (batch: OrderedBatch) => Promise<void>;

export interface Orderer {
  /**
   * Hands transactions to the ordering service. Resolves once they are queued for ordering
   * (not committed). Rejects with HealthLedgerError('OVERLOADED') when the queue is full.
   */
  broadcast(txs: readonly string[]): Promise<void>;
  /**
   * Starts delivering batches from `nextSeq` on. `lastTimestampMs` is the time of the block
   * before it, so block times never go backwards across restarts.
   */
  start(nextSeq: number, lastTimestampMs: number, onBatch: BatchHandler): void;
  /** Stops cutting and delivering; resolves after any in-flight delivery completes. */
  stop(): Promise<void>;
}

/** The node's only clock; injected so tests and replays control time. */
export interface Clock {
  now(): number;
}

/** Wall-clock time. */
export const systemClock: Clock = { now: () => Date.now() };
