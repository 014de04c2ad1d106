/**
 * The custodian's records service: the only path to health data at an organization
 * (in the manner of Medplum's identity-bound repository). Every call is attributable: writes
 * and releases arrive as signed requests, and each outcome — success or refusal — is logged
 * without health data.
 *
 * - **Write**: validate FHIR R4 (OperationOutcome on failure), classify (categories, sensitive
 *   labels, emergency summary), encrypt (AES-256-GCM, fresh data key; the key wrapped with
 *   HPKE for the patient and for this custodian), store, and register on the ledger: metadata
 *   plus an HMAC-SHA-256 commitment under the patient's secret — never a plain hash of the data.
 *   Amendments append a version.
 * - **Release** (the gatekeeper): only against a committed `access.request`/`access.break-glass`
 *   grant for this requester, unexpired, patient not erased; the records in the grant's scope
 *   are re-wrapped to the requester's published X25519 key — plaintext never leaves.
 * - **Erase**: destroy wrapped keys (ciphertexts become unrecoverable), rows and the patient's
 *   commitment secret, then commit the tombstone (`erasure.complete`).
 * @module
 */
import { createHmac, hkdfSync, randomBytes, randomUUID } from 'node:crypto';
import { dirname, join } from 'node:path';
import { BlobStore } from './blob-store.js';
import type { Database as Db } from 'better-sqlite3';
import { fromBase64Url, fromUtf8, utf8 } from '../../../protocol/bytes.js';
import { HealthLedgerError } from '../../../protocol/errors.js';
// Registers the health codes thrown here, whoever loads this service.
import '../core/errors.js';
import { canonicalize } from '../../../protocol/jcs.js';
import { createTxBody, signTx, type SignedTx } from '../../../protocol/tx.js';
import {
  openWithDataKey,
  parseSealedRecord,
  recordAad,
  sealRecordWithKey,
  wrapReleaseKey,
  unwrapDataKey,
  type EncryptionKeyPair,
  type ReleaseBundle,
  type SealedRecord,
} from '../../../protocol/envelope.js';
import {
  FhirBundleError,
  classify,
  entriesOfTransactionBundle,
  normalizeLegacy,
  resolveReferences,
  validateFhir,
} from '../core/fhir/index.js';
import {
  HealthKeys,
  RECORD_ID_PATTERN,
  readJson,
  readPatient,
  type AccessGrant,
  type RecordEntry,
} from '../contracts/model.js';
import { inScope } from '../contracts/access.js';
import type { Resource } from '@medplum/fhirtypes';
import { openDatabase } from '../../../node/store/ledger-store.js';
import type { MemberRecord } from '../../../contracts/contract.js';
import type { LedgerNode } from '../../../node/ledger-node.js';
import type { Clock } from '../../../node/ordering/orderer.js';
import { verifySignedRequest, type VerifiedRequest } from './signed-request.js';
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

interface RecordRow {
  id: string;
  version: number;
  resource_type: string;
  envelope: string;
  custodian_key: string | null;
}

export class RecordService {
  private readonly db: Db;
  private readonly blobs: BlobStore;
  /** Key-encryption key for the custodian's fast copy of each data key (derived; nothing new to store). */
  private readonly kek: Uint8Array;

  constructor(
    dbPath: string,
    private readonly node: LedgerNode,
    private readonly custodian: CustodianIdentity,
    private readonly clock: Clock,
    private readonly log: (event: string, fields: Record<string, unknown>) => void = () => {},
    blobDir?: string,
  ) {
    this.db = openDatabase(dbPath);
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
        if (readJson<RecordEntry>((k) => node.getState(k), HealthKeys.record(id))?.emergency) mark.run(id);
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
  }

  get org(): string {
    return this.custodian.memberId.split('/')[0]!;
  }

  close(): void {
    this.db.close();
  }

  private requestContext() {
    const policies = this.node.genesis.genesis.policies;
    return {
      chainId: this.node.chainId,
      getState: (k: string) => this.node.getState(k),
      nowMs: this.clock.now(),
      windowMs: policies.timestampWindowMs,
      maxBytes: 4 * 1024 * 1024 + 4096,
      rememberRequest: (id: string, at: number) =>
        this.db.prepare('INSERT OR IGNORE INTO seen_requests (id, at_ms) VALUES (?, ?)').run(id, at)
          .changes === 1,
    };
  }

  /**
   * Verifies a signed request that reads ledger metadata only (no record, no effect), with the
   * same checks as every other request; replaying it only re-reads, so its id is not spent.
   */
  verifyReadRequest(request: unknown, type: string): VerifiedRequest {
    return verifySignedRequest(request, type, { ...this.requestContext(), rememberRequest: () => true });
  }

  private secretFor(patient: string): Buffer {
    const row = this.db.prepare('SELECT secret FROM patient_secrets WHERE patient = ?').get(patient) as
      { secret: Buffer } | undefined;
    if (row) return row.secret;
    const secret = randomBytes(32);
    this.db.prepare('INSERT INTO patient_secrets (patient, secret) VALUES (?, ?)').run(patient, secret);
    return secret;
  }

  private encryptionKeyOf(memberId: string): Uint8Array | undefined {
    const k = readJson<string>((key) => this.node.getState(key), HealthKeys.encryptionKey(memberId));
    return k === undefined ? undefined : fromBase64Url(k);
  }

  private async submitAsCustodian(
    type: string,
    payload: Record<string, unknown>,
  ): Promise<{ txId: string; code: string }> {
    const tx: SignedTx = signTx(
      createTxBody({
        chainId: this.node.chainId,
        type,
        payload: payload as never,
        signer: this.custodian.memberId,
        nowMs: this.clock.now(),
      }),
      this.custodian.signingKey,
    );
    const [r] = await this.node.submit([tx], { wait: true, timeoutMs: 30_000 });
    if (r?.status === 'committed') return { txId: r.txId, code: r.commitment.code };
    if (r?.status === 'rejected') throw r.error;
    throw new HealthLedgerError('INTERNAL', 'custodian transaction not committed');
  }

  /**
   * A signed `record.write` request: `{ patient, resource, recordId? }` from a practitioner of
   * this organization. Creates the record (or its next version when `recordId` names one).
   */
  async write(request: unknown): Promise<{ recordId: string; version: number; txId: string }> {
    const { decoded, signer, payload } = verifySignedRequest(request, 'record.write', this.requestContext());
    const fail = (e: HealthLedgerError): never => {
      this.log('records.write.refused', { requester: signer.id, code: e.code });
      throw e;
    };
    if (signer.org !== this.org || (signer.role !== 'practitioner' && signer.role !== 'custodian'))
      fail(new HealthLedgerError('UNAUTHORIZED_ROLE', `only practitioners of ${this.org} write its records`));
    const patient = payload['patient'];
    if (typeof patient !== 'string' || readPatient((k) => this.node.getState(k), patient) === undefined)
      fail(new HealthLedgerError('UNKNOWN_PATIENT'));
    const p = patient as string;
    if (this.node.getState(HealthKeys.erasure(p)) !== undefined)
      fail(new HealthLedgerError('PATIENT_ERASED'));
    const v = validateFhir(payload['resource']);
    if (!v.ok)
      fail(
        new HealthLedgerError('INVALID_FHIR', 'the resource is not valid FHIR R4', { outcome: v.outcome }),
      );
    const resource = (v as { resource: Resource }).resource;
    let recordId = payload['recordId'];
    let version = 1;
    if (recordId !== undefined) {
      if (typeof recordId !== 'string' || !RECORD_ID_PATTERN.test(recordId))
        fail(new HealthLedgerError('INVALID_PAYLOAD', 'recordId'));
      const existing = readJson<RecordEntry>(
        (k) => this.node.getState(k),
        HealthKeys.record(recordId as string),
      );
      if (existing === undefined || existing.custodian !== this.org || existing.patient !== p)
        fail(new HealthLedgerError('NOT_FOUND', 'no such record here'));
      version = existing!.version + 1;
    } else recordId = randomUUID();
    const patientKey = this.encryptionKeyOf(p);
    if (patientKey === undefined)
      fail(
        new HealthLedgerError('ENCRYPTION_KEY_MISSING', 'the patient has not published an encryption key'),
      );
    const c = classify(resource);
    const id = recordId as string;
    const text = canonicalize(resource);
    const { sealed, custodianKey } = await this.seal(text, id, version, p, patientKey!);
    const commitment = createHmac('sha256', this.secretFor(p)).update(text).digest('hex');
    this.db
      .prepare(
        'INSERT INTO records (id, version, patient, resource_type, envelope, author, request_id, custodian_key, emergency) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
      )
      .run(
        id,
        version,
        p,
        resource.resourceType,
        JSON.stringify(sealed),
        signer.id,
        decoded.txId,
        custodianKey,
        c.emergency ? 1 : 0,
      );
    const r = await this.submitAsCustodian('record.register', {
      id,
      patient: p,
      resourceType: resource.resourceType,
      categories: c.categories,
      sensitive: c.sensitive,
      emergency: c.emergency,
      version,
      commitment,
      author: signer.id,
    });
    if (r.code !== 'VALID') {
      this.db.prepare('DELETE FROM records WHERE id = ? AND version = ?').run(id, version);
      fail(
        new HealthLedgerError('INVALID_PAYLOAD', `the ledger refused the registration: ${r.code}`, {
          code: r.code,
        }),
      );
    }
    this.log('records.write', { author: signer.id, recordId: id, version, txId: r.txId });
    return { recordId: id, version, txId: r.txId };
  }

  /**
   * Imports a FHIR transaction/batch/collection bundle for one patient (signed `record.import`
   * request `{ patient, bundle }` from a practitioner of this organization): every entry is
   * normalized (known legacy fields), validated, classified, encrypted and stored, intra-bundle
   * references rewritten to the new record ids, and all registrations committed in one batch.
   */
  async importBundle(
    request: unknown,
    onProgress?: (done: number, total: number) => void,
  ): Promise<{ records: { id: string; resourceType: string; txId: string }[] }> {
    const { decoded, signer, payload } = verifySignedRequest(request, 'record.import', this.requestContext());
    if (signer.org !== this.org || (signer.role !== 'practitioner' && signer.role !== 'custodian'))
      throw new HealthLedgerError(
        'UNAUTHORIZED_ROLE',
        `only practitioners of ${this.org} import its records`,
      );
    const patient = payload['patient'];
    if (typeof patient !== 'string' || readPatient((k) => this.node.getState(k), patient) === undefined)
      throw new HealthLedgerError('UNKNOWN_PATIENT');
    if (this.node.getState(HealthKeys.erasure(patient)) !== undefined)
      throw new HealthLedgerError('PATIENT_ERASED');
    const patientKey = this.encryptionKeyOf(patient);
    if (patientKey === undefined)
      throw new HealthLedgerError(
        'ENCRYPTION_KEY_MISSING',
        'the patient has not published an encryption key',
      );
    let entries;
    try {
      entries = entriesOfTransactionBundle(normalizeLegacy(payload['bundle']).resource);
    } catch (e) {
      if (e instanceof FhirBundleError)
        throw new HealthLedgerError('INVALID_FHIR', e.message, { outcome: e.outcome });
      throw e;
    }
    const { resources } = resolveReferences(entries, () => randomUUID());
    const secret = this.secretFor(patient);
    const txs: SignedTx[] = [];
    const rows: {
      id: string;
      text: string;
      sealed: SealedRecord;
      custodianKey: string;
      type: string;
      emergency: boolean;
    }[] = [];
    for (const [i, resource] of resources.entries()) {
      const v = validateFhir(resource);
      if (!v.ok)
        throw new HealthLedgerError('INVALID_FHIR', `entry ${i} is not valid FHIR R4`, {
          outcome: v.outcome,
        });
      const id = resource.id!;
      const text = canonicalize(v.resource);
      const c = classify(v.resource);
      const { sealed, custodianKey } = await this.seal(text, id, 1, patient, patientKey);
      rows.push({ id, text, sealed, custodianKey, type: v.resource.resourceType, emergency: c.emergency });
      txs.push(
        signTx(
          createTxBody({
            chainId: this.node.chainId,
            type: 'record.register',
            payload: {
              id,
              patient,
              resourceType: v.resource.resourceType,
              categories: c.categories,
              sensitive: c.sensitive,
              emergency: c.emergency,
              version: 1,
              commitment: createHmac('sha256', secret).update(text).digest('hex'),
              author: signer.id,
            },
            signer: this.custodian.memberId,
            nowMs: this.clock.now(),
          }),
          this.custodian.signingKey,
        ),
      );
      onProgress?.(i + 1, resources.length);
    }
    const insert = this.db.prepare(
      'INSERT INTO records (id, version, patient, resource_type, envelope, author, request_id, custodian_key, emergency) VALUES (?, 1, ?, ?, ?, ?, ?, ?, ?)',
    );
    this.db.transaction(() => {
      for (const r of rows)
        insert.run(
          r.id,
          patient,
          r.type,
          JSON.stringify(r.sealed),
          signer.id,
          decoded.txId,
          r.custodianKey,
          r.emergency ? 1 : 0,
        );
    })();
    const results = await this.node.submit(txs, { wait: true, timeoutMs: 60_000 });
    const out: { id: string; resourceType: string; txId: string }[] = [];
    for (const [i, r] of results.entries()) {
      if (r.status !== 'committed' || r.commitment.code !== 'VALID') {
        this.db.prepare('DELETE FROM records WHERE request_id = ?').run(decoded.txId);
        throw new HealthLedgerError('INVALID_PAYLOAD', `registration of entry ${i} failed`, {
          code:
            r.status === 'committed' ? r.commitment.code : r.status === 'rejected' ? r.error.code : r.status,
        });
      }
      out.push({ id: rows[i]!.id, resourceType: rows[i]!.type, txId: r.txId });
    }
    this.log('records.import', { author: signer.id, records: out.length });
    return { records: out };
  }

  /**
   * The gatekeeper: a signed `record.release` request `{ accessTxId }` from the requester named
   * in a committed grant. Returns the in-scope records re-wrapped to the requester's key.
   */
  async release(request: unknown): Promise<{ grant: AccessGrant; release: ReleaseBundle }> {
    const { signer, grant, rows } = this.granted(request, 'record.release');
    const requesterKey = this.encryptionKeyOf(signer.id);
    if (requesterKey === undefined) {
      this.log('records.release.refused', { requester: signer.id, code: 'ENCRYPTION_KEY_MISSING' });
      throw new HealthLedgerError('ENCRYPTION_KEY_MISSING', 'publish an encryption key first');
    }
    const items: {
      id: string;
      version: number;
      resourceType: string;
      sealed: SealedRecord;
      dataKey: Uint8Array;
    }[] = [];
    try {
      const sealed = rows.map((row) => parseSealedRecord(JSON.parse(row.envelope)));
      const keys = await Promise.all(rows.map((row, i) => this.dataKeyOf(row, sealed[i]!, grant.patient)));
      for (const [i, row] of rows.entries())
        items.push({
          id: row.id,
          version: row.version,
          resourceType: row.resource_type,
          sealed: sealed[i]!,
          dataKey: keys[i]!,
        });
      // One HPKE wrap to the requester for the whole release; only that key leaves.
      const releaseKey = new Uint8Array(randomBytes(32));
      let release: ReleaseBundle;
      try {
        release = {
          v: 1,
          recipient: signer.id,
          patient: grant.patient,
          releaseKey: await wrapReleaseKey(releaseKey, { id: signer.id, publicKey: requesterKey }),
          records: items.map((it) => ({
            id: it.id,
            version: it.version,
            resourceType: it.resourceType,
            nonce: it.sealed.nonce,
            ciphertext: it.sealed.ciphertext,
            key: wrapKeyNative(releaseKey, it.dataKey, recordAad(it.id, it.version, grant.patient)),
          })),
        };
      } finally {
        releaseKey.fill(0);
      }
      this.log('records.release', { requester: signer.id, accessTxId: grant.txId, records: items.length });
      return { grant, release };
    } finally {
      for (const it of items) it.dataKey.fill(0);
    }
  }

  /**
   * The same gatekeeper for FHIR clients, which expect resources: a signed `fhir.read` request
   * `{ accessTxId }` gets the in-scope resources decrypted by the custodian (over TLS in any real
   * deployment), each tagged with its record id and version.
   */
  async readPlain(request: unknown): Promise<{ grant: AccessGrant; resources: Resource[] }> {
    const { signer, grant, rows } = this.granted(request, 'fhir.read');
    const resources: Resource[] = [];
    for (const row of rows) {
      const sealed = parseSealedRecord(JSON.parse(row.envelope));
      const dataKey = await this.dataKeyOf(row, sealed, grant.patient);
      let bytes: Uint8Array;
      try {
        bytes = await openWithDataKey(sealed, dataKey, recordAad(row.id, row.version, grant.patient));
      } finally {
        dataKey.fill(0);
      }
      const r = JSON.parse(fromUtf8(bytes)) as Resource;
      resources.push({
        ...r,
        id: row.id,
        meta: { ...(r.meta ?? {}), versionId: String(row.version) },
      } as Resource);
    }
    this.log('records.read', { requester: signer.id, accessTxId: grant.txId, records: resources.length });
    return { grant, resources };
  }

  /**
   * Checks a signed request against a committed grant: the requester is the grantee, the grant
   * has not expired, the patient is not erased. Returns the latest version of every record of
   * the patient here that the grant covers.
   */
  private granted(
    request: unknown,
    type: string,
  ): {
    signer: MemberRecord;
    grant: AccessGrant;
    rows: RecordRow[];
    payload: Record<string, unknown>;
  } {
    const { signer, payload } = verifySignedRequest(request, type, this.requestContext());
    const get = (k: string) => this.node.getState(k);
    const refuse = (e: HealthLedgerError): never => {
      this.log('records.release.refused', { requester: signer.id, code: e.code });
      throw e;
    };
    const accessTxId = payload['accessTxId'];
    if (typeof accessTxId !== 'string' || !/^[0-9a-f]{64}$/.test(accessTxId))
      refuse(new HealthLedgerError('INVALID_PAYLOAD', 'accessTxId'));
    const grant = readJson<AccessGrant>(get, HealthKeys.access(accessTxId as string));
    // No committed grant (a denial, or nothing at all): nothing is released.
    if (grant === undefined || grant.requester !== signer.id)
      return refuse(new HealthLedgerError('ACCESS_NOT_GRANTED'));
    if (this.clock.now() > grant.expiresAtMs) refuse(new HealthLedgerError('ACCESS_EXPIRED'));
    if (get(HealthKeys.erasure(grant.patient)) !== undefined) refuse(new HealthLedgerError('PATIENT_ERASED'));
    const rows = (
      this.db
        .prepare(
          // Break-glass covers the emergency summary only: pre-filter on the classifier's flag
          // (the ledger entry is still checked below for every candidate).
          `SELECT id, version, resource_type, envelope, custodian_key FROM records r WHERE patient = ?${grant.scope.emergencyOnly ? ' AND emergency = 1' : ''} AND version = (SELECT max(version) FROM records WHERE id = r.id) ORDER BY id`,
        )
        .all(grant.patient) as RecordRow[]
    ).filter((row) => {
      const entry = readJson<RecordEntry>(get, HealthKeys.record(row.id));
      return entry !== undefined && entry.version === row.version && inScope(grant, entry);
    });
    return { signer, grant, rows, payload };
  }

  /**
   * Crypto-shredding after a committed `erasure.request`: wrapped keys, envelopes and the
   * patient's commitment secret are deleted, then the tombstone is committed.
   */
  async erase(patient: string): Promise<{ records: number; txId: string }> {
    if (this.node.getState(HealthKeys.erasure(patient)) === undefined)
      throw new HealthLedgerError('ERASURE_NOT_REQUESTED');
    let blobIds: string[] = [];
    const n = this.db.transaction(() => {
      const count = (
        this.db.prepare('SELECT count(DISTINCT id) AS n FROM records WHERE patient = ?').get(patient) as {
          n: number;
        }
      ).n;
      this.db.prepare('DELETE FROM records WHERE patient = ?').run(patient);
      blobIds = (
        this.db.prepare('SELECT id FROM blobs WHERE patient = ?').all(patient) as { id: string }[]
      ).map((b) => b.id);
      this.db.prepare('DELETE FROM blobs WHERE patient = ?').run(patient);
      this.db.prepare('DELETE FROM patient_secrets WHERE patient = ?').run(patient);
      return count;
    })();
    for (const id of blobIds) await this.blobs.delete(id);
    // SQLite keeps freed pages: overwrite them so no ciphertext or key bytes linger in the file.
    this.db.pragma('wal_checkpoint(TRUNCATE)');
    this.db.exec('VACUUM');
    const r = await this.submitAsCustodian('erasure.complete', { patient, records: n });
    this.log('records.erased', { patient, records: n, txId: r.txId, code: r.code });
    return { records: n, txId: r.txId };
  }

  /** Seals a record for the patient and this custodian, and wraps the custodian's fast copy of the data key. */
  private async seal(
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

  /** The record's data key: the custodian's symmetric copy, or (older rows) its HPKE-wrapped one. */
  private async dataKeyOf(row: RecordRow, sealed: SealedRecord, patient: string): Promise<Uint8Array> {
    const aad = recordAad(row.id, row.version, patient);
    if (row.custodian_key) return unwrapKeyNative(this.kek, row.custodian_key, aad);
    return unwrapDataKey(sealed, this.custodian.memberId, this.custodian.encryption.privateKey, aad);
  }

  /**
   * Stores a large binary (imaging, PDF) for a patient, streamed and encrypted with a fresh key
   * (STREAM construction, blob-store.ts); the key is kept wrapped under the custodian's KEK. A
   * signed `blob.put` request `{ patient, contentType }` from a practitioner of this organization
   * authorizes it. Reference it from a `DocumentReference`/`Binary` record as
   * `urn:healthledger:blob:<id>`.
   */
  async putBlob(
    request: unknown,
    body: AsyncIterable<Uint8Array>,
  ): Promise<{ blobId: string; size: number; url: string }> {
    const { signer, payload } = verifySignedRequest(request, 'blob.put', this.requestContext());
    if (signer.org !== this.org || (signer.role !== 'practitioner' && signer.role !== 'custodian'))
      throw new HealthLedgerError(
        'UNAUTHORIZED_ROLE',
        `only practitioners of ${this.org} store its binaries`,
      );
    const patient = payload['patient'];
    const contentType = payload['contentType'];
    if (typeof patient !== 'string' || readPatient((k) => this.node.getState(k), patient) === undefined)
      throw new HealthLedgerError('UNKNOWN_PATIENT');
    if (typeof contentType !== 'string' || !/^[a-z]+\/[A-Za-z0-9.+-]{1,100}$/.test(contentType))
      throw new HealthLedgerError('INVALID_PAYLOAD', 'contentType');
    if (this.node.getState(HealthKeys.erasure(patient)) !== undefined)
      throw new HealthLedgerError('PATIENT_ERASED');
    const key = new Uint8Array(randomBytes(32));
    try {
      const put = await this.blobs.put(body, key);
      const wrapped = wrapKeyNative(this.kek, key, utf8(`healthledger/v1/blob|${put.id}|${patient}`));
      this.db
        .prepare(
          'INSERT OR REPLACE INTO blobs (id, patient, content_type, size, wrapped_key, author) VALUES (?, ?, ?, ?, ?, ?)',
        )
        .run(put.id, patient, contentType, put.plaintextSize, wrapped, signer.id);
      this.log('records.blob.put', { author: signer.id, blobId: put.id, size: put.plaintextSize });
      return { blobId: put.id, size: put.plaintextSize, url: `urn:healthledger:blob:${put.id}` };
    } finally {
      key.fill(0);
    }
  }

  /**
   * Streams a binary to a requester whose committed grant covers a record of the patient that
   * references it (signed `blob.get` request `{ accessTxId, blobId }`). Decrypted chunk by chunk,
   * each authenticated before release.
   */
  async getBlob(
    request: unknown,
  ): Promise<{ contentType: string; size: number; stream: AsyncIterable<Uint8Array> }> {
    const { grant, rows, signer, payload } = this.granted(request, 'blob.get');
    const blobId = typeof payload['blobId'] === 'string' ? payload['blobId'] : '';
    const blob = this.db
      .prepare('SELECT patient, content_type, size, wrapped_key FROM blobs WHERE id = ?')
      .get(blobId) as
      { patient: string; content_type: string; size: number; wrapped_key: string } | undefined;
    if (blob === undefined || blob.patient !== grant.patient)
      throw new HealthLedgerError('NOT_FOUND', 'no such binary for this patient');
    // Released only if a record the grant covers points at it.
    const url = `urn:healthledger:blob:${blobId}`;
    let referenced = false;
    for (const row of rows) {
      if (
        row.resource_type !== 'DocumentReference' &&
        row.resource_type !== 'Binary' &&
        row.resource_type !== 'Media'
      )
        continue;
      const sealed = parseSealedRecord(JSON.parse(row.envelope));
      const dataKey = await this.dataKeyOf(row, sealed, grant.patient);
      try {
        const text = fromUtf8(
          await openWithDataKey(sealed, dataKey, recordAad(row.id, row.version, grant.patient)),
        );
        if (text.includes(JSON.stringify(url))) referenced = true;
      } finally {
        dataKey.fill(0);
      }
      if (referenced) break;
    }
    if (!referenced)
      throw new HealthLedgerError('ACCESS_NOT_GRANTED', 'the grant covers no record referencing this binary');
    const key = unwrapKeyNative(
      this.kek,
      blob.wrapped_key,
      utf8(`healthledger/v1/blob|${blobId}|${blob.patient}`),
    );
    this.log('records.blob.get', { requester: signer.id, blobId });
    const blobs = this.blobs;
    async function* stream(): AsyncGenerator<Uint8Array> {
      try {
        yield* blobs.get(blobId, key);
      } finally {
        key.fill(0);
      }
    }
    return { contentType: blob.content_type, size: blob.size, stream: stream() };
  }

  /** How many record versions this custodian holds for a patient (for tests and metrics). */
  countFor(patient: string): number {
    return (
      this.db.prepare('SELECT count(*) AS n FROM records WHERE patient = ?').get(patient) as { n: number }
    ).n;
  }
}
