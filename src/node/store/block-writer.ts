/**
 * Durable block commits, behind a small interface so the node does not care where they run.
 * `WorkerBlockWriter` owns a second SQLite connection on a worker thread: the insert work and
 * the fsync leave the event loop, so the node executes the next block (against the in-flight
 * writes it keeps in memory) and keeps ingesting while the previous one becomes durable.
 * Commits complete strictly in submission order. A failure is final (fail-stop). A third thread
 * checkpoints the WAL beside them, so no commit waits while committed pages are copied back into
 * the database file (that copy had made one commit in ~16 take 3–5 times as long).
 * @module
 */
import { Worker } from 'node:worker_threads';
import { resolveWorkerEntry } from '../worker-entry.js';
import type { LedgerStore } from './ledger-store.js';
import type { CheckpointerReply } from './wal-checkpointer.worker.js';
import { type BlockCommit } from './ledger-store.js';

export interface BlockWriter {
  /** Resolves once the block is durable; rejects (and every later write) if it failed. */
  write(commit: BlockCommit): Promise<void>;
  /** Waits for queued writes, then releases the connection. */
  close(): Promise<void>;
}

/** Commits on the caller's thread, through the node's own store (tests, tools). */
export class InlineBlockWriter implements BlockWriter {
  constructor(private readonly store: LedgerStore) {}

  write(commit: BlockCommit): Promise<void> {
    try {
      this.store.commitBlock(commit);
      return Promise.resolve();
    } catch (e) {
      return Promise.reject(e as Error);
    }
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

/** Worker → main messages. */
export type WriterReply =
  { type: 'ready' } | { type: 'done'; height: number } | { type: 'error'; message: string };

/** How often the checkpointer thread copies the WAL back (ms). */
export const CHECKPOINT_INTERVAL_MS = 1000;

/** Starts a worker and resolves once `isReady` accepts one of its messages (rejects on an Error or if it fails). */
async function startWorker(
  basename: string,
  workerData: object,
  isReady: (m: { type: string; message?: string }) => boolean | Error,
): Promise<Worker> {
  const spec = resolveWorkerEntry(import.meta.url, basename);
  const worker = new Worker(spec.entry, { eval: spec.eval, workerData });
  await new Promise<void>((resolve, reject) => {
    const onMessage = (m: { type: string; message?: string }): void => {
      const ready = isReady(m);
      if (ready === true) resolve();
      else if (ready instanceof Error) reject(ready);
      else worker.once('message', onMessage);
    };
    worker.once('message', onMessage);
    worker.once('error', reject);
  });
  return worker;
}

/** Commits on a dedicated worker thread with its own connection to the same database file. */
export class WorkerBlockWriter implements BlockWriter {
  private readonly pending: { height: number; resolve: () => void; reject: (e: Error) => void }[] = [];
  private failure: Error | null = null;
  private closing: Promise<void> | null = null;
  /** Settles after the last write settles: what close() waits for. */
  private tail: Promise<unknown> = Promise.resolve();
  /** Settle when each thread has exited (listened for from the start: one may end before close). */
  private readonly writerExited: Promise<unknown>;
  private readonly checkpointerExited: Promise<unknown>;

  private constructor(
    private readonly worker: Worker,
    private readonly checkpointer: Worker,
    log: (event: string, fields: Record<string, unknown>) => void,
  ) {
    this.writerExited = new Promise((r) => worker.once('exit', r));
    this.checkpointerExited = new Promise((r) => checkpointer.once('exit', r));
    checkpointer.on('message', (m: CheckpointerReply) => {
      if (m.type === 'warning') log('store.checkpoint.failed', { error: m.message });
    });
    // Not fatal: the writer's own backstop checkpoint still bounds the WAL.
    checkpointer.on('error', (e) => log('store.checkpoint.failed', { error: e.message }));
    worker.on('message', (m: WriterReply) => {
      if (m.type === 'done') {
        const p = this.pending.shift();
        if (p?.height !== m.height)
          return this.fail(new Error(`store writer answered for block ${m.height}, expected ${p?.height}`));
        p.resolve();
      } else if (m.type === 'error') this.fail(new Error(`store writer: ${m.message}`));
    });
    worker.on('error', (e) => this.fail(e));
    worker.on('exit', (code) => {
      if (this.pending.length > 0 || this.closing === null)
        this.fail(new Error(`store writer exited (${code})`));
    });
  }

  /**
   * Starts the writer and checkpointer threads on the database at `path` (already initialized by
   * the node). `log` hears of checkpoints that fail (the writer's backstop then keeps the WAL bounded).
   * @example const writer = await WorkerBlockWriter.open('data/ledger.sqlite');
   */
  static async open(
    path: string,
    opts: {
      checkpointIntervalMs?: number;
      log?: (event: string, fields: Record<string, unknown>) => void;
    } = {},
  ): Promise<WorkerBlockWriter> {
    const ready = (m: { type: string; message?: string }) =>
      m.type === 'ready' || (m.type === 'error' ? new Error(m.message) : false);
    const worker = await startWorker('block-writer.worker', { path }, ready);
    let checkpointer: Worker;
    try {
      checkpointer = await startWorker(
        'wal-checkpointer.worker',
        { path, intervalMs: opts.checkpointIntervalMs ?? CHECKPOINT_INTERVAL_MS },
        ready,
      );
    } catch (e) {
      await worker.terminate();
      throw e;
    }
    return new WorkerBlockWriter(worker, checkpointer, opts.log ?? (() => {}));
  }

  write(commit: BlockCommit): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.closing) return Promise.reject(new Error('store writer is closing'));
    const done = new Promise<void>((resolve, reject) => {
      this.pending.push({ height: commit.header.height, resolve, reject });
      // The typed arrays are the node's to give away: transfer rather than copy.
      this.worker.postMessage({ type: 'commit', commit }, [
        commit.txIds.buffer,
        commit.consumed.buffer,
        commit.nodeKeys.buffer,
        commit.nodeHashes.buffer,
      ] as ArrayBuffer[]);
    });
    this.tail = done.catch(() => undefined);
    return done;
  }

  private fail(e: Error): void {
    if (this.failure) return;
    this.failure = e;
    for (const p of this.pending.splice(0)) p.reject(e);
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.tail;
      // The checkpointer first: the writer's close then checkpoints what is left and removes the WAL.
      this.checkpointer.postMessage({ type: 'close' });
      await this.checkpointerExited;
      this.worker.postMessage({ type: 'close' });
      await this.writerExited;
    })();
    return this.closing;
  }
}
