/**
 * The supply domain's API error codes: declared here, registered with the shared table at load
 * (protocol/ imports no domain) and documented in docs/errors.md (checked by a test).
 * @module
 */
import { registerErrorCodes, type ErrorCodeSpec } from '../../../protocol/errors.js';

/** Supply API error codes (returned by the HTTP API and thrown by the SDK). */
export const SupplyErrorCodes = registerErrorCodes({
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
} as const satisfies Record<string, ErrorCodeSpec>);

type SupplyCodes = Readonly<typeof SupplyErrorCodes>;

declare module '../../../protocol/errors.js' {
  // Types follow the registration above: HealthLedgerError accepts these codes.
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type -- declaration merging
  interface ErrorCodeTable extends SupplyCodes {}
}
