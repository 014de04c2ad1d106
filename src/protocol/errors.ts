/**
 * Error codes: every error a client can see has a stable code, an HTTP status and a one-line
 * meaning. docs/errors.md is checked against this table by a test, so they cannot drift.
 * @module
 */

/** API error codes (returned by the HTTP API and thrown by the SDK). */
export const ApiErrorCodes = {
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
  INVALID_FHIR: {
    status: 400,
    message: 'The resource is not valid FHIR R4; details.outcome is an OperationOutcome naming the problem.',
  },
  UNKNOWN_PATIENT: { status: 404, message: 'No enrolled patient with this id.' },
  ENCRYPTION_KEY_MISSING: {
    status: 409,
    message: 'The recipient has not published an encryption key (member.set-encryption-key).',
  },
  ACCESS_NOT_GRANTED: {
    status: 403,
    message:
      'No committed access grant for this requester under that transaction id (it was denied, or is not theirs).',
  },
  ACCESS_EXPIRED: { status: 403, message: 'The access grant has expired; request access again.' },
  PATIENT_ERASED: { status: 410, message: "The patient's records were erased (crypto-shredded)." },
  ERASURE_NOT_REQUESTED: {
    status: 409,
    message: 'Erasure can run only after the patient requested it on the ledger.',
  },
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
  NOT_PATIENT_PROXY_OR_AUDITOR: {
    status: 403,
    message:
      "Only the patient, a proxy they named, or an auditor of the patient's organization may follow the patient's events.",
  },
  INVALID_WEBHOOK_URL: {
    status: 400,
    message: 'The webhook URL must be an absolute http(s) URL without credentials, at most 2048 characters.',
  },
  AUDIT_EVENT_MISMATCH: {
    status: 502,
    message:
      'SDK: an exported AuditEvent does not match the ledger entry its verified receipt proves (the node misreported it).',
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
  BAD_GS1_KEY: {
    status: 400,
    message: 'A GS1 identifier is malformed or its check digit is wrong (details name the GS1 error code).',
  },
  EPC_NOT_FOUND: { status: 404, message: 'No package or container with this identifier is on the ledger.' },
  SUPPLY_ALERT_NOT_FOUND: { status: 404, message: 'No supply alert with this id.' },
  SUPPLY_EVENT_NOT_FOUND: {
    status: 404,
    message: 'No applied supply transaction with this id (unknown, refused, or not a supply transaction).',
  },
  NOT_SUPPLY_PARTY: {
    status: 403,
    message: 'Only manufacturers, distributors, dispensers and regulators may follow supply alerts.',
  },
  INVALID_EPCIS: {
    status: 400,
    message: 'The EPCIS document fails the EPCIS 2.0 JSON Schema (details list each error by JSON Pointer).',
  },
  EPCIS_NOT_RECORDABLE: {
    status: 422,
    message: 'An EPCIS event cannot be reduced to ledger facts (details name the supply fact error code).',
  },
  EPCIS_SCHEMA_UNAVAILABLE: {
    status: 503,
    message: 'This node was started without the EPCIS 2.0 JSON Schema (HEALTHLEDGER_EPCIS_SCHEMA).',
  },
  SUPPLY_TIMELINE_MISMATCH: {
    status: 502,
    message:
      'SDK: a timeline entry does not match the transaction its verified receipt proves (the node misreported it).',
  },
  INTERNAL: {
    status: 500,
    message: 'An unexpected server fault (a bug): reported, never caused by client input.',
  },
} as const satisfies Record<string, { status: number; message: string }>;

export type ApiErrorCode = keyof typeof ApiErrorCodes;

/** An error with a documented code. Thrown across layers; rendered by the API as `{ error }`. */
export class HealthLedgerError extends Error {
  override readonly name = 'HealthLedgerError';
  constructor(
    readonly code: ApiErrorCode,
    message?: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message ?? ApiErrorCodes[code].message);
  }

  /** HTTP status for this code. */
  get status(): number {
    return ApiErrorCodes[this.code].status;
  }
}

/** Wire shape of an API error. */
export interface ApiErrorBody {
  error: { code: string; message: string; details?: Record<string, unknown> };
}
