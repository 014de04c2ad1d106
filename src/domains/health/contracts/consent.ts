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
  readJson,
  readPatient,
  type ConsentRecord,
  type SensitiveCategory,
} from './model.js';

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
    if (!actsForPatient(ctx.get, ctx.signer, g.patient)) return 'NOT_PATIENT_OR_PROXY';
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
    if (!actsForPatient(ctx.get, ctx.signer, patient)) return 'NOT_PATIENT_OR_PROXY';
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
  }),
);

/** `patient.set-proxies`: the patient names who may act for them (guardian, proxy); an org-admin of the patient's organization may too (e.g. for a minor). */
export const setProxies: Contract<{ patient: string; proxies: string[] }> = {
  type: 'patient.set-proxies',
  roles: ['patient', 'org-admin'],
  description: 'Set the members who may grant and revoke consent for a patient.',
  payload: PROXIES.schema,
  parse(p) {
    if (!PROXIES.check(p)) return PROXIES.invalid(p);
    if (!distinct(p.proxies)) return { invalid: 'proxies: duplicate' };
    return { patient: p.patient, proxies: p.proxies };
  },
  execute(ctx, { patient, proxies }) {
    const p = readPatient(ctx.get, patient);
    if (p === undefined) return 'UNKNOWN_PATIENT';
    const isAdmin = ctx.signer.role === 'org-admin' && ctx.signer.org === p.org;
    if (ctx.signer.id !== patient && !isAdmin) return 'NOT_PATIENT_OR_PROXY';
    ctx.put(HealthKeys.proxies(patient), canonicalize(proxies));
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
    if (!actsForPatient(ctx.get, ctx.signer, patient)) return 'NOT_PATIENT_OR_PROXY';
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
