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

import { PURPOSES, SENSITIVE_CATEGORIES, type Purpose, type SensitiveCategory } from '../core/vocabulary.js';

export { PURPOSES, SENSITIVE_CATEGORIES, type Purpose, type SensitiveCategory };

/** Longest break-glass access. */
export const MAX_BREAK_GLASS_MS = 24 * 3600_000;
/** How long a consent-based access grant lets the requester fetch the records. */
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
  kind: 'consent' | 'self' | 'break-glass';
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
}

export const HealthKeys = {
  consent: (patient: string, id: string) => `consent/${patient}/${id}`,
  consentIndex: (patient: string) => `consents/${patient}`,
  proxies: (patient: string) => `proxies/${patient}`,
  breakGlassExclusions: (patient: string) => `bg-exclude/${patient}`,
  record: (id: string) => `record/${id}`,
  recordVersion: (id: string, v: number) => `record-version/${id}/${v}`,
  access: (txId: string) => `access/${txId}`,
  review: (txId: string) => `review/${txId}`,
  erasure: (patient: string) => `erasure/${patient}`,
  encryptionKey: (memberId: string) => `enc-key/${memberId}`,
} as const;

export const RECORD_ID_PATTERN = /^[A-Za-z0-9-]{8,64}$/;
export const CONSENT_ID_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;
const CATEGORY_PATTERN = /^(\*|[a-z][a-z0-9-]{0,47})$/;
const RESOURCE_TYPE_PATTERN = /^(\*|[A-Z][A-Za-z]{1,63})$/;

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

/** True if `signer` may act for `patient`: the patient, a named proxy, or their org's admin as guardian registrar. */
export function actsForPatient(
  get: (k: string) => string | undefined,
  signer: MemberRecord,
  patient: string,
): boolean {
  if (signer.id === patient) return true;
  return (readJson<string[]>(get, HealthKeys.proxies(patient)) ?? []).includes(signer.id);
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
// Payload validators: return the value or a string saying what is wrong.

export type Check<T> = T | { invalid: string };

export function isStringArray(v: unknown, pattern: RegExp, max: number): v is string[] {
  return (
    Array.isArray(v) &&
    v.length <= max &&
    v.every((x) => typeof x === 'string' && pattern.test(x)) &&
    new Set(v).size === v.length
  );
}

export function parseCategories(v: unknown): string[] | null {
  return isStringArray(v, CATEGORY_PATTERN, 64) ? v : null;
}

export function parseResourceTypes(v: unknown): string[] | null {
  return isStringArray(v, RESOURCE_TYPE_PATTERN, 64) ? v : null;
}

export function parseSensitive(v: unknown): SensitiveCategory[] | null {
  return Array.isArray(v) &&
    v.length <= 5 &&
    v.every((x) => (SENSITIVE_CATEGORIES as readonly unknown[]).includes(x)) &&
    new Set(v).size === v.length
    ? (v as SensitiveCategory[])
    : null;
}

export function parsePurposes(v: unknown): Purpose[] | null {
  return Array.isArray(v) &&
    v.length > 0 &&
    v.length <= 4 &&
    v.every((x) => (PURPOSES as readonly unknown[]).includes(x)) &&
    new Set(v).size === v.length
    ? (v as Purpose[])
    : null;
}

export function parseActor(v: unknown): ActorSelector | null {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return null;
  const a = v as Record<string, unknown>;
  if (
    a['kind'] === 'member' &&
    Object.keys(a).length === 2 &&
    typeof a['id'] === 'string' &&
    MEMBER_ID_PATTERN.test(a['id'])
  )
    return { kind: 'member', id: a['id'] };
  if (
    a['kind'] === 'org' &&
    Object.keys(a).length === 2 &&
    typeof a['org'] === 'string' &&
    ID_PATTERN.test(a['org'])
  )
    return { kind: 'org', org: a['org'] };
  if (
    a['kind'] === 'role' &&
    typeof a['role'] === 'string' &&
    (ROLES as readonly string[]).includes(a['role'])
  ) {
    if (Object.keys(a).some((k) => !['kind', 'role', 'org', 'attributes'].includes(k))) return null;
    const out: ActorSelector = { kind: 'role', role: a['role'] as Role };
    if (a['org'] !== undefined) {
      if (typeof a['org'] !== 'string' || !ID_PATTERN.test(a['org'])) return null;
      out.org = a['org'];
    }
    if (a['attributes'] !== undefined) {
      const at = a['attributes'];
      if (typeof at !== 'object' || at === null || Array.isArray(at)) return null;
      const entries = Object.entries(at as Record<string, unknown>);
      if (
        entries.length > 8 ||
        entries.some(
          ([k, x]) =>
            typeof x !== 'string' || !/^[a-z][A-Za-z0-9-]{0,31}$/.test(k) || (x as string).length > 128,
        )
      )
        return null;
      out.attributes = at as Record<string, string>;
    }
    return out;
  }
  return null;
}

export function isTimestamp(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

/** Allowed keys check for payload objects. */
export function onlyKeys(payload: Record<string, unknown>, allowed: readonly string[]): boolean {
  return Object.keys(payload).every((k) => allowed.includes(k));
}
