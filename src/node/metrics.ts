/**
 * Node metrics in the Prometheus text exposition format (served at GET /metrics).
 * Counts and timings only: never identifiers or payloads.
 * @module
 */
import type { ValidationCode } from '../protocol/validation.js';

const LATENCY_BUCKETS_MS = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500];

export class Metrics {
  private height = 0;
  private blocks = 0;
  private submittedTotal = 0;
  private readonly committedByCode = new Map<string, number>();
  private readonly rejectedByCode = new Map<string, number>();
  private readonly blockApplyBuckets = new Array<number>(LATENCY_BUCKETS_MS.length + 1).fill(0);
  private blockApplySumMs = 0;
  private readonly gauges = new Map<string, () => number>();

  setHeight(h: number): void {
    this.height = h;
  }

  submitted(n: number): void {
    this.submittedTotal += n;
  }

  rejected(code: string): void {
    this.rejectedByCode.set(code, (this.rejectedByCode.get(code) ?? 0) + 1);
  }

  blockCommitted(height: number, codes: readonly ValidationCode[], applyMs: number): void {
    this.height = height;
    this.blocks++;
    for (const c of codes) this.committedByCode.set(c, (this.committedByCode.get(c) ?? 0) + 1);
    let i = LATENCY_BUCKETS_MS.findIndex((b) => applyMs <= b);
    if (i < 0) i = LATENCY_BUCKETS_MS.length;
    this.blockApplyBuckets[i]!++;
    this.blockApplySumMs += applyMs;
  }

  /** Registers a gauge read at scrape time. */
  gauge(name: string, read: () => number): void {
    this.gauges.set(name, read);
  }

  /** Transactions committed with any code. */
  get committedTotal(): number {
    let n = 0;
    for (const v of this.committedByCode.values()) n += v;
    return n;
  }

  /** Prometheus text format. */
  render(): string {
    const lines: string[] = [];
    lines.push('# HELP healthledger_block_height Height of the last committed block.');
    lines.push('# TYPE healthledger_block_height gauge', `healthledger_block_height ${this.height}`);
    lines.push('# HELP healthledger_tx_submitted_total Transactions accepted for ordering.');
    lines.push(
      '# TYPE healthledger_tx_submitted_total counter',
      `healthledger_tx_submitted_total ${this.submittedTotal}`,
    );
    lines.push(
      '# HELP healthledger_tx_committed_total Transactions committed in blocks, by validation code.',
    );
    lines.push('# TYPE healthledger_tx_committed_total counter');
    for (const [c, n] of this.committedByCode)
      lines.push(`healthledger_tx_committed_total{code="${c}"} ${n}`);
    lines.push('# HELP healthledger_requests_rejected_total Requests rejected at the API, by error code.');
    lines.push('# TYPE healthledger_requests_rejected_total counter');
    for (const [c, n] of this.rejectedByCode)
      lines.push(`healthledger_requests_rejected_total{code="${c}"} ${n}`);
    lines.push('# HELP healthledger_block_apply_ms Time to execute and durably commit a block.');
    lines.push('# TYPE healthledger_block_apply_ms histogram');
    let cum = 0;
    LATENCY_BUCKETS_MS.forEach((b, i) => {
      cum += this.blockApplyBuckets[i]!;
      lines.push(`healthledger_block_apply_ms_bucket{le="${b}"} ${cum}`);
    });
    cum += this.blockApplyBuckets[LATENCY_BUCKETS_MS.length]!;
    lines.push(`healthledger_block_apply_ms_bucket{le="+Inf"} ${cum}`);
    lines.push(
      `healthledger_block_apply_ms_sum ${this.blockApplySumMs.toFixed(3)}`,
      `healthledger_block_apply_ms_count ${this.blocks}`,
    );
    for (const [name, read] of this.gauges) lines.push(`# TYPE ${name} gauge`, `${name} ${read()}`);
    return lines.join('\n') + '\n';
  }
}
