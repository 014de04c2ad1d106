/**
 * The health domain's API error codes: declared here, registered with the shared table at load
 * (protocol/ imports no domain) and documented in docs/errors.md (checked by a test).
 * @module
 */
import { registerErrorCodes, type ErrorCodeSpec } from '../../../protocol/errors.js';

/** Health API error codes (returned by the HTTP API and thrown by the SDK). */
export const HealthErrorCodes = registerErrorCodes({
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
  ACCESS_ENDED: {
    status: 403,
    message:
      'The access grant was ended by the patient, a proxy or a reviewer (access.end); request access again.',
  },
  CONSENT_REVOKED: {
    status: 403,
    message:
      'The consent the access grant was decided under was revoked or has lapsed: it releases nothing more.',
  },
  DISCLOSURE_NOT_COMMITTED: {
    status: 503,
    message: 'The disclosure could not be committed to the ledger, so nothing was released; try again.',
  },
  PATIENT_ERASED: { status: 410, message: "The patient's records were erased (crypto-shredded)." },
  ERASURE_NOT_REQUESTED: {
    status: 409,
    message: 'Erasure can run only after the patient requested it on the ledger.',
  },
  NOT_PATIENT_PROXY_OR_AUDITOR: {
    status: 403,
    message:
      "Only the patient, a proxy they named, or an auditor of the patient's organization may follow the patient's events.",
  },
  AUDIT_EVENT_MISMATCH: {
    status: 502,
    message:
      'SDK: an exported AuditEvent does not match the ledger entry its verified receipt proves (the node misreported it).',
  },
} as const satisfies Record<string, ErrorCodeSpec>);

type HealthCodes = Readonly<typeof HealthErrorCodes>;

declare module '../../../protocol/errors.js' {
  // Types follow the registration above: HealthLedgerError accepts these codes.
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type -- declaration merging
  interface ErrorCodeTable extends HealthCodes {}
}
