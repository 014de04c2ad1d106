/**
 * The ledger store: blocks, transactions, state, Merkle nodes and checkpoints in one SQLite
 * database. Every block is applied in one SQLite transaction with `synchronous=FULL` (set at
 * every open, WAL mode), so a block is either wholly durable or absent after a crash.
 * @module
 */
import Database from 'better-sqlite3';
import type { Database as Db, Statement } from 'better-sqlite3';
import { toHex } from '../../protocol/bytes.js';
import type { BlockHeader, Checkpoint, SignedCheckpoint, StateWrite } from '../../protocol/block.js';
import type { Genesis } from '../../protocol/genesis.js';
import type { PerfectNodeReader } from '../../protocol/merkle/index.js';
import type { ValidationCode } from '../../protocol/validation.js';
import { ScalableTxIdFilter, StateKeyFilter } from './txid-filter.js';

const SCHEMA_VERSION = 1;

/** A block as persisted: header fields are also kept as canonical JSON for byte-exact reads. */
export interface StoredBlock {
  height: number;
  hash: string;
  header: BlockHeader;
  headerJson: string;
  signature: string;
  /** Leaf index of the block's first transaction. */
  firstSeq: number;
}

/** A stored transaction with its position and outcome. */
export interface StoredTx {
  seq: number;
  height: number;
  index: number;
  txId: string;
  raw: string;
  code: ValidationCode;
  consumed: boolean;
}

/**
 * Everything one block commits, written atomically by {@link LedgerStore.commitBlock}. Packed
 * into a few arrays (not an object per row) so it is cheap to build and to transfer to the
 * store-writer thread.
 */
export interface BlockCommit {
  header: BlockHeader;
  headerJson: string;
  hash: string;
  signature: string;
  /** Transaction ids, 32 bytes each, in block order. */
  txIds: Uint8Array;
  /** Canonical transaction text, in block order. */
  raws: string[];
  codes: ValidationCode[];
  /** 1 where the transaction's id was accepted (spent) by this block. */
  consumed: Uint8Array;
  writes: StateWrite[];
  /** Keys ({@link merkleNodeKey}) of the perfect Merkle nodes the block completed. */
  nodeKeys: Float64Array;
  /** Their hashes, 32 bytes each. */
  nodeHashes: Uint8Array;
  checkpoint: SignedCheckpoint;
}

/** Merkle node ids pack (level, index) into one integer key: index·64 + level. */
export function merkleNodeKey(level: number, index: number): number {
  return index * 64 + level;
}
const nodeId = merkleNodeKey;

/** State keys read per step while building the state-key filter of a store that has many. */
export const STATE_KEY_SCAN_CHUNK = 5000;

/** WAL pages (4 KiB) between automatic checkpoints of the ledger store. */
export const WAL_CHECKPOINT_PAGES = 8192;

/**
 * The store writer's automatic checkpoint when a checkpointer thread does the copying
 * (`wal-checkpointer.worker`): only a backstop, should that thread fall behind.
 */
export const WRITER_BACKSTOP_CHECKPOINT_PAGES = 4 * WAL_CHECKPOINT_PAGES;

/** Opens a database with the durability settings this project requires. */
export function openDatabase(path: string, opts: { readonly?: boolean } = {}): Db {
  const db = new Database(path, { readonly: opts.readonly ?? false, fileMustExist: opts.readonly ?? false });
  if (!opts.readonly) db.pragma('journal_mode = WAL');
  // FULL: fsync the WAL at every commit, so an acknowledged block survives power loss.
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  // Reads on the hot path (state, replay index) hit a table that outgrows the 2 MB default cache.
  db.pragma('cache_size = -65536');
  db.pragma('mmap_size = 268435456');
  return db;
}

/** The node's persistent ledger. One instance per database; not shared across threads. */
export class LedgerStore implements PerfectNodeReader {
  /** Accepted tx ids, so most replay checks skip SQLite; built lazily from the index. */
  private filter: ScalableTxIdFilter | null = null;
  /** Keys ever written to state, once {@link LedgerStore.trackStateKeys} is called; null before. */
  private stateKeys: StateKeyFilter | null = null;
  /** True once the filter holds every key of the table (until then reads go to SQLite). */
  private stateKeysComplete = false;
  private stateKeyScan: ReturnType<typeof setImmediate> | null = null;
  private readonly st: {
    getState: Statement<[string], string>;
    putState: Statement<[string, string]>;
    delState: Statement<[string]>;
    consumed: Statement<[Buffer], { one: number }>;
    insertTx: Statement<[number, number, number, Buffer, string, string, number]>;
    insertBlock: Statement<[number, string, string, string, number]>;
    insertNode: Statement<[number, Buffer]>;
    getNode: Statement<[number], { hash: Buffer }>;
    insertCheckpoint: Statement<[number, number, string, string]>;
    setMeta: Statement<[string, string]>;
    getMeta: Statement<[string], { value: string }>;
    getBlock: Statement<
      [number],
      { height: number; hash: string; header: string; signature: string; first_seq: number }
    >;
    lastBlock: Statement<
      [],
      { height: number; hash: string; header: string; signature: string; first_seq: number }
    >;
    txsOfBlock: Statement<[number], RawTxRow>;
    txBySeq: Statement<[number], RawTxRow>;
    txById: Statement<[Buffer], RawTxRow>;
    checkpointAt: Statement<[number], { body: string; signature: string }>;
    latestCheckpoint: Statement<[], { body: string; signature: string }>;
    checkpointBySize: Statement<[number], { body: string; signature: string }>;
  };

  private constructor(readonly db: Db) {
    db.exec(`
      CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS blocks (
        height INTEGER PRIMARY KEY, hash TEXT NOT NULL, header TEXT NOT NULL,
        signature TEXT NOT NULL, first_seq INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS txs (
        seq INTEGER PRIMARY KEY, height INTEGER NOT NULL, idx INTEGER NOT NULL,
        tx_id BLOB NOT NULL, raw TEXT NOT NULL, code TEXT NOT NULL, consumed INTEGER NOT NULL);
      -- Covering index: the replay check reads only the index, never the (large) row.
      CREATE INDEX IF NOT EXISTS txs_by_id ON txs (tx_id, consumed);
      CREATE TABLE IF NOT EXISTS state (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS merkle (id INTEGER PRIMARY KEY, hash BLOB NOT NULL);
      CREATE TABLE IF NOT EXISTS checkpoints (
        height INTEGER PRIMARY KEY, log_size INTEGER NOT NULL, body TEXT NOT NULL, signature TEXT NOT NULL);
      CREATE INDEX IF NOT EXISTS checkpoints_by_size ON checkpoints (log_size);
    `);
    const txCols = 'seq, height, idx, tx_id, raw, code, consumed';
    this.st = {
      // Plucked: the value itself, no row object per read (state reads are the hottest query).
      getState: db.prepare<[string], string>('SELECT value FROM state WHERE key = ?').pluck(),
      putState: db.prepare(
        'INSERT INTO state (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
      ),
      delState: db.prepare('DELETE FROM state WHERE key = ?'),
      consumed: db.prepare('SELECT 1 AS one FROM txs WHERE tx_id = ? AND consumed = 1 LIMIT 1'),
      insertTx: db.prepare(`INSERT INTO txs (${txCols}) VALUES (?, ?, ?, ?, ?, ?, ?)`),
      insertBlock: db.prepare(
        'INSERT INTO blocks (height, hash, header, signature, first_seq) VALUES (?, ?, ?, ?, ?)',
      ),
      insertNode: db.prepare('INSERT INTO merkle (id, hash) VALUES (?, ?)'),
      getNode: db.prepare('SELECT hash FROM merkle WHERE id = ?'),
      insertCheckpoint: db.prepare(
        'INSERT INTO checkpoints (height, log_size, body, signature) VALUES (?, ?, ?, ?)',
      ),
      setMeta: db.prepare(
        'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
      ),
      getMeta: db.prepare('SELECT value FROM meta WHERE key = ?'),
      getBlock: db.prepare('SELECT height, hash, header, signature, first_seq FROM blocks WHERE height = ?'),
      lastBlock: db.prepare(
        'SELECT height, hash, header, signature, first_seq FROM blocks ORDER BY height DESC LIMIT 1',
      ),
      txsOfBlock: db.prepare(`SELECT ${txCols} FROM txs WHERE height = ? ORDER BY seq`),
      txBySeq: db.prepare(`SELECT ${txCols} FROM txs WHERE seq = ?`),
      txById: db.prepare(`SELECT ${txCols} FROM txs WHERE tx_id = ? ORDER BY consumed DESC, seq LIMIT 1`),
      checkpointAt: db.prepare('SELECT body, signature FROM checkpoints WHERE height = ?'),
      latestCheckpoint: db.prepare('SELECT body, signature FROM checkpoints ORDER BY height DESC LIMIT 1'),
      checkpointBySize: db.prepare(
        'SELECT body, signature FROM checkpoints WHERE log_size = ? ORDER BY height DESC LIMIT 1',
      ),
    };
  }

  /**
   * Opens (creating if needed) the store at `path`.
   * @param opts `walAutoCheckpoint`: WAL pages between the automatic checkpoints this connection
   *   runs after a commit (default {@link WAL_CHECKPOINT_PAGES}).
   */
  static open(path: string, opts: { readonly?: boolean; walAutoCheckpoint?: number } = {}): LedgerStore {
    const db = openDatabase(path, opts);
    // Checkpoint the WAL into the database every 32 MiB instead of SQLite's 4 MiB: a block's inserts
    // into the transaction-id index land on pages all over it, and a page rewritten by several
    // blocks between checkpoints is copied back once (the writer's kernel time fell by a third;
    // see docs/benchmarks.md). Durability is the WAL's fsync at every commit, unchanged.
    if (!opts.readonly) db.pragma(`wal_autocheckpoint = ${opts.walAutoCheckpoint ?? WAL_CHECKPOINT_PAGES}`);
    const store = new LedgerStore(db);
    const v = store.getMeta('schemaVersion');
    if (v === undefined && !opts.readonly) store.setMeta('schemaVersion', String(SCHEMA_VERSION));
    else if (v !== undefined && Number(v) !== SCHEMA_VERSION)
      throw new Error(`store schema version ${v} is not supported (expected ${SCHEMA_VERSION})`);
    return store;
  }

  close(): void {
    if (this.stateKeyScan !== null) clearImmediate(this.stateKeyScan);
    this.db.close();
  }

  getMeta(key: string): string | undefined {
    return this.st.getMeta.get(key)?.value;
  }

  setMeta(key: string, value: string): void {
    this.st.setMeta.run(key, value);
  }

  /** The genesis this store was initialized with, if any. */
  genesis(): Genesis | undefined {
    const raw = this.getMeta('genesis');
    return raw === undefined ? undefined : (JSON.parse(raw) as Genesis);
  }

  /** Writes genesis and its initial state atomically (height 0). */
  initGenesis(
    genesisJson: string,
    genesisHash: string,
    writes: readonly StateWrite[],
    stateRoot: string,
  ): void {
    this.db.transaction(() => {
      this.setMeta('genesis', genesisJson);
      this.setMeta('genesisHash', genesisHash);
      this.setMeta('genesisStateRoot', stateRoot);
      this.applyWrites(writes);
    })();
  }

  getState(key: string): string | undefined {
    // Most reads of a new key (an anchor, a consent, an event id) find nothing: skip SQLite.
    if (this.stateKeysComplete && !this.stateKeys!.mightContain(key)) return undefined;
    return this.st.getState.get(key);
  }

  /**
   * Puts a filter of the state's keys in front of {@link LedgerStore.getState}. Only for the
   * connection of the node that executes blocks: it must report every key it hands to another
   * connection for commit through {@link LedgerStore.noteStateWrites} before that commit, or a
   * read could miss a key. Call before commits are in flight.
   *
   * The table is read in key order in chunks of {@link STATE_KEY_SCAN_CHUNK}, the first at once
   * and the rest between other work (10 million keys take ~10 s), and the filter answers reads
   * only when the scan is complete. Keys written meanwhile are noted as they are written, so a key
   * is in the filter whether the scan passed its place before or after its commit.
   */
  trackStateKeys(): void {
    if (this.stateKeys !== null) return;
    const count = (this.db.prepare('SELECT count(*) AS n FROM state').get() as { n: number }).n;
    const filter = new StateKeyFilter(Math.max(count * 2, 1 << 16));
    this.stateKeys = filter;
    const first = this.db.prepare<[number], string>('SELECT key FROM state ORDER BY key LIMIT ?').pluck();
    const after = this.db
      .prepare<[string, number], string>('SELECT key FROM state WHERE key > ? ORDER BY key LIMIT ?')
      .pluck();
    const scan = (from: string | null): void => {
      this.stateKeyScan = null;
      if (!this.db.open) return;
      const keys = from === null ? first.all(STATE_KEY_SCAN_CHUNK) : after.all(from, STATE_KEY_SCAN_CHUNK);
      for (const key of keys) filter.add(key);
      if (keys.length < STATE_KEY_SCAN_CHUNK) this.stateKeysComplete = true;
      else this.stateKeyScan = setImmediate(scan, keys[keys.length - 1]!);
    };
    scan(null);
  }

  /** True once state reads are answered by the key filter where it can (for tests and metrics). */
  get stateKeyFilterComplete(): boolean {
    return this.stateKeysComplete;
  }

  /** Records the keys a block about to be committed (possibly by another connection) writes. */
  noteStateWrites(writes: Iterable<StateWrite>): void {
    if (this.stateKeys === null) return;
    for (const [key] of writes) this.stateKeys.add(key);
  }

  isTxConsumed(txId: string): boolean {
    if (!this.consumedFilter().mightContain(txId)) return false;
    return this.st.consumed.get(Buffer.from(txId, 'hex')) !== undefined;
  }

  /** The filter, built from the index on first use (call before commits are in flight). */
  private consumedFilter(): ScalableTxIdFilter {
    if (this.filter === null) {
      const count = (
        this.db.prepare('SELECT count(*) AS n FROM txs WHERE consumed = 1').get() as { n: number }
      ).n;
      const f = new ScalableTxIdFilter(Math.max(count * 2, 1 << 16));
      const ids = this.db
        .prepare('SELECT tx_id FROM txs WHERE consumed = 1')
        .raw()
        .iterate() as IterableIterator<[Buffer]>;
      for (const [id] of ids) f.add(id.toString('hex'));
      this.filter = f;
    }
    return this.filter;
  }

  /**
   * Records ids accepted by a block about to be committed (possibly by another connection): the
   * filter must never miss an id, so it learns them before the commit is durable.
   */
  noteConsumed(txIds: Iterable<string>): void {
    const f = this.consumedFilter();
    for (const id of txIds) f.add(id);
  }

  /** Perfect Merkle subtree hash (PerfectNodeReader). Throws if absent: the log is corrupt. */
  node(level: number, index: number): Uint8Array {
    const row = this.st.getNode.get(nodeId(level, index));
    if (row === undefined) throw new Error(`merkle node (${level}, ${index}) missing from store`);
    return row.hash;
  }

  /** Commits one block atomically (one SQLite transaction, fsync'd: synchronous=FULL). */
  commitBlock(c: BlockCommit): void {
    const st = this.st;
    this.db.transaction(() => {
      const n = c.raws.length;
      const firstSeq = c.header.logSize - n;
      st.insertBlock.run(c.header.height, c.hash, c.headerJson, c.signature, firstSeq);
      const ids = Buffer.from(c.txIds.buffer, c.txIds.byteOffset, c.txIds.byteLength);
      for (let i = 0; i < n; i++)
        st.insertTx.run(
          firstSeq + i,
          c.header.height,
          i,
          ids.subarray(32 * i, 32 * i + 32),
          c.raws[i]!,
          c.codes[i]!,
          c.consumed[i]!,
        );
      // Only a filter this connection already built needs the ids ("maybe" bits before the commit is harmless).
      if (this.filter !== null)
        for (let i = 0; i < n; i++)
          if (c.consumed[i] === 1) this.filter.add(toHex(c.txIds.subarray(32 * i, 32 * i + 32)));
      this.applyWrites(c.writes);
      const hashes = Buffer.from(c.nodeHashes.buffer, c.nodeHashes.byteOffset, c.nodeHashes.byteLength);
      for (let k = 0; k < c.nodeKeys.length; k++)
        st.insertNode.run(c.nodeKeys[k]!, hashes.subarray(32 * k, 32 * k + 32));
      st.insertCheckpoint.run(
        c.checkpoint.checkpoint.height,
        c.checkpoint.checkpoint.logSize,
        JSON.stringify(c.checkpoint.checkpoint),
        c.checkpoint.signature,
      );
    })();
  }

  private applyWrites(writes: readonly StateWrite[]): void {
    this.noteStateWrites(writes);
    for (const [k, v] of writes) {
      if (v === null) this.st.delState.run(k);
      else this.st.putState.run(k, v);
    }
  }

  lastBlock(): StoredBlock | undefined {
    const r = this.st.lastBlock.get();
    return r === undefined ? undefined : toStoredBlock(r);
  }

  getBlock(height: number): StoredBlock | undefined {
    const r = this.st.getBlock.get(height);
    return r === undefined ? undefined : toStoredBlock(r);
  }

  txsOfBlock(height: number): StoredTx[] {
    return this.st.txsOfBlock.all(height).map(toStoredTx);
  }

  txBySeq(seq: number): StoredTx | undefined {
    const r = this.st.txBySeq.get(seq);
    return r === undefined ? undefined : toStoredTx(r);
  }

  /** The accepted occurrence of a transaction id (or, failing that, its first occurrence). */
  txById(txId: string): StoredTx | undefined {
    const r = this.st.txById.get(Buffer.from(txId, 'hex'));
    return r === undefined ? undefined : toStoredTx(r);
  }

  checkpointAtHeight(height: number): SignedCheckpoint | undefined {
    const r = this.st.checkpointAt.get(height);
    return r === undefined ? undefined : toSignedCheckpoint(r);
  }

  latestCheckpoint(): SignedCheckpoint | undefined {
    const r = this.st.latestCheckpoint.get();
    return r === undefined ? undefined : toSignedCheckpoint(r);
  }

  /** The latest checkpoint whose log size is exactly `size`. */
  checkpointBySize(size: number): SignedCheckpoint | undefined {
    const r = this.st.checkpointBySize.get(size);
    return r === undefined ? undefined : toSignedCheckpoint(r);
  }

  /** Iterates all state entries in key order (for verification and snapshots). */
  *stateEntries(): IterableIterator<[string, string]> {
    for (const r of this.db
      .prepare('SELECT key, value FROM state ORDER BY key')
      .iterate() as IterableIterator<{
      key: string;
      value: string;
    }>)
      yield [r.key, r.value];
  }

  /** Number of stored Merkle nodes (for verification). */
  merkleNodeCount(): number {
    return (this.db.prepare('SELECT count(*) AS n FROM merkle').get() as { n: number }).n;
  }
}

interface RawTxRow {
  seq: number;
  height: number;
  idx: number;
  tx_id: Buffer;
  raw: string;
  code: string;
  consumed: number;
}

function toStoredTx(r: RawTxRow): StoredTx {
  return {
    seq: r.seq,
    height: r.height,
    index: r.idx,
    txId: toHex(r.tx_id),
    raw: r.raw,
    code: r.code as ValidationCode,
    consumed: r.consumed === 1,
  };
}

function toStoredBlock(r: {
  height: number;
  hash: string;
  header: string;
  signature: string;
  first_seq: number;
}): StoredBlock {
  return {
    height: r.height,
    hash: r.hash,
    header: JSON.parse(r.header) as BlockHeader,
    headerJson: r.header,
    signature: r.signature,
    firstSeq: r.first_seq,
  };
}

function toSignedCheckpoint(r: { body: string; signature: string }): SignedCheckpoint {
  return { checkpoint: JSON.parse(r.body) as Checkpoint, signature: r.signature };
}
