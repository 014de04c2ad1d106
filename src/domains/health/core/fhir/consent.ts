/**
 * Ledger consents ⇄ FHIR R4 `Consent` (scope patient-privacy, policy rule opt-in, one permit
 * provision). The ledger's consent carries who (actor), what (categories, sensitive
 * categories, resource types), why (purposes of use) and when (period); each maps onto a
 * provision field:
 *
 * | ledger                  | FHIR Consent                                                            |
 * |-------------------------|-------------------------------------------------------------------------|
 * | patient                 | `patient.identifier` (system urn:healthledger:member)                   |
 * | actor member / org      | `provision.actor[].reference.identifier` (member / organization)        |
 * | actor role (+attributes)| `provision.actor[].role` (system urn:healthledger:role, code role) + `extension` attributes |
 * | categories, sensitive   | `provision.securityLabel` (sensitive: v3-ActCode PSY/HIV/ETH/GDIS/SEX) and `provision.code` (urn:healthledger:category) |
 * | resourceTypes           | `provision.class` (http://hl7.org/fhir/resource-types)                  |
 * | purposes                | `provision.purpose` (v3-ActReason TREAT/ETREAT/HRESCH/HPAYMT)           |
 * | validFrom/UntilMs       | `provision.period`                                                      |
 * | revoked                 | `status` inactive (active otherwise)                                    |
 * @module
 */
import type { Consent, Coding } from '@medplum/fhirtypes';

/** The ledger's consent shape (structurally the contracts' ConsentRecord). */
export interface LedgerConsent {
  id: string;
  patient: string;
  actor:
    | { kind: 'member'; id: string }
    | { kind: 'org'; org: string }
    | { kind: 'role'; role: string; org?: string; attributes?: Record<string, string> };
  categories: string[];
  sensitive: string[];
  resourceTypes: string[];
  purposes: string[];
  validFromMs: number;
  validUntilMs: number;
  revokedAtHeight?: number | null;
}

const MEMBER = 'urn:healthledger:member';
const ORG = 'urn:healthledger:organization';
const ROLE = 'urn:healthledger:role';
const CATEGORY = 'urn:healthledger:category';
const ATTRIBUTE_EXT = 'urn:healthledger:fhir:actor-attribute';
const ACT_CODE = 'http://terminology.hl7.org/CodeSystem/v3-ActCode';
const ACT_REASON = 'http://terminology.hl7.org/CodeSystem/v3-ActReason';
const RESOURCE_TYPES = 'http://hl7.org/fhir/resource-types';

const SENSITIVE_TO_ACT: Record<string, string> = {
  'mental-health': 'PSY',
  hiv: 'HIV',
  'substance-use': 'ETH',
  genomic: 'GDIS',
  'sexual-reproductive': 'SEX',
};
const PURPOSE_TO_REASON: Record<string, string> = {
  treatment: 'TREAT',
  emergency: 'ETREAT',
  research: 'HRESCH',
  payment: 'HPAYMT',
};
const invert = (m: Record<string, string>) => Object.fromEntries(Object.entries(m).map(([k, v]) => [v, k]));
const ACT_TO_SENSITIVE = invert(SENSITIVE_TO_ACT);
const REASON_TO_PURPOSE = invert(PURPOSE_TO_REASON);

/** A ledger consent as a FHIR R4 Consent. @example consentToFhir(consent).provision?.purpose */
export function consentToFhir(c: LedgerConsent): Consent {
  const actorRef =
    c.actor.kind === 'member'
      ? { reference: { identifier: { system: MEMBER, value: c.actor.id } } }
      : c.actor.kind === 'org'
        ? { reference: { identifier: { system: ORG, value: c.actor.org } } }
        : undefined;
  const role: Coding =
    c.actor.kind === 'role'
      ? {
          system: ROLE,
          code: c.actor.role,
          ...(c.actor.org ? { display: `${c.actor.role} at ${c.actor.org}` } : {}),
        }
      : { system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType', code: 'IRCP' };
  const actor = {
    role: { coding: [role] },
    reference:
      actorRef?.reference ??
      (c.actor.kind === 'role' && c.actor.org
        ? { identifier: { system: ORG, value: c.actor.org } }
        : { display: 'any organization' }),
    ...(c.actor.kind === 'role' && c.actor.attributes && Object.keys(c.actor.attributes).length
      ? {
          extension: Object.entries(c.actor.attributes).map(([k, v]) => ({
            url: ATTRIBUTE_EXT,
            valueString: `${k}=${v}`,
          })),
        }
      : {}),
  };
  return {
    resourceType: 'Consent',
    id: c.id,
    status: c.revokedAtHeight === null || c.revokedAtHeight === undefined ? 'active' : 'inactive',
    scope: {
      coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'patient-privacy' }],
    },
    category: [{ coding: [{ system: 'http://loinc.org', code: '59284-0', display: 'Patient Consent' }] }],
    patient: { identifier: { system: MEMBER, value: c.patient } },
    policyRule: { coding: [{ system: ACT_CODE, code: 'OPTIN' }] },
    provision: {
      type: 'permit',
      period: { start: new Date(c.validFromMs).toISOString(), end: new Date(c.validUntilMs).toISOString() },
      actor: [actor],
      purpose: c.purposes.map((p) => ({ system: ACT_REASON, code: PURPOSE_TO_REASON[p] ?? p })),
      securityLabel: c.sensitive.map((s) => ({ system: ACT_CODE, code: SENSITIVE_TO_ACT[s] ?? s })),
      class: c.resourceTypes.filter((t) => t !== '*').map((t) => ({ system: RESOURCE_TYPES, code: t })),
      code: c.categories.map((k) => ({ coding: [{ system: CATEGORY, code: k }] })),
    },
  } as Consent;
}

/** Why a FHIR Consent cannot become a ledger consent. */
export class ConsentMappingError extends Error {
  override readonly name = 'ConsentMappingError';
}

/** A FHIR Consent (as produced by {@link consentToFhir}, or written to the same profile) back to a grant payload. */
export function consentFromFhir(f: Consent): Omit<LedgerConsent, 'revokedAtHeight'> {
  const fail = (why: string): never => {
    throw new ConsentMappingError(`Consent${f.id ? `/${f.id}` : ''}: ${why}`);
  };
  const p = f.provision;
  if (!p || p.type !== 'permit') fail('provision.type must be permit');
  const patient = f.patient?.identifier?.system === MEMBER ? f.patient.identifier.value : undefined;
  if (!patient) fail('patient.identifier must be a urn:healthledger:member identifier');
  const a = p!.actor?.[0];
  if (!a || p!.actor!.length !== 1) fail('exactly one provision.actor');
  const roleCoding = a!.role.coding?.find((c) => c.system === ROLE);
  const ident = a!.reference.identifier;
  let actor: LedgerConsent['actor'];
  if (roleCoding?.code) {
    const attributes: Record<string, string> = {};
    for (const e of a!.extension ?? []) {
      if (e.url !== ATTRIBUTE_EXT || typeof e.valueString !== 'string' || !e.valueString.includes('='))
        fail('bad actor attribute');
      const [k, ...v] = e.valueString!.split('=');
      attributes[k!] = v.join('=');
    }
    actor = {
      kind: 'role',
      role: roleCoding.code,
      ...(ident?.system === ORG && ident.value ? { org: ident.value } : {}),
      ...(Object.keys(attributes).length ? { attributes } : {}),
    };
  } else if (ident?.system === MEMBER && ident.value) actor = { kind: 'member', id: ident.value };
  else if (ident?.system === ORG && ident.value) actor = { kind: 'org', org: ident.value };
  else return fail('provision.actor must name a member, an organization or a role');
  const start = Date.parse(p!.period?.start ?? '');
  const end = Date.parse(p!.period?.end ?? '');
  if (!Number.isFinite(start) || !Number.isFinite(end)) fail('provision.period needs start and end');
  const purposes = (p!.purpose ?? []).map(
    (c) => REASON_TO_PURPOSE[c.code ?? ''] ?? fail(`unknown purpose ${c.code}`),
  );
  const sensitive = (p!.securityLabel ?? []).map(
    (c) => ACT_TO_SENSITIVE[c.code ?? ''] ?? fail(`unsupported security label ${c.code}`),
  );
  const categories = (p!.code ?? []).map(
    (cc) =>
      cc.coding?.find((c) => c.system === CATEGORY)?.code ??
      fail('provision.code must use urn:healthledger:category'),
  );
  const classes = (p!.class ?? []).map((c) => c.code ?? fail('provision.class needs a code'));
  return {
    id: f.id ?? fail('id is required'),
    patient: patient!,
    actor,
    categories,
    sensitive,
    resourceTypes: classes.length ? classes : ['*'],
    purposes,
    validFromMs: start,
    validUntilMs: end,
  };
}
