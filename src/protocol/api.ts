/**
 * The HTTP API, defined once: method, path, request and response JSON Schemas (TypeBox) and the
 * kind of authentication per route. The server registers these definitions with Fastify
 * (validation, auth, OpenAPI); the SDK builds its requests from the same objects, so the two cannot
 * disagree on a path or a field. Shared routes live here; each domain's routes live in
 * `domains/<domain>/core/routes.ts` (`HealthRoutes`, `SupplyRoutes`), built with the same parts.
 * @module
 */
import { Type as T, type Static, type TSchema } from '@sinclair/typebox';

export const Hex32 = T.String({ pattern: '^[0-9a-f]{64}$', description: '32 bytes, lower-case hex' });
export const B64u = (len?: number) =>
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

export const MemberPart = T.String({ pattern: '^[a-z0-9][a-z0-9._-]{0,63}$' });
/** A patient by member id `<org>/<member>`, as two path segments. */
export const PatientParams = T.Object({ org: MemberPart, member: MemberPart });
export const EventsPageQuery = T.Object({
  after: T.Optional(T.Integer({ minimum: 0, default: 0, description: 'Return events with seq > after.' })),
  limit: T.Optional(T.Integer({ minimum: 1, maximum: 1000, default: 100 })),
});

/**
 * How a route authenticates its caller (the server's one auth hook acts on it):
 * - `public`: nobody in particular (reads of public ledger data, health, metrics);
 * - `signedTx`: the body is a signed transaction or request, checked by the node itself;
 * - `signedRequest`: `Authorization: HealthLedger <base64url(JSON signed request)>` (off-ledger reads, blobs);
 * - `bearer`: `Authorization: Bearer <events token>` (or `?token=` where the query schema declares it);
 * - `nodePeer`: node to node, `X-HealthLedger-Node` signed with a genesis node key; the answer is signed too.
 */
export type AuthKind = 'public' | 'signedTx' | 'signedRequest' | 'bearer' | 'nodePeer';
/** Every auth kind (for checks and docs). */
export const AUTH_KINDS: readonly AuthKind[] = ['public', 'signedTx', 'signedRequest', 'bearer', 'nodePeer'];

/** The wire body of every API error: a code from docs/errors.md. */
export const ErrorBodySchema = T.Object(
  {
    error: T.Object({
      code: T.String({ description: 'A code from docs/errors.md.' }),
      message: T.String(),
      details: T.Optional(T.Record(T.String(), T.Unknown())),
    }),
  },
  { description: 'An API error.' },
);
/** The error answers every JSON route may give. */
export const ErrorResponses = { '4xx': ErrorBodySchema, '5xx': ErrorBodySchema } as const;
/** A JSON object whose fields are not all pinned here (it is documented, never stripped). */
export const Open = (description: string) => T.Object({}, { additionalProperties: true, description });

/** A route definition. */
export interface RouteDef {
  method: 'GET' | 'POST';
  url: string;
  summary: string;
  tags: readonly string[];
  /** Who may call it, and how the server checks (see {@link AuthKind}). */
  auth: AuthKind;
  params?: TSchema;
  querystring?: TSchema;
  body?: TSchema;
  /** Answers by status (`200`, `201`, `4xx`, ...): every route declares its success and error bodies. */
  response: Readonly<Record<string, TSchema>>;
  /** Left out of the OpenAPI document (node-to-node and static routes). */
  hide?: boolean;
  /**
   * Largest request body (bytes), refused from `Content-Length` before any of it is read
   * (413 PAYLOAD_TOO_LARGE); without it, the server's default (1 MiB).
   */
  bodyLimit?: number;
}

const SubmitResult = T.Object(
  {
    txId: T.Union([T.String(), T.Null()]),
    status: T.Union([T.Literal('committed'), T.Literal('accepted'), T.Literal('rejected')]),
  },
  { additionalProperties: true, description: 'committed: height, index, seq, code; rejected: error.' },
);
/** A page of events (`EventsPageWire`). */
export const EventsPageSchema = T.Object({
  events: T.Array(Open('An event (PatientEventWire).')),
  next: T.Integer(),
});
const EventsPage = EventsPageSchema;
const Health = T.Object(
  { status: T.String() },
  { additionalProperties: true, description: 'ok or halted, with the chain head.' },
);

/** The largest batch `POST /v1/transactions/batch` accepts. */
export const MAX_BATCH = 5000;
/** Largest body of one transaction on the wire (the genesis default `maxTxBytes`). */
export const TX_BODY_LIMIT = 64 * 1024;
/**
 * Largest body of a batch: MAX_BATCH transactions of 4 KiB on average (20,000 KiB). A typical
 * signed transaction is 0.4–1 KiB (the benchmarks' 1,000-transaction batches are well under 1 MiB);
 * batches of large transactions are sent in fewer per request.
 */
export const BATCH_BODY_LIMIT = MAX_BATCH * 4 * 1024;
/** Largest body of a route that carries FHIR resources or bundles (records, imports, EPCIS documents). */
export const DOCUMENT_BODY_LIMIT = 32 * 1024 * 1024;

export const Routes = {
  submitTx: {
    method: 'POST',
    url: '/v1/transactions',
    summary: 'Submit one signed transaction; with wait=true, answer once it is committed.',
    tags: ['transactions'],
    auth: 'signedTx',
    response: { 200: SubmitResult, 202: SubmitResult, ...ErrorResponses },
    bodyLimit: TX_BODY_LIMIT,
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
    auth: 'signedTx',
    response: { 200: T.Object({ results: T.Array(SubmitResult) }), ...ErrorResponses },
    bodyLimit: BATCH_BODY_LIMIT,
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
    auth: 'public',
    response: {
      200: Open('A receipt: block, position, validation code, inclusion proof, signed checkpoint.'),
      ...ErrorResponses,
    },
    params: T.Object({ txId: Hex32 }),
    querystring: T.Object({ treeSize: T.Optional(T.Integer({ minimum: 1 })) }),
  },
  listBlocks: {
    method: 'GET',
    url: '/v1/blocks',
    summary: 'Block headers from a height, oldest first.',
    tags: ['blocks'],
    auth: 'public',
    response: {
      200: T.Object({ head: Open('The chain head.'), blocks: T.Array(Open('A block header.')) }),
      ...ErrorResponses,
    },
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
    auth: 'public',
    response: { 200: Open('A block: header, transactions, validation codes.'), ...ErrorResponses },
    params: T.Object({ height: T.Integer({ minimum: 1 }) }),
  },
  latestCheckpoint: {
    method: 'GET',
    url: '/v1/checkpoints/latest',
    summary: "The node's latest signed checkpoint (log size, root, time).",
    tags: ['proofs'],
    auth: 'public',
    response: { 200: Open('A signed checkpoint.'), ...ErrorResponses },
  },
  checkpointAt: {
    method: 'GET',
    url: '/v1/checkpoints/:height',
    summary: 'The signed checkpoint issued after a block.',
    tags: ['proofs'],
    auth: 'public',
    response: { 200: Open('A signed checkpoint.'), ...ErrorResponses },
    params: T.Object({ height: T.Integer({ minimum: 1 }) }),
  },
  consistency: {
    method: 'GET',
    url: '/v1/proofs/consistency',
    summary: 'RFC 9162 consistency proof between two checkpointed log sizes, with both checkpoints.',
    tags: ['proofs'],
    auth: 'public',
    response: {
      200: Open('{ from, to, proof }: both checkpoints and the RFC 9162 consistency proof.'),
      ...ErrorResponses,
    },
    querystring: T.Object({ from: T.Integer({ minimum: 1 }), to: T.Integer({ minimum: 1 }) }),
  },
  getMember: {
    method: 'GET',
    url: '/v1/members/:org/:member',
    summary: "An enrolled member's record: role, attributes, certificate, revocation.",
    tags: ['membership'],
    auth: 'public',
    response: { 200: Open("A member's record."), ...ErrorResponses },
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
    auth: 'public',
    response: {
      200: T.Object({ hash: T.String(), genesis: Open('The genesis document.') }),
      ...ErrorResponses,
    },
  },
  eventsToken: {
    method: 'POST',
    url: '/v1/events/token',
    summary:
      "A bearer token (15 min) for a patient's event trail: signed events.token request { patient } from the patient, a proxy, or an auditor of the patient's organization.",
    tags: ['events'],
    auth: 'signedTx',
    response: { 200: T.Object({ token: T.String(), expiresAtMs: T.Integer() }), ...ErrorResponses },
    body: SignedTxSchema,
  },
  patientEvents: {
    method: 'GET',
    url: '/v1/patients/:org/:member/events',
    summary:
      "The patient's events (every access, denial, consent grant and revocation, break-glass, registration, erasure), oldest first after a cursor. Authorization: Bearer <events token>.",
    tags: ['events'],
    auth: 'bearer',
    response: { 200: EventsPage, ...ErrorResponses },
    params: PatientParams,
    querystring: EventsPageQuery,
  },
  auditEvents: {
    method: 'GET',
    url: '/v1/patients/:org/:member/audit-events',
    summary:
      "The patient's trail as a FHIR R4 searchset Bundle of AuditEvents (IHE BALP shape); each entry's id is the ledger txId, provable with GET /v1/transactions/:txId. Authorization: Bearer <events token>.",
    tags: ['events', 'fhir'],
    auth: 'bearer',
    response: {
      200: Open('A FHIR R4 searchset Bundle of AuditEvents (application/fhir+json).'),
      ...ErrorResponses,
    },
    params: PatientParams,
    querystring: EventsPageQuery,
  },
  eventStream: {
    method: 'GET',
    url: '/v1/patients/:org/:member/stream',
    summary:
      "Server-Sent Events: the patient's events after Last-Event-ID (header) or ?after=, then live within a second of commit (id: seq, event: kind, data: JSON). Token in Authorization: Bearer, or in ?token= on this route only (EventSource cannot send headers; see docs/threat-model.md).",
    tags: ['events'],
    auth: 'bearer',
    response: { 200: T.String({ description: 'text/event-stream' }), ...ErrorResponses },
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
    auth: 'signedTx',
    response: { 201: T.Object({ id: T.String(), secret: T.String() }), ...ErrorResponses },
    body: SignedTxSchema,
  },
  listSubscriptions: {
    method: 'POST',
    url: '/v1/subscriptions/list',
    summary:
      'The webhook subscriptions the signer created or that follow the signer (as patient): signed subscription.list request {}. Never the secrets; each with its cursor, failing attempts, last error and dead-letter count.',
    tags: ['events'],
    auth: 'signedTx',
    response: {
      200: T.Object({
        subscriptions: T.Array(
          T.Object({
            id: T.String(),
            patient: T.String(),
            url: T.String(),
            createdBy: T.String(),
            createdAtMs: T.Integer(),
            cursor: T.Integer(),
            attempts: T.Integer(),
            lastError: T.Union([T.String(), T.Null()]),
            deadLetters: T.Integer(),
          }),
        ),
      }),
      ...ErrorResponses,
    },
    body: SignedTxSchema,
  },
  deleteSubscription: {
    method: 'POST',
    url: '/v1/subscriptions/delete',
    summary:
      'Delete a webhook subscription: signed subscription.delete request { id } from its creator or its patient. Nothing more is delivered.',
    tags: ['events'],
    auth: 'signedTx',
    response: { 200: T.Object({ id: T.String(), deleted: T.Literal(true) }), ...ErrorResponses },
    body: SignedTxSchema,
  },
  attestations: {
    method: 'GET',
    url: '/v1/attestations',
    summary:
      "The nodes' signed attestations (height, block hash, log root, state root) for a height, and this node's check: the height a quorum of organizations confirmed, and the first divergent block if any.",
    tags: ['operations'],
    auth: 'public',
    response: {
      200: T.Object({
        height: T.Integer(),
        attestations: T.Array(Open('A signed attestation.')),
        status: T.Union([Open("This node's check."), T.Null()]),
      }),
      ...ErrorResponses,
    },
    querystring: T.Object({ height: T.Integer({ minimum: 1 }) }),
  },
  health: {
    method: 'GET',
    url: '/health',
    summary: 'Liveness and chain head.',
    tags: ['operations'],
    auth: 'public',
    response: { 200: Health, 503: Health, ...ErrorResponses },
  },
  metrics: {
    method: 'GET',
    url: '/metrics',
    summary: 'Prometheus metrics.',
    tags: ['operations'],
    auth: 'public',
    response: {
      200: T.String({ description: 'Prometheus text format (text/plain; version=0.0.4).' }),
      ...ErrorResponses,
    },
  },
  openapi: {
    method: 'GET',
    url: '/openapi.json',
    summary: 'This OpenAPI document.',
    tags: ['operations'],
    auth: 'public',
    response: { 200: Open('OpenAPI 3 document.') },
    hide: true,
  },
  peerSnapshot: {
    method: 'GET',
    url: '/v1/peer/snapshot',
    summary: "Node to node: a consistent copy of this node's ledger (SQLite), for a peer syncing a snapshot.",
    tags: ['peer'],
    auth: 'nodePeer',
    response: {
      200: T.String({ format: 'binary', description: 'application/vnd.sqlite3' }),
      ...ErrorResponses,
    },
    hide: true,
  },
  portalRoot: {
    method: 'GET',
    url: '/',
    summary: 'Redirects to the portal.',
    tags: ['portal'],
    auth: 'public',
    response: { 302: T.String({ description: 'Redirect to /portal/.' }) },
    hide: true,
  },
  portalHome: {
    method: 'GET',
    url: '/portal',
    summary: 'Redirects to the portal.',
    tags: ['portal'],
    auth: 'public',
    response: { 302: T.String({ description: 'Redirect to /portal/.' }) },
    hide: true,
  },
  portalFile: {
    method: 'GET',
    url: '/portal/*',
    summary: 'A file of the built web portal (unknown paths answer index.html).',
    tags: ['portal'],
    auth: 'public',
    response: { 200: T.String({ description: 'HTML, script, style or image.' }), ...ErrorResponses },
    hide: true,
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
