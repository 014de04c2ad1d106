/**
 * The embedded orderer: in process, one node. Batches are cut by {@link BatchCutter} (by size or
 * time; while the node executes one batch the next accumulates) and numbered in order here.
 * @module
 */
import { HealthLedgerError } from '../../protocol/errors.js';
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
  private stopped = false;

  constructor(private readonly opts: EmbeddedOrdererOptions) {
    this.cutter = new BatchCutter({ ...opts, onCut: (txs) => this.deliver(txs) });
  }

  /** Transactions waiting to be cut into a batch. */
  get pending(): number {
    return this.cutter.pending;
  }

  broadcast(txs: readonly string[]): Promise<void> {
    if (this.stopped || this.handler === null)
      return Promise.reject(new HealthLedgerError('NODE_UNAVAILABLE'));
    try {
      this.cutter.add(txs);
    } catch (e) {
      return Promise.reject(e as Error);
    }
    return Promise.resolve();
  }

  start(nextSeq: number, lastTimestampMs: number, onBatch: BatchHandler): void {
    this.nextSeq = nextSeq;
    this.lastTimestampMs = lastTimestampMs;
    this.handler = onBatch;
    this.stopped = false;
    this.cutter.open();
  }

  async stop(): Promise<void> {
    this.stopped = true;
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
      this.stopped = true;
      void this.cutter.close();
    }
  }
}
