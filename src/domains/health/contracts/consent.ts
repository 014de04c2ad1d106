/**
 * Consent contracts (FHIR Consent semantics): a patient — or a proxy they named — grants an
 * actor access to categories and resource types, for purposes, for a period; revokes it in one
 * transaction (effective from the next block); names proxies; excludes sensitive categories from
 * break-glass; and publishes an encryption key for records released to them.
 * @module
 */
import { canonicalize } from '../../../protocol/jcs.js';
import type { Contract } from '../../../contracts/contract.js';
import {
  CONSENT_ID_PATTERN,
  HealthKeys,
  actsForPatient,
  isTimestamp,
  onlyKeys,
  parseActor,
  parseCategories,
  parsePurposes,
  parseResourceTypes,
  parseSensitive,
  readJson,
  readPatient,
  type ConsentRecord,
  type SensitiveCategory,
} from './model.js';
import { MEMBER_ID_PATTERN } from '../../../protocol/tx.js';

type GrantPayload = Omit<ConsentRecord, 'grantor' | 'grantedAtHeight' | 'txId' | 'revokedAtHeight'>;

const MAX_CONSENTS_PER_PATIENT = 256;

/** `consent.grant`: the patient (or proxy) grants access. */
export const grantConsent: Contract<GrantPayload> = {
  type: 'consent.grant',
  roles: 'any',
  description:
    'Grant an actor (member, organization, or role with attributes) access to categories for purposes until a time.',
  parse(p) {
    if (
      !onlyKeys(p, [
        'id',
        'patient',
        'actor',
        'categories',
        'sensitive',
        'resourceTypes',
        'purposes',
        'validFromMs',
        'validUntilMs',
      ])
    )
      return { invalid: 'unknown field' };
    const actor = parseActor(p['actor']);
    const categories = parseCategories(p['categories']);
    const sensitive = parseSensitive(p['sensitive'] ?? []);
    const resourceTypes = parseResourceTypes(p['resourceTypes'] ?? ['*']);
    const purposes = parsePurposes(p['purposes']);
    if (typeof p['id'] !== 'string' || !CONSENT_ID_PATTERN.test(p['id'])) return { invalid: 'id' };
    if (typeof p['patient'] !== 'string' || !MEMBER_ID_PATTERN.test(p['patient']))
      return { invalid: 'patient' };
    if (!actor) return { invalid: 'actor' };
    if (!categories) return { invalid: 'categories' };
    if (!sensitive) return { invalid: 'sensitive' };
    if (!resourceTypes || resourceTypes.length === 0) return { invalid: 'resourceTypes' };
    if (!purposes) return { invalid: 'purposes' };
    if (categories.length === 0 && sensitive.length === 0) return { invalid: 'grant at least one category' };
    if (
      !isTimestamp(p['validFromMs']) ||
      !isTimestamp(p['validUntilMs']) ||
      p['validUntilMs'] <= p['validFromMs']
    )
      return { invalid: 'validity period' };
    return {
      id: p['id'],
      patient: p['patient'],
      actor,
      categories,
      sensitive,
      resourceTypes,
      purposes,
      validFromMs: p['validFromMs'],
      validUntilMs: p['validUntilMs'],
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

/** `consent.revoke`: one transaction; decisions from the next block on no longer see it. */
export const revokeConsent: Contract<{ patient: string; id: string }> = {
  type: 'consent.revoke',
  roles: 'any',
  description: 'Revoke a consent; effective from the next block.',
  parse(p) {
    if (!onlyKeys(p, ['patient', 'id'])) return { invalid: 'expected { patient, id }' };
    if (typeof p['patient'] !== 'string' || !MEMBER_ID_PATTERN.test(p['patient']))
      return { invalid: 'patient' };
    if (typeof p['id'] !== 'string' || !CONSENT_ID_PATTERN.test(p['id'])) return { invalid: 'id' };
    return { patient: p['patient'], id: p['id'] };
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

/** `patient.set-proxies`: the patient names who may act for them (guardian, proxy); an org-admin of the patient's organization may too (e.g. for a minor). */
export const setProxies: Contract<{ patient: string; proxies: string[] }> = {
  type: 'patient.set-proxies',
  roles: ['patient', 'org-admin'],
  description: 'Set the members who may grant and revoke consent for a patient.',
  parse(p) {
    if (!onlyKeys(p, ['patient', 'proxies'])) return { invalid: 'expected { patient, proxies }' };
    if (typeof p['patient'] !== 'string' || !MEMBER_ID_PATTERN.test(p['patient']))
      return { invalid: 'patient' };
    const list = p['proxies'];
    if (
      !Array.isArray(list) ||
      list.length > 8 ||
      !list.every((x) => typeof x === 'string' && MEMBER_ID_PATTERN.test(x)) ||
      new Set(list).size !== list.length
    )
      return { invalid: 'proxies: up to 8 distinct member ids' };
    return { patient: p['patient'], proxies: list as string[] };
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

/** `patient.set-break-glass-exclusions`: sensitive categories withheld even from break-glass. */
export const setBreakGlassExclusions: Contract<{ patient: string; exclude: SensitiveCategory[] }> = {
  type: 'patient.set-break-glass-exclusions',
  roles: 'any',
  description: 'Exclude sensitive categories from emergency (break-glass) access.',
  parse(p) {
    if (!onlyKeys(p, ['patient', 'exclude'])) return { invalid: 'expected { patient, exclude }' };
    const exclude = parseSensitive(p['exclude']);
    if (typeof p['patient'] !== 'string' || !MEMBER_ID_PATTERN.test(p['patient']))
      return { invalid: 'patient' };
    if (!exclude) return { invalid: 'exclude: sensitive categories' };
    return { patient: p['patient'], exclude };
  },
  execute(ctx, { patient, exclude }) {
    if (readPatient(ctx.get, patient) === undefined) return 'UNKNOWN_PATIENT';
    if (!actsForPatient(ctx.get, ctx.signer, patient)) return 'NOT_PATIENT_OR_PROXY';
    ctx.put(HealthKeys.breakGlassExclusions(patient), canonicalize(exclude));
    return 'VALID';
  },
};

/** `member.set-encryption-key`: a member publishes the X25519 key records are wrapped to for them. */
export const setEncryptionKey: Contract<{ publicKey: string }> = {
  type: 'member.set-encryption-key',
  roles: 'any',
  description: "Publish the signer's X25519 public key (base64url) for records released to them.",
  parse(p) {
    if (
      !onlyKeys(p, ['publicKey']) ||
      typeof p['publicKey'] !== 'string' ||
      !/^[A-Za-z0-9_-]{43}$/.test(p['publicKey'])
    )
      return { invalid: 'expected { publicKey: 32 bytes base64url }' };
    return { publicKey: p['publicKey'] };
  },
  execute(ctx, { publicKey }) {
    ctx.put(HealthKeys.encryptionKey(ctx.signer.id), JSON.stringify(publicKey));
    return 'VALID';
  },
};
