/**
 * Ed25519 signature verification across worker threads: the node's throughput hot path.
 * libsodium verifies ~19k signatures/s per core here, so one core cannot keep up with a full
 * block stream; the pool spreads each batch across workers, one libsodium instance per thread.
 *
 * Per-message overhead is kept per chunk, not per item: a chunk (≥ {@link MIN_CHUNK} items) is
 * packed into one ArrayBuffer (lengths header + concatenated bytes, see verify-pool.worker.ts),
 * transferred (no copy), and answered with one transferred flag array.
 * @module
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { resolveWorkerEntry, type WorkerEntry } from '../worker-entry.js';

/** One signature to check. Lengths are not pre-validated: wrong lengths simply yield 0. */
export interface VerifyItem {
  readonly signature: Uint8Array;
  readonly message: Uint8Array;
  readonly publicKey: Uint8Array;
}

/** Options for {@link VerifyPool.create}. */
export interface VerifyPoolOptions {
  /** Worker threads; default `max(1, os.availableParallelism())`. */
  threads?: number;
}

/** Main → worker message: one packed chunk (transferred). Internal to the pool and its worker. */
export interface VerifyRequest {
  id: number;
  buffer: ArrayBuffer;
}

/** Worker → main message: flags for chunk `id` (transferred); `id` −1 announces readiness. */
export interface VerifyResponse {
  id: number;
  results: Uint8Array;
}

/**
 * Smallest chunk sent to a worker. Below this, the postMessage round trip (~tens of µs) is no
 * longer small next to the work (~50 µs per verify), so small batches go to one worker whole.
 */
export const MIN_CHUNK = 64;

/** The id a worker uses to say it has loaded libsodium and is listening. */
const READY_ID = -1;

interface Task {
  readonly count: number;
  readonly resolve: (results: Uint8Array) => void;
  readonly reject: (error: Error) => void;
}

interface Slot {
  readonly index: number;
  readonly worker: Worker;
  readonly tasks: Map<number, Task>;
  readonly ready: Promise<void>;
  pendingItems: number;
  isReady: boolean;
  dead: boolean;
  lastError: Error | undefined;
}

type WorkerSpec = WorkerEntry;

function resolveWorker(): WorkerSpec {
  return resolveWorkerEntry(import.meta.url, 'verify-pool.worker');
}

/**
 * Packs `items[start, end)` into one transferable buffer:
 * `u32 count, (u32 sigLen, u32 msgLen, u32 pkLen) × count, (sig ‖ msg ‖ pk) × count`,
 * little-endian. Exported for tests; the worker's `verifyPacked` is the inverse.
 */
export function packChunk(items: ReadonlyArray<VerifyItem>, start: number, end: number): ArrayBuffer {
  const count = end - start;
  const headerBytes = 4 + 12 * count;
  let total = headerBytes;
  for (let i = start; i < end; i++) {
    const it = items[i]!;
    total += it.signature.length + it.message.length + it.publicKey.length;
  }
  const buffer = new ArrayBuffer(total);
  const view = new DataView(buffer);
  const bytes = new Uint8Array(buffer);
  view.setUint32(0, count, true);
  let h = 4;
  let o = headerBytes;
  for (let i = start; i < end; i++) {
    const { signature, message, publicKey } = items[i]!;
    view.setUint32(h, signature.length, true);
    view.setUint32(h + 4, message.length, true);
    view.setUint32(h + 8, publicKey.length, true);
    h += 12;
    bytes.set(signature, o);
    o += signature.length;
    bytes.set(message, o);
    o += message.length;
    bytes.set(publicKey, o);
    o += publicKey.length;
  }
  return buffer;
}

/**
 * A fixed-size pool of worker threads verifying Ed25519 signatures with libsodium's rules
 * (`verifySodium`): each worker uses the precomputed-table addon when built, else libsodium.
 *
 * A worker that crashes rejects the batches it was working on (with an error naming the worker
 * and the cause) and is replaced; a worker that fails while starting is not restarted, so a
 * broken install cannot respawn in a loop. Idle workers are unref'd: an idle pool does not keep
 * the process alive, but call {@link VerifyPool.close} when done.
 *
 * @example
 * const pool = await VerifyPool.create({ threads: 2 });
 * const flags = await pool.verifyBatch(items); // Uint8Array, 1 = valid
 * await pool.close();
 */
export class VerifyPool {
  // TypeScript `private` (not #private) so tests can reach a worker to simulate a crash.
  private readonly spec: WorkerSpec;
  private readonly slots: Slot[] = [];
  private nextId = 0;
  private closed = false;
  private closing: Promise<void> | undefined;

  private constructor(threads: number, spec: WorkerSpec) {
    this.spec = spec;
    for (let i = 0; i < threads; i++) this.slots.push(this.spawn(i));
  }

  /** Starts `threads` workers and resolves once each has loaded libsodium. */
  static async create(opts: VerifyPoolOptions = {}): Promise<VerifyPool> {
    const threads = opts.threads ?? Math.max(1, availableParallelism());
    if (!Number.isInteger(threads) || threads < 1)
      throw new RangeError(`VerifyPool: invalid thread count ${threads}`);
    const pool = new VerifyPool(threads, resolveWorker());
    try {
      await Promise.all(pool.slots.map((s) => s.ready));
    } catch (e) {
      await pool.close();
      throw e;
    }
    return pool;
  }

  /** Number of worker threads the pool was created with. */
  get threads(): number {
    return this.slots.length;
  }

  /**
   * Verifies `items`; resolves to one byte per item in the same order (1 = valid, 0 = invalid).
   * Batches of ≥ 2 × {@link MIN_CHUNK} are split evenly across workers; smaller ones go whole to
   * the least-loaded worker. Rejects if the pool is closed (before or during the call) or a
   * worker handling part of the batch crashes.
   */
  async verifyBatch(items: ReadonlyArray<VerifyItem>): Promise<Uint8Array> {
    if (this.closed) throw new Error('VerifyPool is closed');
    const n = items.length;
    const out = new Uint8Array(n);
    if (n === 0) return out;
    const live = this.slots.filter((s) => !s.dead).length;
    if (live === 0) throw new Error('VerifyPool: no live workers (all failed to start)');
    const chunks = Math.max(1, Math.min(live, Math.floor(n / MIN_CHUNK)));
    const base = Math.floor(n / chunks);
    const extra = n % chunks;
    const parts: Promise<void>[] = [];
    for (let c = 0, start = 0; c < chunks; c++) {
      const end = start + base + (c < extra ? 1 : 0);
      const offset = start;
      const count = end - start;
      parts.push(
        this.dispatch(packChunk(items, start, end), count).then((results) => {
          if (results.length !== count) throw new Error('VerifyPool: worker returned a wrong-sized result');
          out.set(results, offset);
        }),
      );
      start = end;
    }
    await Promise.all(parts);
    return out;
  }

  /**
   * Stops all workers. In-flight batches reject with "VerifyPool closed"; later calls to
   * {@link VerifyPool.verifyBatch} reject. Idempotent.
   */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    this.closed = true;
    const error = new Error('VerifyPool closed before the batch finished');
    for (const slot of this.slots) this.failTasks(slot, error);
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }

  private dispatch(buffer: ArrayBuffer, count: number): Promise<Uint8Array> {
    let slot: Slot | undefined;
    for (const s of this.slots) {
      if (!s.dead && (slot === undefined || s.pendingItems < slot.pendingItems)) slot = s;
    }
    if (slot === undefined) return Promise.reject(new Error('VerifyPool: no live workers'));
    const target = slot;
    const id = this.nextId++;
    return new Promise<Uint8Array>((resolve, reject) => {
      target.tasks.set(id, { count, resolve, reject });
      if (target.pendingItems === 0 && target.isReady) target.worker.ref();
      target.pendingItems += count;
      const request: VerifyRequest = { id, buffer };
      target.worker.postMessage(request, [buffer]);
    });
  }

  private failTasks(slot: Slot, error: Error): void {
    for (const task of slot.tasks.values()) task.reject(error);
    slot.tasks.clear();
    slot.pendingItems = 0;
  }

  private spawn(index: number): Slot {
    const worker = new Worker(this.spec.entry, { eval: this.spec.eval });
    let markReady!: () => void;
    let failStart!: (e: Error) => void;
    const ready = new Promise<void>((resolve, reject) => {
      markReady = resolve;
      failStart = reject;
    });
    // create() awaits this; a pool that never awaits it must not see an unhandled rejection.
    ready.catch(() => undefined);
    const slot: Slot = {
      index,
      worker,
      tasks: new Map(),
      ready,
      pendingItems: 0,
      isReady: false,
      dead: false,
      lastError: undefined,
    };
    worker.on('message', (msg: VerifyResponse) => {
      if (msg.id === READY_ID) {
        slot.isReady = true;
        if (slot.pendingItems === 0) worker.unref();
        markReady();
        return;
      }
      const task = slot.tasks.get(msg.id);
      if (!task) return;
      slot.tasks.delete(msg.id);
      slot.pendingItems -= task.count;
      if (slot.pendingItems === 0) worker.unref();
      task.resolve(msg.results);
    });
    worker.on('error', (err: Error) => {
      slot.lastError = err;
    });
    worker.on('messageerror', (err: Error) => {
      // A reply we cannot decode means lost results: treat it as a crash.
      slot.lastError = err;
      void worker.terminate();
    });
    worker.on('exit', (code: number) => {
      slot.dead = true;
      if (this.closed) return;
      const cause = slot.lastError;
      const error = new Error(
        `VerifyPool: worker ${index} ${slot.isReady ? 'crashed' : 'failed to start'} (exit code ${code})` +
          (cause ? `: ${cause.message}` : ''),
        cause ? { cause } : undefined,
      );
      this.failTasks(slot, error);
      failStart(error);
      // Replace a worker that was running; one that never started would likely fail again.
      if (slot.isReady) this.slots[index] = this.spawn(index);
    });
    return slot;
  }
}
