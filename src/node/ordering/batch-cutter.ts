/**
 * The batching both orderers share: pending transactions are cut into a batch when `maxBlockTxs`
 * are waiting or `blockTimeoutMs` after the first of them arrived, whichever is first — and only
 * once the previous batch has been handed on, so batches grow with load (natural batching).
 * Pending transactions live in memory: they are not acknowledged until committed in a block, so a
 * crash loses nothing that was acknowledged.
 * @module
 */
import { HealthLedgerError } from '../../protocol/errors.js';
import type { Clock } from './orderer.js';

export interface BatchCutterOptions {
  maxBlockTxs: number;
  blockTimeoutMs: number;
  clock: Clock;
  /** Most transactions waiting before `add` refuses with OVERLOADED (default 200,000). */
  maxPending?: number;
  /** Hands a cut batch on (orders it); the next cut waits for it. Should not reject. */
  onCut: (txs: string[]) => Promise<void>;
}

/**
 * @example
 * const cutter = new BatchCutter({ maxBlockTxs: 2000, blockTimeoutMs: 10, clock, onCut: (txs) => deliver(txs) });
 * cutter.open();
 * cutter.add(['{"body":…}']);
 */
export class BatchCutter {
  private queue: string[] = [];
  private head = 0;
  private firstPendingAt = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private cutting: Promise<void> | null = null;
  private closed = true;

  constructor(private readonly opts: BatchCutterOptions) {}

  /** Transactions waiting to be cut. */
  get pending(): number {
    return this.queue.length - this.head;
  }

  /** Starts (or resumes) cutting. */
  open(): void {
    this.closed = false;
    this.schedule();
  }

  /** Stops cutting; resolves once a batch being handed on has been. Pending transactions stay. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.cutting;
  }

  /**
   * An orderer's `broadcast`: queues transactions if the cutter is open. Rejects with
   * NODE_UNAVAILABLE when it is closed (not started, stopped or failed) and OVERLOADED (adding
   * none) when the queue is full.
   */
  offer(txs: readonly string[]): Promise<void> {
    if (this.closed) return Promise.reject(new HealthLedgerError('NODE_UNAVAILABLE'));
    try {
      this.add(txs);
    } catch (e) {
      return Promise.reject(e as Error);
    }
    return Promise.resolve();
  }

  /** Queues transactions. Throws HealthLedgerError OVERLOADED (adding none) when the queue is full. */
  add(txs: readonly string[]): void {
    if (this.pending + txs.length > (this.opts.maxPending ?? 200_000))
      throw new HealthLedgerError('OVERLOADED');
    if (this.pending === 0) this.firstPendingAt = this.opts.clock.now();
    for (const t of txs) this.queue.push(t);
    this.schedule();
  }

  private schedule(): void {
    if (this.cutting !== null || this.closed || this.pending === 0) return;
    const waited = this.opts.clock.now() - this.firstPendingAt;
    if (this.pending >= this.opts.maxBlockTxs || waited >= this.opts.blockTimeoutMs) {
      if (this.timer) clearTimeout(this.timer);
      this.timer = null;
      this.cut();
    } else if (this.timer === null) {
      this.timer = setTimeout(() => {
        this.timer = null;
        this.schedule();
      }, this.opts.blockTimeoutMs - waited);
    }
  }

  private cut(): void {
    const take = Math.min(this.pending, this.opts.maxBlockTxs);
    const txs = this.queue.slice(this.head, this.head + take);
    this.head += take;
    // Drop the consumed prefix now and then, not on every cut (a shift per batch is O(queue)).
    if (this.head > 65_536 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    this.cutting = this.opts
      .onCut(txs)
      .catch(() => {}) // onCut answers for its own failures (the orderers stop or retry)
      .finally(() => {
        this.cutting = null;
        if (this.pending > 0) this.firstPendingAt = Math.min(this.firstPendingAt, this.opts.clock.now());
        this.schedule();
      });
  }
}
