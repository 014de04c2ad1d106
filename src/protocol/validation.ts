/**
 * Per-transaction validation codes recorded in blocks. Every node derives the same code for the
 * same transaction at the same position, so codes are part of what the log commits to.
 * @module
 */

/** Codes decided by the executor before any contract runs. */
export const EnvelopeCodes = {
  VALID: 'The transaction was applied.',
  MALFORMED_TX: 'The envelope is not well-formed or not canonical.',
  TX_TOO_LARGE: 'The envelope exceeds the genesis policy maxTxBytes.',
  WRONG_CHAIN_ID: 'The transaction names another chain.',
  BAD_SIGNATURE: "The signature does not verify under the signer's enrolled key.",
  UNKNOWN_SIGNER: 'The signer was not an enrolled member at the start of the block.',
  SIGNER_REVOKED: "The signer's certificate was revoked in an earlier block.",
  CERT_EXPIRED: "The signer's certificate is not valid at the block's time.",
  UNAUTHORIZED_ROLE: "The signer's role may not submit this transaction type.",
  UNKNOWN_TX_TYPE: 'No built-in contract handles this transaction type.',
  INVALID_PAYLOAD: "The payload does not match the contract's schema.",
  TIMESTAMP_OUT_OF_WINDOW: "The client timestamp is outside the policy window around the block's time.",
  DUPLICATE_TX: 'The transaction id was already accepted earlier on this chain.',
  CONTRACT_FAULT: 'The contract failed unexpectedly (a bug, reported); nothing was applied.',
} as const;

/** Codes decided by built-in contracts. */
export const ContractCodes = {
  MEMBER_EXISTS: 'A member with this id is already enrolled and not revoked.',
  MEMBER_NOT_FOUND: 'No member with this id is enrolled.',
  MEMBER_ALREADY_REVOKED: 'The member was already revoked.',
  BAD_CERTIFICATE: "The certificate is malformed or not issued by the organization's CA.",
  WRONG_ORGANIZATION: 'An org-admin may act only on members of their own organization.',
  ANCHOR_VERSION_CONFLICT: 'The anchor was updated concurrently: expected version does not match.',
  UNKNOWN_PATIENT: 'The patient is not an enrolled member with the patient role.',
  NOT_PATIENT_OR_PROXY:
    'Only the patient, or a proxy or guardian the patient (or their organization) named, may do this.',
  CONSENT_EXISTS: 'A consent with this id already exists for the patient.',
  CONSENT_NOT_FOUND: 'No consent with this id exists for the patient.',
  CONSENT_ALREADY_REVOKED: 'The consent was already revoked.',
  NO_CONSENT: 'Access denied: no consent of the patient covers this requester.',
  CONSENT_REVOKED: 'Access denied: the consent covering this requester was revoked.',
  CONSENT_EXPIRED: "Access denied: the consent covering this requester is not valid at the block's time.",
  PURPOSE_NOT_PERMITTED: 'Access denied: the consent does not allow this purpose of use.',
  CATEGORY_NOT_PERMITTED:
    'Access denied: the consent does not cover the requested categories or resource types.',
  SENSITIVE_NOT_PERMITTED:
    'Access denied: a sensitive category was requested that the consent does not name explicitly.',
  PATIENT_ERASED:
    "Access denied: the patient's records were erased (crypto-shredded) or erasure is under way.",
  NOT_EMERGENCY_PRACTITIONER: 'Break-glass needs a practitioner whose certificate carries an emergency role.',
  NOT_CUSTODIAN: "Only the organization's custodian service may register records or complete erasure.",
  RECORD_VERSION_CONFLICT:
    'The record version is not the next one (amendments append; nothing is overwritten).',
  RECORD_ERASED: 'The record was erased; it cannot be amended.',
  ERASURE_ALREADY_REQUESTED: "The patient's erasure was already requested.",
  ERASURE_NOT_REQUESTED: 'Erasure can be completed only after the patient requested it.',
} as const;

export type ValidationCode = keyof typeof EnvelopeCodes | keyof typeof ContractCodes;

/** Every validation code with its meaning. */
export const ValidationCodes: Record<ValidationCode, string> = { ...EnvelopeCodes, ...ContractCodes };

/** True if `code` is a known validation code. */
export function isValidationCode(code: string): code is ValidationCode {
  return Object.prototype.hasOwnProperty.call(ValidationCodes, code);
}
