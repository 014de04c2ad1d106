/**
 * Issuing certificates in the HealthLedger profile: self-signed organization CA certificates and
 * member certificates signed by them (Ed25519, RFC 8410).
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
import { concatBytes, constantTimeEqual, utf8 } from '../bytes.js';
import { publicKeyOf, sign } from '../ed25519.js';
import {
  ATTRIBUTES_EXTENSION_OID,
  type CreateCaCertificateOptions,
  ED25519_OID,
  type IssueMemberCertificateOptions,
  KEY_USAGE_BITS,
  OID_AUTHORITY_KEY_ID,
  OID_BASIC_CONSTRAINTS,
  OID_CN,
  OID_KEY_USAGE,
  OID_O,
  OID_OU,
  OID_SUBJECT_KEY_ID,
  type ParsedCertificate,
  ROLES,
  canonicalAttributesJson,
  checkId,
  checkKeyBytes,
  checkTimeArgument,
  isRole,
  keyIdentifier,
  publicKeyProblem,
  requireArgument,
  serialContent,
} from './profile.js';
import {
  TAG_BOOLEAN,
  TAG_INTEGER,
  TAG_OCTET_STRING,
  TAG_SEQUENCE,
  TAG_UTF8_STRING,
  encodeNamedBits,
  readOnly,
  tlv,
  toArrayBuffer,
} from './der.js';
import { isIssuingCa, parseCertificate } from './parse.js';

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
