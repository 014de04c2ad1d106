/**
 * Membership: organizations' admins enroll members with X.509 certificates issued by their own
 * CA, and revoke them. Changes take effect from the next block: the executor authenticates every
 * signer against state as of the block's start.
 * @module
 */
import { fromBase64Url, toBase64Url } from '../protocol/bytes.js';
import { canonicalize } from '../protocol/jcs.js';
import { ID_PATTERN, MEMBER_ID_PATTERN } from '../protocol/tx.js';
import type { ValidatedGenesis } from '../protocol/genesis.js';
import type { StateWrite } from '../protocol/block.js';
import { fromPem, parseCertificate, verifyIssuedBy, type ParsedCertificate } from '../protocol/x509.js';
import { readMember, type Contract, type MemberRecord } from './contract.js';
import { Keys } from './state.js';
import { closedObject, compilePayload, matching } from './payload.js';
import { Type as T } from '@sinclair/typebox';

/** Organization record stored under `org/<id>`. */
export interface OrgRecord {
  id: string;
  name: string;
  /** CA certificate DER, base64url. */
  caCertificate: string;
  caFingerprint: string;
}

/** Builds the member record for a verified certificate. */
export function memberRecordOf(cert: ParsedCertificate, height: number): MemberRecord {
  const role = cert.role;
  if (role === undefined) throw new TypeError('member certificate without a role');
  return {
    id: `${cert.subject.organization}/${cert.subject.commonName}`,
    org: cert.subject.organization,
    role,
    attributes: cert.attributes,
    publicKey: toBase64Url(cert.publicKey),
    certFingerprint: cert.fingerprint,
    certificate: toBase64Url(cert.der),
    notBeforeMs: cert.notBeforeMs,
    notAfterMs: cert.notAfterMs,
    enrolledAtHeight: height,
    revokedAtHeight: null,
    revocationReason: null,
  };
}

/** The state written by the genesis document (height 0): organizations and their admins. */
export function genesisWrites(validated: ValidatedGenesis): StateWrite[] {
  const writes: StateWrite[] = [];
  for (const { org, ca, admins } of validated.orgs.values()) {
    const record: OrgRecord = {
      id: org.id,
      name: org.name,
      caCertificate: toBase64Url(ca.der),
      caFingerprint: ca.fingerprint,
    };
    writes.push([Keys.org(org.id), canonicalize(record)]);
    for (const admin of admins) {
      const m = memberRecordOf(admin, 0);
      writes.push([Keys.member(m.id), canonicalize(m)]);
    }
  }
  return writes;
}

interface EnrollPayload {
  certificate: string;
}

const ENROLL = compilePayload(
  closedObject({
    certificate: T.String({ maxLength: 16_384, description: 'X.509 certificate, PEM' }),
  }),
);

/** `member.enroll`: an org-admin enrolls a member certificate issued by their organization's CA. */
export const enrollMember: Contract<EnrollPayload> = {
  type: 'member.enroll',
  roles: ['org-admin'],
  description: "Enroll a member (X.509 certificate, PEM, issued by the signer's organization CA).",
  payload: ENROLL.schema,
  parse(p) {
    // The certificate itself is checked at execution (it decides BAD_CERTIFICATE, not INVALID_PAYLOAD).
    if (!ENROLL.check(p)) return ENROLL.invalid(p);
    return { certificate: p.certificate };
  },
  execute(ctx, { certificate }) {
    let cert: ParsedCertificate;
    try {
      cert = parseCertificate(fromPem(certificate));
    } catch {
      return 'BAD_CERTIFICATE';
    }
    if (cert.isCa || cert.role === undefined) return 'BAD_CERTIFICATE';
    if (cert.subject.organization !== ctx.signer.org) return 'WRONG_ORGANIZATION';
    if (!ID_PATTERN.test(cert.subject.commonName)) return 'BAD_CERTIFICATE';
    const orgRaw = ctx.get(Keys.org(ctx.signer.org));
    if (orgRaw === undefined) return 'BAD_CERTIFICATE';
    const org = JSON.parse(orgRaw) as OrgRecord;
    try {
      verifyIssuedBy(cert, parseCertificate(fromBase64Url(org.caCertificate)), ctx.timestampMs);
    } catch {
      return 'BAD_CERTIFICATE';
    }
    const record = memberRecordOf(cert, ctx.height);
    const existing = readMember(ctx.get, record.id);
    if (existing !== undefined && existing.revokedAtHeight === null) return 'MEMBER_EXISTS';
    ctx.put(Keys.member(record.id), canonicalize(record));
    return 'VALID';
  },
};

interface RevokePayload {
  memberId: string;
  reason: string;
}

const REVOKE = compilePayload(
  closedObject({
    memberId: matching(MEMBER_ID_PATTERN, { description: 'member id, `<org>/<id>`' }),
    reason: T.String({ maxLength: 256 }),
  }),
);

/** `member.revoke`: an org-admin revokes a member of their organization, from the next block on. */
export const revokeMember: Contract<RevokePayload> = {
  type: 'member.revoke',
  roles: ['org-admin'],
  description: 'Revoke a member of the signer’s organization; effective from the next block.',
  payload: REVOKE.schema,
  parse(p) {
    if (!REVOKE.check(p)) return REVOKE.invalid(p);
    return { memberId: p.memberId, reason: p.reason };
  },
  execute(ctx, { memberId, reason }) {
    const member = readMember(ctx.get, memberId);
    if (member === undefined) return 'MEMBER_NOT_FOUND';
    if (member.org !== ctx.signer.org) return 'WRONG_ORGANIZATION';
    if (member.revokedAtHeight !== null) return 'MEMBER_ALREADY_REVOKED';
    const revoked: MemberRecord = { ...member, revokedAtHeight: ctx.height, revocationReason: reason };
    ctx.put(Keys.member(memberId), canonicalize(revoked));
    return 'VALID';
  },
};
