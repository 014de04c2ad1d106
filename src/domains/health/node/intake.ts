/**
 * Intake: how health data enters a custodian. A signed request from a practitioner (or the
 * custodian) of this organization is checked, the FHIR R4 content validated (OperationOutcome
 * on failure) and classified (categories, sensitive labels, emergency summary), sealed into the
 * vault, and registered on the ledger: metadata plus an HMAC-SHA-256 commitment under the
 * patient's secret — never a plain hash of the data. Amendments append a version. New input
 * formats (HL7 v2, C-CDA) become FHIR resources here and then take the same path.
 * @module
 */
import { createHmac, randomUUID } from 'node:crypto';
import type { Resource } from '@medplum/fhirtypes';
import { HealthLedgerError } from '../../../protocol/errors.js';
import { canonicalize } from '../../../protocol/jcs.js';
import { createTxBody, signTx, type SignedTx } from '../../../protocol/tx.js';
import type { MemberRecord } from '../../../contracts/contract.js';
import type { LedgerNode } from '../../../node/ledger-node.js';
import type { Clock } from '../../../node/ordering/orderer.js';
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
  type RecordEntry,
} from '../contracts/model.js';
import { verifySignedRequest, type SignedRequestContext } from '../../../node/auth/signed-request.js';
import { publishedEncryptionKey, type CustodianIdentity, type NewRecord, type RecordVault } from './vault.js';

/** What intake needs: the vault to store into, the node to register on, the custodian to sign as. */
export interface IntakeDeps {
  vault: RecordVault;
  node: LedgerNode;
  custodian: CustodianIdentity;
  clock: Clock;
  /** The context signed requests are verified in (fresh per request: it carries the time). */
  requestContext: () => SignedRequestContext;
  log: (event: string, fields: Record<string, unknown>) => void;
}

/** Signs `payload` as the custodian and waits for its commit; returns its id and validation code. */
export async function submitAsCustodian(
  deps: Pick<IntakeDeps, 'node' | 'custodian' | 'clock'>,
  type: string,
  payload: Record<string, unknown>,
): Promise<{ txId: string; code: string }> {
  const tx: SignedTx = signTx(
    createTxBody({
      chainId: deps.node.chainId,
      type,
      payload: payload as never,
      signer: deps.custodian.memberId,
      nowMs: deps.clock.now(),
    }),
    deps.custodian.signingKey,
  );
  const [r] = await deps.node.submit([tx], { wait: true, timeoutMs: 30_000 });
  if (r?.status === 'committed') return { txId: r.txId, code: r.commitment.code };
  if (r?.status === 'rejected') throw r.error;
  throw new HealthLedgerError('INTERNAL', 'custodian transaction not committed');
}

/** Writes records, imports bundles and stores binaries for this custodian's organization. */
export class RecordIntake {
  constructor(private readonly deps: IntakeDeps) {}

  /** The organization this custodian serves. */
  get org(): string {
    return this.deps.custodian.memberId.split('/')[0]!;
  }

  private getState = (k: string): string | undefined => this.deps.node.getState(k);

  /** Only practitioners (or the custodian) of this organization bring data in. */
  private mayWrite(signer: MemberRecord): boolean {
    return signer.org === this.org && (signer.role === 'practitioner' || signer.role === 'custodian');
  }

  /**
   * A signed `record.write` request: `{ patient, resource, recordId? }` from a practitioner of
   * this organization. Creates the record (or its next version when `recordId` names one).
   */
  async write(request: unknown): Promise<{ recordId: string; version: number; txId: string }> {
    const { vault, node, log } = this.deps;
    const { decoded, signer, payload } = verifySignedRequest(
      request,
      'record.write',
      this.deps.requestContext(),
    );
    const fail = (e: HealthLedgerError): never => {
      log('records.write.refused', { requester: signer.id, code: e.code });
      throw e;
    };
    if (!this.mayWrite(signer))
      fail(new HealthLedgerError('UNAUTHORIZED_ROLE', `only practitioners of ${this.org} write its records`));
    const patient = payload['patient'];
    if (typeof patient !== 'string' || readPatient(this.getState, patient) === undefined)
      fail(new HealthLedgerError('UNKNOWN_PATIENT'));
    const p = patient as string;
    if (node.getState(HealthKeys.erasure(p)) !== undefined) fail(new HealthLedgerError('PATIENT_ERASED'));
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
      const existing = readJson<RecordEntry>(this.getState, HealthKeys.record(recordId as string));
      if (existing === undefined || existing.custodian !== this.org || existing.patient !== p)
        fail(new HealthLedgerError('NOT_FOUND', 'no such record here'));
      version = existing!.version + 1;
    } else recordId = randomUUID();
    const patientKey = publishedEncryptionKey(this.getState, p);
    if (patientKey === undefined)
      fail(
        new HealthLedgerError('ENCRYPTION_KEY_MISSING', 'the patient has not published an encryption key'),
      );
    const c = classify(resource);
    const id = recordId as string;
    const text = canonicalize(resource);
    const { sealed, custodianKey } = await vault.seal(text, id, version, p, patientKey!);
    const commitment = createHmac('sha256', vault.secretFor(p)).update(text).digest('hex');
    vault.insert([
      {
        id,
        version,
        patient: p,
        resourceType: resource.resourceType,
        sealed,
        custodianKey,
        author: signer.id,
        requestId: decoded.txId,
        emergency: c.emergency,
      },
    ]);
    const r = await submitAsCustodian(this.deps, 'record.register', {
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
      vault.deleteVersion(id, version);
      fail(
        new HealthLedgerError('INVALID_PAYLOAD', `the ledger refused the registration: ${r.code}`, {
          code: r.code,
        }),
      );
    }
    log('records.write', { author: signer.id, recordId: id, version, txId: r.txId });
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
    const { vault, node, custodian, clock } = this.deps;
    const { decoded, signer, payload } = verifySignedRequest(
      request,
      'record.import',
      this.deps.requestContext(),
    );
    if (!this.mayWrite(signer))
      throw new HealthLedgerError(
        'UNAUTHORIZED_ROLE',
        `only practitioners of ${this.org} import its records`,
      );
    const patient = payload['patient'];
    if (typeof patient !== 'string' || readPatient(this.getState, patient) === undefined)
      throw new HealthLedgerError('UNKNOWN_PATIENT');
    if (node.getState(HealthKeys.erasure(patient)) !== undefined)
      throw new HealthLedgerError('PATIENT_ERASED');
    const patientKey = publishedEncryptionKey(this.getState, patient);
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
    const secret = vault.secretFor(patient);
    const txs: SignedTx[] = [];
    const rows: NewRecord[] = [];
    for (const [i, resource] of resources.entries()) {
      const v = validateFhir(resource);
      if (!v.ok)
        throw new HealthLedgerError('INVALID_FHIR', `entry ${i} is not valid FHIR R4`, {
          outcome: v.outcome,
        });
      const id = resource.id!;
      const text = canonicalize(v.resource);
      const c = classify(v.resource);
      const { sealed, custodianKey } = await vault.seal(text, id, 1, patient, patientKey);
      rows.push({
        id,
        version: 1,
        patient,
        resourceType: v.resource.resourceType,
        sealed,
        custodianKey,
        author: signer.id,
        requestId: decoded.txId,
        emergency: c.emergency,
      });
      txs.push(
        signTx(
          createTxBody({
            chainId: node.chainId,
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
            signer: custodian.memberId,
            nowMs: clock.now(),
          }),
          custodian.signingKey,
        ),
      );
      onProgress?.(i + 1, resources.length);
    }
    vault.insert(rows);
    const results = await node.submit(txs, { wait: true, timeoutMs: 60_000 });
    const out: { id: string; resourceType: string; txId: string }[] = [];
    for (const [i, r] of results.entries()) {
      if (r.status !== 'committed' || r.commitment.code !== 'VALID') {
        vault.deleteByRequest(decoded.txId);
        throw new HealthLedgerError('INVALID_PAYLOAD', `registration of entry ${i} failed`, {
          code:
            r.status === 'committed' ? r.commitment.code : r.status === 'rejected' ? r.error.code : r.status,
        });
      }
      out.push({ id: rows[i]!.id, resourceType: rows[i]!.resourceType, txId: r.txId });
    }
    this.deps.log('records.import', { author: signer.id, records: out.length });
    return { records: out };
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
    const { signer, payload } = verifySignedRequest(request, 'blob.put', this.deps.requestContext());
    if (!this.mayWrite(signer))
      throw new HealthLedgerError(
        'UNAUTHORIZED_ROLE',
        `only practitioners of ${this.org} store its binaries`,
      );
    const patient = payload['patient'];
    const contentType = payload['contentType'];
    if (typeof patient !== 'string' || readPatient(this.getState, patient) === undefined)
      throw new HealthLedgerError('UNKNOWN_PATIENT');
    if (typeof contentType !== 'string' || !/^[a-z]+\/[A-Za-z0-9.+-]{1,100}$/.test(contentType))
      throw new HealthLedgerError('INVALID_PAYLOAD', 'contentType');
    if (this.deps.node.getState(HealthKeys.erasure(patient)) !== undefined)
      throw new HealthLedgerError('PATIENT_ERASED');
    const put = await this.deps.vault.putBlob(body, patient, contentType, signer.id);
    this.deps.log('records.blob.put', { author: signer.id, blobId: put.id, size: put.plaintextSize });
    return { blobId: put.id, size: put.plaintextSize, url: `urn:healthledger:blob:${put.id}` };
  }
}
