/**
 * normalizeLegacy: each documented STU3 → R4 rewrite turns an invalid resource into a valid one
 * and says so in `changes`; R4 input, and anything the rules do not cover, passes through
 * untouched; the input object is never modified.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { AllergyIntolerance, Condition, Encounter } from '@medplum/fhirtypes';
import { normalizeLegacy } from './legacy.js';
import { validateFhir } from './validate.js';

const stu3Condition = () => ({
  resourceType: 'Condition',
  clinicalStatus: 'active',
  verificationStatus: 'confirmed',
  code: { coding: [{ system: 'http://snomed.info/sct', code: '44054006' }] },
  subject: { reference: 'Patient/p1' },
});

describe('normalizeLegacy', () => {
  test('STU3 Condition status strings become R4 CodeableConcepts, and then validate', () => {
    const input = stu3Condition();
    assert.equal(validateFhir(input).ok, false, 'the STU3 shape must be invalid R4');
    const { resource, changes } = normalizeLegacy(input);
    const condition = resource as unknown as Condition;
    assert.deepEqual(condition.clinicalStatus, {
      coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }],
    });
    assert.deepEqual(condition.verificationStatus, {
      coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-ver-status', code: 'confirmed' }],
    });
    assert.deepEqual(changes, [
      'status-concept: Condition.clinicalStatus ("active" → CodeableConcept)',
      'status-concept: Condition.verificationStatus ("confirmed" → CodeableConcept)',
    ]);
    assert.equal(validateFhir(resource).ok, true);
  });

  test('STU3 AllergyIntolerance statuses use the allergy code systems', () => {
    const { resource } = normalizeLegacy({
      resourceType: 'AllergyIntolerance',
      clinicalStatus: 'active',
      verificationStatus: 'unconfirmed',
      patient: { reference: 'Patient/p1' },
    });
    assert.equal(
      (resource as unknown as AllergyIntolerance).clinicalStatus?.coding?.[0]?.system,
      'http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical',
    );
    assert.equal(validateFhir(resource).ok, true);
  });

  test('an invalid STU3 status code is converted but still rejected: normalization does not guess', () => {
    const { resource } = normalizeLegacy({ ...stu3Condition(), clinicalStatus: 'bogus' });
    const v = validateFhir(resource);
    assert.equal(v.ok, false);
    if (!v.ok) assert.deepEqual(v.outcome.issue[0]?.expression, ['Condition.clinicalStatus.coding[0].code']);
  });

  test('pre-R4 v2/v3 terminology URLs move to terminology.hl7.org', () => {
    const { resource, changes } = normalizeLegacy({
      resourceType: 'Encounter',
      status: 'finished',
      class: { system: 'http://hl7.org/fhir/v3/ActCode', code: 'AMB' },
      identifier: [{ type: { coding: [{ system: 'http://hl7.org/fhir/v2/0203', code: 'MR' }] }, value: '1' }],
    });
    const encounter = resource as unknown as Encounter;
    assert.equal(encounter.class.system, 'http://terminology.hl7.org/CodeSystem/v3-ActCode');
    assert.equal(
      encounter.identifier?.[0]?.type?.coding?.[0]?.system,
      'http://terminology.hl7.org/CodeSystem/v2-0203',
    );
    assert.deepEqual(changes, [
      'terminology-url: Encounter.class.system (http://hl7.org/fhir/v3/ActCode → http://terminology.hl7.org/CodeSystem/v3-ActCode)',
      'terminology-url: Encounter.identifier[0].type.coding[0].system (http://hl7.org/fhir/v2/0203 → http://terminology.hl7.org/CodeSystem/v2-0203)',
    ]);
  });

  test('nested resources (Bundle entries) are normalized, with their path', () => {
    const { changes } = normalizeLegacy({
      resourceType: 'Bundle',
      type: 'collection',
      entry: [{ resource: stu3Condition() }],
    });
    assert.equal(changes.length, 2);
    assert.match(changes[0] ?? '', /^status-concept: Bundle\.entry\[0\]\.resource\.clinicalStatus /);
  });

  test('R4 input is returned equal, with no changes; a second pass changes nothing', () => {
    const r4 = normalizeLegacy(stu3Condition()).resource;
    const again = normalizeLegacy(r4);
    assert.deepEqual(again.changes, []);
    assert.deepEqual(again.resource, r4);
    // Current hl7.org/fhir code systems (not v2/v3) are left alone.
    const p = {
      resourceType: 'Patient',
      gender: 'male',
      meta: { tag: [{ system: 'http://hl7.org/fhir/tag', code: 'x' }] },
    };
    assert.deepEqual(normalizeLegacy(p), { resource: p, changes: [] });
  });

  test('the input is not modified; non-objects pass through', () => {
    const input = stu3Condition();
    const before = JSON.stringify(input);
    const out = normalizeLegacy(input);
    assert.equal(JSON.stringify(input), before);
    assert.notEqual(out.resource, input);
    for (const v of [null, 7, 'Condition', undefined])
      assert.deepEqual(normalizeLegacy(v), { resource: v, changes: [] });
    const fn = { resourceType: 'Condition', clinicalStatus: 'active', f: () => 1 };
    assert.equal(
      normalizeLegacy(fn).resource,
      fn,
      'uncloneable input comes back as is, for validation to reject',
    );
  });
});
