/**
 * The patient event index: every transaction committed on the ledger that a domain projects
 * (see ./projection.ts: health's whatever their validation code, so denials and refusals too; the
 * supply alert feed's) as one row per transaction, keyed by the patient or feed it concerns. It is *derived*: the ledger is the source of truth, and the index can be
 * deleted at any time; on start it catches up from the last indexed height to the chain head by
 * reading blocks back, then follows `node.onBlock`.
 *
 * File `data/events.sqlite` (opened with {@link openDatabase}: WAL, `synchronous=FULL`):
 *
 *     events(seq INTEGER PRIMARY KEY, patient, height, tx_id, type, code, actor, at_ms, detail)
 *     events_by_patient ON events(patient, seq, height, tx_id, type, code, actor, at_ms, detail)
 *     meta(key, value)   -- schema, genesis hash, last indexed height
 *
 * - `seq` is the transaction's position in the ledger's Merkle log **plus one** (receipt `seq` + 1),
 *   so it is unique, increasing in commit order, identical after a rebuild (SSE `Last-Event-ID`s
 *   and webhook cursors stay valid), and `after=0` means "from the beginning". Rows are inserted
 *   with `INSERT OR IGNORE`, so re-indexing a block cannot duplicate anything.
 * - `events_by_patient` is a **covering** index: it leads with `(patient, seq)` and carries every
 *   other column, so the page query `WHERE patient = ? AND seq > ? ORDER BY seq LIMIT ?` is one
 *   B-tree descent plus a contiguous range scan of the index alone — no lookup into the table per
 *   row, and no sort — whatever the table's size (about twice the storage of a plain index; see
 *   `event-index.bench.ts`).
 * - Rows hold **no health data**: ids (patient, actor, transaction, consent, record), the
 *   transaction type and validation code, purpose of use, and the block time. Never a
 *   break-glass reason, a category, a resource type or any record content.
 * - Inserts and the `meta` height advance in one SQLite transaction per flush, so a crash leaves
 *   the index at a block boundary; blocks arriving close together share one flush (one fsync).
 *   Blocks with no events write nothing until {@link IDLE_PERSIST_BLOCKS} of them have passed (or
 *   the index closes): after a crash they are read again, which finds nothing to insert.
 * @module
 */
import type { Database as Db, Statement } from 'better-sqlite3';
import type { Block } from '../../protocol/block.js';
import { txIdOf, type SignedTx } from '../../protocol/tx.js';
import type { ValidationCode } from '../../protocol/validation.js';
import { openDatabase } from '../store/ledger-store.js';
import { DOMAIN_PROJECTIONS } from '../domains.js';
import type { EventDetail, EventProjection, ProjectedTx } from './projection.js';

export type { EventDetail } from './projection.js';
export { SUPPLY_FEED } from '../../domains/supply/node/projection.js';

const SCHEMA_VERSION = '2';
/** Blocks indexed per SQLite transaction while catching up. */
const CATCH_UP_CHUNK = 512;
/**
 * Blocks without events advance the stored height at most this often: a block of anchors or
 * supply-chain events costs no write and no fsync here, and a restart re-reads at most this many.
 */
const IDLE_PERSIST_BLOCKS = 256;

type Projections = typeof DOMAIN_PROJECTIONS;
type KindsOf<D extends keyof Projections> = Projections[D]['kinds'];

/** A transaction type some domain indexes. */
export type HealthTxType = { [D in keyof Projections]: keyof KindsOf<D> }[keyof Projections];
export type EventKind = {
  [D in keyof Projections]: {
    [T in keyof KindsOf<D>]: KindsOf<D>[T] extends readonly (infer K)[] ? K : never;
  }[keyof KindsOf<D>];
}[keyof Projections];

/** The projection of each indexed transaction type (a type claimed by two domains is a bug). */
const PROJECTION_OF = new Map<string, EventProjection>();
for (const [domain, p] of Object.entries(DOMAIN_PROJECTIONS) as [string, EventProjection][])
  for (const type of Object.keys(p.kinds)) {
    if (PROJECTION_OF.has(type)) throw new Error(`event kinds of ${type} are defined twice (${domain})`);
    PROJECTION_OF.set(type, p);
  }

/** The kinds of event, by transaction type: [when VALID, otherwise]; every domain's, composed. */
export const EVENT_KINDS: Readonly<Record<HealthTxType, readonly [EventKind, EventKind]>> =
  Object.fromEntries([...PROJECTION_OF].map(([type, p]) => [type, p.kinds[type]!])) as Record<
    HealthTxType,
    readonly [EventKind, EventKind]
  >;

/** True if `type` is a transaction type some domain indexes. */
export function isHealthTxType(type: string): type is HealthTxType {
  return PROJECTION_OF.has(type);
}

/** The event kind of a committed indexed transaction. */
export function eventKind(type: HealthTxType, code: string): EventKind {
  return EVENT_KINDS[type][code === 'VALID' ? 0 : 1];
}

/**
 * Codes given before the signer is authenticated: the claimed signer and payload are nobody's
 * word, so such entries are not reported to the patient (they change nothing).
 */
const UNAUTHENTICATED: ReadonlySet<string> = new Set<ValidationCode>([
  'MALFORMED_TX',
  'TX_TOO_LARGE',
  'WRONG_CHAIN_ID',
  'UNKNOWN_SIGNER',
  'BAD_SIGNATURE',
  'DUPLICATE_TX',
]);

/** One event in a patient's trail, as the API serves it. */
export interface PatientEvent {
  /** Ledger log position + 1: the cursor (`after`, `Last-Event-ID`, webhook event id). */
  seq: number;
  kind: EventKind;
  patient: string;
  txId: string;
  type: HealthTxType;
  /** The transaction's validation code (`VALID`, or why it was denied or refused). */
  code: string;
  /** Who signed the transaction (member id). */
  actor: string;
  height: number;
  /** Block time (ms since the epoch). */
  atMs: number;
  detail: EventDetail;
}

/** What the index reads from the ledger (a {@link LedgerNode} satisfies it). */
export interface LedgerSource {
  readonly genesis: { hash: string };
  chainHead(): { height: number };
  getBlock(height: number): Block | undefined;
  onBlock(listener: (block: Block) => void): () => void;
  getState(key: string): string | undefined;
}

type Row = {
  seq: number;
  patient: string;
  height: number;
  tx_id: string;
  type: string;
  code: string;
  actor: string;
  at_ms: number;
  detail: string;
};

/** The rows a block contributes to the index (one per authenticated transaction a domain projects). */
export function eventRowsOf(block: Block, getState: (k: string) => string | undefined): Row[] {
  const rows: Row[] = [];
  const first = block.header.logSize - block.header.txCount;
  block.txs.forEach((tx: SignedTx, i) => {
    const code = block.codes[i];
    const body = (tx as Partial<SignedTx> | null)?.body;
    if (code === undefined || UNAUTHENTICATED.has(code) || typeof body !== 'object' || body === null) return;
    const projection = typeof body.type === 'string' ? PROJECTION_OF.get(body.type) : undefined;
    if (projection === undefined) return;
    let txId: string | undefined;
    const projected: ProjectedTx = {
      type: body.type,
      code,
      get txId() {
        return (txId ??= txIdOf(body));
      },
      payload: body.payload as Record<string, unknown> | undefined,
      atMs: block.header.timestampMs,
    };
    const event = projection.project(projected, getState);
    if (event === undefined) return;
    rows.push({
      seq: first + i + 1,
      patient: event.subject,
      height: block.header.height,
      tx_id: projected.txId,
      type: body.type,
      code,
      actor: body.signer,
      at_ms: block.header.timestampMs,
      detail: JSON.stringify(event.detail),
    });
  });
  return rows;
}

function toEvent(r: Row): PatientEvent {
  const type = r.type as HealthTxType;
  return {
    seq: r.seq,
    kind: eventKind(type, r.code),
    patient: r.patient,
    txId: r.tx_id,
    type,
    code: r.code,
    actor: r.actor,
    height: r.height,
    atMs: r.at_ms,
    detail: JSON.parse(r.detail) as EventDetail,
  };
}

export interface EventIndexOptions {
  log?: (event: string, fields: Record<string, unknown>) => void;
}

/** Opens (or creates) the index file and its schema. Exported for the bench. */
export function openEventsDb(path: string): Db {
  const db = openDatabase(path);
  db.exec(`
    CREATE TABLE IF NOT EXISTS events (
      seq INTEGER PRIMARY KEY, patient TEXT NOT NULL, height INTEGER NOT NULL, tx_id TEXT NOT NULL,
      type TEXT NOT NULL, code TEXT NOT NULL, actor TEXT NOT NULL, at_ms INTEGER NOT NULL, detail TEXT NOT NULL);
    CREATE INDEX IF NOT EXISTS events_by_patient
      ON events (patient, seq, height, tx_id, type, code, actor, at_ms, detail);
    CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
  `);
  return db;
}

/** The page query (covering index: see the module comment). */
export const PAGE_SQL =
  'SELECT seq, patient, height, tx_id, type, code, actor, at_ms, detail FROM events INDEXED BY events_by_patient ' +
  'WHERE patient = ? AND seq > ? ORDER BY seq LIMIT ?';

export class EventIndex {
  private readonly db: Db;
  private readonly insert: Statement;
  private readonly setMeta: Statement;
  private readonly pageStmt: Statement;
  private indexed: number;
  /** The height stored in `meta` (may trail {@link indexed} by event-less blocks). */
  private persisted: number;
  /** Blocks handed over by onBlock and not yet indexed (saves reading them back). */
  private readonly pending = new Map<number, Block>();
  private readonly listeners = new Set<(events: PatientEvent[]) => void>();
  private readonly waiters: { height: number; resolve: () => void }[] = [];
  private unsubscribe: (() => void) | null = null;
  private scheduled = false;
  private retryTimer: NodeJS.Timeout | null = null;
  private closed = false;
  private readonly log: NonNullable<EventIndexOptions['log']>;

  private constructor(
    path: string,
    private readonly source: LedgerSource,
    opts: EventIndexOptions,
  ) {
    this.log = opts.log ?? (() => {});
    this.db = openEventsDb(path);
    const meta = (k: string) =>
      (this.db.prepare('SELECT value FROM meta WHERE key = ?').get(k) as { value: string } | undefined)
        ?.value;
    const head = source.chainHead().height;
    const stored = meta('height');
    // An index of another chain, of another schema, or ahead of the ledger (restored from an older
    // backup) is not trusted: it is rebuilt from the ledger.
    if (
      (stored !== undefined &&
        (meta('schema') !== SCHEMA_VERSION ||
          meta('genesisHash') !== source.genesis.hash ||
          Number(stored) > head)) ||
      (stored === undefined &&
        (this.db.prepare('SELECT 1 FROM events LIMIT 1').get() as unknown) !== undefined)
    ) {
      this.log('events.index.rebuild', { reason: 'index does not match this ledger' });
      this.db.exec('DELETE FROM events; DELETE FROM meta;');
    }
    this.setMeta = this.db.prepare('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)');
    this.db.transaction(() => {
      this.setMeta.run('schema', SCHEMA_VERSION);
      this.setMeta.run('genesisHash', source.genesis.hash);
    })();
    this.indexed = Number(meta('height') ?? 0);
    this.persisted = this.indexed;
    this.insert = this.db.prepare(
      'INSERT OR IGNORE INTO events (seq, patient, height, tx_id, type, code, actor, at_ms, detail) ' +
        'VALUES (@seq, @patient, @height, @tx_id, @type, @code, @actor, @at_ms, @detail)',
    );
    this.pageStmt = this.db.prepare(PAGE_SQL);
  }

  /**
   * Opens the index at `path`, subscribes to committed blocks and catches up to the chain head
   * (resolves once the head at start is indexed).
   */
  static async open(path: string, source: LedgerSource, opts: EventIndexOptions = {}): Promise<EventIndex> {
    const index = new EventIndex(path, source, opts);
    index.unsubscribe = source.onBlock((block) => {
      if (index.closed || block.header.height <= index.indexed) return;
      index.pending.set(block.header.height, block);
      index.schedule();
    });
    const head = source.chainHead().height;
    if (head > index.indexed) index.log('events.index.catch-up', { from: index.indexed, to: head });
    await index.waitForHeight(head);
    return index;
  }

  /** The last block height whose events are indexed. */
  get indexedHeight(): number {
    return this.indexed;
  }

  /** Resolves once every block up to `height` is indexed. */
  waitForHeight(height: number): Promise<void> {
    if (this.indexed >= height) return Promise.resolve();
    return new Promise((resolve) => {
      this.waiters.push({ height, resolve });
      this.schedule();
    });
  }

  /** Called with each batch of newly indexed events, after they are durable, in `seq` order. */
  onEvents(listener: (events: PatientEvent[]) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Up to `limit` events of `patient` with `seq > after`, oldest first. */
  page(patient: string, after: number, limit: number): PatientEvent[] {
    return (this.pageStmt.all(patient, after, limit) as Row[]).map(toEvent);
  }

  /** The highest seq indexed (0 if none). */
  latestSeq(): number {
    return (this.db.prepare('SELECT max(seq) AS s FROM events').get() as { s: number | null }).s ?? 0;
  }

  private schedule(): void {
    if (this.scheduled || this.closed || this.retryTimer !== null) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.flush();
    });
  }

  /** Indexes up to one chunk of blocks; schedules itself again while behind the head. */
  private flush(): void {
    if (this.closed) return;
    const head = this.source.chainHead().height;
    const to = Math.min(head, this.indexed + CATCH_UP_CHUNK);
    if (to > this.indexed) {
      let rows: Row[];
      try {
        rows = this.indexRange(this.indexed + 1, to);
      } catch (e) {
        // Never break the node over a derived index: log, and try again shortly.
        this.log('events.index.failed', { height: this.indexed + 1, error: (e as Error).message });
        this.retryTimer = setTimeout(() => {
          this.retryTimer = null;
          this.schedule();
        }, 1000);
        return;
      }
      if (rows.length > 0) {
        const events = rows.map(toEvent);
        for (const l of this.listeners) {
          try {
            l(events);
          } catch (e) {
            this.log('events.listener.failed', { error: (e as Error).message });
          }
        }
      }
    }
    for (let i = this.waiters.length - 1; i >= 0; i--) {
      const w = this.waiters[i]!;
      if (this.indexed >= w.height) {
        this.waiters.splice(i, 1);
        w.resolve();
      }
    }
    if (this.source.chainHead().height > this.indexed) this.schedule();
  }

  private indexRange(from: number, to: number): Row[] {
    const found: Row[] = [];
    for (let h = from; h <= to; h++) {
      const block = this.pending.get(h) ?? this.source.getBlock(h);
      if (block === undefined) throw new Error(`block ${h} is missing from the ledger`);
      for (const r of eventRowsOf(block, (k) => this.source.getState(k))) found.push(r);
    }
    const rows: Row[] = [];
    if (found.length > 0 || to - this.persisted >= IDLE_PERSIST_BLOCKS) {
      this.db.transaction(() => {
        for (const r of found) if (this.insert.run(r).changes === 1) rows.push(r);
        this.setMeta.run('height', String(to));
      })();
      this.persisted = to;
    }
    for (let h = from; h <= to; h++) this.pending.delete(h);
    this.indexed = to;
    return rows;
  }

  /** Indexes what the ledger committed so far (synchronously), then closes the file. */
  close(): void {
    if (this.closed) return;
    try {
      while (this.source.chainHead().height > this.indexed)
        this.indexRange(
          this.indexed + 1,
          Math.min(this.source.chainHead().height, this.indexed + CATCH_UP_CHUNK),
        );
      if (this.persisted < this.indexed) this.setMeta.run('height', String(this.indexed));
    } catch (e) {
      this.log('events.index.failed', { height: this.indexed + 1, error: (e as Error).message });
    }
    this.closed = true;
    this.unsubscribe?.();
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.pending.clear();
    for (const w of this.waiters.splice(0)) w.resolve();
    this.db.close();
  }
}
