/**
 * The embedded orderer: in process, one node. Batches are cut by {@link BatchCutter} (by size or
 * time; while the node executes one batch the next accumulates) and numbered in order here.
 * @module
 */
import { BatchCutter } from './batch-cutter.js';
import type { BatchHandler, Clock, Orderer } from './orderer.js';

export interface EmbeddedOrdererOptions {
  maxBlockTxs: number;
  blockTimeoutMs: number;
  clock: Clock;
  /** Most transactions waiting to be ordered before `broadcast` answers OVERLOADED. */
  maxPending?: number;
}

export class EmbeddedOrderer implements Orderer {
  private readonly cutter: BatchCutter;
  private handler: BatchHandler | null = null;
  private nextSeq = 1;
  private lastTimestampMs = 0;

  constructor(private readonly opts: EmbeddedOrdererOptions) {
    this.cutter = new BatchCutter({ ...opts, onCut: (txs) => this.deliver(txs) });
  }

  /** Transactions waiting to be cut into a batch. */
  get pending(): number {
    return this.cutter.pending;
  }

  broadcast(txs: readonly string[]): Promise<void> {
    return this.cutter.offer(txs);
  }

  start(nextSeq: number, lastTimestampMs: number, onBatch: BatchHandler): void {
    this.nextSeq = nextSeq;
    this.lastTimestampMs = lastTimestampMs;
    this.handler = onBatch;
    this.cutter.open();
  }

  async stop(): Promise<void> {
    await this.cutter.close();
  }

  private async deliver(txs: string[]): Promise<void> {
    const timestampMs = Math.max(this.opts.clock.now(), this.lastTimestampMs);
    try {
      await this.handler!({ seq: this.nextSeq, timestampMs, txs });
      this.nextSeq++;
      this.lastTimestampMs = timestampMs;
    } catch {
      // The node failed to apply the batch (it halts itself); stop ordering rather than skip a height.
      void this.cutter.close();
    }
  }
}
