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
