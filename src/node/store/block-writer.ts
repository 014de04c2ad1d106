/**
 * Durable block commits, behind a small interface so the node does not care where they run.
 * `WorkerBlockWriter` owns a second SQLite connection on a worker thread: the insert work and
 * the fsync leave the event loop, so the node executes the next block (against the in-flight
 * writes it keeps in memory) and keeps ingesting while the previous one becomes durable.
 * Commits complete strictly in submission order. A failure is final (fail-stop).
 * @module
 */
import { Worker } from 'node:worker_threads';
import { resolveWorkerEntry } from '../worker-entry.js';
import type { LedgerStore } from './ledger-store.js';
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

/** Commits on a dedicated worker thread with its own connection to the same database file. */
export class WorkerBlockWriter implements BlockWriter {
  private readonly pending: { height: number; resolve: () => void; reject: (e: Error) => void }[] = [];
  private failure: Error | null = null;
  private closing: Promise<void> | null = null;
  /** Settles after the last write settles: what close() waits for. */
  private tail: Promise<unknown> = Promise.resolve();

  private constructor(private readonly worker: Worker) {
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

  /** Starts the writer thread on the database at `path` (already initialized by the node). */
  static async open(path: string): Promise<WorkerBlockWriter> {
    const spec = resolveWorkerEntry(import.meta.url, 'block-writer.worker');
    const worker = new Worker(spec.entry, { eval: spec.eval, workerData: { path } });
    await new Promise<void>((resolve, reject) => {
      const onMessage = (m: WriterReply): void => {
        if (m.type === 'ready') resolve();
        else if (m.type === 'error') reject(new Error(m.message));
      };
      worker.once('message', onMessage);
      worker.once('error', reject);
    });
    return new WorkerBlockWriter(worker);
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
      this.worker.postMessage({ type: 'close' });
      await new Promise((r) => this.worker.once('exit', r));
    })();
    return this.closing;
  }
}
