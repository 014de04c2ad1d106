/**
 * The embedded orderer: an in-process queue that cuts a batch when it holds `maxBlockTxs`
 * transactions or `blockTimeoutMs` after the first pending one, whichever is first. While the
 * node executes one batch, the next accumulates, so batches grow with load (natural batching).
 * Pending transactions live in memory: they are not acknowledged until committed in a block, so
 * a crash loses nothing that was acknowledged.
 * @module
 */
import { HealthLedgerError } from '../../protocol/errors.js';
import type { BatchHandler, Clock, Orderer } from './orderer.js';

export interface EmbeddedOrdererOptions {
  maxBlockTxs: number;
  blockTimeoutMs: number;
  clock: Clock;
  /** Most transactions waiting to be ordered before `broadcast` answers OVERLOADED. */
  maxPending?: number;
}

export class EmbeddedOrderer implements Orderer {
  private queue: string[] = [];
  private head = 0;
  private firstPendingAt = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private delivering: Promise<void> | null = null;
  private handler: BatchHandler | null = null;
  private nextSeq = 1;
  private lastTimestampMs = 0;
  private stopped = false;
  private readonly maxPending: number;

  constructor(private readonly opts: EmbeddedOrdererOptions) {
    this.maxPending = opts.maxPending ?? 200_000;
  }

  /** Transactions waiting to be cut into a batch. */
  get pending(): number {
    return this.queue.length - this.head;
  }

  broadcast(txs: readonly string[]): Promise<void> {
    if (this.stopped || this.handler === null)
      return Promise.reject(new HealthLedgerError('NODE_UNAVAILABLE'));
    if (this.pending + txs.length > this.maxPending)
      return Promise.reject(new HealthLedgerError('OVERLOADED'));
    if (this.pending === 0) this.firstPendingAt = this.opts.clock.now();
    for (const t of txs) this.queue.push(t);
    this.schedule();
    return Promise.resolve();
  }

  start(nextSeq: number, lastTimestampMs: number, onBatch: BatchHandler): void {
    this.nextSeq = nextSeq;
    this.lastTimestampMs = lastTimestampMs;
    this.handler = onBatch;
    this.stopped = false;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.delivering;
  }

  private schedule(): void {
    if (this.delivering !== null || this.stopped || this.pending === 0) return;
    const waited = this.opts.clock.now() - this.firstPendingAt;
    if (this.pending >= this.opts.maxBlockTxs || waited >= this.opts.blockTimeoutMs) {
      if (this.timer) clearTimeout(this.timer);
      this.timer = null;
      this.deliver();
    } else if (this.timer === null) {
      this.timer = setTimeout(() => {
        this.timer = null;
        this.schedule();
      }, this.opts.blockTimeoutMs - waited);
    }
  }

  private deliver(): void {
    const take = Math.min(this.pending, this.opts.maxBlockTxs);
    const txs = this.queue.slice(this.head, this.head + take);
    this.head += take;
    if (this.head > 65_536 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    const timestampMs = Math.max(this.opts.clock.now(), this.lastTimestampMs);
    const batch = { seq: this.nextSeq, timestampMs, txs };
    this.delivering = (async () => {
      try {
        await this.handler!(batch);
        this.nextSeq++;
        this.lastTimestampMs = timestampMs;
      } catch {
        // The node failed to apply the batch (it halts itself); stop ordering rather than skip a height.
        this.stopped = true;
      } finally {
        this.delivering = null;
      }
      if (this.pending > 0) this.firstPendingAt = Math.min(this.firstPendingAt, this.opts.clock.now());
      this.schedule();
    })();
  }
}
