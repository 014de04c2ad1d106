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
export {
  ATTRIBUTES_EXTENSION_OID,
  CertificateError,
  CertificateErrorCodes,
  ED25519_OID,
  KEY_USAGE_BITS,
  MAX_CERTIFICATE_BYTES,
  ROLES,
  isRole,
  type CertificateErrorCode,
  type CertificateName,
  type CreateCaCertificateOptions,
  type IssueMemberCertificateOptions,
  type KeyUsageBit,
  type ParsedCertificate,
  type Role,
} from './x509/profile.js';
export { fromPem, toPem } from './x509/der.js';
export { createCaCertificate, issueMemberCertificate } from './x509/issue.js';
export { parseCertificate, verifyIssuedBy, verifySelfSigned } from './x509/parse.js';
