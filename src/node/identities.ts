/**
 * Member identities issued from an organization CA kept in a node home (the embedded default;
 * in production the CA key is offline and certificates come from the hospital's own PKI).
 * @module
 */
import { existsSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { toBase64Url } from '../protocol/bytes.js';
import { generateKeyPair, publicKeyOf } from '../protocol/ed25519.js';
import { fromPem, issueMemberCertificate, toPem, type Role } from '../protocol/x509.js';
import { homePaths, readKey, readPem, writeSecret, type IdentityFile } from './home.js';

const YEAR_MS = 365 * 24 * 3600_000;

/**
 * Creates a member key pair and a certificate issued by the organization's CA (whose key is in
 * this home), and saves the identity file. Enrollment on the ledger is a separate transaction.
 */
/**
 * Issues a member certificate from the org CA in `dir` for a public key the member generated
 * elsewhere (e.g. in the portal): the private key never reaches this machine. Returns the PEM.
 */
export function issueCertificateFor(
  dir: string,
  opts: {
    orgId: string;
    memberId: string;
    role: Role;
    attributes: Record<string, string>;
    publicKey: Uint8Array;
    nowMs: number;
    validityMs?: number;
  },
): string {
  const p = homePaths(dir);
  const nowS = Math.floor(opts.nowMs / 1000) * 1000;
  return toPem(
    issueMemberCertificate({
      orgId: opts.orgId,
      caPrivateKey: readKey(p.caKey(opts.orgId)),
      caCertificate: fromPem(readPem(p.caCert(opts.orgId))),
      memberId: opts.memberId,
      role: opts.role,
      attributes: opts.attributes,
      publicKey: opts.publicKey,
      serial: randomBytes(16),
      notBeforeMs: nowS - 5 * 60_000,
      notAfterMs: nowS + (opts.validityMs ?? YEAR_MS),
    }),
  );
}

export function createIdentity(
  dir: string,
  opts: {
    orgId: string;
    memberId: string;
    role: Role;
    attributes: Record<string, string>;
    nowMs: number;
    validityMs?: number;
  },
): IdentityFile {
  const p = homePaths(dir);
  const caKey = readKey(p.caKey(opts.orgId));
  const caCert = fromPem(readPem(p.caCert(opts.orgId)));
  const key = generateKeyPair();
  const nowS = Math.floor(opts.nowMs / 1000) * 1000;
  const der = issueMemberCertificate({
    orgId: opts.orgId,
    caPrivateKey: caKey,
    caCertificate: caCert,
    memberId: opts.memberId,
    role: opts.role,
    attributes: opts.attributes,
    publicKey: publicKeyOf(key.privateKey),
    serial: randomBytes(16),
    notBeforeMs: nowS - 5 * 60_000,
    notAfterMs: nowS + (opts.validityMs ?? YEAR_MS),
  });
  const file: IdentityFile = {
    memberId: `${opts.orgId}/${opts.memberId}`,
    privateKey: toBase64Url(key.privateKey),
    certificate: toPem(der),
  };
  const path = p.identity(file.memberId);
  if (existsSync(path)) throw new Error(`identity ${file.memberId} already exists at ${path}`);
  writeSecret(path, JSON.stringify(file, null, 2) + '\n');
  return file;
}
