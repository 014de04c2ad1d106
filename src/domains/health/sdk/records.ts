/**
 * Health record actions: write, import, release (and local decryption of a release), blobs, and
 * FHIR consents. Plain functions of a {@link LedgerCore}; the client binds them as `client.health`.
 * Health data never goes on the ledger: these requests are signed but not ordered.
 * @module
 */
import type { Bundle, Consent } from '@medplum/fhirtypes';
import { fromUtf8 } from '../../../protocol/bytes.js';
import { openRelease, type ReleaseBundle } from '../../../protocol/envelope.js';
import type { Receipt } from '../../../protocol/receipt.js';
import type { Identity, LedgerCore } from '../../../sdk/core.js';
import { parseResponse } from '../../../sdk/transport.js';
import { consentFromFhir } from '../core/fhir/consent.js';
import { FhirConsentsRoute, HealthRoutes } from './routes.js';

/**
 * What a node releases under a committed grant: its own custodian's records, and — on a network of
 * several organizations — what the other organizations' custodians released for the same request.
 */
export interface ReleaseResponseWire {
  grant: Record<string, unknown>;
  release: ReleaseBundle;
  others?: { org: string; release: ReleaseBundle }[];
  /** Organizations whose nodes did not answer (with the reason). */
  unavailable?: { org: string; reason: string }[];
}

/**
 * Decrypts a release locally with the requester's X25519 private key (which never leaves the
 * caller): one HPKE unwrap for the release, then each record. Resources come back in order.
 */
export async function openReleased(
  release: ReleaseBundle,
  memberId: string,
  encryptionPrivateKey: Uint8Array,
): Promise<Record<string, unknown>[]> {
  const opened = await openRelease(release, memberId, encryptionPrivateKey);
  return opened.map((r) => JSON.parse(fromUtf8(r.plaintext)) as Record<string, unknown>);
}

/**
 * Stores a FHIR resource for a patient at this node's custodian (the signer must be one of its
 * practitioners). The request is signed but never ordered: health data stays off the ledger.
 */
export function writeRecord(
  core: LedgerCore,
  identity: Identity,
  patient: string,
  resource: Record<string, unknown>,
  recordId?: string,
): Promise<{ recordId: string; version: number; txId: string }> {
  const req = core.sign(identity, 'record.write', { patient, resource, ...(recordId ? { recordId } : {}) });
  return core.call(HealthRoutes.writeRecord, { body: req });
}

/** Imports a FHIR Bundle for a patient at this node's custodian (signed `record.import`). */
export function importBundle(
  core: LedgerCore,
  identity: Identity,
  patient: string,
  bundle: Record<string, unknown>,
): Promise<{ records: { id: string; resourceType: string; txId: string }[] }> {
  const req = core.sign(identity, 'record.import', { patient, bundle });
  return core.call(HealthRoutes.importBundle, { body: req });
}

/** Asks the custodian to release what committed grant `accessTxId` covers, re-wrapped to the signer. */
export function releaseRecords(
  core: LedgerCore,
  identity: Identity,
  accessTxId: string,
): Promise<ReleaseResponseWire> {
  const req = core.sign(identity, 'record.release', { accessTxId });
  return core.call(HealthRoutes.releaseRecords, { body: req });
}

/** Streams a binary for a patient to the custodian; reference the returned `url` from a DocumentReference. */
export function putBlob(
  core: LedgerCore,
  identity: Identity,
  patient: string,
  contentType: string,
  body: Uint8Array | ReadableStream<Uint8Array>,
): Promise<{ blobId: string; size: number; url: string }> {
  return core.call(
    HealthRoutes.putBlob,
    {},
    {
      headers: {
        'content-type': 'application/octet-stream',
        authorization: core.authorization(identity, 'blob.put', { patient, contentType }),
      },
      // A Uint8Array is a valid body; the DOM typings only admit ones backed by an ArrayBuffer.
      body: body as BodyInit,
      // A stream body needs half-duplex (fetch's RequestInit types do not know the field yet).
      ...(body instanceof Uint8Array ? {} : ({ duplex: 'half' } as RequestInit)),
    },
  );
}

/** Streams a binary released under committed grant `accessTxId` (decrypted by the custodian). */
export async function getBlob(
  core: LedgerCore,
  identity: Identity,
  accessTxId: string,
  blobId: string,
): Promise<Response> {
  const res = await core.send(
    HealthRoutes.getBlob,
    { params: { id: blobId } },
    { headers: { authorization: core.authorization(identity, 'blob.get', { accessTxId, blobId }) } },
  );
  if (!res.ok) await parseResponse(res);
  return res;
}

/**
 * Imports a FHIR `Consent` (the profile `GET /fhir/Consent` exports) as a ledger grant signed by
 * `identity` (the patient or their proxy). Throws ConsentMappingError if it cannot be represented.
 */
export function grantFromFhirConsent(
  core: LedgerCore,
  identity: Identity,
  consent: Consent,
): Promise<Receipt> {
  return core.sendAndVerify(identity, 'consent.grant', consentFromFhir(consent));
}

/**
 * The patient's consents as FHIR R4 `Consent` resources (active, expired and revoked), for the
 * patient, a proxy, or an auditor of the patient's organization. The request is signed, never ordered.
 */
export function consents(core: LedgerCore, identity: Identity, patient: string): Promise<Bundle<Consent>> {
  return core.call(
    FhirConsentsRoute,
    { query: { patient } },
    { headers: { authorization: core.authorization(identity, 'fhir.consents', { patient }) } },
  );
}
