/**
 * The etcd ordering backend: an etcd cluster (Raft; one member per organization) fixes the order
 * of batches, as Raft orders Hyperledger Fabric's transactions.
 *
 * - **Append**: the node cuts local transactions into a batch (by size or time, like the embedded
 *   orderer) and writes it to the next sequence key `…/batch/<seq>` with a transaction that succeeds
 *   only if that key was never created — a compare-and-swap, no locks or leases — and, in the same
 *   transaction, a small head record `{ seq, hash, timestampMs }`. A node builds on the newest batch
 *   it knows of; one that loses the race reads the head (or, failing that, the last batch) and tries
 *   the next sequence number.
 * - **Chain**: each batch names the hash of the previous one (the first names the genesis hash), so
 *   a batch altered or inserted in etcd breaks the chain.
 * - **Delivery**: every node takes batches strictly in sequence order, checks each one's sequence
 *   number, previous hash and time, and hands them to the node in order; a gap or a broken chain
 *   stops delivery (the node halts rather than apply across it). The text of a batch comes from
 *   the node's own append, from etcd's watch of the batch keys, or from a read by key — when a later
 *   batch was seen, when the watch (re)starts, or when a poll interval passes without a wake-up.
 *   Batch keys are written once (create-if-absent), so a watched value is the value a read would
 *   return; the watch only saves the round trip. Its edge cases in etcd 3.4 (events lost, repeated
 *   or late) cannot reorder or skip anything: the next number is always what is delivered, read if
 *   it was not watched, and the poll bounds the delay a lost event can cause.
 * @module
 */
import { HealthLedgerError } from '../../protocol/errors.js';
import { sha256 } from '../../protocol/hash.js';
import { toHex, utf8 } from '../../protocol/bytes.js';
import type { BatchHandler, Clock, OrderedBatch, Orderer } from './orderer.js';
import { BatchCutter } from './batch-cutter.js';
import { EtcdClient, prefixEnd, type EtcdTls } from './etcd-client.js';
import { etcdLayout, type EtcdLayout } from './etcd-keys.js';

export interface EtcdOrdererOptions {
  endpoints: readonly string[];
  chainId: string;
  /** The genesis hash: the first batch's previous hash. */
  genesisHash: string;
  /** This node (recorded as each batch's appender). */
  nodeId: string;
  maxBlockTxs: number;
  blockTimeoutMs: number;
  clock: Clock;
  maxPending?: number;
  /** How long delivery waits for a watch event before reading etcd anyway (ms; default 500). */
  pollMs?: number;
  log?: (event: string, fields: Record<string, unknown>) => void;
  /** Told once when delivery stops for good (tampering, a gap): the node halts. */
  onFailure?: (reason: string) => void;
  /** TLS material for `https:` endpoints (a private CA, the node's client certificate). */
  tls?: EtcdTls | undefined;
}

/** A batch as stored in etcd. */
export interface StoredBatch {
  v: 1;
  seq: number;
  timestampMs: number;
  prevHash: string;
  appender: string;
  txs: string[];
}

/** Where a batch sits in the log: what the next batch must chain to. */
interface BatchRef {
  seq: number;
  hash: string;
  timestampMs: number;
}

/** A head record (JSON text) if it names a batch at or after `seq`, else null. */
function headAfter(text: string | undefined, seq: number): BatchRef | null {
  if (text === undefined) return null;
  try {
    const h = JSON.parse(text) as Partial<BatchRef>;
    return Number.isSafeInteger(h.seq) &&
      (h.seq as number) >= seq &&
      typeof h.hash === 'string' &&
      Number.isSafeInteger(h.timestampMs)
      ? { seq: h.seq as number, hash: h.hash, timestampMs: h.timestampMs as number }
      : null;
  } catch {
    return null;
  }
}

/** Hash of a stored batch (hex SHA-256 of its exact stored text). */
export const batchHash = (text: string): string => toHex(sha256(utf8(text)));

/** A batch's text, parsed, and its hash. */
interface KnownBatch {
  text: string;
  batch: StoredBatch;
  hash: string;
}

/**
 * How long delivery waits for the watch before reading etcd anyway. Only a lost watch event waits
 * this long (a batch seen beyond this node's, or its own append, is read or delivered at once), and
 * each poll is a linearizable read: a Raft heartbeat round on every member.
 */
const DEFAULT_POLL_MS = 500;

/** Most batches held ahead of delivery from appends and watch events (the rest are read). */
const PREFETCH_WINDOW = 256;

/** The node's ledger and the etcd log are not the same history. */
class OrderingMismatch extends Error {}

export class EtcdOrderer implements Orderer {
  private readonly client: EtcdClient;
  private readonly keys: EtcdLayout;
  private readonly prefix: string;
  private readonly cutter: BatchCutter;
  private handler: BatchHandler | null = null;
  private nextSeq = 1;
  private lastTimestampMs = 0;
  private prevHash: string | null = null;
  /**
   * The newest batch this node knows of (its own last append, or the last one delivered): the
   * next append builds on it without first reading the tail — one etcd round trip fewer per batch.
   * Stale is harmless: the compare-and-swap then fails, and the tail is read.
   */
  private knownTail: BatchRef | null = null;
  private stopped = true;
  private readonly abort = new AbortController();
  private wake: (() => void) | null = null;
  /**
   * Whether the next batch must be looked for in etcd when neither an append nor the watch brought
   * it: at the start, after a read that found batches (more may follow), when the watch (re)connects
   * (events may have been missed), and when a pause ends without a wake-up. Otherwise delivery waits
   * for the watch instead of reading, once per batch and node, a tail it has no sign of.
   */
  private readDue = true;
  private reading: Promise<void> | null = null;
  /** Batches at `nextSeq` or later already known (own appends, watch events), by sequence number. */
  private readonly prefetched = new Map<number, KnownBatch>();
  private readonly log: NonNullable<EtcdOrdererOptions['log']>;
  /** Why delivery stopped for good (tampering, a gap), if it did. */
  failure: string | null = null;
  /** Batches this node appended, and compare-and-swaps it lost to another node (each cost a retry). */
  readonly appendStats = { appended: 0, racesLost: 0 };

  constructor(private readonly opts: EtcdOrdererOptions) {
    // append() retries until the batch lands or the orderer stops; it never rejects.
    this.cutter = new BatchCutter({ ...opts, onCut: (txs) => this.append(txs) });
    this.client = new EtcdClient(opts.endpoints, { tls: opts.tls });
    this.keys = etcdLayout(opts.chainId, opts.genesisHash);
    this.prefix = this.keys.batchPrefix;
    this.log = opts.log ?? (() => {});
  }

  private key(seq: number): string {
    return this.keys.batchKey(seq);
  }

  /** Transactions waiting to be appended. */
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
    this.stopped = false;
    // Watch the batches: each event brings the next batch to every node without a read, and keeps
    // this node's idea of the tail fresh while its execution lags behind (else every append under
    // load built on a stale tail and lost its race).
    void this.client.watch(
      this.prefix,
      (value, key) => {
        if (value !== undefined && key !== undefined) this.noteWatched(key, value);
        // A message without an event: the watch was (re)created, and may have missed some.
        else if (key === undefined) this.readDue = true;
        this.wake?.();
      },
      this.abort.signal,
    );
    this.reading = this.readLoop();
    this.cutter.open();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.abort.abort();
    this.wake?.();
    await this.cutter.close(); // an append in progress gives up once it sees `stopped`
    await this.reading;
    this.client.close();
  }

  // -- appending ------------------------------------------------------------------------------

  /** The last batch in etcd: its sequence number, hash and time (0 / genesis if none). */
  private async tail(): Promise<BatchRef> {
    const [last] = await this.client.range(this.prefix, prefixEnd(this.prefix), {
      limit: 1,
      descending: true,
    });
    if (last === undefined) return { seq: 0, hash: this.opts.genesisHash, timestampMs: 0 };
    const b = JSON.parse(last.value) as StoredBatch;
    return { seq: b.seq, hash: batchHash(last.value), timestampMs: b.timestampMs };
  }

  /**
   * The head record (a few bytes, written with each batch) — or, without one, {@link tail}.
   * Only a hint for appending: a wrong one fails the compare-and-swap (the reader checks every
   * batch's chain itself).
   */
  private async headOrTail(): Promise<BatchRef> {
    const [head] = await this.client.range(this.keys.headKey, `${this.keys.headKey}\0`);
    if (head === undefined) return this.tail();
    const h = JSON.parse(head.value) as BatchRef;
    return { seq: h.seq, hash: h.hash, timestampMs: h.timestampMs };
  }

  /**
   * Appends `txs` as the next batch, retrying until it lands or the orderer stops. Transactions are
   * not acknowledged until committed in a block, so a batch lost with a stopped node costs nothing
   * acknowledged; one written twice (a lost reply) is refused as DUPLICATE_TX on execution.
   */
  private async append(txs: string[]): Promise<void> {
    let delay = 50;
    // Without a known tail: the head record first; once a race is lost without a usable head in
    // the answer, or etcd failed, the batches themselves.
    let useHead = true;
    while (!this.stopped) {
      try {
        const t = this.knownTail ?? (useHead ? await this.headOrTail() : await this.tail());
        const batch: StoredBatch = {
          v: 1,
          seq: t.seq + 1,
          timestampMs: Math.max(this.opts.clock.now(), t.timestampMs),
          prevHash: t.hash,
          appender: this.opts.nodeId,
          txs,
        };
        const text = JSON.stringify(batch);
        const ref: BatchRef = { seq: batch.seq, hash: batchHash(text), timestampMs: batch.timestampMs };
        // Written only if this number is free and the previous batch exists: a head record that
        // ran ahead of the batches can cost a retry, never a gap.
        const outcome = await this.client.createIfAbsentElseRead(
          this.key(batch.seq),
          text,
          [[this.keys.headKey, JSON.stringify(ref)]],
          this.keys.headKey,
          batch.seq > 1 ? this.key(batch.seq - 1) : undefined,
        );
        if (outcome.created) {
          this.appendStats.appended++;
          // etcd now holds exactly this text under this number: deliver it without reading it back.
          this.prefetch({ text, batch, hash: ref.hash });
          this.noteTail(ref.seq, ref.hash, ref.timestampMs);
          this.wake?.();
          return;
        }
        // Lost the race (or built on a wrong head): the same transaction returned the head record;
        // if it names this number or later, try the next one on it.
        this.appendStats.racesLost++;
        this.knownTail = headAfter(outcome.read, batch.seq);
        useHead = false;
      } catch (e) {
        this.knownTail = null;
        useHead = false; // an unreadable head record must not keep the append from the batches
        this.log('ordering.append.retry', { error: (e as Error).message });
        await new Promise((r) => setTimeout(r, delay));
        delay = Math.min(delay * 2, 2000);
      }
    }
    // Stopped with transactions unappended: put them back for nobody (they were never acknowledged).
  }

  // -- delivery ---------------------------------------------------------------------------------

  /** A batch seen on the watch: a hint of the tail, and the batch itself if it is due soon. */
  private noteWatched(key: string, text: string): void {
    if (!key.startsWith(this.prefix)) return;
    const seq = this.keys.seqOfBatchKey(key);
    if (!Number.isSafeInteger(seq) || seq < this.nextSeq) return;
    if (this.prefetched.get(seq)?.text === text) return; // this node's own append, coming back
    // Beyond the window and not past the known tail, it is neither held nor a hint: skip the parse.
    if (seq >= this.nextSeq + PREFETCH_WINDOW && this.knownTail !== null && seq <= this.knownTail.seq) return;
    let batch: StoredBatch;
    try {
      batch = JSON.parse(text) as StoredBatch;
    } catch {
      return; // delivery reads it by key and reports it
    }
    const known: KnownBatch = { text, batch, hash: batchHash(text) };
    // Only a hint: a forged batch here fails the compare-and-swap or the chain check on delivery.
    if (batch.seq === seq && Number.isSafeInteger(batch.timestampMs))
      this.noteTail(seq, known.hash, batch.timestampMs);
    this.prefetch(known, seq);
  }

  /** Holds a batch for delivery if it is due within the window. */
  private prefetch(known: KnownBatch, seq = known.batch.seq): void {
    if (seq >= this.nextSeq && seq < this.nextSeq + PREFETCH_WINDOW) this.prefetched.set(seq, known);
  }

  /** The known batches from `nextSeq` on, consecutive; none if the next one is not known. */
  private takePrefetched(): KnownBatch[] {
    const out: KnownBatch[] = [];
    for (let seq = this.nextSeq; ; seq++) {
      const known = this.prefetched.get(seq);
      if (known === undefined) break;
      out.push(known);
    }
    return out;
  }

  private async readLoop(): Promise<void> {
    while (!this.stopped) {
      let batches: KnownBatch[];
      try {
        if (this.prevHash === null) this.prevHash = await this.hashBefore(this.nextSeq);
        batches = this.takePrefetched();
        if (batches.length === 0) {
          // Nothing here and no sign of a batch beyond this node's: wait for the watch (or the poll).
          if (!this.readDue && (this.knownTail === null || this.knownTail.seq < this.nextSeq)) {
            await this.awaitWatch();
            continue;
          }
          const kvs = await this.client.range(this.key(this.nextSeq), prefixEnd(this.prefix), { limit: 256 });
          this.readDue = kvs.length > 0;
          batches = kvs.map((kv) => ({
            text: kv.value,
            batch: JSON.parse(kv.value) as StoredBatch,
            hash: batchHash(kv.value),
          }));
          if (kvs.length > 0 && kvs[0]!.key !== this.key(this.nextSeq))
            return this.fail(
              `batch ${this.nextSeq} is not in etcd (the log continues at ${this.keys.seqOfBatchKey(kvs[0]!.key)}): a gap, or compacted past this node — restart it to sync a snapshot`,
            );
        }
      } catch (e) {
        if (e instanceof SyntaxError) return this.fail(`batch ${this.nextSeq} is not valid JSON`);
        if (e instanceof OrderingMismatch) return this.fail(e.message);
        this.readDue = true;
        await this.pause(500);
        continue;
      }
      for (const { batch, hash } of batches) {
        if (this.stopped) return;
        this.prefetched.delete(this.nextSeq);
        const why = this.check(batch);
        if (why !== null) return this.fail(why);
        const ordered: OrderedBatch = { seq: batch.seq, timestampMs: batch.timestampMs, txs: batch.txs };
        try {
          await this.handler!(ordered);
        } catch {
          // The node could not apply it (it halts itself): never skip a height.
          return this.fail(`the node failed to apply batch ${batch.seq}`);
        }
        this.nextSeq = batch.seq + 1;
        this.lastTimestampMs = batch.timestampMs;
        this.prevHash = hash;
        this.noteTail(batch.seq, this.prevHash, batch.timestampMs);
      }
      if (batches.length === 0) await this.awaitWatch();
    }
  }

  private noteTail(seq: number, hash: string, timestampMs: number): void {
    if (this.knownTail === null || seq > this.knownTail.seq) this.knownTail = { seq, hash, timestampMs };
  }

  /** Why a batch may not be applied, or null. */
  private check(b: StoredBatch): string | null {
    if (
      b.v !== 1 ||
      !Number.isSafeInteger(b.seq) ||
      !Array.isArray(b.txs) ||
      !b.txs.every((t) => typeof t === 'string')
    )
      return `batch ${this.nextSeq} is malformed`;
    if (b.seq !== this.nextSeq) return `batch ${this.nextSeq} claims sequence ${b.seq}`;
    if (b.prevHash !== this.prevHash)
      return `batch ${b.seq} does not chain to batch ${b.seq - 1} (previous hash differs)`;
    if (!Number.isSafeInteger(b.timestampMs) || b.timestampMs < this.lastTimestampMs)
      return `batch ${b.seq} goes back in time`;
    return null;
  }

  /** The hash of batch `seq - 1` (the genesis hash before the first). */
  private async hashBefore(seq: number): Promise<string> {
    if (seq <= 1) return this.opts.genesisHash;
    const [kv] = await this.client.range(this.key(seq - 1), this.key(seq));
    if (kv !== undefined) return batchHash(kv.value);
    const tail = await this.tail();
    if (tail.seq < seq - 1)
      throw new OrderingMismatch(`etcd holds ${tail.seq} batches but the node is at height ${seq - 1}`);
    throw new HealthLedgerError('ORDERING_UNAVAILABLE', `batch ${seq - 1} is not in etcd (compacted?)`);
  }

  private fail(why: string): void {
    this.failure = why;
    this.stopped = true;
    void this.cutter.close(); // broadcasts are refused from now on
    this.log('ordering.halted', { reason: why });
    this.opts.onFailure?.(why);
  }

  /** Waits for a wake-up (the watch, an append, stop); a poll interval without one makes a read due. */
  private async awaitWatch(): Promise<void> {
    if (!(await this.pause(this.opts.pollMs ?? DEFAULT_POLL_MS))) this.readDue = true;
  }

  /** Waits `ms` or until woken; resolves true if woken. */
  private pause(ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.wake = null;
        resolve(false);
      }, ms);
      this.wake = () => {
        this.wake = null;
        clearTimeout(t);
        resolve(true);
      };
    });
  }
}
