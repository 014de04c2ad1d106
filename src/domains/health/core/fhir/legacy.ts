/**
 * Minimal, documented repairs for pre-R4 (STU3-era) shapes that still turn up in "R4" exports,
 * applied before validation at import. Each rule is a lossless rewrite of the same fact into its
 * R4 form; anything that would need a judgement call (dropped elements, changed meaning) is left
 * for validation to reject, so bad data is refused rather than guessed at.
 *
 * | rule | STU3 / older form | R4 form |
 * |---|---|---|
 * | `status-concept` | Condition/AllergyIntolerance `clinicalStatus` / `verificationStatus` as a code string | CodeableConcept with the R4 code system |
 * | `terminology-url` | Coding.system `http://hl7.org/fhir/v2/NNNN`, `http://hl7.org/fhir/v3/Name` | `http://terminology.hl7.org/CodeSystem/v2-NNNN`, `…/v3-Name` |
 *
 * The Synthea 2019 sample bundles in ../shared/testdata/synthea-r4 turned out to need none of
 * these: all 1,933 entries already validate against R4 4.0.1 with Medplum plus the checks in
 * validate.ts (synthea.test.ts asserts both facts). The rules exist for older Synthea
 * (STU3 exporter) and similar real-world feeds; the STU3 cases are tested in legacy.test.ts.
 */

/** What {@link normalizeLegacy} did: the repaired copy and one line per change, for the audit trail. */
export interface LegacyNormalization<T> {
  resource: T;
  /** `rule: path (old → new)`, in document order; empty when the input was already R4. */
  changes: string[];
}

const STATUS_SYSTEMS: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  Condition: {
    clinicalStatus: 'http://terminology.hl7.org/CodeSystem/condition-clinical',
    verificationStatus: 'http://terminology.hl7.org/CodeSystem/condition-ver-status',
  },
  AllergyIntolerance: {
    clinicalStatus: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical',
    verificationStatus: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-verification',
  },
};

const OLD_V2 = /^http:\/\/hl7\.org\/fhir\/v2\/(\d{4})$/;
const OLD_V3 = /^http:\/\/hl7\.org\/fhir\/v3\/([A-Za-z][A-Za-z0-9-]*)$/;

/**
 * Rewrite known pre-R4 shapes into R4, in a deep copy (the input is not modified). Nested
 * resources (contained, Bundle entries) are normalized too. Non-objects, and values that cannot
 * be cloned, come back unchanged.
 *
 * @example
 * normalizeLegacy({ resourceType: 'Condition', clinicalStatus: 'active', … }).resource.clinicalStatus
 * // → { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] }
 */
export function normalizeLegacy<T>(resource: T): LegacyNormalization<T> {
  const changes: string[] = [];
  let copy: T;
  try {
    copy = structuredClone(resource);
  } catch {
    return { resource, changes }; // not JSON-like data: nothing to repair, validation will say why
  }
  const walk = (value: unknown, path: string): void => {
    if (Array.isArray(value)) {
      value.forEach((v, i) => walk(v, `${path}[${i}]`));
      return;
    }
    if (typeof value !== 'object' || value === null) return;
    const obj = value as Record<string, unknown>;
    const type = obj['resourceType'];
    const here = typeof type === 'string' && path === '' ? type : path;
    const statusSystems = typeof type === 'string' ? STATUS_SYSTEMS[type] : undefined;
    for (const [element, system] of Object.entries(statusSystems ?? {})) {
      const v = obj[element];
      if (typeof v === 'string') {
        obj[element] = { coding: [{ system, code: v }] };
        changes.push(`status-concept: ${here}.${element} ("${v}" → CodeableConcept)`);
      }
    }
    const system = obj['system'];
    if (typeof system === 'string' && typeof obj['code'] === 'string') {
      const v2 = OLD_V2.exec(system);
      const v3 = OLD_V3.exec(system);
      const r4 = v2
        ? `http://terminology.hl7.org/CodeSystem/v2-${v2[1]}`
        : v3
          ? `http://terminology.hl7.org/CodeSystem/v3-${v3[1]}`
          : undefined;
      if (r4) {
        obj['system'] = r4;
        changes.push(`terminology-url: ${here}.system (${system} → ${r4})`);
      }
    }
    for (const [k, v] of Object.entries(obj)) walk(v, here === '' ? k : `${here}.${k}`);
  };
  walk(copy, '');
  return { resource: copy, changes };
}
