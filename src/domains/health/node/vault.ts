/**
 * The encrypted vault: a custodian's storage of health data in records.sqlite and the blob
 * folder. It holds only ciphertext and wrapped keys (AES-256-GCM per record, the data key
 * HPKE-wrapped for the patient and this custodian, plus a fast copy under a derived KEK), the
 * patients' commitment secrets and the ids of requests already spent. It decides nothing: who
 * may write is the intake's business, who may read the gatekeeper's.
 * @module
 */
import { KeyFileSealer } from '../../../node/sealer.js';
import { hkdfSync, randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import type { Database as Db } from 'better-sqlite3';
import { fromBase64Url, utf8 } from '../../../protocol/bytes.js';
import {
  openWithDataKey,
  parseSealedRecord,
  recordAad,
  sealRecordWithKey,
  unwrapDataKey,
  type EncryptionKeyPair,
  type SealedRecord,
} from '../../../protocol/envelope.js';
import { HealthLedgerError } from '../../../protocol/errors.js';
import { openDatabase } from '../../../node/store/ledger-store.js';
import { HealthKeys, readJson, type RecordEntry } from '../contracts/model.js';
import { BlobStore } from './blob-store.js';
import { unwrapKeyNative, wrapKeyNative } from './native-wrap.js';

/** The custodian service identity of this organization. */
export interface CustodianIdentity {
  /** e.g. `st-mary/records` (role custodian). */
  memberId: string;
  /** Ed25519 seed signing `record.register` and `erasure.complete`. */
  signingKey: Uint8Array;
  /** X25519 key pair every stored record is also wrapped to. */
  encryption: EncryptionKeyPair;
}

/** Reads committed ledger state (the node's view). */
export type StateReader = (key: string) => string | undefined;

/** The latest stored version of a record, as the gatekeeper sees it (still sealed). */
export interface RecordRow {
  id: string;
  version: number;
  resource_type: string;
  /** The sealed record (JSON of {@link SealedRecord}). */
  envelope: string;
  /** The data key wrapped under the KEK; null on rows stored before the fast copy existed. */
  custodian_key: string | null;
}

/** One record version to store: sealed, with its metadata. */
export interface NewRecord {
  id: string;
  version: number;
  patient: string;
  resourceType: string;
  sealed: SealedRecord;
  custodianKey: string;
  /** Member who wrote it. */
  author: string;
  /** Id of the signed request that wrote it (an import's rows share one, to roll back together). */
  requestId: string;
  emergency: boolean;
}

/** A stored binary's metadata. */
export interface BlobRow {
  patient: string;
  content_type: string;
  size: number;
  wrapped_key: string;
}

/** The AAD binding a blob key to its blob and patient. */
const blobAad = (id: string, patient: string): Uint8Array => utf8(`healthledger/v1/blob|${id}|${patient}`);

/** A custodian's encrypted storage: records, blobs, keys, commitment secrets, spent request ids. */
export class RecordVault {
  private readonly db: Db;
  private readonly blobs: BlobStore;
  /** Key-encryption key for the custodian's fast copy of each data key (derived; nothing new to store). */
  private readonly kek: Uint8Array;
  /**
   * Seals the patients' commitment secrets at rest (AES-256-GCM, the patient in the AAD), under a
   * key derived from the custodian's decryption key: that key is itself sealed under the node's
   * KEK (ADR 0015), so a copy of the data folder and home without the KEK opens no secret.
   */
  private readonly secrets: KeyFileSealer;

  /**
   * Opens (creating or migrating) the store at `dbPath`; blobs go to `blobDir` (default: `blobs`
   * beside it). `getState` is needed only to migrate stores older than the emergency flag.
   */
  constructor(
    dbPath: string,
    private readonly custodian: CustodianIdentity,
    private readonly getState: StateReader,
    blobDir?: string,
  ) {
    this.db = openDatabase(dbPath);
    // Deleted content is overwritten with zeros (cells and freed pages), not just unlinked from
    // the b-tree: a deleted record version or an erased patient leaves no bytes in the pages.
    this.db.pragma('secure_delete = ON');
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS records (
        id TEXT NOT NULL, version INTEGER NOT NULL, patient TEXT NOT NULL, resource_type TEXT NOT NULL,
        envelope TEXT NOT NULL, author TEXT NOT NULL, request_id TEXT NOT NULL, custodian_key TEXT,
        emergency INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (id, version)) WITHOUT ROWID;
      CREATE INDEX IF NOT EXISTS records_by_patient ON records (patient);
      CREATE TABLE IF NOT EXISTS patient_secrets (patient TEXT PRIMARY KEY, secret BLOB NOT NULL) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS seen_requests (id TEXT PRIMARY KEY, at_ms INTEGER NOT NULL) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS blobs (
        id TEXT PRIMARY KEY, patient TEXT NOT NULL, content_type TEXT NOT NULL, size INTEGER NOT NULL,
        wrapped_key TEXT NOT NULL, author TEXT NOT NULL) WITHOUT ROWID;
      CREATE INDEX IF NOT EXISTS blobs_by_patient ON blobs (patient);
    `);
    // Stores created before the emergency column existed: add it, filled from the ledger's entries.
    const cols = this.db.prepare('PRAGMA table_info(records)').all() as { name: string }[];
    if (!cols.some((c) => c.name === 'emergency')) {
      this.db.exec('ALTER TABLE records ADD COLUMN emergency INTEGER NOT NULL DEFAULT 0');
      const ids = this.db.prepare('SELECT DISTINCT id FROM records').all() as { id: string }[];
      const mark = this.db.prepare('UPDATE records SET emergency = 1 WHERE id = ?');
      for (const { id } of ids)
        if (readJson<RecordEntry>(getState, HealthKeys.record(id))?.emergency) mark.run(id);
    }
    this.blobs = new BlobStore(blobDir ?? join(dirname(dbPath), 'blobs'));
    this.kek = new Uint8Array(
      hkdfSync(
        'sha256',
        custodian.encryption.privateKey,
        new Uint8Array(0),
        'healthledger/v1/custodian-kek',
        32,
      ),
    );
    this.secrets = new KeyFileSealer(
      new Uint8Array(
        hkdfSync(
          'sha256',
          custodian.encryption.privateKey,
          new Uint8Array(0),
          'healthledger/v1/patient-secrets',
          32,
        ),
      ),
      'custodian',
    );
    // Stores from before sealing kept the 32-byte secrets in clear: seal them (secure_delete zeroes
    // the old cells), then checkpoint so no page holding one stays in the write-ahead log.
    const clear = this.db
      .prepare('SELECT patient, secret FROM patient_secrets WHERE length(secret) = 32')
      .all() as { patient: string; secret: Buffer }[];
    if (clear.length > 0) {
      const update = this.db.prepare('UPDATE patient_secrets SET secret = ? WHERE patient = ?');
      this.db.transaction(() => {
        for (const r of clear) update.run(this.sealSecret(r.patient, r.secret), r.patient);
      })();
      this.db.pragma('wal_checkpoint(TRUNCATE)');
    }
  }

  private sealSecret(patient: string, secret: Uint8Array): Buffer {
    return Buffer.from(this.secrets.seal(`patient-secret|${patient}`, secret));
  }

  /** Closes the database. */
  close(): void {
    this.db.close();
  }

  /** Records a signed request's id; false if it was already spent (a replay). */
  rememberRequest(id: string, atMs: number): boolean {
    return (
      this.db.prepare('INSERT OR IGNORE INTO seen_requests (id, at_ms) VALUES (?, ?)').run(id, atMs)
        .changes === 1
    );
  }

  /**
   * Refuses to store anything more for a patient whose erasure was requested (a write or upload
   * still in flight when the request committed), so nothing is stored after the shredding.
   */
  private refuseErased(patient: string): void {
    if (this.getState(HealthKeys.erasure(patient)) !== undefined)
      throw new HealthLedgerError('PATIENT_ERASED');
  }

  /** The patient's commitment secret (HMAC key for ledger commitments), created on first use. */
  secretFor(patient: string): Buffer {
    this.refuseErased(patient);
    const row = this.db.prepare('SELECT secret FROM patient_secrets WHERE patient = ?').get(patient) as
      { secret: Buffer } | undefined;
    if (row) return Buffer.from(this.secrets.unseal(`patient-secret|${patient}`, row.secret));
    const secret = randomBytes(32);
    this.db
      .prepare('INSERT INTO patient_secrets (patient, secret) VALUES (?, ?)')
      .run(patient, this.sealSecret(patient, secret));
    return secret;
  }

  /** Seals a record for the patient and this custodian, and wraps the custodian's fast copy of the data key. */
  async seal(
    text: string,
    id: string,
    version: number,
    patient: string,
    patientKey: Uint8Array,
  ): Promise<{ sealed: SealedRecord; custodianKey: string }> {
    const aad = recordAad(id, version, patient);
    const { sealed, dataKey } = await sealRecordWithKey(
      utf8(text),
      [
        { id: patient, publicKey: patientKey },
        { id: this.custodian.memberId, publicKey: this.custodian.encryption.publicKey },
      ],
      aad,
    );
    try {
      return { sealed, custodianKey: wrapKeyNative(this.kek, dataKey, aad) };
    } finally {
      dataKey.fill(0);
    }
  }

  /** The record's data key: the custodian's symmetric copy, or (older rows) its HPKE-wrapped one. The caller zeroes it. */
  async dataKeyOf(row: RecordRow, sealed: SealedRecord, patient: string): Promise<Uint8Array> {
    const aad = recordAad(row.id, row.version, patient);
    if (row.custodian_key) return unwrapKeyNative(this.kek, row.custodian_key, aad);
    return unwrapDataKey(sealed, this.custodian.memberId, this.custodian.encryption.privateKey, aad);
  }

  /** Decrypts a stored record version of `patient` (the data key is zeroed after use). */
  async open(row: RecordRow, patient: string): Promise<Uint8Array> {
    const sealed = parseSealedRecord(JSON.parse(row.envelope));
    const dataKey = await this.dataKeyOf(row, sealed, patient);
    try {
      return await openWithDataKey(sealed, dataKey, recordAad(row.id, row.version, patient));
    } finally {
      dataKey.fill(0);
    }
  }

  /** Stores record versions, all or none. */
  insert(records: readonly NewRecord[]): void {
    const insert = this.db.prepare(
      'INSERT INTO records (id, version, patient, resource_type, envelope, author, request_id, custodian_key, emergency) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
    );
    const run = (r: NewRecord) =>
      insert.run(
        r.id,
        r.version,
        r.patient,
        r.resourceType,
        JSON.stringify(r.sealed),
        r.author,
        r.requestId,
        r.custodianKey,
        r.emergency ? 1 : 0,
      );
    for (const r of records) this.refuseErased(r.patient);
    if (records.length === 1) run(records[0]!);
    else this.db.transaction(() => records.forEach(run))();
  }

  /** Removes one record version (its ledger registration was refused). */
  deleteVersion(id: string, version: number): void {
    this.db.prepare('DELETE FROM records WHERE id = ? AND version = ?').run(id, version);
  }

  /** Removes every record a request wrote (an import that failed to register). */
  deleteByRequest(requestId: string): void {
    this.db.prepare('DELETE FROM records WHERE request_id = ?').run(requestId);
  }

  /**
   * The latest stored version of each of the patient's records, by id; with `emergencyOnly`, only
   * those the classifier flagged as emergency summary (a pre-filter: the caller still checks scope).
   */
  latestRecords(patient: string, emergencyOnly: boolean): RecordRow[] {
    return this.db
      .prepare(
        `SELECT id, version, resource_type, envelope, custodian_key FROM records r WHERE patient = ?${emergencyOnly ? ' AND emergency = 1' : ''} AND version = (SELECT max(version) FROM records WHERE id = r.id) ORDER BY id`,
      )
      .all(patient) as RecordRow[];
  }

  /** Streams `body` into an encrypted blob of `patient` under a fresh key kept wrapped under the KEK. */
  async putBlob(
    body: AsyncIterable<Uint8Array>,
    patient: string,
    contentType: string,
    author: string,
  ): Promise<{ id: string; plaintextSize: number }> {
    const key = new Uint8Array(randomBytes(32));
    try {
      const put = await this.blobs.put(body, key);
      if (this.getState(HealthKeys.erasure(patient)) !== undefined) {
        // Erased while the body streamed in: the blob's key was never stored; shred its bytes too.
        await this.blobs.shred(put.id);
        throw new HealthLedgerError('PATIENT_ERASED');
      }
      const wrapped = wrapKeyNative(this.kek, key, blobAad(put.id, patient));
      this.db
        .prepare(
          'INSERT OR REPLACE INTO blobs (id, patient, content_type, size, wrapped_key, author) VALUES (?, ?, ?, ?, ?, ?)',
        )
        .run(put.id, patient, contentType, put.plaintextSize, wrapped, author);
      return { id: put.id, plaintextSize: put.plaintextSize };
    } finally {
      key.fill(0);
    }
  }

  /** A stored blob's metadata, or undefined. */
  blob(id: string): BlobRow | undefined {
    return this.db
      .prepare('SELECT patient, content_type, size, wrapped_key FROM blobs WHERE id = ?')
      .get(id) as BlobRow | undefined;
  }

  /** The blob's plaintext, chunk by chunk, each authenticated before it is yielded; the key is zeroed at the end. */
  openBlob(id: string, blob: BlobRow): AsyncIterable<Uint8Array> {
    const key = unwrapKeyNative(this.kek, blob.wrapped_key, blobAad(id, blob.patient));
    const blobs = this.blobs;
    async function* stream(): AsyncGenerator<Uint8Array> {
      try {
        yield* blobs.get(id, key);
      } finally {
        key.fill(0);
      }
    }
    return stream();
  }

  /**
   * Crypto-shredding, complete on return: no file of the vault (records.sqlite, its -wal and
   * -shm, the blob folder) holds any byte of the patient's record envelopes, wrapped data keys,
   * blob keys, blobs or commitment secret. Returns how many records (ids) were held.
   *
   * 1. The patient's blobs are overwritten with zeros and unlinked (first, so a failure leaves
   *    the rows to find on a retry).
   * 2. One transaction deletes the rows; `secure_delete` zeroes the cells and freed pages in the
   *    new page images (so even a crash before step 4 leaves only zeros for the next checkpoint).
   * 3. VACUUM rebuilds the database from the surviving rows alone. In WAL mode it writes the
   *    new image through the WAL; the main file keeps every old page until a checkpoint.
   * 4. `wal_checkpoint(TRUNCATE)` copies that image over the main file, truncates the file to
   *    its new size and the WAL to zero bytes. Only then are the old pages (in the main file and
   *    in earlier WAL frames) gone; if a reader blocks it, this throws and no tombstone follows.
   *
   * Cost: VACUUM and the checkpoint each rewrite the whole records database (two writes of its
   * size, plus a temporary copy in SQLite's temp directory, which holds only surviving rows), so
   * an erasure takes time proportional to the database, not to the patient (measured: 13 s for a
   * 474 MB database of 100,000 records on a loaded 2-core machine, VACUUM nearly all of it), and
   * the whole process waits meanwhile: better-sqlite3 is synchronous, so the event loop (API,
   * ordering, every other request) is blocked for the VACUUM.
   */
  async erasePatient(patient: string): Promise<number> {
    const blobIds = (
      this.db.prepare('SELECT id FROM blobs WHERE patient = ?').all(patient) as { id: string }[]
    ).map((b) => b.id);
    for (const id of blobIds) await this.blobs.shred(id);
    // A statement journal (old page images, kept to undo one statement) stays in memory rather
    // than spilling to an unlinked file in the temp directory; back to the default for the VACUUM,
    // whose temporary copy holds only surviving rows and may be as large as the database.
    this.db.pragma('temp_store = MEMORY');
    let n: number;
    try {
      n = this.db.transaction(() => {
        const count = (
          this.db.prepare('SELECT count(DISTINCT id) AS n FROM records WHERE patient = ?').get(patient) as {
            n: number;
          }
        ).n;
        this.db.prepare('DELETE FROM records WHERE patient = ?').run(patient);
        this.db.prepare('DELETE FROM blobs WHERE patient = ?').run(patient);
        this.db.prepare('DELETE FROM patient_secrets WHERE patient = ?').run(patient);
        return count;
      })();
    } finally {
      this.db.pragma('temp_store = DEFAULT');
    }
    this.scrub();
    return n;
  }

  /**
   * Rewrites records.sqlite from its live rows and empties the WAL, so no deleted or superseded
   * page survives in either file (see {@link RecordVault.erasePatient}).
   */
  private scrub(): void {
    this.db.exec('VACUUM');
    const [r] = this.db.pragma('wal_checkpoint(TRUNCATE)') as {
      busy: number;
      log: number;
      checkpointed: number;
    }[];
    if (!r || r.busy !== 0 || r.log !== 0)
      throw new Error(
        `records.sqlite: the WAL could not be checkpointed and truncated after the erasure (${JSON.stringify(r)})`,
      );
  }

  /** How many record versions are held for a patient. */
  /** Every patient this vault holds anything of: records, a commitment secret or a binary. */
  patients(): string[] {
    return (
      this.db
        .prepare(
          'SELECT patient FROM records UNION SELECT patient FROM patient_secrets UNION SELECT patient FROM blobs',
        )
        .all() as { patient: string }[]
    ).map((r) => r.patient);
  }

  countFor(patient: string): number {
    return (
      this.db.prepare('SELECT count(*) AS n FROM records WHERE patient = ?').get(patient) as { n: number }
    ).n;
  }
}

/** The X25519 key `memberId` published on the ledger (what records are wrapped to), or undefined. */
export function publishedEncryptionKey(getState: StateReader, memberId: string): Uint8Array | undefined {
  const k = readJson<string>(getState, HealthKeys.encryptionKey(memberId));
  return k === undefined ? undefined : fromBase64Url(k);
}
