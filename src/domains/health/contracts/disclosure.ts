/**
 * A grant's life after its decision: whether it is still in force ({@link grantInForce}, checked
 * by the gatekeeper at every release and again by `access.disclose` at commit), ending it early
 * (`access.end`), and the accounting of disclosures (`access.disclose`): every release is a
 * transaction signed by the custodian naming the grant, the requester and the record ids and
 * versions released — ids only, never health data — committed before any byte leaves.
 *
 * A grant is in force while, at the block's height and time: it was not ended; the patient is not
 * erased; its lifetime has not run out (consent and self grants: 15 minutes; break-glass: the
 * duration asked, ≤ 24 h); for a consent grant, the consent it was decided under is unrevoked
 * (a revocation counts from the block after the revoking one) and still valid; for a self grant,
 * the requester still acts for the patient.
 * @module
 */
import { Type as T } from '@sinclair/typebox';
import { canonicalize } from '../../../protocol/jcs.js';
import type { ValidationCode } from '../../../protocol/validation.js';
import { readMember, type Contract, type MemberRecord } from '../../../contracts/contract.js';
import { closedObject, compilePayload, integer, matching, oneOf } from '../../../contracts/payload.js';
import {
  HealthKeys,
  MemberId,
  PatientId,
  RECORD_ID_PATTERN,
  actsForPatient,
  readJson,
  readPatient,
  type AccessGrant,
  type ConsentRecord,
  type RecordEntry,
} from './model.js';

/** Why a committed grant no longer releases anything at `height`/`timeMs`, or null if in force. Pure. */
export function grantInForce(
  get: (k: string) => string | undefined,
  grant: AccessGrant,
  height: number,
  timeMs: number,
): ValidationCode | null {
  if (get(HealthKeys.accessEnd(grant.txId)) !== undefined) return 'ACCESS_ENDED';
  if (get(HealthKeys.erasure(grant.patient)) !== undefined) return 'PATIENT_ERASED';
  if (timeMs > grant.expiresAtMs) return 'ACCESS_EXPIRED';
  if (grant.kind === 'consent') {
    const c =
      grant.consentId === null
        ? undefined
        : readJson<ConsentRecord>(get, HealthKeys.consent(grant.patient, grant.consentId));
    if (c === undefined) return 'CONSENT_REVOKED';
    if (c.revokedAtHeight !== null && c.revokedAtHeight < height) return 'CONSENT_REVOKED';
    if (timeMs > c.validUntilMs) return 'CONSENT_EXPIRED';
  } else if (grant.kind === 'self') {
    const m = readMember(get, grant.requester);
    if (m === undefined || !actsForPatient(get, m, grant.patient, timeMs)) return 'NOT_PATIENT_OR_PROXY';
  }
  return null;
}

/** Who reviews break-glass: an auditor or org-admin of the patient's or the requester's organization. */
function reviews(get: (k: string) => string | undefined, signer: MemberRecord, grant: AccessGrant): boolean {
  if (signer.role !== 'auditor' && signer.role !== 'org-admin') return false;
  const orgs = [readPatient(get, grant.patient)?.org, grant.requester.split('/')[0]];
  return orgs.includes(signer.org);
}

const TxId = matching(/^[0-9a-f]{64}$/, { description: 'the access grant’s transaction id (64 hex)' });

const END = compilePayload(closedObject({ patient: PatientId, accessTxId: TxId }));

/**
 * `access.end`: ends a grant at once. The patient (or a proxy) may end any grant of theirs, the
 * grantee their own, and a reviewer (auditor or org-admin of the patient's or the requester's
 * organization) a break-glass grant.
 */
export const endAccess: Contract<{ patient: string; accessTxId: string }> = {
  type: 'access.end',
  roles: 'any',
  description:
    'End an access grant now: by the patient or proxy (any grant), the grantee, or a reviewer (break-glass).',
  payload: END.schema,
  parse(p) {
    if (!END.check(p)) return END.invalid(p);
    return { patient: p.patient, accessTxId: p.accessTxId };
  },
  execute(ctx, { patient, accessTxId }) {
    const grant = readJson<AccessGrant>(ctx.get, HealthKeys.access(accessTxId));
    if (grant === undefined || grant.patient !== patient) return 'ACCESS_NOT_FOUND';
    const may =
      actsForPatient(ctx.get, ctx.signer, patient) ||
      ctx.signer.id === grant.requester ||
      (grant.kind === 'break-glass' && reviews(ctx.get, ctx.signer, grant));
    if (!may) return 'NOT_PATIENT_OR_PROXY';
    if (ctx.get(HealthKeys.accessEnd(accessTxId)) !== undefined) return 'ACCESS_ENDED';
    ctx.put(
      HealthKeys.accessEnd(accessTxId),
      canonicalize({ endedBy: ctx.signer.id, atHeight: ctx.height, atMs: ctx.timestampMs }),
    );
    return 'VALID';
  },
};

/** The most record versions one disclosure names (a larger release commits several). */
export const MAX_DISCLOSED_RECORDS = 256;

/** Where a release left by: REST release (re-wrapped), FHIR (decrypted over TLS), a binary. */
export const DISCLOSURE_CHANNELS = ['release', 'fhir', 'blob'] as const;

export interface DisclosurePayload {
  patient: string;
  accessTxId: string;
  requester: string;
  channel: (typeof DISCLOSURE_CHANNELS)[number];
  records: { id: string; version: number }[];
  blobId?: string;
}

const DISCLOSE = compilePayload(
  closedObject({
    patient: PatientId,
    accessTxId: TxId,
    requester: MemberId,
    channel: oneOf(DISCLOSURE_CHANNELS),
    records: T.Array(
      closedObject({
        id: matching(RECORD_ID_PATTERN, { description: 'record id' }),
        version: integer(1, undefined, 'record version'),
      }),
      { maxItems: MAX_DISCLOSED_RECORDS, description: 'the record ids and versions released' },
    ),
    blobId: T.Optional(matching(/^[A-Za-z0-9_-]{8,128}$/, { description: 'the binary released' })),
  }),
);

/**
 * `access.disclose`: the custodian's accounting of one release, committed before the data leaves.
 * Refused (and so nothing released) unless the grant is still in force at this block and every
 * record named is this custodian's, of this patient, at a registered version.
 */
export const discloseAccess: Contract<DisclosurePayload> = {
  type: 'access.disclose',
  roles: ['custodian'],
  description:
    'Account for a release under an access grant: the requester and the record ids and versions (no health data).',
  payload: DISCLOSE.schema,
  parse(p) {
    if (!DISCLOSE.check(p)) return DISCLOSE.invalid(p);
    const seen = new Set(p.records.map((r) => `${r.id}@${r.version}`));
    if (seen.size !== p.records.length) return { invalid: 'records: duplicate' };
    return {
      patient: p.patient,
      accessTxId: p.accessTxId,
      requester: p.requester,
      channel: p.channel,
      records: p.records.map((r) => ({ id: r.id, version: r.version })),
      ...(p.blobId === undefined ? {} : { blobId: p.blobId }),
    };
  },
  execute(ctx, d) {
    const grant = readJson<AccessGrant>(ctx.get, HealthKeys.access(d.accessTxId));
    if (grant === undefined || grant.patient !== d.patient || grant.requester !== d.requester)
      return 'ACCESS_NOT_FOUND';
    const code = grantInForce(ctx.get, grant, ctx.height, ctx.timestampMs);
    if (code !== null) return code;
    for (const r of d.records) {
      const e = readJson<RecordEntry>(ctx.get, HealthKeys.record(r.id));
      if (
        e === undefined ||
        e.patient !== d.patient ||
        e.custodian !== ctx.signer.org ||
        r.version > e.version
      )
        return 'UNKNOWN_RECORD';
    }
    return 'VALID';
  },
};
