/**
 * The health data model on the ledger: only metadata and keyed commitments — never health data.
 * Keys and record shapes for records, consents, access grants, break-glass and erasure, and the
 * small validators the contracts share.
 *
 * The patient is identified by their member id (e.g. `st-mary/p-7f3a9c`), which an organization
 * must choose as a pseudonym: nothing on the ledger names a person.
 * @module
 */
import { MEMBER_ID_PATTERN, ID_PATTERN } from '../../../protocol/tx.js';
import { ROLES, type Role } from '../../../protocol/x509.js';
import { readMember, type MemberRecord } from '../../../contracts/contract.js';
import { closedObject, integer, list, matching, oneOf } from '../../../contracts/payload.js';
import { Type as T, type Static } from '@sinclair/typebox';

import { PURPOSES, SENSITIVE_CATEGORIES, type Purpose, type SensitiveCategory } from '../core/vocabulary.js';

export { PURPOSES, SENSITIVE_CATEGORIES, type Purpose, type SensitiveCategory };

/** Longest break-glass access. */
export const MAX_BREAK_GLASS_MS = 24 * 3600_000;
/**
 * How long a consent-based (or self) access grant lets the requester fetch the records — at most:
 * it ends sooner when the consent it was decided under is revoked or lapses, or on `access.end`.
 * Break-glass grants last the `durationMs` asked for (at most {@link MAX_BREAK_GLASS_MS}), ended
 * sooner likewise by `access.end` (the patient, a proxy or a reviewer).
 */
export const ACCESS_GRANT_TTL_MS = 15 * 60_000;

/** Who a consent is for. */
export type ActorSelector =
  | { kind: 'member'; id: string }
  | { kind: 'org'; org: string }
  /** A role, optionally at one organization, optionally with certificate attributes (e.g. specialty). */
  | { kind: 'role'; role: Role; org?: string; attributes?: Record<string, string> };

export interface ConsentRecord {
  id: string;
  patient: string;
  /** Who signed the grant: the patient or their proxy. */
  grantor: string;
  actor: ActorSelector;
  /** Non-sensitive categories (or topic tags such as `diabetes`); `*` = all non-sensitive. */
  categories: string[];
  /** Sensitive categories named explicitly. */
  sensitive: SensitiveCategory[];
  /** FHIR resource types, or `*`. */
  resourceTypes: string[];
  purposes: Purpose[];
  validFromMs: number;
  validUntilMs: number;
  grantedAtHeight: number;
  txId: string;
  revokedAtHeight: number | null;
}

/** A registered record: metadata and a keyed commitment; the resource stays with its custodian. */
export interface RecordEntry {
  id: string;
  patient: string;
  custodian: string;
  resourceType: string;
  categories: string[];
  sensitive: SensitiveCategory[];
  emergency: boolean;
  version: number;
  /** HMAC-SHA-256 of the resource under the patient's secret held by the custodian (hex). */
  commitment: string;
  author: string;
  registeredAtHeight: number;
  updatedAtHeight: number;
  txId: string;
}

/** What an access decision released: the custodian's gatekeeper releases exactly this. */
export interface AccessGrant {
  txId: string;
  kind: 'consent' | 'self' | 'break-glass' | 'proxy';
  requester: string;
  patient: string;
  purpose: Purpose;
  consentId: string | null;
  scope: {
    /** `*` = all non-sensitive. */
    categories: string[];
    sensitive: SensitiveCategory[];
    resourceTypes: string[];
    /** Break-glass: only resources in the emergency summary. */
    emergencyOnly: boolean;
  };
  /** Records registered at or before this height are in scope. */
  atHeight: number;
  grantedAtMs: number;
  expiresAtMs: number;
  reason: string | null;
  /** Kind `proxy`: who acted for whom, under which appointment (absent on other kinds). */
  proxy?: { actor: string; onBehalfOf: string; appointedBy: 'patient' | 'institution' };
}

/** Longest institutional (guardian) appointment: the policy maximum, from the approving block's time. */
export const MAX_GUARDIAN_MS = 90 * 24 * 3600_000;
/** How long a guardian proposal waits for its second signer. */
export const GUARDIAN_PROPOSAL_TTL_MS = 7 * 24 * 3600_000;

/** What the patient's own proxies may see: stored beside the list (`proxy-scope/<patient>`). */
export interface ProxyScope {
  sensitive: SensitiveCategory[];
}

/** A pending or decided institutional appointment (two distinct signers of the patient's organization). */
export interface GuardianProposal {
  id: string;
  patient: string;
  guardian: string;
  sensitive: SensitiveCategory[];
  durationMs: number;
  proposer: string;
  proposedAtMs: number;
  txId: string;
  status: 'pending' | 'approved';
}

/** An institutional appointment in force until `expiresAtMs` (kept apart from the patient's own list). */
export interface GuardianAppointment {
  patient: string;
  guardian: string;
  proposalId: string;
  sensitive: SensitiveCategory[];
  proposer: string;
  approver: string;
  appointedAtMs: number;
  expiresAtMs: number;
  txId: string;
}

/** Why `signer` may act for a patient, and within what: undefined if not a proxy in force. */
export interface ProxyAppointment {
  appointedBy: 'patient' | 'institution';
  sensitive: SensitiveCategory[];
}

export const HealthKeys = {
  consent: (patient: string, id: string) => `consent/${patient}/${id}`,
  consentIndex: (patient: string) => `consents/${patient}`,
  proxies: (patient: string) => `proxies/${patient}`,
  proxyScope: (patient: string) => `proxy-scope/${patient}`,
  guardianProposal: (patient: string, id: string) => `guardian-proposal/${patient}/${id}`,
  guardian: (patient: string, member: string) => `guardian/${patient}/${member}`,
  breakGlassExclusions: (patient: string) => `bg-exclude/${patient}`,
  record: (id: string) => `record/${id}`,
  recordVersion: (id: string, v: number) => `record-version/${id}/${v}`,
  access: (txId: string) => `access/${txId}`,
  review: (txId: string) => `review/${txId}`,
  /** An access grant ended early (`access.end`). */
  accessEnd: (txId: string) => `access-end/${txId}`,
  erasure: (patient: string) => `erasure/${patient}`,
  encryptionKey: (memberId: string) => `enc-key/${memberId}`,
} as const;

export const RECORD_ID_PATTERN = /^[A-Za-z0-9-]{8,64}$/;
export const CONSENT_ID_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;
const CATEGORY_PATTERN = /^(\*|[a-z][a-z0-9-]{0,47})$/;
const RESOURCE_TYPE_PATTERN = /^(\*|[A-Z][A-Za-z]{1,63})$/;
const RECORD_CATEGORY_PATTERN = /^[a-z][a-z0-9-]{0,47}$/;
const ATTRIBUTE_PATTERN = /^[a-z][A-Za-z0-9-]{0,31}$/;

/** Reads a JSON value from state. */
export function readJson<T>(get: (k: string) => string | undefined, key: string): T | undefined {
  const raw = get(key);
  return raw === undefined ? undefined : (JSON.parse(raw) as T);
}

/** The patient's member record if it is an enrolled patient. */
export function readPatient(
  get: (k: string) => string | undefined,
  patient: string,
): MemberRecord | undefined {
  const m = readMember(get, patient);
  return m?.role === 'patient' ? m : undefined;
}

/**
 * True if `signer` may act for `patient`: the patient, a proxy the patient named, or (given the
 * block's time) a guardian appointed by the two-person institutional flow and not yet expired.
 */
export function actsForPatient(
  get: (k: string) => string | undefined,
  signer: MemberRecord,
  patient: string,
  timeMs?: number,
): boolean {
  if (signer.id === patient) return true;
  return proxyAppointment(get, signer.id, patient, timeMs) !== undefined;
}

/**
 * The appointment under which `member` acts for `patient`: named in the patient's own list, or
 * an institutional appointment in force at `timeMs` (none without a time). Pure.
 */
export function proxyAppointment(
  get: (k: string) => string | undefined,
  member: string,
  patient: string,
  timeMs?: number,
): ProxyAppointment | undefined {
  if (member === patient) return undefined;
  if ((readJson<string[]>(get, HealthKeys.proxies(patient)) ?? []).includes(member))
    return {
      appointedBy: 'patient',
      sensitive: readJson<ProxyScope>(get, HealthKeys.proxyScope(patient))?.sensitive ?? [],
    };
  if (timeMs === undefined) return undefined;
  const g = readJson<GuardianAppointment>(get, HealthKeys.guardian(patient, member));
  if (g === undefined || timeMs < g.appointedAtMs || timeMs > g.expiresAtMs) return undefined;
  return { appointedBy: 'institution', sensitive: g.sensitive };
}

/** Does `member` match an actor selector? */
export function actorMatches(actor: ActorSelector, member: MemberRecord): boolean {
  switch (actor.kind) {
    case 'member':
      return actor.id === member.id;
    case 'org':
      return actor.org === member.org;
    case 'role':
      if (actor.role !== member.role) return false;
      if (actor.org !== undefined && actor.org !== member.org) return false;
      for (const [k, v] of Object.entries(actor.attributes ?? {}))
        if (member.attributes[k] !== v) return false;
      return true;
  }
}

// ---------------------------------------------------------------------------------------------
// Payload schema parts the health contracts share (ADR 0013). Lists meant to be distinct say so;
// `parse` checks that by hand with `distinct`.

/** A member id, `<org>/<id>`. */
export const MemberId = matching(MEMBER_ID_PATTERN, { description: 'member id, `<org>/<id>`' });
/** The patient: their member id. */
export const PatientId = matching(MEMBER_ID_PATTERN, { description: "the patient's member id" });
/** Distinct categories or topic tags; `*` = all non-sensitive. */
export const Categories = list(matching(CATEGORY_PATTERN), 64, {
  description: 'distinct categories or topic tags; `*` = all non-sensitive',
});
/** Distinct categories of a record: no `*`. */
export const RecordCategories = list(matching(RECORD_CATEGORY_PATTERN), 64, {
  description: 'distinct categories or topic tags of the record',
});
/** Distinct FHIR resource types, or `*`. */
export const ResourceTypes = (minItems = 0) =>
  list(matching(RESOURCE_TYPE_PATTERN), 64, {
    minItems,
    description: 'distinct FHIR resource types, or `*`',
  });
/** Distinct sensitive categories. */
export const Sensitive = list(oneOf(SENSITIVE_CATEGORIES), 5, {
  description: 'distinct sensitive categories',
});
/** One to four distinct purposes of use. */
export const Purposes = list(oneOf(PURPOSES), 4, { minItems: 1, description: 'distinct purposes of use' });
/** A time in ms since the epoch. */
export const Timestamp = integer(0, undefined, 'ms since the epoch');
/** Who a consent is for: see {@link ActorSelector}. */
export const Actor = T.Union([
  closedObject({ kind: T.Literal('member'), id: MemberId }),
  closedObject({ kind: T.Literal('org'), org: matching(ID_PATTERN) }),
  closedObject({
    kind: T.Literal('role'),
    role: oneOf(ROLES),
    org: T.Optional(matching(ID_PATTERN)),
    attributes: T.Optional(
      T.Record(T.String({ pattern: ATTRIBUTE_PATTERN.source }), T.String({ maxLength: 128 }), {
        maxProperties: 8,
        additionalProperties: false,
      }),
    ),
  }),
]);

/** The actor selector of a structurally valid {@link Actor}, with only the fields it names. */
export function actorOf(a: Static<typeof Actor>): ActorSelector {
  if (a.kind === 'member') return { kind: 'member', id: a.id };
  if (a.kind === 'org') return { kind: 'org', org: a.org };
  const out: ActorSelector = { kind: 'role', role: a.role };
  if (a.org !== undefined) out.org = a.org;
  if (a.attributes !== undefined) out.attributes = a.attributes;
  return out;
}
