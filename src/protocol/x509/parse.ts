/**
 * Strict certificate parsing and chain validation for the HealthLedger profile: anything not
 * canonical DER, not Ed25519, or outside the profile is a {@link CertificateError}.
 * @module
 */
import { AsnParser, AsnSerializer } from '@peculiar/asn1-schema';
import { Certificate, Version } from '@peculiar/asn1-x509';
import type { Time, AlgorithmIdentifier, Name } from '@peculiar/asn1-x509';
import { constantTimeEqual, fromUtf8, toHex } from '../bytes.js';
import { SIGNATURE_LENGTH, verify } from '../ed25519.js';
import { sha256 } from '../hash.js';
import {
  ATTRIBUTES_EXTENSION_OID,
  CertificateError,
  type CertificateName,
  ED25519_OID,
  GENERALIZED_FROM_MS,
  KEY_USAGE_BITS,
  type KeyUsageBit,
  MAX_CERTIFICATE_BYTES,
  OID_BASIC_CONSTRAINTS,
  OID_CN,
  OID_KEY_USAGE,
  OID_O,
  OID_OU,
  type ParsedCertificate,
  type Role,
  canonicalAttributesJson,
  checkAtMs,
  isRole,
  nameTextProblem,
  publicKeyProblem,
} from './profile.js';
import {
  TAG_BIT_STRING,
  TAG_BOOLEAN,
  TAG_INTEGER,
  TAG_SEQUENCE,
  TAG_UTF8_STRING,
  encodeNamedBits,
  isMinimalInteger,
  readOnly,
  readTlv,
} from './der.js';

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

/** True if `ca` may issue certificates: a CA (basicConstraints cA) with keyCertSign. */
export function isIssuingCa(ca: ParsedCertificate): boolean {
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
