/**
 * Consent contracts (FHIR Consent semantics): a patient — or a proxy they named — grants an
 * actor access to categories and resource types, for purposes, for a period; revokes it in one
 * transaction (effective from the next block); names proxies; excludes sensitive categories from
 * break-glass; and publishes an encryption key for records released to them.
 * @module
 */
import { canonicalize } from '../../../protocol/jcs.js';
import type { Contract } from '../../../contracts/contract.js';
import { Type as T } from '@sinclair/typebox';
import { closedObject, compilePayload, distinct, integer, matching } from '../../../contracts/payload.js';
import {
  Actor,
  CONSENT_ID_PATTERN,
  Categories,
  HealthKeys,
  PatientId,
  Purposes,
  ResourceTypes,
  Sensitive,
  Timestamp,
  MemberId,
  actorOf,
  actsForPatient,
  proxyAppointment,
  readJson,
  readPatient,
  GUARDIAN_PROPOSAL_TTL_MS,
  MAX_GUARDIAN_MS,
  type ConsentRecord,
  type GuardianAppointment,
  type GuardianProposal,
  type SensitiveCategory,
} from './model.js';
import { readMember } from '../../../contracts/contract.js';

type GrantPayload = Omit<ConsentRecord, 'grantor' | 'grantedAtHeight' | 'txId' | 'revokedAtHeight'>;

const MAX_CONSENTS_PER_PATIENT = 256;

const ConsentId = matching(CONSENT_ID_PATTERN);

const GRANT = compilePayload(
  closedObject({
    id: ConsentId,
    patient: PatientId,
    actor: Actor,
    categories: Categories,
    sensitive: T.Optional(T.Union([Sensitive, T.Null()], { description: 'default []' })),
    resourceTypes: T.Optional(T.Union([ResourceTypes(1), T.Null()], { description: "default ['*']" })),
    purposes: Purposes,
    validFromMs: Timestamp,
    validUntilMs: integer(0, undefined, 'ms since the epoch, after validFromMs'),
  }),
);

/** `consent.grant`: the patient (or proxy) grants access. */
export const grantConsent: Contract<GrantPayload> = {
  type: 'consent.grant',
  roles: 'any',
  description:
    'Grant an actor (member, organization, or role with attributes) access to categories for purposes until a time.',
  payload: GRANT.schema,
  parse(p) {
    if (!GRANT.check(p)) return GRANT.invalid(p);
    // A missing or null list takes its default.
    const sensitive = p.sensitive ?? [];
    const resourceTypes = p.resourceTypes ?? ['*'];
    if (!distinct(p.categories)) return { invalid: 'categories: duplicate' };
    if (!distinct(sensitive)) return { invalid: 'sensitive: duplicate' };
    if (!distinct(resourceTypes)) return { invalid: 'resourceTypes: duplicate' };
    if (!distinct(p.purposes)) return { invalid: 'purposes: duplicate' };
    if (p.categories.length === 0 && sensitive.length === 0)
      return { invalid: 'grant at least one category' };
    if (p.validUntilMs <= p.validFromMs) return { invalid: 'validity period' };
    return {
      id: p.id,
      patient: p.patient,
      actor: actorOf(p.actor),
      categories: p.categories,
      sensitive,
      resourceTypes,
      purposes: p.purposes,
      validFromMs: p.validFromMs,
      validUntilMs: p.validUntilMs,
    };
  },
  execute(ctx, g) {
    if (readPatient(ctx.get, g.patient) === undefined) return 'UNKNOWN_PATIENT';
    if (!actsForPatient(ctx.get, ctx.signer, g.patient, ctx.timestampMs)) return 'NOT_PATIENT_OR_PROXY';
    // A proxy grants no more than its appointment lets it see: no sensitive category beyond it.
    const appointment = proxyAppointment(ctx.get, ctx.signer.id, g.patient, ctx.timestampMs);
    if (appointment !== undefined && !g.sensitive.every((x) => appointment.sensitive.includes(x)))
      return 'SENSITIVE_NOT_PERMITTED';
    if (ctx.get(HealthKeys.erasure(g.patient)) !== undefined) return 'PATIENT_ERASED';
    const key = HealthKeys.consent(g.patient, g.id);
    if (ctx.get(key) !== undefined) return 'CONSENT_EXISTS';
    const index = readJson<string[]>(ctx.get, HealthKeys.consentIndex(g.patient)) ?? [];
    if (index.length >= MAX_CONSENTS_PER_PATIENT) return 'INVALID_PAYLOAD';
    const record: ConsentRecord = {
      ...g,
      grantor: ctx.signer.id,
      grantedAtHeight: ctx.height,
      txId: ctx.txId,
      revokedAtHeight: null,
    };
    ctx.put(key, canonicalize(record));
    ctx.put(HealthKeys.consentIndex(g.patient), canonicalize([...index, g.id]));
    return 'VALID';
  },
};

const REVOKE = compilePayload(closedObject({ patient: PatientId, id: ConsentId }));

/** `consent.revoke`: one transaction; decisions from the next block on no longer see it. */
export const revokeConsent: Contract<{ patient: string; id: string }> = {
  type: 'consent.revoke',
  roles: 'any',
  description: 'Revoke a consent; effective from the next block.',
  payload: REVOKE.schema,
  parse(p) {
    if (!REVOKE.check(p)) return REVOKE.invalid(p);
    return { patient: p.patient, id: p.id };
  },
  execute(ctx, { patient, id }) {
    if (!actsForPatient(ctx.get, ctx.signer, patient, ctx.timestampMs)) return 'NOT_PATIENT_OR_PROXY';
    const c = readJson<ConsentRecord>(ctx.get, HealthKeys.consent(patient, id));
    if (c === undefined) return 'CONSENT_NOT_FOUND';
    if (c.revokedAtHeight !== null) return 'CONSENT_ALREADY_REVOKED';
    ctx.put(HealthKeys.consent(patient, id), canonicalize({ ...c, revokedAtHeight: ctx.height }));
    return 'VALID';
  },
};

const PROXIES = compilePayload(
  closedObject({
    patient: PatientId,
    proxies: T.Array(MemberId, { maxItems: 8, description: 'up to 8 distinct member ids' }),
    sensitive: T.Optional(Sensitive),
  }),
);

/**
 * `patient.set-proxies`: the patient — by her own signature only — names who may act for her,
 * and which sensitive categories they may see (default none). An organization appoints a
 * guardian for a patient who cannot sign only through `guardian.propose` + `guardian.approve`.
 */
export const setProxies: Contract<{ patient: string; proxies: string[]; sensitive?: SensitiveCategory[] }> = {
  type: 'patient.set-proxies',
  // org-admin stays listed so its attempt is refused by name (PROXY_NEEDS_PATIENT_SIGNATURE).
  roles: ['patient', 'org-admin'],
  description:
    "Set the members who may act for a patient (the patient's signature only), and the sensitive categories they may see.",
  payload: PROXIES.schema,
  parse(p) {
    if (!PROXIES.check(p)) return PROXIES.invalid(p);
    if (!distinct(p.proxies)) return { invalid: 'proxies: duplicate' };
    if (p.sensitive !== undefined && !distinct(p.sensitive)) return { invalid: 'sensitive: duplicate' };
    if (p.proxies.includes(p.patient)) return { invalid: 'proxies: the patient herself' };
    return p.sensitive === undefined
      ? { patient: p.patient, proxies: p.proxies }
      : { patient: p.patient, proxies: p.proxies, sensitive: p.sensitive };
  },
  execute(ctx, { patient, proxies, sensitive }) {
    if (readPatient(ctx.get, patient) === undefined) return 'UNKNOWN_PATIENT';
    if (ctx.signer.id !== patient) return 'PROXY_NEEDS_PATIENT_SIGNATURE';
    ctx.put(HealthKeys.proxies(patient), canonicalize(proxies));
    ctx.put(HealthKeys.proxyScope(patient), canonicalize({ sensitive: sensitive ?? [] }));
    return 'VALID';
  },
};

const GuardianProposalId = matching(CONSENT_ID_PATTERN);

const PROPOSE = compilePayload(
  closedObject({
    id: GuardianProposalId,
    patient: PatientId,
    guardian: MemberId,
    sensitive: Sensitive,
    durationMs: integer(3600_000, MAX_GUARDIAN_MS, '1 hour to the policy maximum (90 days)'),
  }),
);

/** Is `m` an org-admin or auditor (privacy officer) of organization `org`? */
const officerOf = (m: { role: string; org: string }, org: string): boolean =>
  m.org === org && (m.role === 'org-admin' || m.role === 'auditor');

/** Who may never be appointed by the institution: the patient, the signers of the flow, any org-admin. */
function guardianConflict(
  get: (k: string) => string | undefined,
  p: { patient: string; guardian: string },
  signers: string[],
): boolean {
  if (p.guardian === p.patient || signers.includes(p.guardian)) return true;
  const g = readMember(get, p.guardian);
  return g === undefined || g.role === 'org-admin';
}

/**
 * `guardian.propose`: first of two signers — an org-admin of the patient's organization proposes
 * a guardian (time-limited, with the sensitive categories it may see) for a patient who cannot
 * sign. Nothing is in force until a second, distinct officer approves.
 */
export const proposeGuardian: Contract<{
  id: string;
  patient: string;
  guardian: string;
  sensitive: SensitiveCategory[];
  durationMs: number;
}> = {
  type: 'guardian.propose',
  roles: ['org-admin'],
  description:
    "Propose a time-limited guardian for a patient who cannot sign (first of two signers of the patient's organization).",
  payload: PROPOSE.schema,
  parse(p) {
    if (!PROPOSE.check(p)) return PROPOSE.invalid(p);
    if (!distinct(p.sensitive)) return { invalid: 'sensitive: duplicate' };
    return {
      id: p.id,
      patient: p.patient,
      guardian: p.guardian,
      sensitive: p.sensitive,
      durationMs: p.durationMs,
    };
  },
  execute(ctx, p) {
    const patient = readPatient(ctx.get, p.patient);
    if (patient === undefined) return 'UNKNOWN_PATIENT';
    if (!officerOf(ctx.signer, patient.org)) return 'WRONG_ORGANIZATION';
    if (ctx.get(HealthKeys.erasure(p.patient)) !== undefined) return 'PATIENT_ERASED';
    if (readMember(ctx.get, p.guardian) === undefined) return 'MEMBER_NOT_FOUND';
    if (guardianConflict(ctx.get, p, [ctx.signer.id])) return 'GUARDIAN_CONFLICT';
    const key = HealthKeys.guardianProposal(p.patient, p.id);
    if (ctx.get(key) !== undefined) return 'GUARDIAN_PROPOSAL_EXISTS';
    const proposal: GuardianProposal = {
      ...p,
      proposer: ctx.signer.id,
      proposedAtMs: ctx.timestampMs,
      txId: ctx.txId,
      status: 'pending',
    };
    ctx.put(key, canonicalize(proposal));
    return 'VALID';
  },
};

const APPROVE = compilePayload(closedObject({ id: GuardianProposalId, patient: PatientId }));

/**
 * `guardian.approve`: the second signer — another org-admin or an auditor (privacy officer) of
 * the patient's organization, never the proposer — puts the appointment in force from this
 * block's time for the proposed duration. It is kept apart from the patient's own proxy list.
 */
export const approveGuardian: Contract<{ id: string; patient: string }> = {
  type: 'guardian.approve',
  roles: ['org-admin', 'auditor'],
  description:
    'Approve a guardian proposal (a second, distinct org-admin or auditor of the patient’s organization); time-limited.',
  payload: APPROVE.schema,
  parse(p) {
    if (!APPROVE.check(p)) return APPROVE.invalid(p);
    return { id: p.id, patient: p.patient };
  },
  execute(ctx, { id, patient }) {
    const pat = readPatient(ctx.get, patient);
    if (pat === undefined) return 'UNKNOWN_PATIENT';
    if (!officerOf(ctx.signer, pat.org)) return 'WRONG_ORGANIZATION';
    if (ctx.get(HealthKeys.erasure(patient)) !== undefined) return 'PATIENT_ERASED';
    const key = HealthKeys.guardianProposal(patient, id);
    const p = readJson<GuardianProposal>(ctx.get, key);
    if (p === undefined || p.status !== 'pending') return 'GUARDIAN_PROPOSAL_NOT_FOUND';
    if (ctx.timestampMs > p.proposedAtMs + GUARDIAN_PROPOSAL_TTL_MS) return 'GUARDIAN_PROPOSAL_EXPIRED';
    if (ctx.signer.id === p.proposer) return 'GUARDIAN_SAME_SIGNER';
    if (guardianConflict(ctx.get, p, [p.proposer, ctx.signer.id])) return 'GUARDIAN_CONFLICT';
    const appointment: GuardianAppointment = {
      patient,
      guardian: p.guardian,
      proposalId: id,
      sensitive: p.sensitive,
      proposer: p.proposer,
      approver: ctx.signer.id,
      appointedAtMs: ctx.timestampMs,
      expiresAtMs: ctx.timestampMs + Math.min(p.durationMs, MAX_GUARDIAN_MS),
      txId: ctx.txId,
    };
    ctx.put(key, canonicalize({ ...p, status: 'approved' }));
    ctx.put(HealthKeys.guardian(patient, p.guardian), canonicalize(appointment));
    return 'VALID';
  },
};

const END_GUARDIAN = compilePayload(closedObject({ patient: PatientId, guardian: MemberId }));

/** `guardian.end`: the patient, or an org-admin or auditor of her organization, ends an institutional appointment. */
export const endGuardian: Contract<{ patient: string; guardian: string }> = {
  type: 'guardian.end',
  roles: ['patient', 'org-admin', 'auditor'],
  description:
    "End an institutional guardian appointment (the patient, or an officer of the patient's organization).",
  payload: END_GUARDIAN.schema,
  parse(p) {
    if (!END_GUARDIAN.check(p)) return END_GUARDIAN.invalid(p);
    return { patient: p.patient, guardian: p.guardian };
  },
  execute(ctx, { patient, guardian }) {
    const pat = readPatient(ctx.get, patient);
    if (pat === undefined) return 'UNKNOWN_PATIENT';
    if (ctx.signer.id !== patient && !officerOf(ctx.signer, pat.org)) return 'NOT_PATIENT_OR_PROXY';
    const key = HealthKeys.guardian(patient, guardian);
    if (ctx.get(key) === undefined) return 'GUARDIAN_PROPOSAL_NOT_FOUND';
    ctx.del(key);
    return 'VALID';
  },
};

const EXCLUSIONS = compilePayload(closedObject({ patient: PatientId, exclude: Sensitive }));

/** `patient.set-break-glass-exclusions`: sensitive categories withheld even from break-glass. */
export const setBreakGlassExclusions: Contract<{ patient: string; exclude: SensitiveCategory[] }> = {
  type: 'patient.set-break-glass-exclusions',
  roles: 'any',
  description: 'Exclude sensitive categories from emergency (break-glass) access.',
  payload: EXCLUSIONS.schema,
  parse(p) {
    if (!EXCLUSIONS.check(p)) return EXCLUSIONS.invalid(p);
    if (!distinct(p.exclude)) return { invalid: 'exclude: duplicate' };
    return { patient: p.patient, exclude: p.exclude };
  },
  execute(ctx, { patient, exclude }) {
    if (readPatient(ctx.get, patient) === undefined) return 'UNKNOWN_PATIENT';
    if (!actsForPatient(ctx.get, ctx.signer, patient, ctx.timestampMs)) return 'NOT_PATIENT_OR_PROXY';
    ctx.put(HealthKeys.breakGlassExclusions(patient), canonicalize(exclude));
    return 'VALID';
  },
};

const ENCRYPTION_KEY = compilePayload(
  closedObject({
    publicKey: matching(/^[A-Za-z0-9_-]{43}$/, { description: 'X25519 public key, base64url' }),
  }),
);

/** `member.set-encryption-key`: a member publishes the X25519 key records are wrapped to for them. */
export const setEncryptionKey: Contract<{ publicKey: string }> = {
  type: 'member.set-encryption-key',
  roles: 'any',
  description: "Publish the signer's X25519 public key (base64url) for records released to them.",
  payload: ENCRYPTION_KEY.schema,
  parse(p) {
    if (!ENCRYPTION_KEY.check(p)) return ENCRYPTION_KEY.invalid(p);
    return { publicKey: p.publicKey };
  },
  execute(ctx, { publicKey }) {
    ctx.put(HealthKeys.encryptionKey(ctx.signer.id), JSON.stringify(publicKey));
    return 'VALID';
  },
};
