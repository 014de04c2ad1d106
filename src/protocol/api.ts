/**
 * The HTTP API, defined once: method, path and JSON Schemas (TypeBox) per route. The server
 * registers these definitions with Fastify (validation + OpenAPI); the SDK builds its requests
 * from the same objects, so the two cannot disagree on a path or a field.
 * @module
 */
import { Type as T, type Static, type TSchema } from '@sinclair/typebox';

const Hex32 = T.String({ pattern: '^[0-9a-f]{64}$', description: '32 bytes, lower-case hex' });
const B64u = (len?: number) =>
  T.String({
    pattern: len ? `^[A-Za-z0-9_-]{${len}}$` : '^[A-Za-z0-9_-]+$',
    description: 'base64url, unpadded',
  });

/** Wire schema of a signed transaction (the executor re-checks everything, strictly). */
export const SignedTxSchema = T.Object(
  {
    body: T.Object(
      {
        v: T.Literal(1),
        chainId: T.String({ minLength: 1, maxLength: 64 }),
        type: T.String({ minLength: 3, maxLength: 130, examples: ['anchor.put'] }),
        payload: T.Record(T.String(), T.Unknown()),
        signer: T.String({ minLength: 3, maxLength: 129, examples: ['st-mary/dr-alice'] }),
        nonce: T.String({ minLength: 22, maxLength: 64 }),
        timestampMs: T.Integer({ minimum: 0 }),
      },
      { additionalProperties: false },
    ),
    sig: B64u(86),
  },
  { additionalProperties: false, description: 'A signed transaction envelope: { body, sig }.' },
);

const MemberPart = T.String({ pattern: '^[a-z0-9][a-z0-9._-]{0,63}$' });
/** A patient by member id `<org>/<member>`, as two path segments. */
const PatientParams = T.Object({ org: MemberPart, member: MemberPart });
const EventsPageQuery = T.Object({
  after: T.Optional(T.Integer({ minimum: 0, default: 0, description: 'Return events with seq > after.' })),
  limit: T.Optional(T.Integer({ minimum: 1, maximum: 1000, default: 100 })),
});

/** A route definition. */
export interface RouteDef {
  method: 'GET' | 'POST';
  url: string;
  summary: string;
  tags: string[];
  params?: TSchema;
  querystring?: TSchema;
  body?: TSchema;
}

/** The largest batch `POST /v1/transactions/batch` accepts. */
export const MAX_BATCH = 5000;

export const Routes = {
  submitTx: {
    method: 'POST',
    url: '/v1/transactions',
    summary: 'Submit one signed transaction; with wait=true, answer once it is committed.',
    tags: ['transactions'],
    querystring: T.Object({
      wait: T.Optional(T.Boolean({ default: false })),
      timeoutMs: T.Optional(T.Integer({ minimum: 1, maximum: 120_000 })),
    }),
    body: SignedTxSchema,
  },
  submitBatch: {
    method: 'POST',
    url: '/v1/transactions/batch',
    summary: 'Submit up to 5000 signed transactions; each gets its own result.',
    tags: ['transactions'],
    querystring: T.Object({
      wait: T.Optional(T.Boolean({ default: false })),
      timeoutMs: T.Optional(T.Integer({ minimum: 1, maximum: 120_000 })),
    }),
    body: T.Object(
      { txs: T.Array(T.Unknown(), { minItems: 1, maxItems: MAX_BATCH }) },
      { additionalProperties: false },
    ),
  },
  getReceipt: {
    method: 'GET',
    url: '/v1/transactions/:txId',
    summary: 'Receipt: block, position, validation code, and an inclusion proof against a signed checkpoint.',
    tags: ['transactions', 'proofs'],
    params: T.Object({ txId: Hex32 }),
    querystring: T.Object({ treeSize: T.Optional(T.Integer({ minimum: 1 })) }),
  },
  listBlocks: {
    method: 'GET',
    url: '/v1/blocks',
    summary: 'Block headers from a height, oldest first.',
    tags: ['blocks'],
    querystring: T.Object({
      from: T.Optional(T.Integer({ minimum: 1, default: 1 })),
      limit: T.Optional(T.Integer({ minimum: 1, maximum: 500, default: 50 })),
    }),
  },
  getBlock: {
    method: 'GET',
    url: '/v1/blocks/:height',
    summary: 'A block with its transactions and validation codes.',
    tags: ['blocks'],
    params: T.Object({ height: T.Integer({ minimum: 1 }) }),
  },
  latestCheckpoint: {
    method: 'GET',
    url: '/v1/checkpoints/latest',
    summary: "The node's latest signed checkpoint (log size, root, time).",
    tags: ['proofs'],
  },
  checkpointAt: {
    method: 'GET',
    url: '/v1/checkpoints/:height',
    summary: 'The signed checkpoint issued after a block.',
    tags: ['proofs'],
    params: T.Object({ height: T.Integer({ minimum: 1 }) }),
  },
  consistency: {
    method: 'GET',
    url: '/v1/proofs/consistency',
    summary: 'RFC 9162 consistency proof between two checkpointed log sizes, with both checkpoints.',
    tags: ['proofs'],
    querystring: T.Object({ from: T.Integer({ minimum: 1 }), to: T.Integer({ minimum: 1 }) }),
  },
  getMember: {
    method: 'GET',
    url: '/v1/members/:org/:member',
    summary: "An enrolled member's record: role, attributes, certificate, revocation.",
    tags: ['membership'],
    params: T.Object({
      org: T.String({ pattern: '^[a-z0-9][a-z0-9._-]{0,63}$' }),
      member: T.String({ pattern: '^[a-z0-9][a-z0-9._-]{0,63}$' }),
    }),
  },
  genesis: {
    method: 'GET',
    url: '/v1/genesis',
    summary: 'The genesis document and its hash (pin the hash out of band).',
    tags: ['membership'],
  },
  writeRecord: {
    method: 'POST',
    url: '/v1/records',
    summary:
      'Store a FHIR R4 resource for a patient (signed record.write request from a practitioner of this custodian): validated, encrypted, registered on the ledger.',
    tags: ['records'],
    body: SignedTxSchema,
  },
  releaseRecords: {
    method: 'POST',
    url: '/v1/records/release',
    summary:
      "Release the records a committed access grant covers (signed record.release request from its requester), re-wrapped to the requester's key.",
    tags: ['records'],
    body: SignedTxSchema,
  },
  importBundle: {
    method: 'POST',
    url: '/v1/records/import',
    summary:
      'Import a FHIR transaction/batch/collection Bundle for one patient (signed record.import request from a practitioner of this custodian).',
    tags: ['records'],
    body: SignedTxSchema,
  },
  putBlob: {
    method: 'POST',
    url: '/v1/blobs',
    summary:
      'Stream a large binary (application/octet-stream body) for a patient, encrypted at rest; Authorization: HealthLedger <signed blob.put request>.',
    tags: ['records'],
  },
  getBlob: {
    method: 'GET',
    url: '/v1/blobs/:id',
    summary:
      'Stream a binary referenced by a record the caller’s committed grant covers; Authorization: HealthLedger <signed blob.get request>.',
    tags: ['records'],
    params: T.Object({ id: T.String({ pattern: '^[0-9a-f]{64}$' }) }),
  },
  eventsToken: {
    method: 'POST',
    url: '/v1/events/token',
    summary:
      "A bearer token (15 min) for a patient's event trail: signed events.token request { patient } from the patient, a proxy, or an auditor of the patient's organization.",
    tags: ['events'],
    body: SignedTxSchema,
  },
  patientEvents: {
    method: 'GET',
    url: '/v1/patients/:org/:member/events',
    summary:
      "The patient's events (every access, denial, consent grant and revocation, break-glass, registration, erasure), oldest first after a cursor. Authorization: Bearer <events token>.",
    tags: ['events'],
    params: PatientParams,
    querystring: EventsPageQuery,
  },
  auditEvents: {
    method: 'GET',
    url: '/v1/patients/:org/:member/audit-events',
    summary:
      "The patient's trail as a FHIR R4 searchset Bundle of AuditEvents (IHE BALP shape); each entry's id is the ledger txId, provable with GET /v1/transactions/:txId. Authorization: Bearer <events token>.",
    tags: ['events', 'fhir'],
    params: PatientParams,
    querystring: EventsPageQuery,
  },
  eventStream: {
    method: 'GET',
    url: '/v1/patients/:org/:member/stream',
    summary:
      "Server-Sent Events: the patient's events after Last-Event-ID (header) or ?after=, then live within a second of commit (id: seq, event: kind, data: JSON). Token in ?token= (EventSource cannot send headers) or Authorization: Bearer.",
    tags: ['events'],
    params: PatientParams,
    querystring: T.Object({
      token: T.Optional(T.String({ minLength: 1, maxLength: 1024, pattern: '^[A-Za-z0-9._-]+$' })),
      after: T.Optional(T.Integer({ minimum: 0 })),
    }),
  },
  createSubscription: {
    method: 'POST',
    url: '/v1/subscriptions',
    summary:
      'Subscribe a webhook to a patient\'s events: signed subscription.create request { patient, url } (same signers as events.token). Answers { id, secret } once; deliveries are signed with X-HealthLedger-Signature: t=<ms>,v1=<hex HMAC-SHA256(secret, t + "." + body)>.',
    tags: ['events'],
    body: SignedTxSchema,
  },
  supplyVerify: {
    method: 'GET',
    url: '/v1/supply/verify/01/:gtin/10/:lot/21/:serial',
    summary:
      'Verify a product identifier (DSCSA Verification Router Service shape; GS1 Digital Link path): { data: { verified, additionalInfo } } with the reason — UNKNOWN_SERIAL, LOT_MISMATCH, EXPIRY_MISMATCH, RECALLED, SUSPECT, ALREADY_DISPENSED, DECOMMISSIONED, EXPIRED. Expiry as ?exp=YYMMDD (GS1 AI 17) or ?expiry=YYYY-MM-DD.',
    tags: ['supply'],
    params: T.Object({
      gtin: T.String({ pattern: '^[0-9]{8,14}$' }),
      lot: T.String({ minLength: 1, maxLength: 60 }),
      serial: T.String({ minLength: 1, maxLength: 60 }),
    }),
    querystring: T.Object({
      exp: T.Optional(T.String({ pattern: '^[0-9]{6}$' })),
      expiry: T.Optional(T.String({ pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}$' })),
      corrUUID: T.Optional(T.String({ maxLength: 64, pattern: '^[A-Za-z0-9-]+$' })),
      reqGLN: T.Optional(T.String({ pattern: '^[0-9]{13}$' })),
      linkType: T.Optional(T.String({ maxLength: 64 })),
      context: T.Optional(T.String({ maxLength: 64 })),
    }),
  },
  supplyHistory: {
    method: 'GET',
    url: '/v1/supply/history',
    summary:
      "A package's or container's history as a timeline (directly and through the containers it was in), with its current custody, lot and open alert. Each entry names its transaction: prove it with GET /v1/transactions/:txId. ?id= an EPC URI, a GS1 Digital Link, or sgtin:/sscc: canonical key.",
    tags: ['supply'],
    querystring: T.Object({ id: T.String({ minLength: 1, maxLength: 512 }) }),
  },
  supplyEvent: {
    method: 'GET',
    url: '/v1/supply/events/:txId',
    summary:
      'What a committed supply transaction recorded: event hash, step, organization, identifiers, and the alerts it raised (404 if it was refused or is not a supply event).',
    tags: ['supply'],
    params: T.Object({ txId: T.String({ pattern: '^[0-9a-f]{64}$' }) }),
  },
  supplyAlert: {
    method: 'GET',
    url: '/v1/supply/alerts/:id',
    summary: 'One supply alert: package, reasons, every report, owner, status and resolution.',
    tags: ['supply'],
    params: T.Object({ id: T.String({ pattern: '^[0-9a-f]{32}\\.[0-9]{1,4}$' }) }),
  },
  supplyAlerts: {
    method: 'GET',
    url: '/v1/supply/alerts',
    summary:
      'The supply alert feed (suspect packages, clearances, recalls), oldest first after a cursor. Authorization: Bearer <events token for { feed: "supply" }> (manufacturers, distributors, dispensers, regulators).',
    tags: ['supply', 'events'],
    querystring: EventsPageQuery,
  },
  supplyAlertStream: {
    method: 'GET',
    url: '/v1/supply/alerts/stream',
    summary:
      'Server-Sent Events: the supply alert feed after Last-Event-ID or ?after=, then live. Token in ?token= or Authorization: Bearer.',
    tags: ['supply', 'events'],
    querystring: T.Object({
      token: T.Optional(T.String({ minLength: 1, maxLength: 1024, pattern: '^[A-Za-z0-9._-]+$' })),
      after: T.Optional(T.Integer({ minimum: 0 })),
    }),
  },
  supplyFacts: {
    method: 'POST',
    url: '/v1/supply/epcis/facts',
    summary:
      'Validate an EPCIS 2.0 document or event against the EPCIS JSON Schema and return, per event, its CBV event hash and the supply.event payload to sign (detailed event data is not stored).',
    tags: ['supply'],
    body: T.Object({}, { additionalProperties: true }),
  },
  attestations: {
    method: 'GET',
    url: '/v1/attestations',
    summary:
      "The nodes' signed attestations (height, block hash, log root, state root) for a height, and this node's check: the height a quorum of organizations confirmed, and the first divergent block if any.",
    tags: ['operations'],
    querystring: T.Object({ height: T.Integer({ minimum: 1 }) }),
  },
  health: {
    method: 'GET',
    url: '/health',
    summary: 'Liveness and chain head.',
    tags: ['operations'],
  },
  metrics: {
    method: 'GET',
    url: '/metrics',
    summary: 'Prometheus metrics.',
    tags: ['operations'],
  },
} as const satisfies Record<string, RouteDef>;

export type RouteName = keyof typeof Routes;
export type SubmitQuery = Static<(typeof Routes)['submitTx']['querystring']>;

/** Fills `:param` placeholders of a route URL (values are URI-encoded). */
export function routePath(url: string, params: Record<string, string | number> = {}): string {
  return url.replace(/:([A-Za-z]+)/g, (_, name: string) => {
    const v = params[name];
    if (v === undefined) throw new TypeError(`missing path parameter ${name}`);
    return encodeURIComponent(String(v));
  });
}

/** Wire shape of one submission result. */
export type SubmitResultWire =
  | { txId: string; status: 'committed'; height: number; index: number; seq: number; code: string }
  | { txId: string; status: 'accepted' }
  | { txId: string | null; status: 'rejected'; error: { code: string; message: string } };

/** One event of a patient's trail (no health data: ids, type, validation code, purpose, block time). */
export interface PatientEventWire {
  /** Ledger log position + 1: the cursor for `after`, `Last-Event-ID` and webhook event ids. */
  seq: number;
  /** e.g. access.granted, access.denied, consent.granted, consent.revoked, break-glass, record.registered, erasure.requested, erasure.completed. */
  kind: string;
  patient: string;
  txId: string;
  type: string;
  code: string;
  actor: string;
  height: number;
  atMs: number;
  detail: Record<string, string | number | boolean | string[]>;
}

/** A page of events; pass `next` as `after` to continue (a short page means caught up). */
export interface EventsPageWire {
  events: PatientEventWire[];
  next: number;
}
