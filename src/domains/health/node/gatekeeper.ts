/**
 * The gatekeeper: the single policy point for every release of health data from this custodian
 * — REST release, the peer data plane, FHIR read/search/$everything and binaries all pass
 * through {@link Gatekeeper.check}. A release needs a committed `access.request` or
 * `access.break-glass` grant naming the signer as requester, unexpired, for a patient not erased,
 * and covers only the records in the grant's scope; records leave re-wrapped to the requester's
 * published key (or decrypted, for FHIR clients over TLS). Every refusal is logged, without
 * health data.
 *
 * The grant must still be in force at release time ({@link grantInForce}): a revoked or lapsed
 * consent, or an `access.end`, stops it at once. And every release is accounted for before any
 * byte leaves: an `access.disclose` transaction (the grant, the requester, the record ids and
 * versions — no health data) is committed first, through the node's normal batching, and its
 * contract checks the grant once more at that block. No committed disclosure, no release.
 * @module
 */
import { randomBytes } from 'node:crypto';
import type { Resource } from '@medplum/fhirtypes';
import { fromUtf8 } from '../../../protocol/bytes.js';
import {
  parseSealedRecord,
  recordAad,
  wrapReleaseKey,
  type ReleaseBundle,
  type SealedRecord,
} from '../../../protocol/envelope.js';
import { HealthLedgerError } from '../../../protocol/errors.js';
import type { MemberRecord } from '../../../contracts/contract.js';
import type { Clock } from '../../../node/ordering/orderer.js';
import { inScope } from '../contracts/access.js';
import { MAX_DISCLOSED_RECORDS, grantInForce, type DisclosurePayload } from '../contracts/disclosure.js';
import {
  HealthKeys,
  proxyAppointment,
  readJson,
  type AccessGrant,
  type RecordEntry,
} from '../contracts/model.js';
import { wrapKeyNative } from './native-wrap.js';
import { verifySignedRequest, type SignedRequestContext } from '../../../node/auth/signed-request.js';
import { publishedEncryptionKey, type RecordRow, type RecordVault, type StateReader } from './vault.js';

/** What a release request was granted: who asked, under which grant, and the records it covers. */
export interface GrantedRequest {
  signer: MemberRecord;
  grant: AccessGrant;
  /** The latest version of every record of the patient here that the grant covers, by id. */
  rows: RecordRow[];
  payload: Record<string, unknown>;
}

/** Where the gatekeeper reads policy and data from. */
export interface GatekeeperDeps {
  vault: RecordVault;
  /** Committed ledger state (grants, erasures, record entries, published keys). */
  getState: StateReader;
  clock: Clock;
  /** The context signed requests are verified in (fresh per request: it carries the time). */
  requestContext: () => SignedRequestContext;
  log: (event: string, fields: Record<string, unknown>) => void;
  /**
   * Commits disclosures signed by the custodian (one transaction each, submitted together) and
   * resolves once they are committed, with each one's id and validation code.
   */
  disclose: (disclosures: DisclosurePayload[]) => Promise<{ txId: string; code: string }[]>;
}

/** The API error for a grant no longer in force (by the validation code saying why). */
function notInForce(code: string): HealthLedgerError {
  switch (code) {
    case 'ACCESS_ENDED':
      return new HealthLedgerError('ACCESS_ENDED');
    case 'ACCESS_EXPIRED':
      return new HealthLedgerError('ACCESS_EXPIRED');
    case 'PATIENT_ERASED':
      return new HealthLedgerError('PATIENT_ERASED');
    case 'CONSENT_REVOKED':
    case 'CONSENT_EXPIRED':
      return new HealthLedgerError('CONSENT_REVOKED');
    case 'NOT_PATIENT_OR_PROXY':
    case 'ACCESS_NOT_FOUND':
      return new HealthLedgerError('ACCESS_NOT_GRANTED');
    default:
      return new HealthLedgerError('DISCLOSURE_NOT_COMMITTED', `disclosure refused: ${code}`);
  }
}

/** Resource types that may reference a binary (`urn:healthledger:blob:<id>`). */
const BLOB_HOLDERS = new Set(['DocumentReference', 'Binary', 'Media']);

/** A proxy grant still stands: its actor is the requester and still acts for the patient, no wider than granted. */
function proxyGrantInForce(get: StateReader, grant: AccessGrant, nowMs: number): boolean {
  const p = grant.proxy;
  if (p === undefined || p.actor !== grant.requester || p.onBehalfOf !== grant.patient) return false;
  const a = proxyAppointment(get, p.actor, p.onBehalfOf, nowMs);
  return a !== undefined && grant.scope.sensitive.every((x) => a.sensitive.includes(x));
}

/** Checks every release against the ledger and hands out only what a committed grant covers. */
export class Gatekeeper {
  constructor(private readonly deps: GatekeeperDeps) {}

  /**
   * Checks a signed request of `type` carrying `{ accessTxId }` against a committed grant: the
   * requester is the grantee, the grant has not expired, the patient is not erased. Returns the
   * latest version of every record of the patient here that the grant covers. Every path that
   * releases data calls this first.
   * The grant must still be in force now: any committed revocation of its consent, lapse, or
   * `access.end` stops it.
   * @throws HealthLedgerError ACCESS_NOT_GRANTED, ACCESS_EXPIRED, ACCESS_ENDED, CONSENT_REVOKED, PATIENT_ERASED, INVALID_PAYLOAD, or a request error
   */
  check(request: unknown, type: string): GrantedRequest {
    const { signer, payload } = verifySignedRequest(request, type, this.deps.requestContext());
    const get = this.deps.getState;
    const refuse = (e: HealthLedgerError): never => {
      this.deps.log('records.release.refused', { requester: signer.id, code: e.code });
      throw e;
    };
    const accessTxId = payload['accessTxId'];
    if (typeof accessTxId !== 'string' || !/^[0-9a-f]{64}$/.test(accessTxId))
      refuse(new HealthLedgerError('INVALID_PAYLOAD', 'accessTxId'));
    const grant = readJson<AccessGrant>(get, HealthKeys.access(accessTxId as string));
    // No committed grant (a denial, or nothing at all): nothing is released.
    if (grant === undefined || grant.requester !== signer.id)
      return refuse(new HealthLedgerError('ACCESS_NOT_GRANTED'));
    // Any revocation already committed counts: the next block is after it.
    const why = grantInForce(get, grant, Number.MAX_SAFE_INTEGER, this.deps.clock.now());
    if (why !== null) refuse(notInForce(why));
    // A proxy grant: released only within its own scope (below) and while the appointment is in force.
    if (grant.kind === 'proxy' && !proxyGrantInForce(get, grant, this.deps.clock.now()))
      refuse(new HealthLedgerError('ACCESS_NOT_GRANTED', 'the proxy appointment is no longer in force'));
    // Break-glass covers the emergency summary only: pre-filter on the classifier's flag
    // (the ledger entry is still checked below for every candidate).
    const rows = this.deps.vault.latestRecords(grant.patient, grant.scope.emergencyOnly).filter((row) => {
      const entry = readJson<RecordEntry>(get, HealthKeys.record(row.id));
      return entry !== undefined && entry.version === row.version && inScope(grant, entry);
    });
    return { signer, grant, rows, payload };
  }

  /**
   * Commits the disclosure of `records` (ids and versions) under `grant` to `requester`, and
   * returns only once it is committed VALID; otherwise throws and nothing may be released.
   */
  private async disclose(
    grant: AccessGrant,
    requester: string,
    channel: DisclosurePayload['channel'],
    records: { id: string; version: number }[],
    blobId?: string,
  ): Promise<string[]> {
    const payloads: DisclosurePayload[] = [];
    for (let i = 0; i === 0 || i < records.length; i += MAX_DISCLOSED_RECORDS)
      payloads.push({
        patient: grant.patient,
        accessTxId: grant.txId,
        requester,
        channel,
        records: records.slice(i, i + MAX_DISCLOSED_RECORDS).map((r) => ({ id: r.id, version: r.version })),
        ...(blobId === undefined ? {} : { blobId }),
      });
    let results: { txId: string; code: string }[];
    try {
      results = await this.deps.disclose(payloads);
    } catch (e) {
      this.deps.log('records.release.refused', { requester, code: 'DISCLOSURE_NOT_COMMITTED' });
      throw new HealthLedgerError('DISCLOSURE_NOT_COMMITTED', (e as Error).message);
    }
    const failed = results.find((r) => r.code !== 'VALID');
    if (failed !== undefined || results.length !== payloads.length) {
      const err = notInForce(failed?.code ?? 'INTERNAL');
      this.deps.log('records.release.refused', { requester, code: err.code });
      throw err;
    }
    return results.map((r) => r.txId);
  }

  /**
   * A signed `record.release` request `{ accessTxId }` from the requester named in a committed
   * grant: the in-scope records re-wrapped to the requester's key — plaintext never leaves.
   */
  async release(request: unknown): Promise<{ grant: AccessGrant; release: ReleaseBundle }> {
    const { signer, grant, rows } = this.check(request, 'record.release');
    const vault = this.deps.vault;
    const requesterKey = publishedEncryptionKey(this.deps.getState, signer.id);
    if (requesterKey === undefined) {
      this.deps.log('records.release.refused', { requester: signer.id, code: 'ENCRYPTION_KEY_MISSING' });
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
      // The disclosure commits while the keys unwrap; nothing leaves before both are done.
      const [keys, disclosures] = await Promise.all([
        Promise.all(rows.map((row, i) => vault.dataKeyOf(row, sealed[i]!, grant.patient))),
        this.disclose(grant, signer.id, 'release', rows),
      ]);
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
      this.deps.log('records.release', {
        requester: signer.id,
        accessTxId: grant.txId,
        records: items.length,
        disclosures,
      });
      return { grant, release };
    } finally {
      for (const it of items) it.dataKey.fill(0);
    }
  }

  /**
   * The same check for FHIR clients, which expect resources: a signed `fhir.read` request
   * `{ accessTxId }` gets the in-scope resources decrypted by the custodian (over TLS in any real
   * deployment), each tagged with its record id and version.
   */
  async readPlain(request: unknown): Promise<{ grant: AccessGrant; resources: Resource[] }> {
    const { signer, grant, rows } = this.check(request, 'fhir.read');
    const open = async (): Promise<Resource[]> => {
      const out: Resource[] = [];
      for (const row of rows) {
        const r = JSON.parse(fromUtf8(await this.deps.vault.open(row, grant.patient))) as Resource;
        out.push({
          ...r,
          id: row.id,
          meta: { ...(r.meta ?? {}), versionId: String(row.version) },
        } as Resource);
      }
      return out;
    };
    // The disclosure commits while the records decrypt; nothing leaves before both are done.
    const [resources, disclosures] = await Promise.all([
      open(),
      this.disclose(grant, signer.id, 'fhir', rows),
    ]);
    this.deps.log('records.read', {
      requester: signer.id,
      accessTxId: grant.txId,
      records: resources.length,
      disclosures,
    });
    return { grant, resources };
  }

  /**
   * Streams a binary to a requester whose committed grant covers a record of the patient that
   * references it (signed `blob.get` request `{ accessTxId, blobId }`). Decrypted chunk by chunk,
   * each authenticated before release.
   */
  async blob(
    request: unknown,
  ): Promise<{ contentType: string; size: number; stream: AsyncIterable<Uint8Array> }> {
    const { grant, rows, signer, payload } = this.check(request, 'blob.get');
    const vault = this.deps.vault;
    const blobId = typeof payload['blobId'] === 'string' ? payload['blobId'] : '';
    const blob = vault.blob(blobId);
    if (blob === undefined || blob.patient !== grant.patient)
      throw new HealthLedgerError('NOT_FOUND', 'no such binary for this patient');
    // Released only if a record the grant covers points at it.
    const url = JSON.stringify(`urn:healthledger:blob:${blobId}`);
    let referencedBy: RecordRow | undefined;
    for (const row of rows) {
      if (!BLOB_HOLDERS.has(row.resource_type)) continue;
      if (fromUtf8(await vault.open(row, grant.patient)).includes(url)) {
        referencedBy = row;
        break;
      }
    }
    if (referencedBy === undefined)
      throw new HealthLedgerError('ACCESS_NOT_GRANTED', 'the grant covers no record referencing this binary');
    const disclosures = await this.disclose(grant, signer.id, 'blob', [referencedBy], blobId);
    const stream = vault.openBlob(blobId, blob);
    this.deps.log('records.blob.get', { requester: signer.id, blobId, disclosures });
    return { contentType: blob.content_type, size: blob.size, stream };
  }
}
