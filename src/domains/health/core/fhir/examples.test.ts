/**
 * The official HL7 FHIR R4 (4.0.1) examples as acceptance tests: every file in
 * ../shared/testdata/fhir-r4-examples validates (bar one allow-listed, explained failure),
 * validation leaves it byte-for-byte intact and the validated copy round-trips through JSON,
 * every Bundle entry validates on its own, and bundle import accepts/refuses exactly the
 * bundles it should. Counts are asserted so a changed data set cannot pass silently.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import type { Bundle, Resource } from '@medplum/fhirtypes';
import { testdata } from '../../../../test-support/paths.js';
import { validateFhir } from './validate.js';
import { classify } from './classify.js';
import { entriesOfTransactionBundle, FhirBundleError, resolveReferences } from './bundle.js';

const dir = testdata('fhir-r4-examples');
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.json'))
  .sort();
const load = (f: string): Resource => JSON.parse(readFileSync(`${dir}/${f}`, 'utf8')) as Resource;

/** Files per resourceType in the folder (386 in all). */
const FILES_PER_TYPE: Record<string, number> = {
  AllergyIntolerance: 6,
  AuditEvent: 9,
  Bundle: 33,
  CarePlan: 11,
  Claim: 17,
  ClaimResponse: 5,
  Condition: 12,
  Consent: 12,
  Contract: 8,
  Coverage: 4,
  DiagnosticReport: 6,
  DocumentReference: 1,
  Encounter: 10,
  ExplanationOfBenefit: 2,
  ImagingStudy: 2,
  Immunization: 5,
  Medication: 23,
  MedicationDispense: 31,
  MedicationRequest: 40,
  MedicationStatement: 7,
  Observation: 64,
  Organization: 13,
  Patient: 22,
  Practitioner: 14,
  PractitionerRole: 1,
  Procedure: 16,
  Provenance: 5,
  RelatedPerson: 5,
  ResearchStudy: 1,
  ResearchSubject: 1,
};

/**
 * Official examples that Medplum rejects, with the reason. Asserted exactly: a new failure, or
 * one of these starting to pass, fails the test.
 */
const KNOWN_FAILURES: Record<string, { expression: string; reason: string }> = {
  'DiagnosticReport-gingival-mass.json': {
    expression: 'DiagnosticReport.presentedForm[0].data',
    reason:
      'the inline PDF is line-wrapped with spaces; R4 base64Binary allows whitespace ' +
      '((\\s*([0-9a-zA-Z\\+\\=]){4}\\s*)+) but Medplum’s regex does not — a Medplum strictness, not an example error',
  },
};

/** Bundle entries by resourceType across all 33 example bundles (20 entries carry no resource). */
const ENTRIES_PER_TYPE: Record<string, number> = {
  AllergyIntolerance: 1,
  Binary: 1,
  Bundle: 25,
  CodeSystem: 1,
  Composition: 1,
  ConceptMap: 19,
  DiagnosticReport: 10,
  DocumentReference: 1,
  Encounter: 1,
  Endpoint: 14,
  FamilyMemberHistory: 1,
  Location: 2,
  Medication: 1,
  MedicationRequest: 2,
  MedicationStatement: 1,
  MessageHeader: 2,
  MolecularSequence: 12,
  NamingSystem: 57,
  Observation: 143,
  OperationOutcome: 2,
  Parameters: 2,
  Patient: 30,
  Practitioner: 62,
  PractitionerRole: 15,
  Questionnaire: 1,
  ServiceRequest: 3,
  Specimen: 3,
  ValueSet: 11,
};

/** Bundles entriesOfTransactionBundle refuses: first issue's expression and code. */
const REFUSED_BUNDLES: Record<string, [string, string]> = {
  'Bundle-10bb101f-a121-4264-a920-67be9cb82c74.json': ['Bundle.type', 'not-supported'], // message
  'Bundle-3a0707d3-549e-4467-b8b8-5a2ab3800efe.json': ['Bundle.type', 'not-supported'], // message
  'Bundle-bundle-request-medsallergies.json': ['Bundle.entry[0].request.method', 'not-supported'], // GETs
  'Bundle-bundle-request-simplesummary.json': ['Bundle.entry[0].request.method', 'not-supported'], // GETs
  'Bundle-bundle-response-medsallergies.json': ['Bundle.type', 'not-supported'], // batch-response
  'Bundle-bundle-response-simplesummary.json': ['Bundle.type', 'not-supported'], // batch-response
  'Bundle-bundle-response.json': ['Bundle.type', 'not-supported'], // transaction-response
  'Bundle-bundle-transaction.json': ['Bundle.entry[5].request.method', 'not-supported'], // DELETE, GET, $lookup
  'Bundle-father.json': ['Bundle.type', 'not-supported'], // document
  // fullUrl …/Observation/lri-gramstain1 for id gramstain1: R4 says the id SHALL match a RESTful fullUrl.
  'Bundle-lri-example.json': ['Bundle.entry[1].fullUrl', 'invalid'],
};

const countBy = (xs: string[]) =>
  xs.reduce<Record<string, number>>((m, x) => ({ ...m, [x]: (m[x] ?? 0) + 1 }), {});

describe('official FHIR R4 examples', () => {
  test('the folder holds the expected files', () => {
    assert.equal(files.length, 386);
    assert.deepEqual(countBy(files.map((f) => load(f).resourceType)), FILES_PER_TYPE);
  });

  test('every example validates, except the allow-listed ones, and validation changes nothing', () => {
    const failures: Record<string, string> = {};
    const validated: string[] = [];
    for (const f of files) {
      const input = load(f);
      const before = JSON.stringify(input);
      const r = validateFhir(input);
      assert.equal(JSON.stringify(input), before, `${f}: validation modified its input`);
      if (!r.ok) {
        failures[f] = r.outcome.issue.map((i) => i.expression?.[0]).join(', ');
        continue;
      }
      validated.push(input.resourceType);
      assert.deepEqual(
        JSON.parse(JSON.stringify(r.resource)),
        input,
        `${f}: validated copy does not round-trip`,
      );
    }
    assert.deepEqual(
      failures,
      Object.fromEntries(Object.entries(KNOWN_FAILURES).map(([f, k]) => [f, k.expression])),
      'failures differ from the allow-list',
    );
    assert.deepEqual(countBy(validated), { ...FILES_PER_TYPE, DiagnosticReport: 5 });
  });

  test('the allow-listed failure is exactly the reason given (whitespace in base64)', () => {
    const report = load('DiagnosticReport-gingival-mass.json') as Resource & {
      presentedForm: { data: string }[];
    };
    const form = report.presentedForm[0];
    assert.ok(form && /\s/.test(form.data));
    form.data = form.data.replace(/\s+/g, '');
    assert.equal(validateFhir(report).ok, true);
  });

  test('every Bundle entry validates on its own', () => {
    const types: string[] = [];
    let withoutResource = 0;
    for (const f of files.filter((x) => x.startsWith('Bundle-'))) {
      for (const [i, e] of ((load(f) as Bundle).entry ?? []).entries()) {
        if (!e.resource) {
          withoutResource++;
          continue;
        }
        const r = validateFhir(e.resource);
        assert.ok(r.ok, `${f} entry ${i}: ${JSON.stringify(!r.ok && r.outcome.issue)}`);
        types.push(e.resource.resourceType);
      }
    }
    assert.equal(withoutResource, 20);
    assert.deepEqual(countBy(types), ENTRIES_PER_TYPE);
  });

  test('bundle import accepts 23 bundles and refuses exactly the 10 it cannot import', () => {
    const refused: Record<string, [string, string]> = {};
    let accepted = 0;
    let imported = 0;
    for (const f of files.filter((x) => x.startsWith('Bundle-'))) {
      try {
        const entries = entriesOfTransactionBundle(load(f));
        const { resources } = resolveReferences(entries, (_r, i) => `imp-${i}`);
        for (const r of resources)
          assert.ok(validateFhir(r).ok, `${f}: an imported resource no longer validates`);
        accepted++;
        imported += resources.length;
      } catch (err) {
        if (!(err instanceof FhirBundleError)) throw err;
        const first = err.outcome.issue[0];
        refused[f] = [first?.expression?.[0] ?? '', first?.code ?? ''];
      }
    }
    assert.deepEqual(refused, REFUSED_BUNDLES);
    assert.equal(accepted, 23);
    assert.equal(imported, 373); // resources in the accepted bundles, minus search outcomes
  });

  test('classification: every allergy is emergency, genetics examples are genomic', () => {
    const all = files.map(load);
    const allergies = all.filter((r) => r.resourceType === 'AllergyIntolerance');
    assert.equal(allergies.length, 6);
    assert.ok(allergies.every((r) => classify(r).emergency));
    const genomic = all.filter((r) => classify(r).sensitive.includes('genomic')).map((r) => r.id);
    assert.deepEqual(genomic.sort(), [
      'dg2', // Bundle-dg2: a DiagnosticReport coded LOINC 55233-1 (genetic analysis master panel)
      'example-TPMT-diplotype',
      'example-TPMT-haplotype-one',
      'example-TPMT-haplotype-two',
      'example-diplotype1',
      'example-genetics-1',
      'example-genetics-2',
      'example-genetics-brcapat',
      'example-haplotype1',
      'example-haplotype2',
      'example-phenotype',
      'f204', // Condition whose evidence is "Genetic analysis master panel" (text, ADR 0014)
      'hla-1', // the HLA typing transaction Bundle, via its entries
      'report', // Bundle-report: karyotype and gene-mutation observations
    ]);
  });
});
