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
  PROXY_NEEDS_PATIENT_SIGNATURE:
    "Only the patient's own signature sets her proxy list; her organization appoints a guardian only through the two-person flow (guardian.propose, guardian.approve).",
  GUARDIAN_CONFLICT:
    'An institutional appointment may not name the patient, its proposer or approver, an org-admin, or an unknown member.',
  GUARDIAN_SAME_SIGNER:
    'A guardian appointment needs two distinct signers: the proposer may not approve its own proposal.',
  GUARDIAN_PROPOSAL_EXISTS: 'A guardian proposal with this id already exists for the patient.',
  GUARDIAN_PROPOSAL_NOT_FOUND:
    'No pending guardian proposal (or appointment in force) with this id or member exists for the patient.',
  GUARDIAN_PROPOSAL_EXPIRED: 'The guardian proposal was not approved within 7 days; propose again.',
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
  ACCESS_NOT_FOUND: 'No committed access grant with this transaction id for this patient (and requester).',
  ACCESS_ENDED: 'The access grant was ended (access.end): it releases nothing more.',
  ACCESS_EXPIRED: "The access grant's lifetime is over at the block's time.",
  UNKNOWN_RECORD:
    'A record named is not registered for this patient by the signing custodian at that version.',
  NOT_EMERGENCY_PRACTITIONER: 'Break-glass needs a practitioner whose certificate carries an emergency role.',
  NOT_CUSTODIAN: "Only the organization's custodian service may register records or complete erasure.",
  RECORD_VERSION_CONFLICT:
    'The record version is not the next one (amendments append; nothing is overwritten).',
  RECORD_ERASED: 'The record was erased; it cannot be amended.',
  ERASURE_ALREADY_REQUESTED: "The patient's erasure was already requested.",
  ERASURE_NOT_REQUESTED: 'Erasure can be completed only after the patient requested it.',
  UNKNOWN_ORGANIZATION: 'No organization with this id is in the genesis.',
  PARTY_CONFLICT: 'A GS1 company prefix or GLN is already registered to another organization.',
  UNKNOWN_PARTY: 'A GLN named as location, source or destination is registered to no organization.',
  NOT_LOCATION_OWNER: "The event's location GLN is not registered to the signer's organization.",
  EVENT_EXISTS: 'An EPCIS event with this event hash is already on the ledger.',
  NOT_PREFIX_OWNER:
    "Only the manufacturer owning the GTIN's company prefix (or a regulator, for recalls and alerts) may do this.",
  SERIAL_EXISTS: 'The serial was already commissioned.',
  LOT_EXPIRY_CONFLICT: 'The lot was commissioned before with a different expiry date.',
  UNKNOWN_EPC: 'No package or container with this identifier is on the ledger.',
  NOT_IN_CUSTODY: "The signer's organization does not hold custody of the package or container.",
  NOT_CONSIGNEE: 'The package was shipped to another party: only the named party may receive it.',
  NOT_SHIPPED: 'The receiver already holds the package: no shipment of it is pending.',
  IN_TRANSIT: 'The package is in transit: it must be received first.',
  PACKED_IN_CONTAINER: 'The package is packed in a container: act on the container, or unpack it first.',
  NOT_IN_CONTAINER: 'Unpack: the identifier is not in this container.',
  CONTAINER_NOT_EMPTY: 'A container can be decommissioned only when empty.',
  AGGREGATION_INVALID:
    'Packing would exceed container limits, nest containers too deep, form a cycle, or pack into a package.',
  PACKAGE_ENDED: 'The package was dispensed or decommissioned: its serial has ended.',
  PACKAGE_QUARANTINED: 'The package is quarantined as suspect until its owner or a regulator clears it.',
  PACKAGE_RECALLED: "The package's lot is recalled: it may not be dispensed or commissioned further.",
  LOT_NOT_FOUND: 'No such lot of this GTIN was commissioned.',
  LOT_ALREADY_RECALLED: 'The lot was already recalled.',
  ALERT_NOT_FOUND: 'No supply alert with this id exists.',
  ALERT_ALREADY_RESOLVED: 'The alert was already cleared or confirmed.',
} as const;

export type ValidationCode = keyof typeof EnvelopeCodes | keyof typeof ContractCodes;

/** Every validation code with its meaning. */
export const ValidationCodes: Record<ValidationCode, string> = { ...EnvelopeCodes, ...ContractCodes };

/** True if `code` is a known validation code. */
export function isValidationCode(code: string): code is ValidationCode {
  return Object.prototype.hasOwnProperty.call(ValidationCodes, code);
}
