/**
 * Audited access. A read is a transaction signed by the requester; this contract decides it
 * deterministically at commit — granted (with the scope released and the consent that decided)
 * or denied (the validation code names the rule that decided). Only a committed grant lets the
 * custodian's gatekeeper release records. Denials are committed too: the trail shows both.
 *
 * Decision rule, in order:
 *   1. the patient must be an enrolled patient (UNKNOWN_PATIENT) and not erased (PATIENT_ERASED);
 *   2. the patient reading her own record: granted (kind `self`); a proxy the patient named, or
 *      a guardian appointed by her organization's two-person flow and in force: decided as a
 *      proxy (kind `proxy`, see {@link decideProxy}) — never as `self`;
 *   3. the patient's consents, newest first, whose actor matches the requester: the first one
 *      that is unrevoked (revocations count from the block after the revoking one), valid at the
 *      block's time, allows the purpose, and covers every requested category (sensitive ones
 *      only if named explicitly) and resource type grants access;
 *   4. otherwise denied with the reason of the newest matching consent, or NO_CONSENT.
 * @module
 */
import { canonicalize } from '../../../protocol/jcs.js';
import type { ValidationCode } from '../../../protocol/validation.js';
import type { Contract, MemberRecord } from '../../../contracts/contract.js';
import { closedObject, compilePayload, distinct, integer } from '../../../contracts/payload.js';
import { oneOf } from '../../../contracts/payload.js';
import { Type as T } from '@sinclair/typebox';
import {
  ACCESS_GRANT_TTL_MS,
  HealthKeys,
  MAX_BREAK_GLASS_MS,
  PURPOSES,
  SENSITIVE_CATEGORIES,
  Categories,
  PatientId,
  ResourceTypes,
  actorMatches,
  proxyAppointment,
  readJson,
  readPatient,
  type AccessGrant,
  type ConsentRecord,
  type Purpose,
  type SensitiveCategory,
} from './model.js';

/** What a requester asks for. Omitted categories/types = whatever the consent allows. */
export interface AccessRequest {
  patient: string;
  purpose: Purpose;
  categories: string[];
  resourceTypes: string[];
}

export type AccessDecision =
  | {
      granted: true;
      kind: 'consent' | 'self' | 'proxy';
      consentId: string | null;
      scope: AccessGrant['scope'];
      proxy?: AccessGrant['proxy'];
    }
  | { granted: false; code: ValidationCode };

const isSensitive = (c: string): c is SensitiveCategory =>
  (SENSITIVE_CATEGORIES as readonly string[]).includes(c);

/** The decision for `requester` at block height `height` and time `timeMs`. Pure. */
export function decideAccess(
  get: (k: string) => string | undefined,
  requester: MemberRecord,
  req: AccessRequest,
  height: number,
  timeMs: number,
): AccessDecision {
  if (readPatient(get, req.patient) === undefined) return { granted: false, code: 'UNKNOWN_PATIENT' };
  if (get(HealthKeys.erasure(req.patient)) !== undefined) return { granted: false, code: 'PATIENT_ERASED' };
  const wanted = req.categories.length ? req.categories : ['*'];
  const types = req.resourceTypes.length ? req.resourceTypes : ['*'];
  if (requester.id !== req.patient) {
    const proxy = decideProxy(get, requester, req, wanted, types, timeMs);
    if (proxy !== undefined) return proxy;
  }
  if (requester.id === req.patient)
    return {
      granted: true,
      kind: 'self',
      consentId: null,
      scope: {
        categories: ['*'],
        sensitive: [...SENSITIVE_CATEGORIES],
        resourceTypes: types,
        emergencyOnly: false,
      },
    };
  const ids = readJson<string[]>(get, HealthKeys.consentIndex(req.patient)) ?? [];
  let reason: ValidationCode | null = null;
  for (let i = ids.length - 1; i >= 0; i--) {
    const c = readJson<ConsentRecord>(get, HealthKeys.consent(req.patient, ids[i]!));
    if (c === undefined || !actorMatches(c.actor, requester)) continue;
    const code = checkConsent(c, req.purpose, wanted, types, height, timeMs);
    if (code === null) {
      const wantedPlain = wanted.filter((w) => !isSensitive(w));
      const wantedSensitive = wanted.filter(isSensitive);
      return {
        granted: true,
        kind: 'consent',
        consentId: c.id,
        scope: {
          categories: wantedPlain.includes('*') ? c.categories : wantedPlain,
          sensitive: wanted.includes('*') ? c.sensitive : wantedSensitive,
          resourceTypes: types.includes('*') ? c.resourceTypes : types,
          emergencyOnly: false,
        },
      };
    }
    reason ??= code;
  }
  return { granted: false, code: reason ?? 'NO_CONSENT' };
}

/**
 * A proxy's decision, within its own appointment: every non-sensitive category, and a sensitive
 * category only if the appointment names it (asked for by name, or all the appointment names on
 * `*`). The grant names who acted for whom. Undefined if `requester` is no proxy in force.
 */
function decideProxy(
  get: (k: string) => string | undefined,
  requester: MemberRecord,
  req: AccessRequest,
  wanted: string[],
  types: string[],
  timeMs: number,
): AccessDecision | undefined {
  const a = proxyAppointment(get, requester.id, req.patient, timeMs);
  if (a === undefined) return undefined;
  const wantedSensitive = wanted.filter(isSensitive);
  if (!wantedSensitive.every((w) => a.sensitive.includes(w)))
    return { granted: false, code: 'SENSITIVE_NOT_PERMITTED' };
  const wantedPlain = wanted.filter((w) => !isSensitive(w));
  return {
    granted: true,
    kind: 'proxy',
    consentId: null,
    scope: {
      categories: wantedPlain.includes('*') ? ['*'] : wantedPlain,
      sensitive: wanted.includes('*') ? [...a.sensitive] : wantedSensitive,
      resourceTypes: types,
      emergencyOnly: false,
    },
    proxy: { actor: requester.id, onBehalfOf: req.patient, appointedBy: a.appointedBy },
  };
}

function checkConsent(
  c: ConsentRecord,
  purpose: Purpose,
  wanted: string[],
  types: string[],
  height: number,
  timeMs: number,
): ValidationCode | null {
  // Revoked in an earlier block: gone. Revoked in this very block: still in force until the next.
  if (c.revokedAtHeight !== null && c.revokedAtHeight < height) return 'CONSENT_REVOKED';
  if (timeMs < c.validFromMs || timeMs > c.validUntilMs) return 'CONSENT_EXPIRED';
  if (!c.purposes.includes(purpose)) return 'PURPOSE_NOT_PERMITTED';
  for (const w of wanted) {
    if (isSensitive(w)) {
      if (!c.sensitive.includes(w)) return 'SENSITIVE_NOT_PERMITTED';
    } else if (w !== '*' && !c.categories.includes('*') && !c.categories.includes(w))
      return 'CATEGORY_NOT_PERMITTED';
    else if (w === '*' && c.categories.length === 0) return 'CATEGORY_NOT_PERMITTED';
  }
  if (
    !types.includes('*') &&
    !c.resourceTypes.includes('*') &&
    !types.every((t) => c.resourceTypes.includes(t))
  )
    return 'CATEGORY_NOT_PERMITTED';
  return null;
}

const REQUEST = compilePayload(
  closedObject({
    patient: PatientId,
    purpose: oneOf(PURPOSES),
    categories: T.Optional(
      T.Union([Categories, T.Null()], { description: 'default [] (what the consent allows)' }),
    ),
    resourceTypes: T.Optional(
      T.Union([ResourceTypes(), T.Null()], { description: 'default [] (what the consent allows)' }),
    ),
  }),
);

/** `access.request`: ask to read a patient's records; decided at commit, granted or denied. */
export const requestAccess: Contract<AccessRequest> = {
  type: 'access.request',
  roles: 'any',
  description:
    "Request access to a patient's records for a purpose; the decision is committed (granted or denied).",
  payload: REQUEST.schema,
  parse(p) {
    if (!REQUEST.check(p)) return REQUEST.invalid(p);
    // A missing or null list takes its default.
    const categories = p.categories ?? [];
    const resourceTypes = p.resourceTypes ?? [];
    if (!distinct(categories)) return { invalid: 'categories: duplicate' };
    if (!distinct(resourceTypes)) return { invalid: 'resourceTypes: duplicate' };
    return { patient: p.patient, purpose: p.purpose, categories, resourceTypes };
  },
  execute(ctx, req) {
    const d = decideAccess(ctx.get, ctx.signer, req, ctx.height, ctx.timestampMs);
    if (!d.granted) return d.code;
    const grant: AccessGrant = {
      txId: ctx.txId,
      kind: d.kind,
      requester: ctx.signer.id,
      patient: req.patient,
      purpose: req.purpose,
      consentId: d.consentId,
      scope: d.scope,
      atHeight: ctx.height,
      grantedAtMs: ctx.timestampMs,
      expiresAtMs: ctx.timestampMs + ACCESS_GRANT_TTL_MS,
      reason: null,
    };
    if (d.proxy !== undefined) grant.proxy = d.proxy;
    ctx.put(HealthKeys.access(ctx.txId), canonicalize(grant));
    return 'VALID';
  },
};

interface BreakGlassPayload {
  patient: string;
  reason: string;
  durationMs: number;
}

/** True if a practitioner's certificate carries an emergency role. */
export function hasEmergencyRole(m: MemberRecord): boolean {
  return (
    m.role === 'practitioner' &&
    (m.attributes['emergency'] === 'true' || m.attributes['specialty'] === 'emergency-medicine')
  );
}

const BREAK_GLASS = compilePayload(
  closedObject({
    patient: PatientId,
    reason: T.String({ minLength: 10, maxLength: 500, description: 'at least 10 characters besides spaces' }),
    durationMs: integer(60_000, MAX_BREAK_GLASS_MS, '1 minute to 24 hours'),
  }),
);

/** `access.break-glass`: emergency access to the emergency summary, time-boxed, flagged for review. */
export const breakGlass: Contract<BreakGlassPayload> = {
  type: 'access.break-glass',
  roles: ['practitioner'],
  description:
    'Emergency access to an unconscious patient’s emergency summary (≤ 24 h), always audited and reviewed.',
  payload: BREAK_GLASS.schema,
  parse(p) {
    if (!BREAK_GLASS.check(p)) return BREAK_GLASS.invalid(p);
    // Length is counted in UTF-16 units, as the schema's minLength and maxLength do.
    if (p.reason.trim().length < 10) return { invalid: 'reason: at least 10 characters besides spaces' };
    return { patient: p.patient, reason: p.reason, durationMs: p.durationMs };
  },
  execute(ctx, { patient, reason, durationMs }) {
    if (!hasEmergencyRole(ctx.signer)) return 'NOT_EMERGENCY_PRACTITIONER';
    if (readPatient(ctx.get, patient) === undefined) return 'UNKNOWN_PATIENT';
    if (ctx.get(HealthKeys.erasure(patient)) !== undefined) return 'PATIENT_ERASED';
    const excluded = readJson<SensitiveCategory[]>(ctx.get, HealthKeys.breakGlassExclusions(patient)) ?? [];
    const grant: AccessGrant = {
      txId: ctx.txId,
      kind: 'break-glass',
      requester: ctx.signer.id,
      patient,
      purpose: 'emergency',
      consentId: null,
      scope: {
        categories: ['*'],
        sensitive: SENSITIVE_CATEGORIES.filter((s) => !excluded.includes(s)),
        resourceTypes: ['*'],
        emergencyOnly: true,
      },
      atHeight: ctx.height,
      grantedAtMs: ctx.timestampMs,
      expiresAtMs: ctx.timestampMs + durationMs,
      reason,
    };
    ctx.put(HealthKeys.access(ctx.txId), canonicalize(grant));
    ctx.put(
      HealthKeys.review(ctx.txId),
      canonicalize({ status: 'pending', patient, requester: ctx.signer.id }),
    );
    return 'VALID';
  },
};

/** Whether a record (by its registered metadata) falls within a grant's scope. Pure. */
export function inScope(
  grant: AccessGrant,
  r: {
    categories: string[];
    sensitive: string[];
    resourceType: string;
    emergency: boolean;
    registeredAtHeight: number;
  },
): boolean {
  if (r.registeredAtHeight > grant.atHeight) return false;
  const s = grant.scope;
  if (s.emergencyOnly && !r.emergency) return false;
  if (!s.resourceTypes.includes('*') && !s.resourceTypes.includes(r.resourceType)) return false;
  // Every sensitive label on the record must be released explicitly.
  if (!r.sensitive.every((x) => (s.sensitive as string[]).includes(x))) return false;
  if (s.categories.includes('*')) return true;
  // Matched by a plain category, or by a sensitive category released by name.
  return (
    r.categories.some((c) => s.categories.includes(c)) ||
    r.sensitive.some((x) => (s.sensitive as string[]).includes(x))
  );
}
