/**
 * The HealthLedger certificate profile shared by parsing and issuing: roles, OIDs, error codes,
 * the public certificate types, and the small argument and text validators both sides apply.
 * @module
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { concatBytes, fromHex } from '../bytes.js';
import { PUBLIC_KEY_LENGTH } from '../ed25519.js';
import { sha256 } from '../hash.js';

// ---------------------------------------------------------------------------------------------
// Public constants and types
// ---------------------------------------------------------------------------------------------

/** Member roles, carried in the subject `OU` of a member certificate. */
export const ROLES = [
  'patient',
  'practitioner',
  'org-admin',
  'auditor',
  'payer',
  'manufacturer',
  'distributor',
  'dispenser',
  'sponsor',
  'regulator',
  // An organization's records service (custodian gatekeeper): registers records, releases them.
  'custodian',
] as const;

/** One of {@link ROLES}. */
export type Role = (typeof ROLES)[number];

/** True if `value` is one of {@link ROLES}. @example isRole('practitioner') // true */
export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

/** id-Ed25519 (RFC 8410 §3): the only signature and public-key algorithm accepted. */
export const ED25519_OID = '1.3.101.112';

/**
 * HealthLedger's private-arc attribute extension (non-critical). Its `extnValue` is a DER
 * UTF8String holding canonical JSON (sorted keys, no whitespace) of a flat `Record<string,string>`,
 * e.g. `{"licence":"MD-12345","specialty":"endocrinology"}`.
 */
export const ATTRIBUTES_EXTENSION_OID = '1.3.6.1.4.1.59999.1.1';

/** Largest certificate `parseCertificate` accepts, in bytes (a denial-of-service bound). */
export const MAX_CERTIFICATE_BYTES = 16 * 1024;

/** Error codes of {@link CertificateError}, each with a one-line description. */
export const CertificateErrorCodes = {
  INVALID_ARGUMENT: 'An option passed to createCaCertificate/issueMemberCertificate/verify* is invalid.',
  BAD_PEM: 'Not exactly one well-formed PEM block with the expected label and canonical base64 (RFC 7468).',
  TOO_LARGE: `Certificate is larger than MAX_CERTIFICATE_BYTES (${MAX_CERTIFICATE_BYTES}).`,
  MALFORMED: 'Bytes are not an X.509 Certificate structure (RFC 5280 §4.1).',
  TRAILING_BYTES: 'Bytes follow the end of the Certificate SEQUENCE.',
  NOT_DER: 'Encoding is valid BER but not canonical DER (X.690 §10–11), e.g. a long-form length.',
  UNSUPPORTED_VERSION: 'Certificate is not X.509 v3 (RFC 5280 §4.1.2.1).',
  BAD_SERIAL: 'Serial number is not a positive INTEGER of at most 20 octets (RFC 5280 §4.1.2.2).',
  UNSUPPORTED_ALGORITHM:
    'Signature or public-key algorithm is not id-Ed25519 (RFC 8410 §3, RFC 5280 §4.1.1.2).',
  ALGORITHM_PARAMETERS: 'id-Ed25519 AlgorithmIdentifier has parameters; they MUST be absent (RFC 8410 §3).',
  BAD_KEY: 'Subject public key is not a 32-byte canonical, non-small-order Ed25519 point (RFC 8410 §4).',
  BAD_SIGNATURE_ENCODING: 'signatureValue is not a 64-byte Ed25519 signature (RFC 8410 §6).',
  BAD_NAME: 'Subject or issuer name lacks CN/O, repeats them, or uses a disallowed form (RFC 5280 §4.1.2.4).',
  BAD_ROLE: 'Member certificate OU is missing or not one of ROLES.',
  BAD_VALIDITY:
    'Validity is malformed: notAfter < notBefore, fractional seconds, or wrong time type (RFC 5280 §4.1.2.5).',
  DUPLICATE_EXTENSION: 'An extension appears more than once (RFC 5280 §4.2).',
  UNKNOWN_CRITICAL_EXTENSION:
    'A critical extension is not recognised, so the certificate must be rejected (RFC 5280 §4.2).',
  BAD_EXTENSION: 'basicConstraints or keyUsage is malformed or inconsistent (RFC 5280 §4.2.1.3, §4.2.1.9).',
  BAD_ATTRIBUTES:
    'Attribute extension is not a UTF8String of canonical JSON of a flat string-to-string object.',
  BAD_SIGNATURE:
    'Ed25519 signature over the TBSCertificate does not verify under the issuer key (RFC 8032 §5.1.7).',
  ISSUER_MISMATCH:
    "Certificate's issuer name is not byte-identical to the CA's subject name (RFC 5280 §4.1.2.4).",
  ORG_MISMATCH: "Member certificate's O differs from the issuing CA's O.",
  NOT_A_CA:
    'Issuer lacks critical basicConstraints cA=true or keyUsage keyCertSign (RFC 5280 §4.2.1.3, §4.2.1.9).',
  NOT_A_MEMBER: 'A CA certificate was presented where a member certificate is required.',
  KEY_USAGE: 'Member certificate keyUsage does not include digitalSignature (RFC 5280 §4.2.1.3).',
  NOT_YET_VALID: 'atMs is before the certificate notBefore (RFC 5280 §4.1.2.5).',
  EXPIRED: 'atMs is after the certificate notAfter (RFC 5280 §4.1.2.5).',
  CA_NOT_YET_VALID: "atMs is before the CA certificate's notBefore (RFC 5280 §6.1.3).",
  CA_EXPIRED: "atMs is after the CA certificate's notAfter (RFC 5280 §6.1.3).",
} as const;

/** A key of {@link CertificateErrorCodes}. */
export type CertificateErrorCode = keyof typeof CertificateErrorCodes;

/**
 * Thrown by every function in this module; `code` is stable, `message` is for humans.
 * @example try { parseCertificate(der) } catch (e) { if (e instanceof CertificateError) e.code }
 */
export class CertificateError extends Error {
  override readonly name = 'CertificateError';
  constructor(
    readonly code: CertificateErrorCode,
    detail?: string,
  ) {
    super(`${code}: ${detail ?? CertificateErrorCodes[code]}`);
  }
}

/** keyUsage bit names in bit order (RFC 5280 §4.2.1.3). */
export const KEY_USAGE_BITS = [
  'digitalSignature',
  'nonRepudiation',
  'keyEncipherment',
  'dataEncipherment',
  'keyAgreement',
  'keyCertSign',
  'cRLSign',
  'encipherOnly',
  'decipherOnly',
] as const;

/** One of {@link KEY_USAGE_BITS}. */
export type KeyUsageBit = (typeof KEY_USAGE_BITS)[number];

/** The identity fields of a subject or issuer name. */
export interface CertificateName {
  /** `CN`: member id, or `<org> CA` for a CA. */
  readonly commonName: string;
  /** `O`: organization id. */
  readonly organization: string;
  /** `OU`: the role, for member certificates. */
  readonly organizationalUnit?: string;
}

/** A certificate that passed {@link parseCertificate}. Frozen; do not build one by hand. */
export interface ParsedCertificate {
  /** The exact DER (a private copy). */
  readonly der: Uint8Array;
  /** The exact TBSCertificate bytes covered by the signature. */
  readonly tbs: Uint8Array;
  /** The 64-byte Ed25519 signature. */
  readonly signature: Uint8Array;
  /** Lower-case hex of the serial's magnitude (no 0x00 sign octet). */
  readonly serialHex: string;
  readonly subject: CertificateName;
  readonly issuer: CertificateName;
  /** DER of the subject Name (compared byte-for-byte when chaining). */
  readonly subjectDer: Uint8Array;
  /** DER of the issuer Name. */
  readonly issuerDer: Uint8Array;
  /** notBefore, ms since the epoch (whole seconds). */
  readonly notBeforeMs: number;
  /** notAfter, ms since the epoch (whole seconds; inclusive). */
  readonly notAfterMs: number;
  /** The 32-byte raw Ed25519 public key. */
  readonly publicKey: Uint8Array;
  /** basicConstraints cA=true (critical). */
  readonly isCa: boolean;
  /** keyUsage bits, absent when the certificate has no keyUsage extension. */
  readonly keyUsage?: readonly KeyUsageBit[];
  /** The member's role (subject OU); absent for CA certificates. */
  readonly role?: Role;
  /** Attributes from {@link ATTRIBUTES_EXTENSION_OID}; `{}` when absent. */
  readonly attributes: Readonly<Record<string, string>>;
  /** Lower-case hex SHA-256 of `der`. */
  readonly fingerprint: string;
}

/** Options of {@link createCaCertificate}. */
export interface CreateCaCertificateOptions {
  orgId: string;
  /** 32-byte Ed25519 seed of the CA. */
  privateKey: Uint8Array;
  /** Serial magnitude (bytes or hex), encoded as a positive INTEGER of ≤ 20 octets. */
  serial: Uint8Array | string;
  notBeforeMs: number;
  notAfterMs: number;
}

/** Options of {@link issueMemberCertificate}. */
export interface IssueMemberCertificateOptions {
  orgId: string;
  caPrivateKey: Uint8Array;
  /** DER of the CA certificate (its subject becomes the issuer name). */
  caCertificate: Uint8Array;
  memberId: string;
  role: Role;
  /** Flat string attributes, e.g. `{ licence: 'MD-12345' }`. */
  attributes?: Record<string, string>;
  /** 32-byte Ed25519 public key of the member. */
  publicKey: Uint8Array;
  serial: Uint8Array | string;
  notBeforeMs: number;
  notAfterMs: number;
}

// ---------------------------------------------------------------------------------------------
// Object identifiers and bounds of the profile
// ---------------------------------------------------------------------------------------------

/** Object identifiers of the names and extensions the profile uses (RFC 5280 §4.1.2.4, §4.2.1). */
export const OID_CN = '2.5.4.3';
export const OID_O = '2.5.4.10';
export const OID_OU = '2.5.4.11';
export const OID_BASIC_CONSTRAINTS = '2.5.29.19';
export const OID_KEY_USAGE = '2.5.29.15';
export const OID_SUBJECT_KEY_ID = '2.5.29.14';
export const OID_AUTHORITY_KEY_ID = '2.5.29.35';

/** 1950-01-01T00:00:00Z, 2050-01-01T00:00:00Z and 9999-12-31T23:59:59Z (RFC 5280 §4.1.2.5). */
const MIN_TIME_MS = -631_152_000_000;
/** From this time on a validity bound is GeneralizedTime, before it UTCTime (RFC 5280 §4.1.2.5). */
export const GENERALIZED_FROM_MS = 2_524_608_000_000;
const MAX_TIME_MS = 253_402_300_799_000;

/** Upper bound on CN/O/OU length (RFC 5280 Appendix A: ub-common-name etc. = 64). */
const MAX_NAME_LENGTH = 64;

// ---------------------------------------------------------------------------------------------
// Canonical JSON for attributes and small validators
// ---------------------------------------------------------------------------------------------

/** Canonical JSON of a flat string record: keys sorted by UTF-16 code unit, no whitespace. */
export function canonicalAttributesJson(attrs: Readonly<Record<string, string>>): string {
  const keys = Object.keys(attrs).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${JSON.stringify(attrs[k])}`).join(',')}}`;
}

const CONTROL_CHARS = /[\u0000-\u001f\u007f-\u009f]/;

/** CN/O/OU text rule: 1..64 characters, no control characters, no outer whitespace. */
export function nameTextProblem(value: string): string | undefined {
  if (value.length === 0) return 'is empty';
  if (value.length > MAX_NAME_LENGTH) return `is longer than ${MAX_NAME_LENGTH} characters`;
  if (CONTROL_CHARS.test(value)) return 'contains control characters';
  if (value.trim() !== value) return 'has leading or trailing whitespace';
  return undefined;
}

/** Throws `INVALID_ARGUMENT` with `detail` unless `condition` holds. */
export function requireArgument(condition: boolean, detail: string): asserts condition {
  if (!condition) throw new CertificateError('INVALID_ARGUMENT', detail);
}

/** An id argument (member, organization) must be valid CN/O text. */
export function checkId(value: unknown, what: string): asserts value is string {
  requireArgument(typeof value === 'string', `${what} must be a string`);
  const problem = nameTextProblem(value);
  requireArgument(problem === undefined, `${what} ${problem ?? ''}`);
}

/** A validity bound argument: whole seconds in ms, within what X.509 can encode. */
export function checkTimeArgument(ms: unknown, what: string): asserts ms is number {
  requireArgument(
    typeof ms === 'number' && Number.isSafeInteger(ms) && ms % 1000 === 0,
    `${what} must be an integer number of whole seconds in ms (X.509 has 1 s precision)`,
  );
  requireArgument(ms >= MIN_TIME_MS && ms <= MAX_TIME_MS, `${what} must be within 1950-01-01..9999-12-31`);
}

/** The verification time argument must be a safe integer (ms). */
export function checkAtMs(atMs: unknown): asserts atMs is number {
  requireArgument(typeof atMs === 'number' && Number.isSafeInteger(atMs), 'atMs must be a safe integer');
}

/** Serial magnitude → positive DER INTEGER content of ≤ 20 octets (RFC 5280 §4.1.2.2). */
export function serialContent(serial: Uint8Array | string): Uint8Array {
  let bytes: Uint8Array;
  if (typeof serial === 'string') {
    try {
      bytes = fromHex(serial);
    } catch {
      throw new CertificateError('INVALID_ARGUMENT', 'serial hex must be even-length [0-9a-fA-F]');
    }
  } else {
    requireArgument(serial instanceof Uint8Array, 'serial must be a Uint8Array or hex string');
    bytes = serial;
  }
  let start = 0;
  while (start < bytes.length && bytes[start] === 0) start++;
  const magnitude = bytes.slice(start);
  requireArgument(magnitude.length > 0, 'serial must be positive (non-zero)');
  const content = (magnitude[0]! & 0x80) !== 0 ? concatBytes(new Uint8Array([0]), magnitude) : magnitude;
  requireArgument(
    content.length <= 20,
    'serial must fit in 20 octets as a positive INTEGER (RFC 5280 §4.1.2.2): use ≤ 159 bits',
  );
  return content;
}

/** A 32-byte Ed25519 key argument. */
export function checkKeyBytes(key: unknown, what: string): asserts key is Uint8Array {
  requireArgument(key instanceof Uint8Array && key.length === 32, `${what} must be 32 bytes`);
}

/** Problem with an Ed25519 public key, or undefined (RFC 8032 §5.1.3 decoding, small order). */
export function publicKeyProblem(key: Uint8Array): string | undefined {
  if (key.length !== PUBLIC_KEY_LENGTH) return `public key is ${key.length} bytes, expected 32 (RFC 8410 §4)`;
  try {
    const point = ed25519.Point.fromBytes(key, false);
    if (point.isSmallOrder()) return 'public key is a small-order point';
  } catch {
    return 'public key is not a canonical Ed25519 point (RFC 8032 §5.1.3)';
  }
  return undefined;
}

/** Subject key identifier: leftmost 160 bits of SHA-256 of the key (RFC 7093 §2 method 1). */
export function keyIdentifier(publicKey: Uint8Array): Uint8Array {
  return sha256(publicKey).slice(0, 20);
}
