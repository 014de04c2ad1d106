/**
 * X.509 v3 certificates (RFC 5280) with Ed25519 keys and signatures (RFC 8410) for HealthLedger
 * identities. An organization is identified by a self-signed CA certificate listed in the genesis
 * file; every member holds a certificate issued by that CA, so a hospital can bring its own PKI.
 *
 * Identity profile (in the spirit of Hyperledger Fabric NodeOUs):
 * - member certificate: subject `CN` = member id, `O` = organization id, `OU` = {@link Role};
 *   basicConstraints `cA=false` and keyUsage `digitalSignature` (both critical); optional
 *   attributes in the {@link ATTRIBUTES_EXTENSION_OID} extension.
 * - CA certificate: subject `CN` = `<org> CA`, `O` = organization id; basicConstraints `cA=true`
 *   and keyUsage `keyCertSign` (both critical).
 *
 * Parsing is strict and assumes an attacker wrote the bytes: anything that is not canonical DER,
 * not Ed25519, or outside the profile is rejected with a {@link CertificateError}. Nothing here
 * reads the clock: callers pass `atMs` (the block timestamp). Browser-safe: no Node APIs.
 * @module
 */
import { AsnParser, AsnSerializer, OctetString } from '@peculiar/asn1-schema';
import {
  AlgorithmIdentifier,
  AttributeTypeAndValue,
  AttributeValue,
  Certificate,
  Extension,
  Extensions,
  Name,
  RelativeDistinguishedName,
  SubjectPublicKeyInfo,
  TBSCertificate,
  Validity,
  Version,
} from '@peculiar/asn1-x509';
import type { Time } from '@peculiar/asn1-x509';
import { ed25519 } from '@noble/curves/ed25519.js';
import {
  concatBytes,
  constantTimeEqual,
  fromBase64Url,
  fromHex,
  fromUtf8,
  toBase64Url,
  toHex,
  utf8,
} from './bytes.js';
import { PUBLIC_KEY_LENGTH, SIGNATURE_LENGTH, publicKeyOf, sign, verify } from './ed25519.js';
import { sha256 } from './hash.js';

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
// Minimal strict DER helpers (X.690 §8, §10)
// ---------------------------------------------------------------------------------------------

const TAG_BOOLEAN = 0x01;
const TAG_INTEGER = 0x02;
const TAG_BIT_STRING = 0x03;
const TAG_OCTET_STRING = 0x04;
const TAG_UTF8_STRING = 0x0c;
const TAG_SEQUENCE = 0x30;

const OID_CN = '2.5.4.3';
const OID_O = '2.5.4.10';
const OID_OU = '2.5.4.11';
const OID_BASIC_CONSTRAINTS = '2.5.29.19';
const OID_KEY_USAGE = '2.5.29.15';
const OID_SUBJECT_KEY_ID = '2.5.29.14';
const OID_AUTHORITY_KEY_ID = '2.5.29.35';

/** 1950-01-01T00:00:00Z, 2050-01-01T00:00:00Z and 9999-12-31T23:59:59Z (RFC 5280 §4.1.2.5). */
const MIN_TIME_MS = -631_152_000_000;
const GENERALIZED_FROM_MS = 2_524_608_000_000;
const MAX_TIME_MS = 253_402_300_799_000;

/** Upper bound on CN/O/OU length (RFC 5280 Appendix A: ub-common-name etc. = 64). */
const MAX_NAME_LENGTH = 64;

function derLength(n: number): Uint8Array {
  if (n < 0x80) return new Uint8Array([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return new Uint8Array([0x80 | bytes.length, ...bytes]);
}

function tlv(tag: number, content: Uint8Array): Uint8Array {
  return concatBytes(new Uint8Array([tag]), derLength(content.length), content);
}

interface Tlv {
  tag: number;
  content: Uint8Array;
  /** Offset just past this element. */
  end: number;
}

/**
 * Reads one DER element at `offset` of `bytes` (low tag numbers only). Definite, minimal-length
 * encodings only (X.690 §10.1, §8.1.3.5): anything else is `NOT_DER`; truncation is `malformed`.
 */
function readTlv(bytes: Uint8Array, offset: number, malformed: CertificateErrorCode): Tlv {
  const tag = bytes[offset];
  const first = bytes[offset + 1];
  if (tag === undefined || first === undefined)
    throw new CertificateError(malformed, 'truncated DER element');
  if ((tag & 0x1f) === 0x1f) throw new CertificateError(malformed, 'high-tag-number form is not used here');
  let pos = offset + 2;
  let length = first;
  if (first === 0x80) throw new CertificateError('NOT_DER', 'indefinite length (X.690 §10.1)');
  if (first > 0x80) {
    const n = first & 0x7f;
    if (n > 4) throw new CertificateError(malformed, 'length too large');
    length = 0;
    for (let i = 0; i < n; i++) {
      const b = bytes[pos++];
      if (b === undefined) throw new CertificateError(malformed, 'truncated length');
      if (i === 0 && b === 0)
        throw new CertificateError('NOT_DER', 'length has a leading zero octet (X.690 §10.1)');
      length = length * 256 + b;
    }
    if (length < 0x80) throw new CertificateError('NOT_DER', 'long-form length where short form is required');
  }
  const end = pos + length;
  if (end > bytes.length) throw new CertificateError(malformed, 'element extends past the end of the input');
  return { tag, content: bytes.subarray(pos, end), end };
}

/** Reads exactly one element filling `bytes`, with the expected tag. */
function readOnly(bytes: Uint8Array, tag: number, malformed: CertificateErrorCode): Uint8Array {
  const el = readTlv(bytes, 0, malformed);
  if (el.tag !== tag) throw new CertificateError(malformed, `expected tag 0x${tag.toString(16)}`);
  if (el.end !== bytes.length) throw new CertificateError(malformed, 'trailing bytes inside extension value');
  return el.content;
}

/** INTEGER content is minimal (X.690 §8.3.2). */
function isMinimalInteger(c: Uint8Array): boolean {
  if (c.length === 0) return false;
  if (c.length === 1) return true;
  const a = c[0]!;
  const b = c[1]!;
  return !((a === 0x00 && (b & 0x80) === 0) || (a === 0xff && (b & 0x80) !== 0));
}

/** DER BIT STRING for a named-bit list: trailing zero bits removed (X.690 §11.2.2). */
function encodeNamedBits(bits: readonly number[]): Uint8Array {
  if (bits.length === 0) return tlv(TAG_BIT_STRING, new Uint8Array([0]));
  const max = Math.max(...bits);
  const out = new Uint8Array(1 + (max >> 3) + 1);
  out[0] = 7 - (max & 7);
  for (const bit of bits) out[1 + (bit >> 3)]! |= 0x80 >> (bit & 7);
  return tlv(TAG_BIT_STRING, out);
}

function toArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  // Copy explicitly: a Node Buffer's slice() is a view, whose .buffer would include bytes outside it.
  const copy = new Uint8Array(bytes.length);
  copy.set(bytes);
  return copy.buffer;
}

// ---------------------------------------------------------------------------------------------
// Canonical JSON for attributes and small validators
// ---------------------------------------------------------------------------------------------

/** Canonical JSON of a flat string record: keys sorted by UTF-16 code unit, no whitespace. */
function canonicalAttributesJson(attrs: Readonly<Record<string, string>>): string {
  const keys = Object.keys(attrs).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${JSON.stringify(attrs[k])}`).join(',')}}`;
}

const CONTROL_CHARS = /[\u0000-\u001f\u007f-\u009f]/;

/** CN/O/OU text rule: 1..64 characters, no control characters, no outer whitespace. */
function nameTextProblem(value: string): string | undefined {
  if (value.length === 0) return 'is empty';
  if (value.length > MAX_NAME_LENGTH) return `is longer than ${MAX_NAME_LENGTH} characters`;
  if (CONTROL_CHARS.test(value)) return 'contains control characters';
  if (value.trim() !== value) return 'has leading or trailing whitespace';
  return undefined;
}

function requireArgument(condition: boolean, detail: string): asserts condition {
  if (!condition) throw new CertificateError('INVALID_ARGUMENT', detail);
}

function checkId(value: unknown, what: string): asserts value is string {
  requireArgument(typeof value === 'string', `${what} must be a string`);
  const problem = nameTextProblem(value);
  requireArgument(problem === undefined, `${what} ${problem ?? ''}`);
}

function checkTimeArgument(ms: unknown, what: string): asserts ms is number {
  requireArgument(
    typeof ms === 'number' && Number.isSafeInteger(ms) && ms % 1000 === 0,
    `${what} must be an integer number of whole seconds in ms (X.509 has 1 s precision)`,
  );
  requireArgument(ms >= MIN_TIME_MS && ms <= MAX_TIME_MS, `${what} must be within 1950-01-01..9999-12-31`);
}

function checkAtMs(atMs: unknown): asserts atMs is number {
  requireArgument(typeof atMs === 'number' && Number.isSafeInteger(atMs), 'atMs must be a safe integer');
}

/** Serial magnitude → positive DER INTEGER content of ≤ 20 octets (RFC 5280 §4.1.2.2). */
function serialContent(serial: Uint8Array | string): Uint8Array {
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

function checkKeyBytes(key: unknown, what: string): asserts key is Uint8Array {
  requireArgument(key instanceof Uint8Array && key.length === 32, `${what} must be 32 bytes`);
}

/** Problem with an Ed25519 public key, or undefined (RFC 8032 §5.1.3 decoding, small order). */
function publicKeyProblem(key: Uint8Array): string | undefined {
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
function keyIdentifier(publicKey: Uint8Array): Uint8Array {
  return sha256(publicKey).slice(0, 20);
}

// ---------------------------------------------------------------------------------------------
// Building certificates
// ---------------------------------------------------------------------------------------------

function ed25519AlgorithmId(): AlgorithmIdentifier {
  return new AlgorithmIdentifier({ algorithm: ED25519_OID }); // parameters absent (RFC 8410 §3)
}

function rdn(type: string, value: string): RelativeDistinguishedName {
  return new RelativeDistinguishedName([
    new AttributeTypeAndValue({ type, value: new AttributeValue({ utf8String: value }) }),
  ]);
}

/** O, [OU], CN — UTF8String values (RFC 5280 §4.1.2.6). */
function buildName(commonName: string, organization: string, organizationalUnit?: string): Name {
  const rdns = [rdn(OID_O, organization)];
  if (organizationalUnit !== undefined) rdns.push(rdn(OID_OU, organizationalUnit));
  rdns.push(rdn(OID_CN, commonName));
  return new Name(rdns);
}

function extension(extnID: string, critical: boolean, value: Uint8Array): Extension {
  return new Extension({ extnID, critical, extnValue: new OctetString(value) });
}

function basicConstraintsValue(isCa: boolean): Uint8Array {
  // CA: cA TRUE, pathLenConstraint 0 (it issues only end-entity certificates). Member: cA is
  // DEFAULT FALSE, so DER omits it and the value is an empty SEQUENCE (X.690 §11.5).
  return isCa
    ? tlv(
        TAG_SEQUENCE,
        concatBytes(tlv(TAG_BOOLEAN, new Uint8Array([0xff])), tlv(TAG_INTEGER, new Uint8Array([0]))),
      )
    : tlv(TAG_SEQUENCE, new Uint8Array(0));
}

interface TbsInput {
  serial: Uint8Array | string;
  issuer: Name;
  subject: Name;
  notBeforeMs: number;
  notAfterMs: number;
  publicKey: Uint8Array;
  extensions: Extension[];
}

function signCertificate(input: TbsInput, signerKey: Uint8Array): Uint8Array {
  const tbs = new TBSCertificate({
    version: Version.v3,
    serialNumber: toArrayBuffer(serialContent(input.serial)),
    signature: ed25519AlgorithmId(),
    issuer: input.issuer,
    // asn1-x509's Time picks UTCTime through 2049 and GeneralizedTime from 2050 (RFC 5280 §4.1.2.5).
    validity: new Validity({ notBefore: new Date(input.notBeforeMs), notAfter: new Date(input.notAfterMs) }),
    subject: input.subject,
    subjectPublicKeyInfo: new SubjectPublicKeyInfo({
      algorithm: ed25519AlgorithmId(),
      subjectPublicKey: toArrayBuffer(input.publicKey),
    }),
    extensions: new Extensions(input.extensions),
  });
  const tbsDer = new Uint8Array(AsnSerializer.serialize(tbs));
  const signature = sign(tbsDer, signerKey);
  const cert = new Certificate({
    tbsCertificate: tbs,
    signatureAlgorithm: ed25519AlgorithmId(),
    signatureValue: toArrayBuffer(signature),
  });
  const der = new Uint8Array(AsnSerializer.serialize(cert));
  parseCertificate(der); // never emit something this module would reject
  return der;
}

function checkValidityArguments(notBeforeMs: unknown, notAfterMs: unknown): void {
  checkTimeArgument(notBeforeMs, 'notBeforeMs');
  checkTimeArgument(notAfterMs, 'notAfterMs');
  requireArgument(notAfterMs >= notBeforeMs, 'notAfterMs must not be before notBeforeMs');
}

/**
 * Creates a self-signed organization CA certificate (DER): subject `CN=<orgId> CA, O=<orgId>`,
 * critical basicConstraints cA=true (pathLen 0), critical keyUsage keyCertSign, and a subject key
 * identifier. Times must be whole seconds.
 * @example
 * const caDer = createCaCertificate({ orgId: 'st-mary', privateKey: caSeed, serial: '01',
 *   notBeforeMs: Date.UTC(2025, 0, 1), notAfterMs: Date.UTC(2035, 0, 1) });
 */
export function createCaCertificate(opts: CreateCaCertificateOptions): Uint8Array {
  checkId(opts.orgId, 'orgId');
  checkId(`${opts.orgId} CA`, 'CA common name');
  checkKeyBytes(opts.privateKey, 'privateKey');
  checkValidityArguments(opts.notBeforeMs, opts.notAfterMs);
  const publicKey = publicKeyOf(opts.privateKey);
  const name = buildName(`${opts.orgId} CA`, opts.orgId);
  return signCertificate(
    {
      serial: opts.serial,
      issuer: name,
      subject: name,
      notBeforeMs: opts.notBeforeMs,
      notAfterMs: opts.notAfterMs,
      publicKey,
      extensions: [
        extension(OID_BASIC_CONSTRAINTS, true, basicConstraintsValue(true)),
        extension(OID_KEY_USAGE, true, encodeNamedBits([KEY_USAGE_BITS.indexOf('keyCertSign')])),
        extension(OID_SUBJECT_KEY_ID, false, tlv(TAG_OCTET_STRING, keyIdentifier(publicKey))),
      ],
    },
    opts.privateKey,
  );
}

/** The CA's subject key identifier if it has one, else the RFC 7093 one this module would use. */
function caKeyIdentifier(ca: ParsedCertificate): Uint8Array {
  const cert = AsnParser.parse(ca.der, Certificate);
  const skid = cert.tbsCertificate.extensions?.find((e) => e.extnID === OID_SUBJECT_KEY_ID);
  if (skid !== undefined) {
    try {
      return readOnly(new Uint8Array(skid.extnValue.buffer), TAG_OCTET_STRING, 'BAD_EXTENSION').slice();
    } catch {
      // fall through: a malformed non-critical SKID is ignored
    }
  }
  return keyIdentifier(ca.publicKey);
}

/**
 * Issues a member certificate (DER) signed by the organization CA: subject
 * `O=<orgId>, OU=<role>, CN=<memberId>`, issuer = the CA's subject (byte-identical), critical
 * basicConstraints cA=false, critical keyUsage digitalSignature, key identifiers, and the attribute
 * extension when `attributes` is non-empty.
 * @example
 * const der = issueMemberCertificate({ orgId: 'st-mary', caPrivateKey: caSeed, caCertificate: caDer,
 *   memberId: 'dr-alice', role: 'practitioner', attributes: { licence: 'MD-12345' },
 *   publicKey: alicePub, serial: '1001', notBeforeMs, notAfterMs });
 */
export function issueMemberCertificate(opts: IssueMemberCertificateOptions): Uint8Array {
  checkId(opts.orgId, 'orgId');
  checkId(opts.memberId, 'memberId');
  requireArgument(isRole(opts.role), `role must be one of ${ROLES.join(', ')}`);
  checkKeyBytes(opts.caPrivateKey, 'caPrivateKey');
  checkKeyBytes(opts.publicKey, 'publicKey');
  const keyProblem = publicKeyProblem(opts.publicKey);
  requireArgument(keyProblem === undefined, `publicKey: ${keyProblem ?? ''}`);
  checkValidityArguments(opts.notBeforeMs, opts.notAfterMs);

  const attributes: Record<string, string> = {};
  if (opts.attributes !== undefined) {
    requireArgument(
      typeof opts.attributes === 'object' && opts.attributes !== null && !Array.isArray(opts.attributes),
      'attributes must be a flat object of strings',
    );
    for (const [k, v] of Object.entries(opts.attributes)) {
      requireArgument(k.length > 0 && typeof v === 'string', 'attributes must map non-empty keys to strings');
      Object.defineProperty(attributes, k, {
        value: v,
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
  }

  requireArgument(opts.caCertificate instanceof Uint8Array, 'caCertificate must be DER bytes');
  const ca = parseCertificate(opts.caCertificate);
  requireArgument(isIssuingCa(ca), 'caCertificate is not a CA certificate (cA=true, keyCertSign)');
  requireArgument(ca.subject.organization === opts.orgId, 'orgId differs from the CA certificate O');
  requireArgument(
    constantTimeEqual(publicKeyOf(opts.caPrivateKey), ca.publicKey),
    'caPrivateKey does not match caCertificate',
  );

  const extensions = [
    extension(OID_BASIC_CONSTRAINTS, true, basicConstraintsValue(false)),
    extension(OID_KEY_USAGE, true, encodeNamedBits([KEY_USAGE_BITS.indexOf('digitalSignature')])),
    extension(OID_SUBJECT_KEY_ID, false, tlv(TAG_OCTET_STRING, keyIdentifier(opts.publicKey))),
    // AuthorityKeyIdentifier ::= SEQUENCE { keyIdentifier [0] IMPLICIT OCTET STRING } (RFC 5280 §4.2.1.1)
    extension(OID_AUTHORITY_KEY_ID, false, tlv(TAG_SEQUENCE, tlv(0x80, caKeyIdentifier(ca)))),
  ];
  if (Object.keys(attributes).length > 0) {
    const json = canonicalAttributesJson(attributes);
    extensions.push(extension(ATTRIBUTES_EXTENSION_OID, false, tlv(TAG_UTF8_STRING, utf8(json))));
  }
  return signCertificate(
    {
      serial: opts.serial,
      issuer: AsnParser.parse(ca.subjectDer, Name),
      subject: buildName(opts.memberId, opts.orgId, opts.role),
      notBeforeMs: opts.notBeforeMs,
      notAfterMs: opts.notAfterMs,
      publicKey: opts.publicKey,
      extensions,
    },
    opts.caPrivateKey,
  );
}

// ---------------------------------------------------------------------------------------------
// Parsing
// ---------------------------------------------------------------------------------------------

const PRINTABLE_STRING = /^[A-Za-z0-9 '()+,\-./:=?]*$/;

function parseName(name: Name, which: 'subject' | 'issuer'): CertificateName {
  const found = new Map<string, string>();
  for (const set of name) {
    // Multi-valued RDNs are rejected: their DER SET OF ordering is a classic ambiguity.
    if (set.length !== 1) throw new CertificateError('BAD_NAME', `${which} has a multi-valued RDN`);
    const atv = set[0]!;
    if (atv.type !== OID_CN && atv.type !== OID_O && atv.type !== OID_OU) continue;
    const label = atv.type === OID_CN ? 'CN' : atv.type === OID_O ? 'O' : 'OU';
    if (found.has(atv.type)) throw new CertificateError('BAD_NAME', `${which} has more than one ${label}`);
    let text: string;
    if (atv.value.utf8String !== undefined) text = atv.value.utf8String;
    else if (atv.value.printableString !== undefined && PRINTABLE_STRING.test(atv.value.printableString))
      text = atv.value.printableString;
    else throw new CertificateError('BAD_NAME', `${which} ${label} is not a UTF8String or PrintableString`);
    const problem = nameTextProblem(text);
    if (problem !== undefined) throw new CertificateError('BAD_NAME', `${which} ${label} ${problem}`);
    found.set(atv.type, text);
  }
  const commonName = found.get(OID_CN);
  const organization = found.get(OID_O);
  const organizationalUnit = found.get(OID_OU);
  if (commonName === undefined) throw new CertificateError('BAD_NAME', `${which} has no CN`);
  if (organization === undefined) throw new CertificateError('BAD_NAME', `${which} has no O`);
  return Object.freeze(
    organizationalUnit === undefined
      ? { commonName, organization }
      : { commonName, organization, organizationalUnit },
  );
}

function parseTime(time: Time, which: string): number {
  let ms: number;
  if (time.utcTime !== undefined) {
    ms = time.utcTime.getTime();
    if (!(ms < GENERALIZED_FROM_MS))
      throw new CertificateError('BAD_VALIDITY', `${which} UTCTime out of range`);
  } else if (time.generalTime !== undefined) {
    ms = time.generalTime.getTime();
    // RFC 5280 §4.1.2.5: dates through 2049 MUST be UTCTime; GeneralizedTime from 2050.
    if (!(ms >= GENERALIZED_FROM_MS))
      throw new CertificateError('BAD_VALIDITY', `${which} before 2050 must be UTCTime (RFC 5280 §4.1.2.5)`);
  } else {
    throw new CertificateError('MALFORMED', `${which} is missing`);
  }
  if (!Number.isSafeInteger(ms)) throw new CertificateError('BAD_VALIDITY', `${which} is not a valid date`);
  // RFC 5280 §4.1.2.5.2: GeneralizedTime MUST NOT include fractional seconds.
  if (ms % 1000 !== 0) throw new CertificateError('BAD_VALIDITY', `${which} has fractional seconds`);
  return ms;
}

function checkEd25519AlgorithmId(id: AlgorithmIdentifier, which: string): void {
  if (id.algorithm !== ED25519_OID)
    throw new CertificateError('UNSUPPORTED_ALGORITHM', `${which} is ${id.algorithm}, not id-Ed25519`);
  if (id.parameters !== undefined)
    throw new CertificateError(
      'ALGORITHM_PARAMETERS',
      `${which} has parameters (RFC 8410 §3: MUST be absent)`,
    );
}

interface BasicConstraintsValue {
  cA: boolean;
  pathLen?: number;
}

function parseBasicConstraints(value: Uint8Array): BasicConstraintsValue {
  const seq = readOnly(value, TAG_SEQUENCE, 'BAD_EXTENSION');
  let pos = 0;
  let cA = false;
  let pathLen: number | undefined;
  if (pos < seq.length && seq[pos] === TAG_BOOLEAN) {
    const el = readTlv(seq, pos, 'BAD_EXTENSION');
    if (el.content.length !== 1)
      throw new CertificateError('BAD_EXTENSION', 'basicConstraints cA is not a BOOLEAN');
    // DER: TRUE is 0xFF (X.690 §11.1) and DEFAULT FALSE is omitted (X.690 §11.5).
    if (el.content[0] !== 0xff)
      throw new CertificateError('NOT_DER', 'basicConstraints cA must be omitted or 0xFF');
    cA = true;
    pos = el.end;
  }
  if (pos < seq.length && seq[pos] === TAG_INTEGER) {
    const el = readTlv(seq, pos, 'BAD_EXTENSION');
    if (!isMinimalInteger(el.content))
      throw new CertificateError('NOT_DER', 'pathLenConstraint is not minimal');
    if ((el.content[0]! & 0x80) !== 0 || el.content.length > 4)
      throw new CertificateError('BAD_EXTENSION', 'pathLenConstraint out of range');
    pathLen = el.content.reduce((acc, b) => acc * 256 + b, 0);
    pos = el.end;
  }
  if (pos !== seq.length)
    throw new CertificateError('BAD_EXTENSION', 'unexpected content in basicConstraints');
  return pathLen === undefined ? { cA } : { cA, pathLen };
}

function parseKeyUsage(value: Uint8Array): KeyUsageBit[] {
  const content = readOnly(value, TAG_BIT_STRING, 'BAD_EXTENSION');
  const unused = content[0];
  if (unused === undefined || unused > 7 || (content.length === 1 && unused !== 0))
    throw new CertificateError('BAD_EXTENSION', 'keyUsage BIT STRING is malformed');
  const bits: number[] = [];
  const total = (content.length - 1) * 8 - unused;
  for (let i = 0; i < (content.length - 1) * 8; i++) {
    if ((content[1 + (i >> 3)]! & (0x80 >> (i & 7))) === 0) continue;
    if (i >= total)
      throw new CertificateError('NOT_DER', 'keyUsage unused bits are not zero (X.690 §11.2.1)');
    bits.push(i);
  }
  // RFC 5280 §4.2.1.3: at least one bit MUST be set.
  if (bits.length === 0) throw new CertificateError('BAD_EXTENSION', 'keyUsage has no bits set');
  if (!constantTimeEqual(encodeNamedBits(bits), value))
    throw new CertificateError('NOT_DER', 'keyUsage has trailing zero bits (X.690 §11.2.2)');
  return bits.map((b) => {
    const name = KEY_USAGE_BITS[b];
    if (name === undefined) throw new CertificateError('BAD_EXTENSION', `keyUsage bit ${b} is undefined`);
    return name;
  });
}

function parseAttributes(value: Uint8Array): Readonly<Record<string, string>> {
  const content = readOnly(value, TAG_UTF8_STRING, 'BAD_ATTRIBUTES');
  let json: string;
  let parsed: unknown;
  try {
    json = fromUtf8(content);
    parsed = JSON.parse(json);
  } catch {
    throw new CertificateError('BAD_ATTRIBUTES', 'attribute extension is not UTF-8 JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new CertificateError('BAD_ATTRIBUTES', 'attributes must be a JSON object');
  const entries = Object.entries(parsed);
  for (const [k, v] of entries) {
    if (k.length === 0 || typeof v !== 'string')
      throw new CertificateError('BAD_ATTRIBUTES', 'attributes must map non-empty keys to strings');
  }
  const attrs = Object.fromEntries(entries) as Record<string, string>;
  // Byte-equality with the canonical form rejects unsorted or duplicate keys and extra whitespace.
  if (canonicalAttributesJson(attrs) !== json)
    throw new CertificateError(
      'BAD_ATTRIBUTES',
      'attribute JSON is not canonical (sorted keys, no whitespace)',
    );
  return Object.freeze(attrs);
}

/**
 * Strictly parses a DER certificate. Rejects trailing bytes, non-DER (the structure is decoded,
 * re-encoded and must be byte-identical), anything but Ed25519 with absent parameters, bad keys,
 * missing CN/O, unknown critical extensions, malformed attributes, notAfter < notBefore, and — for
 * non-CA certificates — an OU that is not one of {@link ROLES}. Does not check signatures or time.
 * @example const cert = parseCertificate(fromPem(pem)); cert.subject.commonName // 'dr-alice'
 */
export function parseCertificate(der: Uint8Array): ParsedCertificate {
  if (!(der instanceof Uint8Array)) throw new CertificateError('MALFORMED', 'input must be a Uint8Array');
  if (der.length > MAX_CERTIFICATE_BYTES) throw new CertificateError('TOO_LARGE');
  const bytes = der.slice(); // private copy: later changes by the caller cannot affect the result

  // Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue } (RFC 5280 §4.1)
  const outer = readTlv(bytes, 0, 'MALFORMED');
  if (outer.tag !== TAG_SEQUENCE) throw new CertificateError('MALFORMED', 'not a SEQUENCE');
  if (outer.end !== bytes.length)
    throw new CertificateError('TRAILING_BYTES', `${bytes.length - outer.end} bytes after the certificate`);
  const tbsStart = outer.end - outer.content.length;
  const tbsEl = readTlv(bytes, tbsStart, 'MALFORMED');
  if (tbsEl.tag !== TAG_SEQUENCE) throw new CertificateError('MALFORMED', 'tbsCertificate is not a SEQUENCE');
  const tbs = bytes.slice(tbsStart, tbsEl.end);

  let cert: Certificate;
  try {
    cert = AsnParser.parse(bytes, Certificate);
  } catch (e) {
    if (e instanceof CertificateError) throw e;
    throw new CertificateError(
      'MALFORMED',
      `not an X.509 certificate (${e instanceof Error ? e.message : 'parse error'})`,
    );
  }
  // Cheap DER strictness: a canonical encoder must reproduce the input exactly.
  let reencoded: Uint8Array;
  try {
    reencoded = new Uint8Array(AsnSerializer.serialize(cert));
  } catch {
    throw new CertificateError('NOT_DER', 'certificate cannot be re-encoded');
  }
  if (!constantTimeEqual(reencoded, bytes))
    throw new CertificateError('NOT_DER', 'certificate is not canonical DER');
  const t = cert.tbsCertificate;
  if (cert.tbsCertificateRaw === undefined || !constantTimeEqual(new Uint8Array(cert.tbsCertificateRaw), tbs))
    throw new CertificateError('MALFORMED', 'tbsCertificate bytes are inconsistent');

  if (t.version !== Version.v3) throw new CertificateError('UNSUPPORTED_VERSION');
  if (t.issuerUniqueID !== undefined || t.subjectUniqueID !== undefined)
    throw new CertificateError('MALFORMED', 'unique identifiers are not allowed (RFC 5280 §4.1.2.8)');

  // RFC 5280 §4.1.1.2 / §4.1.2.3: both AlgorithmIdentifiers must be id-Ed25519, params absent.
  checkEd25519AlgorithmId(cert.signatureAlgorithm, 'signatureAlgorithm');
  checkEd25519AlgorithmId(t.signature, 'tbsCertificate.signature');
  checkEd25519AlgorithmId(t.subjectPublicKeyInfo.algorithm, 'subjectPublicKeyInfo.algorithm');

  const serial = new Uint8Array(t.serialNumber);
  if (!isMinimalInteger(serial)) throw new CertificateError('NOT_DER', 'serial INTEGER is not minimal');
  if ((serial[0]! & 0x80) !== 0) throw new CertificateError('BAD_SERIAL', 'serial is negative');
  if (serial.length > 20) throw new CertificateError('BAD_SERIAL', 'serial exceeds 20 octets');
  const magnitude = serial[0] === 0 ? serial.subarray(1) : serial;
  if (magnitude.length === 0) throw new CertificateError('BAD_SERIAL', 'serial is zero');

  const publicKey = new Uint8Array(t.subjectPublicKeyInfo.subjectPublicKey);
  const keyProblem = publicKeyProblem(publicKey);
  if (keyProblem !== undefined) throw new CertificateError('BAD_KEY', keyProblem);

  const signature = new Uint8Array(cert.signatureValue);
  if (signature.length !== SIGNATURE_LENGTH)
    throw new CertificateError(
      'BAD_SIGNATURE_ENCODING',
      `signature is ${signature.length} bytes, expected 64`,
    );

  const subject = parseName(t.subject, 'subject');
  const issuer = parseName(t.issuer, 'issuer');

  const notBeforeMs = parseTime(t.validity.notBefore, 'notBefore');
  const notAfterMs = parseTime(t.validity.notAfter, 'notAfter');
  if (notAfterMs < notBeforeMs) throw new CertificateError('BAD_VALIDITY', 'notAfter is before notBefore');

  // Extensions (RFC 5280 §4.2).
  let basic: BasicConstraintsValue | undefined;
  let basicCritical = false;
  let keyUsage: KeyUsageBit[] | undefined;
  let attributes: Readonly<Record<string, string>> = Object.freeze({});
  if (t.extensions !== undefined) {
    if (t.extensions.length === 0) throw new CertificateError('MALFORMED', 'extensions must not be empty');
    const seen = new Set<string>();
    for (const ext of t.extensions) {
      if (seen.has(ext.extnID))
        throw new CertificateError('DUPLICATE_EXTENSION', `extension ${ext.extnID} repeats`);
      seen.add(ext.extnID);
      const value = new Uint8Array(ext.extnValue.buffer);
      if (ext.extnID === OID_BASIC_CONSTRAINTS) {
        basic = parseBasicConstraints(value);
        basicCritical = ext.critical;
      } else if (ext.extnID === OID_KEY_USAGE) {
        keyUsage = parseKeyUsage(value);
      } else if (ext.extnID === ATTRIBUTES_EXTENSION_OID) {
        attributes = parseAttributes(value);
      } else if (ext.critical) {
        throw new CertificateError(
          'UNKNOWN_CRITICAL_EXTENSION',
          `critical extension ${ext.extnID} is not recognised`,
        );
      }
    }
  }
  const isCa = basic?.cA === true;
  // RFC 5280 §4.2.1.9: CAs MUST mark basicConstraints critical; pathLen only with cA.
  if (isCa && !basicCritical)
    throw new CertificateError('BAD_EXTENSION', 'CA basicConstraints must be critical');
  if (!isCa && basic?.pathLen !== undefined)
    throw new CertificateError('BAD_EXTENSION', 'pathLenConstraint without cA (RFC 5280 §4.2.1.9)');
  // RFC 5280 §4.2.1.3: keyCertSign requires cA.
  if (!isCa && keyUsage?.includes('keyCertSign') === true)
    throw new CertificateError('BAD_EXTENSION', 'keyCertSign without cA=true (RFC 5280 §4.2.1.3)');

  let role: Role | undefined;
  if (!isCa) {
    const ou = subject.organizationalUnit;
    if (!isRole(ou))
      throw new CertificateError('BAD_ROLE', `member OU ${JSON.stringify(ou ?? null)} is not a role`);
    role = ou;
  }

  const parsed: ParsedCertificate = {
    der: bytes,
    tbs,
    signature,
    serialHex: toHex(magnitude),
    subject,
    issuer,
    subjectDer: new Uint8Array(AsnSerializer.serialize(t.subject)),
    issuerDer: new Uint8Array(AsnSerializer.serialize(t.issuer)),
    notBeforeMs,
    notAfterMs,
    publicKey,
    isCa,
    ...(keyUsage === undefined ? {} : { keyUsage: Object.freeze(keyUsage) }),
    ...(role === undefined ? {} : { role }),
    attributes,
    fingerprint: toHex(sha256(bytes)),
  };
  return Object.freeze(parsed);
}

// ---------------------------------------------------------------------------------------------
// Verification
// ---------------------------------------------------------------------------------------------

function isIssuingCa(ca: ParsedCertificate): boolean {
  return ca.isCa && ca.keyUsage?.includes('keyCertSign') === true;
}

function checkCaValidity(ca: ParsedCertificate, atMs: number): void {
  if (atMs < ca.notBeforeMs) throw new CertificateError('CA_NOT_YET_VALID');
  if (atMs > ca.notAfterMs) throw new CertificateError('CA_EXPIRED');
}

/**
 * Verifies that member certificate `cert` was issued by CA certificate `issuer` and that both are
 * valid at `atMs` (the block time; validity is inclusive, RFC 5280 §4.1.2.5). Checks, in order:
 * issuer is a CA (`NOT_A_CA`), `cert` is a member (`NOT_A_MEMBER`, `KEY_USAGE`), issuer name
 * chaining (`ISSUER_MISMATCH`), same organization (`ORG_MISMATCH`), the strict Ed25519 signature
 * over `cert.tbs` (`BAD_SIGNATURE`), CA validity, then member validity. Only two-level
 * hierarchies (org CA → member) are supported. Throws {@link CertificateError}; returns nothing.
 * @example verifyIssuedBy(parseCertificate(memberDer), parseCertificate(caDer), block.timestampMs)
 */
export function verifyIssuedBy(cert: ParsedCertificate, issuer: ParsedCertificate, atMs: number): void {
  checkAtMs(atMs);
  // RFC 5280 §6.1.4(k), (n): the issuer must be a CA allowed to sign certificates.
  if (!isIssuingCa(issuer)) throw new CertificateError('NOT_A_CA');
  if (cert.isCa || cert.role === undefined) throw new CertificateError('NOT_A_MEMBER');
  if (cert.keyUsage !== undefined && !cert.keyUsage.includes('digitalSignature'))
    throw new CertificateError('KEY_USAGE');
  // RFC 5280 §6.1.3(a)(4): issuer name equals the working issuer name (binary comparison).
  if (!constantTimeEqual(cert.issuerDer, issuer.subjectDer)) throw new CertificateError('ISSUER_MISMATCH');
  if (cert.subject.organization !== issuer.subject.organization) throw new CertificateError('ORG_MISMATCH');
  // RFC 5280 §6.1.3(a)(1), RFC 8410 §6: Ed25519 over the exact DER TBSCertificate.
  if (!verify(cert.signature, cert.tbs, issuer.publicKey)) throw new CertificateError('BAD_SIGNATURE');
  // RFC 5280 §6.1.3(a)(2): every certificate in the path must be valid at the time of use.
  checkCaValidity(issuer, atMs);
  if (atMs < cert.notBeforeMs) throw new CertificateError('NOT_YET_VALID');
  if (atMs > cert.notAfterMs) throw new CertificateError('EXPIRED');
}

/**
 * Verifies a self-signed organization CA certificate (e.g. from genesis) at `atMs`: it is a CA
 * (`NOT_A_CA`), issuer name equals subject name (`ISSUER_MISMATCH`), its signature verifies under
 * its own key (`BAD_SIGNATURE`) and it is within its validity (`CA_NOT_YET_VALID`, `CA_EXPIRED`).
 * @example verifySelfSigned(parseCertificate(genesis.orgs[0].caDer), genesis.timestampMs)
 */
export function verifySelfSigned(ca: ParsedCertificate, atMs: number): void {
  checkAtMs(atMs);
  if (!isIssuingCa(ca)) throw new CertificateError('NOT_A_CA');
  if (!constantTimeEqual(ca.issuerDer, ca.subjectDer)) throw new CertificateError('ISSUER_MISMATCH');
  if (!verify(ca.signature, ca.tbs, ca.publicKey)) throw new CertificateError('BAD_SIGNATURE');
  checkCaValidity(ca, atMs);
}

// ---------------------------------------------------------------------------------------------
// PEM (RFC 7468)
// ---------------------------------------------------------------------------------------------

/** RFC 7468 §3: label = [ labelchar *( ["-" / SP] labelchar ) ], labelchar = %x21-2C / %x2E-7E. */
const PEM_LABEL = /^(?:[\x21-\x2c\x2e-\x7e](?:[- ]?[\x21-\x2c\x2e-\x7e])*)?$/;

function checkLabel(label: string): void {
  if (typeof label !== 'string' || !PEM_LABEL.test(label))
    throw new CertificateError('BAD_PEM', 'invalid PEM label');
}

function toBase64(bytes: Uint8Array): string {
  const s = toBase64Url(bytes).replace(/-/g, '+').replace(/_/g, '/');
  return s + '='.repeat((4 - (s.length % 4)) % 4);
}

/** Strict standard base64 with padding (RFC 4648 §4): canonical, so one encoding per value. */
function fromBase64(s: string): Uint8Array {
  if (s.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(s))
    throw new CertificateError('BAD_PEM', 'bad base64');
  const body = s.replace(/=+$/, ''); // length % 4 === 0 makes the padding count consistent
  try {
    return fromBase64Url(body.replace(/\+/g, '-').replace(/\//g, '_'));
  } catch {
    throw new CertificateError('BAD_PEM', 'non-canonical base64');
  }
}

/**
 * PEM-armours DER (RFC 7468 §2: 64-character lines, trailing newline).
 * @example toPem(der) // '-----BEGIN CERTIFICATE-----\nMIIB…\n-----END CERTIFICATE-----\n'
 */
export function toPem(der: Uint8Array, label = 'CERTIFICATE'): string {
  checkLabel(label);
  const b64 = toBase64(der);
  const lines: string[] = [];
  for (let i = 0; i < b64.length; i += 64) lines.push(b64.slice(i, i + 64));
  return `-----BEGIN ${label}-----\n${lines.join('\n')}${lines.length > 0 ? '\n' : ''}-----END ${label}-----\n`;
}

/**
 * Decodes exactly one PEM block with `label` (default `CERTIFICATE`). Whitespace (space, tab,
 * CR, LF) is allowed around the block and between base64 lines; any other text, a second block,
 * headers, a different label, or non-canonical base64 throws `BAD_PEM`.
 * @example const der = fromPem(await file.text())
 */
export function fromPem(pem: string, label = 'CERTIFICATE'): Uint8Array {
  checkLabel(label);
  if (typeof pem !== 'string') throw new CertificateError('BAD_PEM', 'PEM must be a string');
  const begins = pem.split('-----BEGIN ').length - 1;
  const ends = pem.split('-----END ').length - 1;
  if (begins !== 1 || ends !== 1)
    throw new CertificateError('BAD_PEM', `expected exactly one PEM block, found ${begins}`);
  const trimmed = pem.replace(/^[ \t\r\n]+|[ \t\r\n]+$/g, '');
  const head = `-----BEGIN ${label}-----`;
  const tail = `-----END ${label}-----`;
  if (!trimmed.startsWith(head) || !trimmed.endsWith(tail) || trimmed.length < head.length + tail.length)
    throw new CertificateError('BAD_PEM', `expected a single "${label}" block with nothing around it`);
  const body = trimmed.slice(head.length, trimmed.length - tail.length);
  if (!/^[A-Za-z0-9+/= \t\r\n]*$/.test(body))
    throw new CertificateError('BAD_PEM', 'unexpected characters in PEM body');
  const der = fromBase64(body.replace(/[ \t\r\n]/g, ''));
  if (der.length === 0) throw new CertificateError('BAD_PEM', 'empty PEM block');
  return der;
}
