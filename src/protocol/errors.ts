/**
 * Error codes: every error a client can see has a stable code, an HTTP status and a one-line
 * meaning. docs/errors.md is checked against this table by a test, so they cannot drift.
 * @module
 */

/** What a code means: its HTTP status and one-line meaning. */
export interface ErrorCodeSpec {
  readonly status: number;
  readonly message: string;
}

/**
 * The codes every domain shares (envelope, signer, ledger, events, ordering). Each domain declares
 * its own in src/domains/<d>/core/errors.ts and registers them ({@link registerErrorCodes}):
 * protocol/ imports no domain, yet one table serves the API, the SDK and docs/errors.md.
 */
export const SharedErrorCodes = {
  MALFORMED_REQUEST: {
    status: 400,
    message: 'The request body, query or path does not match the route schema.',
  },
  MALFORMED_TX: {
    status: 400,
    message: 'The transaction envelope is not well-formed (fields, encodings, canonical form).',
  },
  TX_TOO_LARGE: { status: 413, message: 'The transaction exceeds the genesis policy maxTxBytes.' },
  PAYLOAD_TOO_LARGE: { status: 413, message: 'The HTTP request body exceeds the server limit.' },
  RATE_LIMITED: {
    status: 429,
    message: 'Too many requests from this address or member; retry after the Retry-After seconds.',
  },
  BATCH_TOO_LARGE: {
    status: 413,
    message: 'A batch holds more transactions than the server accepts at once.',
  },
  WRONG_CHAIN_ID: { status: 400, message: 'The transaction is for another chain.' },
  BAD_SIGNATURE: {
    status: 401,
    message: "The signature does not verify under the signer's enrolled key (strict RFC 8032).",
  },
  UNKNOWN_SIGNER: { status: 401, message: 'The signer is not an enrolled member of the consortium.' },
  SIGNER_REVOKED: { status: 403, message: "The signer's certificate has been revoked." },
  CERT_EXPIRED: { status: 403, message: "The signer's certificate is not valid at this time." },
  UNAUTHORIZED_ROLE: { status: 403, message: "The signer's role may not submit this transaction type." },
  UNKNOWN_TX_TYPE: { status: 400, message: 'No built-in contract handles this transaction type.' },
  INVALID_PAYLOAD: { status: 400, message: "The payload does not match the contract's schema." },
  TIMESTAMP_OUT_OF_WINDOW: {
    status: 400,
    message: "The client timestamp is too far from the ledger's time.",
  },
  DUPLICATE_TX: {
    status: 409,
    message: 'A transaction with this id was already accepted on this chain (replay).',
  },
  NOT_FOUND: {
    status: 404,
    message: 'The requested block, transaction, checkpoint or member does not exist.',
  },
  ROUTE_NOT_FOUND: { status: 404, message: 'No such API route.' },
  INVALID_RANGE: {
    status: 400,
    message: 'A requested height, size or range is outside what the ledger holds.',
  },
  COMMIT_TIMEOUT: {
    status: 504,
    message: 'The transaction was accepted but not committed within the wait timeout; poll its receipt.',
  },
  NODE_UNAVAILABLE: {
    status: 503,
    message: 'The node is starting, stopping or has halted writes; retry later.',
  },
  OVERLOADED: { status: 503, message: 'The node has too many pending transactions; retry later.' },
  EVENTS_TOKEN_MISSING: {
    status: 401,
    message: 'No events token: send `Authorization: Bearer <token>` (or `?token=` on the event stream).',
  },
  EVENTS_TOKEN_INVALID: {
    status: 401,
    message: 'The events token is malformed or was not issued by this node.',
  },
  EVENTS_TOKEN_EXPIRED: {
    status: 401,
    message: 'The events token has expired; obtain a new one with a signed events.token request.',
  },
  EVENTS_TOKEN_WRONG_PATIENT: {
    status: 403,
    message: "The events token was issued for another patient's events (or for the supply alert feed).",
  },
  INVALID_WEBHOOK_URL: {
    status: 400,
    message:
      'The webhook URL must be an absolute http(s) URL without credentials, at most 2048 characters, not on port 0.',
  },
  WEBHOOK_TARGET_FORBIDDEN: {
    status: 400,
    message:
      'The webhook target is an internal address (loopback, private, link-local/metadata, unspecified, multicast or reserved) not allowlisted in node.json webhooks.allow.',
  },
  SUBSCRIPTION_NOT_FOUND: { status: 404, message: 'No webhook subscription with this id.' },
  NOT_SUBSCRIPTION_OWNER: {
    status: 403,
    message: "Only the subscription's creator or its patient may delete it.",
  },
  EVENTS_TOKEN_REVOKED: {
    status: 401,
    message: 'The member the events token was issued to is revoked or may no longer follow these events.',
  },
  NODE_AUTH_FAILED: {
    status: 401,
    message:
      'A node-to-node request or answer is not signed by a genesis node of another organization (or is outside the time window).',
  },
  ORDERING_UNAVAILABLE: {
    status: 503,
    message: 'The ordering service (etcd) cannot be reached or has no quorum; nothing was ordered.',
  },
  INTERNAL: {
    status: 500,
    message: 'An unexpected server fault (a bug): reported, never caused by client input.',
  },
} as const satisfies Record<string, ErrorCodeSpec>;

/**
 * Every error code by name, for types. Domains add theirs by augmenting this interface next to
 * their registration, so `HealthLedgerError` takes any code while protocol/ lists only its own.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- filled by declaration merging
export interface ErrorCodeTable extends Readonly<typeof SharedErrorCodes> {}

export type ApiErrorCode = keyof ErrorCodeTable;

/**
 * API error codes (returned by the HTTP API and thrown by the SDK): the shared ones and every
 * registered domain's. A domain's codes are here once its core/errors.ts has loaded; the browser-safe
 * manifest src/core/domains.ts loads them all, and the contract registry loads that.
 */
export const ApiErrorCodes: ErrorCodeTable = { ...SharedErrorCodes } as ErrorCodeTable;

/**
 * Adds a domain's codes to {@link ApiErrorCodes} (when its core/errors.ts loads) and returns them.
 * A code defined twice with another meaning is a bug, refused at load.
 */
export function registerErrorCodes<T extends Record<string, ErrorCodeSpec>>(codes: T): T {
  const table = ApiErrorCodes as unknown as Record<string, ErrorCodeSpec>;
  for (const [code, spec] of Object.entries(codes)) {
    const known = table[code];
    if (known !== undefined && (known.status !== spec.status || known.message !== spec.message))
      throw new Error(`error code ${code} is defined twice`);
    table[code] = spec;
  }
  return codes;
}

/** An error with a documented code. Thrown across layers; rendered by the API as `{ error }`. */
export class HealthLedgerError extends Error {
  override readonly name = 'HealthLedgerError';
  constructor(
    readonly code: ApiErrorCode,
    message?: string,
    readonly details?: Record<string, unknown>,
  ) {
    // A code whose domain table was never loaded in this process still makes an error (a bug, not a crash).
    super(message ?? ApiErrorCodes[code]?.message ?? code);
  }

  /** HTTP status for this code. */
  get status(): number {
    return ApiErrorCodes[this.code]?.status ?? 500;
  }
}

/** Wire shape of an API error. */
export interface ApiErrorBody {
  error: { code: string; message: string; details?: Record<string, unknown> };
}
