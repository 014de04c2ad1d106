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
} as const;

export type ValidationCode = keyof typeof EnvelopeCodes | keyof typeof ContractCodes;

/** Every validation code with its meaning. */
export const ValidationCodes: Record<ValidationCode, string> = { ...EnvelopeCodes, ...ContractCodes };

/** True if `code` is a known validation code. */
export function isValidationCode(code: string): code is ValidationCode {
  return Object.prototype.hasOwnProperty.call(ValidationCodes, code);
}
