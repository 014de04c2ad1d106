/**
 * The 22 Synthea (2019) transaction bundles as an import acceptance test: every one of the
 * 1,933 entries validates after normalizeLegacy (which, it turns out, has nothing to repair in
 * this data — asserted, so a regression in either direction shows), every bundle imports with
 * all urn:uuid references rewritten to assigned ids, and classification totals are what the
 * data's clinical content says they should be.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import type { Bundle, Resource } from '@medplum/fhirtypes';
import { testdata } from '../../../../test-support/paths.js';
import { validateFhir } from './validate.js';
import { classify, type Classification } from './classify.js';
import { entriesOfTransactionBundle, resolveReferences } from './bundle.js';
import { normalizeLegacy } from './legacy.js';

const dir = testdata('synthea-r4');
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.json'))
  .sort();
const bundles = files.map((f) => [f, JSON.parse(readFileSync(`${dir}/${f}`, 'utf8')) as Bundle] as const);
const resources = bundles.flatMap(([, b]) => (b.entry ?? []).map((e) => e.resource as Resource));

const countBy = (xs: string[]) =>
  xs.reduce<Record<string, number>>((m, x) => ({ ...m, [x]: (m[x] ?? 0) + 1 }), {});

describe('Synthea R4 sample bundles', () => {
  test('22 transaction bundles, 1,933 entries', () => {
    assert.equal(files.length, 22);
    assert.ok(bundles.every(([, b]) => b.type === 'transaction'));
    assert.equal(resources.length, 1933);
    assert.deepEqual(countBy(resources.map((r) => r.resourceType)), {
      Patient: 20,
      Organization: 125,
      Practitioner: 125,
      Encounter: 130,
      Condition: 53,
      MedicationRequest: 27,
      Claim: 157,
      ExplanationOfBenefit: 130,
      Observation: 926,
      Immunization: 123,
      Procedure: 40,
      DiagnosticReport: 64,
      CarePlan: 13,
    });
  });

  test('every entry validates; normalizeLegacy finds nothing to repair in this data', () => {
    const changes: string[] = [];
    const failures: string[] = [];
    for (const r of resources) {
      const n = normalizeLegacy(r);
      changes.push(...n.changes);
      const v = validateFhir(n.resource);
      if (!v.ok) failures.push(`${r.resourceType}/${r.id}: ${JSON.stringify(v.outcome.issue)}`);
    }
    assert.deepEqual(failures, []);
    // Synthea 2.4 (May 2019) already emits R4 4.0.x shapes: CodeableConcept statuses,
    // terminology.hl7.org system URLs. The pre-R4 rules are covered in legacy.test.ts.
    assert.deepEqual(changes, []);
  });

  test('every bundle imports: all urn:uuid references resolve to assigned ids, results still validate', () => {
    let imported = 0;
    for (const [bi, [f, b]] of bundles.entries()) {
      const entries = entriesOfTransactionBundle(b);
      assert.equal(entries.length, b.entry?.length, f);
      const { resources: out, ids } = resolveReferences(entries, (_r, i) => `b${bi}-${i}`);
      const json = JSON.stringify(out);
      assert.ok(!json.includes('urn:uuid:'), `${f}: an urn:uuid reference survived import`);
      const assigned = new Set(out.map((r) => `${r.resourceType}/${r.id}`));
      for (const ref of json.matchAll(/"reference":"([^"]+)"/g)) {
        const target = ref[1] ?? '';
        assert.ok(
          target.startsWith('#') || assigned.has(target),
          `${f}: ${target} points outside the bundle`,
        );
      }
      assert.equal(ids.get(entries[0]!.fullUrl!), `${out[0]!.resourceType}/b${bi}-0`);
      for (const r of out)
        assert.ok(validateFhir(r).ok, `${f}: ${r.resourceType}/${r.id} invalid after import`);
      imported += out.length;
    }
    assert.equal(imported, 1933);
  });

  describe('classification', () => {
    const classified: [Resource, Classification][] = resources.map((r) => [r, classify(r)]);
    const tally = (pick: (c: Classification) => string[]) => countBy(classified.flatMap(([, c]) => pick(c)));

    test('category totals follow the resource mix', () => {
      assert.deepEqual(
        tally((c) => c.categories),
        {
          demographics: 20,
          conditions: 53,
          medications: 27,
          immunizations: 123,
          observations: 926,
          labs: 549, // 485 laboratory Observations + 64 LAB DiagnosticReports
          'vital-signs': 368,
          procedures: 40,
          encounters: 130,
          'care-plans': 13,
          'diagnostic-reports': 64,
          financial: 287, // Claim + ExplanationOfBenefit
          other: 250, // Organization + Practitioner
        },
      );
      assert.ok(classified.every(([, c]) => c.categories.length > 0));
    });

    test('sensitive: the one tubal ligation, the claim and EOB that bill it, and a clonazepam', () => {
      const hits = classified
        .filter(([, c]) => c.sensitive.length > 0)
        .map(([r, c]) => `${r.resourceType}:${c.sensitive.join('+')}`);
      assert.deepEqual(hits.sort(), [
        'Claim:sexual-reproductive',
        'ExplanationOfBenefit:sexual-reproductive',
        // Clonazepam [Klonopin]: a benzodiazepine, labelled mental-health whatever it treats
        // (over-labelling by design, docs/adr/0014-sensitive-vocabulary.md).
        'MedicationRequest:mental-health',
        'Procedure:sexual-reproductive',
      ]);
      assert.ok(
        classified.every(([, c]) => c.securityLabels.length === 0),
        'Synthea sets no security labels',
      );
    });

    test('diabetes tagging agrees with what the data says (no diabetic patient in this sample)', () => {
      const diabetic = classified.filter(([, c]) => c.categories.includes('diabetes'));
      // Independent evidence: any coding display or text that speaks of diabetes, insulin, glucose or HbA1c.
      const evidence = resources.filter((r) =>
        /"(display|text)":"[^"]*(diabet|insulin|glucose|a1c)/i.test(
          JSON.stringify({ ...r, text: undefined }),
        ),
      );
      assert.deepEqual(
        diabetic.map(([r]) => r.id),
        evidence.map((r) => r.id),
      );
      assert.equal(diabetic.length, 0);
    });

    test('emergency: active conditions and medications, all immunizations, all allergies', () => {
      assert.deepEqual(countBy(classified.filter(([, c]) => c.emergency).map(([r]) => r.resourceType)), {
        Condition: 21,
        MedicationRequest: 11,
        Immunization: 123,
      });
      const allergies = classified.filter(([r]) => r.resourceType === 'AllergyIntolerance');
      assert.equal(
        allergies.length,
        0,
        'this sample has no AllergyIntolerance; the rule is tested in classify.test.ts',
      );
      assert.ok(allergies.every(([, c]) => c.emergency));
      for (const [r, c] of classified) {
        if (r.resourceType === 'Condition') {
          const active = (r.clinicalStatus?.coding ?? []).some((x) => x.code === 'active');
          assert.equal(c.emergency, active, `Condition/${r.id}`);
        }
        if (r.resourceType === 'MedicationRequest') assert.equal(c.emergency, r.status === 'active');
        if (r.resourceType === 'Immunization') assert.equal(c.emergency, true);
        if (r.resourceType === 'Observation' || r.resourceType === 'Claim') assert.equal(c.emergency, false);
      }
    });
  });
});
