/**
 * The health domain's HTTP routes, defined once (method, path, request and response schemas, auth):
 * records, blobs, the FHIR R4 edge and the node-to-node data plane. The server registers them
 * (`domains/health/api/plugin.ts`); the SDK builds its requests from them.
 * @module
 */
import { Type as T } from '@sinclair/typebox';
import {
  DOCUMENT_BODY_LIMIT,
  ErrorResponses,
  Open,
  SignedTxSchema,
  type RouteDef,
} from '../../../protocol/api.js';

/** FHIR errors are OperationOutcomes carrying the HealthLedger code (`details.coding`). */
const OperationOutcome = Open('A FHIR OperationOutcome; the HealthLedger code in issue[0].details.coding.');
const FhirErrors = { '4xx': OperationOutcome, '5xx': OperationOutcome } as const;
const Bundle = Open('A FHIR R4 searchset Bundle (application/fhir+json).');
const FhirType = T.Object({ type: T.String({ description: 'A supported FHIR resource type.' }) });

/** The health domain's routes (the same key names the SDK has always used). */
export const HealthRoutes = {
  writeRecord: {
    method: 'POST',
    bodyLimit: DOCUMENT_BODY_LIMIT,
    url: '/v1/records',
    summary:
      'Store a FHIR R4 resource for a patient (signed record.write request from a practitioner of this custodian): validated, encrypted, registered on the ledger.',
    tags: ['records'],
    auth: 'signedTx',
    response: {
      201: T.Object({ recordId: T.String(), version: T.Integer(), txId: T.String() }),
      ...ErrorResponses,
    },
    body: SignedTxSchema,
  },
  releaseRecords: {
    method: 'POST',
    url: '/v1/records/release',
    summary:
      "Release the records a committed access grant covers (signed record.release request from its requester), re-wrapped to the requester's key.",
    tags: ['records'],
    auth: 'signedTx',
    response: {
      200: Open('The release bundle (with others/unavailable when peers hold records).'),
      ...ErrorResponses,
    },
    body: SignedTxSchema,
  },
  importBundle: {
    method: 'POST',
    bodyLimit: DOCUMENT_BODY_LIMIT,
    url: '/v1/records/import',
    summary:
      'Import a FHIR transaction/batch/collection Bundle for one patient (signed record.import request from a practitioner of this custodian).',
    tags: ['records'],
    auth: 'signedTx',
    response: { 201: Open('{ records: [{ id, resourceType, txId }] }'), ...ErrorResponses },
    body: SignedTxSchema,
  },
  putBlob: {
    method: 'POST',
    url: '/v1/blobs',
    summary:
      'Stream a large binary (application/octet-stream body) for a patient, encrypted at rest; Authorization: HealthLedger <signed blob.put request>.',
    tags: ['records'],
    auth: 'signedRequest',
    response: { 201: Open('The stored binary: id, size, content type.'), ...ErrorResponses },
  },
  getBlob: {
    method: 'GET',
    url: '/v1/blobs/:id',
    summary:
      'Stream a binary referenced by a record the caller’s committed grant covers; Authorization: HealthLedger <signed blob.get request>.',
    tags: ['records'],
    auth: 'signedRequest',
    response: {
      200: T.String({ format: 'binary', description: 'The binary, in its content type.' }),
      ...ErrorResponses,
    },
    params: T.Object({ id: T.String({ pattern: '^[0-9a-f]{64}$' }) }),
  },
  fhirMetadata: {
    method: 'GET',
    url: '/fhir/metadata',
    summary: 'FHIR CapabilityStatement: the resource types, interactions and security of this endpoint.',
    tags: ['fhir'],
    auth: 'public',
    response: { 200: Open('A FHIR CapabilityStatement.'), ...FhirErrors },
  },
  fhirEverything: {
    method: 'GET',
    url: '/fhir/Patient/$everything',
    summary:
      'Everything a committed grant covers, as a searchset Bundle; Authorization: HealthLedger <signed fhir.read request>.',
    tags: ['fhir'],
    auth: 'signedRequest',
    response: { 200: Bundle, ...FhirErrors },
  },
  fhirConsent: {
    method: 'GET',
    url: '/fhir/Consent',
    summary:
      "The patient's ledger consents as FHIR Consent resources; Authorization: HealthLedger <signed fhir.consents request> by the patient, a proxy or an auditor of the patient's organization.",
    tags: ['fhir'],
    auth: 'signedRequest',
    querystring: T.Object({
      patient: T.Optional(T.String({ description: 'org/member; must match the signed request.' })),
    }),
    response: { 200: Bundle, ...FhirErrors },
  },
  fhirAuditEvent: {
    method: 'GET',
    url: '/fhir/AuditEvent',
    summary:
      "The patient's trail as FHIR AuditEvents (the bundle of /v1/patients/:org/:member/audit-events). Authorization: Bearer <events token>.",
    tags: ['fhir', 'events'],
    auth: 'bearer',
    // Strings, checked by the handler: the FHIR edge answers a bad value with an OperationOutcome.
    querystring: T.Object({
      patient: T.Optional(T.String({ description: 'org/member (required).' })),
      after: T.Optional(T.String()),
      _count: T.Optional(T.String()),
    }),
    response: { 200: Bundle, ...FhirErrors },
  },
  fhirCreate: {
    method: 'POST',
    bodyLimit: DOCUMENT_BODY_LIMIT,
    url: '/fhir/:type',
    summary:
      'FHIR create: the body is a signed record.write request whose resource is of this type; 201 with Location and the stored resource.',
    tags: ['fhir'],
    auth: 'signedTx',
    params: FhirType,
    // The custodian checks the signed request itself (as POST /v1/records does): no schema narrows it here.
    body: T.Unknown({ description: 'A signed record.write request.' }),
    response: { 201: Open('The stored FHIR resource with id and meta.versionId.'), ...FhirErrors },
  },
  fhirSearch: {
    method: 'GET',
    url: '/fhir/:type',
    summary:
      'FHIR search within a committed grant (optionally ?_id=); Authorization: HealthLedger <signed fhir.read request>.',
    tags: ['fhir'],
    auth: 'signedRequest',
    params: FhirType,
    querystring: T.Object({ _id: T.Optional(T.String()) }),
    response: { 200: Bundle, ...FhirErrors },
  },
  fhirRead: {
    method: 'GET',
    url: '/fhir/:type/:id',
    summary: 'FHIR read within a committed grant; Authorization: HealthLedger <signed fhir.read request>.',
    tags: ['fhir'],
    auth: 'signedRequest',
    params: T.Object({ type: T.String(), id: T.String() }),
    response: { 200: Open('A FHIR resource.'), ...FhirErrors },
  },
  peerRelease: {
    method: 'POST',
    url: '/v1/peer/records/release',
    summary:
      "Node to node: release the records this custodian holds for a practitioner's signed record.release request (carried, never created, by the calling node); the answer is signed.",
    tags: ['peer'],
    auth: 'nodePeer',
    // The practitioner's request is checked by the custodian, and every answer (errors too) is signed.
    body: T.Unknown({ description: 'The practitioner’s signed record.release request.' }),
    response: { 200: Open('The release bundle.'), ...ErrorResponses },
    hide: true,
  },
} as const satisfies Record<string, RouteDef>;
