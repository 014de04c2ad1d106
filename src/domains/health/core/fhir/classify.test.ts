/**
 * classify(): one named case per rule in the header tables of classify.ts — each sensitive
 * category by security label and by code, the emergency rules (both sides), diabetes tagging —
 * and determinism (same facts in any order → identical output; the input is left alone).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Resource } from '@medplum/fhirtypes';
import { CATEGORIES, classify, SENSITIVE_CATEGORIES, type Classification } from './classify.js';
import { validateFhir } from './validate.js';

const ACT = 'http://terminology.hl7.org/CodeSystem/v3-ActCode';
const ICD = 'http://hl7.org/fhir/sid/icd-10-cm';
const SCT = 'http://snomed.info/sct';
const LOINC = 'http://loinc.org';
const RXNORM = 'http://www.nlm.nih.gov/research/umls/rxnorm';
const V2_0074 = 'http://terminology.hl7.org/CodeSystem/v2-0074';
const OBS_CAT = 'http://terminology.hl7.org/CodeSystem/observation-category';

const cc = (system: string, code: string) => ({ coding: [{ system, code }] });
const subject = { reference: 'Patient/p1' };

function condition(system: string, code: string, clinical = 'active', verification?: string): Resource {
  return {
    resourceType: 'Condition',
    subject,
    clinicalStatus: cc('http://terminology.hl7.org/CodeSystem/condition-clinical', clinical),
    ...(verification && {
      verificationStatus: cc('http://terminology.hl7.org/CodeSystem/condition-ver-status', verification),
    }),
    code: cc(system, code),
  } as Resource;
}
function observation(system: string, code: string, extra: Record<string, unknown> = {}): Resource {
  return {
    resourceType: 'Observation',
    status: 'final',
    subject,
    code: cc(system, code),
    ...extra,
  } as Resource;
}
function labelled(...codes: [string | undefined, string][]): Resource {
  return {
    resourceType: 'Observation',
    status: 'final',
    subject,
    code: { text: 'note' },
    meta: { security: codes.map(([system, code]) => (system ? { system, code } : { code })) },
  } as Resource;
}
function medication(type: string, status: string, medicationCodeableConcept: unknown): Resource {
  return {
    resourceType: type,
    status,
    intent: type === 'MedicationRequest' ? 'order' : undefined,
    subject,
    medicationCodeableConcept,
  } as unknown as Resource;
}

/** Every test resource must itself be valid R4, so the cases describe real data. */
function check(resource: Resource): Classification {
  const v = validateFhir(resource);
  assert.ok(v.ok, `test resource is invalid: ${JSON.stringify(!v.ok && v.outcome.issue)}`);
  return classify(resource);
}

describe('classify: sensitive categories by meta.security label', () => {
  const cases: [string, [string | undefined, string][], string[]][] = [
    ['PSY (psychiatry)', [[ACT, 'PSY']], ['mental-health']],
    ['PSYTHPN (psychotherapy note)', [[ACT, 'PSYTHPN']], ['mental-health']],
    ['MH (mental health)', [[ACT, 'MH']], ['mental-health']],
    ['ETH (substance abuse)', [[ACT, 'ETH']], ['substance-use']],
    ['SUD', [[ACT, 'SUD']], ['substance-use']],
    ['OPIOIDUD', [[ACT, 'OPIOIDUD']], ['substance-use']],
    ['HIV', [[ACT, 'HIV']], ['hiv']],
    ['GDIS (genetic disease)', [[ACT, 'GDIS']], ['genomic']],
    ['SEX', [[ACT, 'SEX']], ['sexual-reproductive']],
    ['STD', [[ACT, 'STD']], ['sexual-reproductive']],
    ['SDV (sexual assault / domestic violence)', [[ACT, 'SDV']], ['sexual-reproductive']],
    [
      'MST (military sexual trauma) → two categories',
      [[ACT, 'MST']],
      ['mental-health', 'sexual-reproductive'],
    ],
    ['pre-R4 ActCode URL', [['http://hl7.org/fhir/v3/ActCode', 'HIV']], ['hiv']],
    ['no system (over-label rather than miss)', [[undefined, 'ETH']], ['substance-use']],
    ['HIV code in an unrelated system', [['http://example.org/tags', 'HIV']], []],
    [
      'confidentiality R: reported, not a sensitive category',
      [['http://terminology.hl7.org/CodeSystem/v3-Confidentiality', 'R']],
      [],
    ],
    ['TBOO: reported only', [[ACT, 'TBOO']], []],
  ];
  for (const [name, labels, sensitive] of cases) {
    test(name, () => {
      const c = check(labelled(...labels));
      assert.deepEqual(c.sensitive, sensitive);
      assert.deepEqual(
        c.securityLabels,
        labels.map(([s, code]) => (s ? `${s}|${code}` : code)),
      );
    });
  }

  test('a label on a contained resource counts (invalid per dom-5, but classify is defensive)', () => {
    const c = classify({
      resourceType: 'DiagnosticReport',
      status: 'final',
      code: { text: 'panel' },
      contained: [{ ...labelled([ACT, 'HIV']), id: 'o1' }],
      result: [{ reference: '#o1' }],
    } as Resource);
    assert.deepEqual(c.sensitive, ['hiv']);
  });
});

describe('classify: sensitive categories by code', () => {
  const cases: [string, Resource, string[]][] = [
    ['ICD-10 F32.9 depression → mental-health', condition(ICD, 'F32.9'), ['mental-health']],
    ['ICD-10 F01 (range start)', condition(ICD, 'F01.50'), ['mental-health']],
    ['ICD-10 F99 (range end)', condition(ICD, 'F99'), ['mental-health']],
    [
      'ICD-10 F10.20 alcohol dependence → substance-use, not mental-health',
      condition(ICD, 'F10.20'),
      ['substance-use'],
    ],
    ['ICD-10 F17.210 nicotine → substance-use (F10–F19)', condition(ICD, 'F17.210'), ['substance-use']],
    ['ICD-10 F19 (range end)', condition(ICD, 'F19.10'), ['substance-use']],
    [
      'ICD-10 WHO system, F20 schizophrenia',
      condition('http://hl7.org/fhir/sid/icd-10', 'F20'),
      ['mental-health'],
    ],
    ['ICD-10-CM by OID', condition('urn:oid:2.16.840.1.113883.6.90', 'F41.1'), ['mental-health']],
    ['ICD-10 G30 Alzheimer (neurology) → none', condition(ICD, 'G30.9'), []],
    ['ICD-10 B20 HIV disease → hiv', condition(ICD, 'B20'), ['hiv']],
    ['ICD-10 B24 → hiv', condition(ICD, 'B24'), ['hiv']],
    ['ICD-10 Z21 asymptomatic HIV → hiv', condition(ICD, 'Z21'), ['hiv']],
    ['ICD-10 B25 CMV → none', condition(ICD, 'B25.9'), []],
    [
      'ICD-10 O09.90 supervision of high-risk pregnancy → sexual-reproductive',
      condition(ICD, 'O09.90'),
      ['sexual-reproductive'],
    ],
    ['ICD-10 O9A.11 (after O99) → sexual-reproductive', condition(ICD, 'O9A.11'), ['sexual-reproductive']],
    [
      'ICD-10 A54.9 gonococcal infection → sexual-reproductive',
      condition(ICD, 'A54.9'),
      ['sexual-reproductive'],
    ],
    [
      'ICD-10 Z30.011 contraception → sexual-reproductive',
      condition(ICD, 'Z30.011'),
      ['sexual-reproductive'],
    ],
    ['SNOMED 35489007 depressive disorder → mental-health', condition(SCT, '35489007'), ['mental-health']],
    ['SNOMED 7200002 alcoholism → substance-use', condition(SCT, '7200002'), ['substance-use']],
    ['SNOMED 86406008 HIV infection → hiv', condition(SCT, '86406008'), ['hiv']],
    [
      'SNOMED 72892002 normal pregnancy → sexual-reproductive',
      condition(SCT, '72892002'),
      ['sexual-reproductive'],
    ],
    ['LOINC 7917-8 HIV 1 Ab test → hiv', observation(LOINC, '7917-8'), ['hiv']],
    ['LOINC 81247-9 genetic variant panel → genomic', observation(LOINC, '81247-9'), ['genomic']],
    [
      'LOINC 8665-2 last menstrual period → sexual-reproductive',
      observation(LOINC, '8665-2'),
      ['sexual-reproductive'],
    ],
    ['LOINC 2106-3 hCG → sexual-reproductive', observation(LOINC, '2106-3'), ['sexual-reproductive']],
    [
      'the same code 2106-3 in the CDC race system ("White") → none: systems must match',
      observation('urn:oid:2.16.840.1.113883.6.238', '2106-3'),
      [],
    ],
    ['a code without a system → none', observation('', 'F32.9'), []],
    [
      'observation-genetics extension → genomic',
      observation(LOINC, '69548-6', {
        extension: [
          {
            url: 'http://hl7.org/fhir/StructureDefinition/observation-geneticsGene',
            valueCodeableConcept: { text: 'BRCA1' },
          },
        ],
      }),
      ['genomic'],
    ],
    [
      'MolecularSequence → genomic whatever it says',
      { resourceType: 'MolecularSequence', coordinateSystem: 0 } as Resource,
      ['genomic'],
    ],
    [
      'DiagnosticReport in the v2-0074 GE (genetics) section → genomic',
      {
        resourceType: 'DiagnosticReport',
        status: 'final',
        category: [cc(V2_0074, 'GE')],
        code: { text: 'x' },
      } as Resource,
      ['genomic'],
    ],
    [
      'a Claim line for an HIV diagnosis leaks it: the claim is hiv too',
      {
        resourceType: 'Claim',
        status: 'active',
        type: cc('http://terminology.hl7.org/CodeSystem/claim-type', 'professional'),
        use: 'claim',
        patient: subject,
        created: '2020-01-01',
        provider: { reference: 'Organization/o1' },
        priority: cc('http://terminology.hl7.org/CodeSystem/processpriority', 'normal'),
        insurance: [{ sequence: 1, focal: true, coverage: { reference: 'Coverage/c1' } }],
        diagnosis: [{ sequence: 1, diagnosisCodeableConcept: cc(ICD, 'B20') }],
      } as Resource,
      ['hiv'],
    ],
    [
      'a code in a contained resource counts',
      {
        resourceType: 'MedicationRequest',
        status: 'active',
        intent: 'order',
        subject,
        medicationReference: { reference: '#c1' },
        contained: [{ ...condition(SCT, '5602001'), id: 'c1' }],
        reasonReference: [{ reference: '#c1' }],
      } as Resource,
      ['substance-use'],
    ],
    [
      'narrative is read too (ADR 0014): words in it count',
      {
        resourceType: 'Patient',
        text: { status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml">HIV positive</div>' },
      } as Resource,
      ['hiv'],
    ],
  ];
  for (const [name, resource, sensitive] of cases) {
    test(name, () => assert.deepEqual(check(resource).sensitive, sensitive));
  }
});

describe('classify: diabetes tagging', () => {
  const cases: [string, Resource, boolean][] = [
    ['SNOMED 73211009 diabetes mellitus', condition(SCT, '73211009'), true],
    ['SNOMED 44054006 type 2', condition(SCT, '44054006'), true],
    ['ICD-10 E11.9', condition(ICD, 'E11.9'), true],
    ['ICD-10 E10 (WHO range start)', condition(ICD, 'E10'), true],
    ['ICD-10 E14 (WHO range end)', condition('http://hl7.org/fhir/sid/icd-10', 'E14.9'), true],
    ['ICD-10 E15 non-diabetic hypoglycaemic coma', condition(ICD, 'E15'), false],
    ['LOINC 4548-4 HbA1c', observation(LOINC, '4548-4'), true],
    ['LOINC 2345-7 glucose', observation(LOINC, '2345-7'), true],
    ['LOINC 2339-0 glucose (blood)', observation(LOINC, '2339-0'), true],
    ['LOINC 718-7 haemoglobin', observation(LOINC, '718-7'), false],
    ['RxNorm 274783 insulin glargine', medication('MedicationRequest', 'active', cc(RXNORM, '274783')), true],
    [
      'an insulin product named only in text',
      medication('MedicationStatement', 'active', {
        text: 'Insulin Lispro 100 UNT/ML Injectable Solution [Humalog]',
      }),
      true,
    ],
    ['metformin (not in the rules)', medication('MedicationRequest', 'active', cc(RXNORM, '860975')), false],
    [
      '"insulin" in text outside Medication* resources does not count',
      observation(LOINC, '718-7', { note: [{ text: 'on insulin' }] }),
      false,
    ],
  ];
  for (const [name, resource, tagged] of cases) {
    test(`${name} → ${tagged ? 'diabetes' : 'not diabetes'}`, () => {
      assert.equal(check(resource).categories.includes('diabetes'), tagged);
    });
  }
  test('ICD-10 O24.4 gestational diabetes → diabetes and sexual-reproductive', () => {
    const c = check(condition(ICD, 'O24.410'));
    assert.deepEqual(c.categories, ['conditions', 'diabetes']);
    assert.deepEqual(c.sensitive, ['sexual-reproductive']);
  });
});

describe('classify: categories', () => {
  const cases: [string, Resource, string[]][] = [
    ['Patient', { resourceType: 'Patient' }, ['demographics']],
    ['Practitioner (directory data)', { resourceType: 'Practitioner' }, ['other']],
    [
      'AuditEvent',
      {
        resourceType: 'AuditEvent',
        type: { system: 'http://dicom.nema.org/resources/ontology/DCM', code: '110110' },
        recorded: '2020-01-01T00:00:00Z',
        agent: [{ who: { reference: 'Practitioner/x' }, requestor: true }],
        source: { observer: { reference: 'Device/d1' } },
      } as Resource,
      ['other'],
    ],
    [
      'Consent',
      {
        resourceType: 'Consent',
        status: 'active',
        scope: cc('http://terminology.hl7.org/CodeSystem/consentscope', 'patient-privacy'),
        category: [cc(LOINC, '59284-0')],
        policyRule: { text: 'HIPAA' },
      } as Resource,
      ['consents'],
    ],
    [
      'Coverage',
      {
        resourceType: 'Coverage',
        status: 'active',
        beneficiary: subject,
        payor: [{ display: 'Acme' }],
      } as Resource,
      ['financial'],
    ],
    [
      'Observation, laboratory category',
      observation(LOINC, '718-7', { category: [cc(OBS_CAT, 'laboratory')] }),
      ['observations', 'labs'],
    ],
    [
      'Observation, vital-signs category',
      observation(LOINC, '9999-9', { category: [cc(OBS_CAT, 'vital-signs')] }),
      ['observations', 'vital-signs'],
    ],
    [
      'Observation, vital-sign code without category',
      observation(LOINC, '8867-4'),
      ['observations', 'vital-signs'],
    ],
    [
      'Observation, vitalsigns profile',
      observation(LOINC, '9999-9', {
        meta: { profile: ['http://hl7.org/fhir/StructureDefinition/vitalsigns'] },
      }),
      ['observations', 'vital-signs'],
    ],
    [
      'a section code outside category does not make a lab (SNOMED "Radiology" as a value)',
      observation(LOINC, '9999-9', { valueCodeableConcept: cc(SCT, '394914008') }),
      ['observations'],
    ],
    [
      'DiagnosticReport, v2-0074 RAD',
      {
        resourceType: 'DiagnosticReport',
        status: 'final',
        category: [cc(V2_0074, 'RAD')],
        code: { text: 'CT' },
      } as Resource,
      ['imaging', 'diagnostic-reports'],
    ],
    [
      'DiagnosticReport, v2-0074 HM',
      {
        resourceType: 'DiagnosticReport',
        status: 'final',
        category: [cc(V2_0074, 'HM')],
        code: { text: 'CBC' },
      } as Resource,
      ['labs', 'diagnostic-reports'],
    ],
    ['MolecularSequence', { resourceType: 'MolecularSequence', coordinateSystem: 0 } as Resource, ['labs']],
    [
      'Media',
      { resourceType: 'Media', status: 'completed', content: { contentType: 'image/png' } } as Resource,
      ['imaging'],
    ],
  ];
  for (const [name, resource, categories] of cases) {
    test(name, () => assert.deepEqual(check(resource).categories, categories));
  }

  test('a Bundle is the union of its entries, never emergency by itself', () => {
    const c = check({
      resourceType: 'Bundle',
      type: 'collection',
      entry: [
        {
          resource: {
            resourceType: 'AllergyIntolerance',
            patient: subject,
            clinicalStatus: cc('http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical', 'active'),
          },
        },
        { resource: condition(ICD, 'F32.9') },
        { resource: labelled([ACT, 'HIV']) },
      ],
    } as Resource);
    assert.deepEqual(c, {
      resourceType: 'Bundle',
      categories: ['conditions', 'allergies', 'observations'],
      securityLabels: [`${ACT}|HIV`],
      sensitive: ['mental-health', 'hiv'],
      emergency: false,
    });
  });
});

describe('classify: emergency summary', () => {
  const allergy = (verification?: string) =>
    ({
      resourceType: 'AllergyIntolerance',
      patient: subject,
      ...(verification !== 'entered-in-error' && {
        clinicalStatus: cc('http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical', 'active'),
      }),
      ...(verification && {
        verificationStatus: cc(
          'http://terminology.hl7.org/CodeSystem/allergyintolerance-verification',
          verification,
        ),
      }),
    }) as Resource;
  const consent = (status: string, scope: string, category: [string, string]) =>
    ({
      resourceType: 'Consent',
      status,
      scope: cc('http://terminology.hl7.org/CodeSystem/consentscope', scope),
      category: [cc(...category)],
      policyRule: { text: 'HIPAA' },
    }) as Resource;
  const docRef = (status: string, code: string) =>
    ({
      resourceType: 'DocumentReference',
      status,
      type: cc(LOINC, code),
      content: [{ attachment: { url: 'Binary/b1' } }],
    }) as Resource;
  const immunization = (status: string) =>
    ({
      resourceType: 'Immunization',
      status,
      vaccineCode: cc('http://hl7.org/fhir/sid/cvx', '140'),
      patient: subject,
      occurrenceString: '2020',
    }) as Resource;
  const CATEGORY_ACD: [string, string] = [
    'http://terminology.hl7.org/CodeSystem/consentcategorycodes',
    'acd',
  ];
  const PATIENT_CONSENT: [string, string] = [LOINC, '59284-0'];

  const cases: [string, Resource, boolean][] = [
    ['AllergyIntolerance', allergy(), true],
    ['AllergyIntolerance, refuted (still informative)', allergy('refuted'), true],
    ['AllergyIntolerance, entered-in-error', allergy('entered-in-error'), false],
    ['MedicationRequest active', medication('MedicationRequest', 'active', { text: 'aspirin' }), true],
    ['MedicationRequest stopped', medication('MedicationRequest', 'stopped', { text: 'aspirin' }), false],
    ['MedicationStatement active', medication('MedicationStatement', 'active', { text: 'aspirin' }), true],
    [
      'MedicationStatement completed',
      medication('MedicationStatement', 'completed', { text: 'aspirin' }),
      false,
    ],
    ['Condition active', condition(SCT, '38341003'), true],
    ['Condition recurrence', condition(SCT, '38341003', 'recurrence'), true],
    ['Condition resolved', condition(SCT, '38341003', 'resolved'), false],
    ['Condition active but refuted', condition(SCT, '38341003', 'active', 'refuted'), false],
    ['Immunization completed', immunization('completed'), true],
    ['Immunization entered-in-error', immunization('entered-in-error'), false],
    ['Observation LOINC 882-1 ABO+Rh', observation(LOINC, '882-1'), true],
    ['Observation LOINC 883-9 ABO', observation(LOINC, '883-9'), true],
    ['Observation LOINC 884-7', observation(LOINC, '884-7'), true],
    ['Observation LOINC 10331-7 Rh', observation(LOINC, '10331-7'), true],
    [
      'Observation blood type entered-in-error',
      observation(LOINC, '883-9', { status: 'entered-in-error' }),
      false,
    ],
    ['Observation HbA1c', observation(LOINC, '4548-4'), false],
    ['Consent, scope adr (advance directive)', consent('active', 'adr', PATIENT_CONSENT), true],
    ['Consent, category acd', consent('active', 'patient-privacy', CATEGORY_ACD), true],
    ['Consent, LOINC 59284-0 privacy consent', consent('active', 'patient-privacy', PATIENT_CONSENT), false],
    ['Consent, adr but inactive', consent('inactive', 'adr', PATIENT_CONSENT), false],
    ['DocumentReference LOINC 42348-3 current', docRef('current', '42348-3'), true],
    ['DocumentReference LOINC 42348-3 superseded', docRef('superseded', '42348-3'), false],
    ['DocumentReference other note', docRef('current', '34108-1'), false],
    ['Patient', { resourceType: 'Patient' }, false],
    [
      'Encounter',
      { resourceType: 'Encounter', status: 'finished', class: { code: 'EMER' } } as Resource,
      false,
    ],
  ];
  for (const [name, resource, emergency] of cases) {
    test(`${name} → ${emergency}`, () => assert.equal(check(resource).emergency, emergency));
  }
});

describe('classify: determinism and purity', () => {
  const a = {
    resourceType: 'Condition',
    subject,
    clinicalStatus: cc('http://terminology.hl7.org/CodeSystem/condition-clinical', 'active'),
    code: {
      coding: [
        { system: ICD, code: 'F10.20' },
        { system: SCT, code: '86406008' },
        { system: ICD, code: 'E11.9' },
      ],
    },
    meta: {
      security: [
        { system: ACT, code: 'SEX' },
        { system: 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality', code: 'R' },
        { system: ACT, code: 'GDIS' },
      ],
    },
  };
  const b = {
    ...a,
    code: { coding: [...a.code.coding].reverse() },
    meta: { security: [...a.meta.security].reverse() },
  };

  test('the same facts in any order give identical output, in the documented orders', () => {
    const ca = check(a as Resource);
    assert.deepEqual(check(b as Resource), ca);
    assert.deepEqual(ca, {
      resourceType: 'Condition',
      categories: ['conditions', 'diabetes'],
      securityLabels: [
        `${ACT}|GDIS`,
        `${ACT}|SEX`,
        'http://terminology.hl7.org/CodeSystem/v3-Confidentiality|R',
      ],
      sensitive: ['hiv', 'substance-use', 'genomic', 'sexual-reproductive'],
      emergency: true,
    });
  });

  test('repeated calls agree and the input is not modified', () => {
    const before = JSON.stringify(a);
    const first = classify(a as Resource);
    for (let i = 0; i < 3; i++) assert.deepEqual(classify(a as Resource), first);
    assert.equal(JSON.stringify(a), before);
  });

  test('the vocabularies are disjoint and free of duplicates', () => {
    const all = [...CATEGORIES, ...SENSITIVE_CATEGORIES];
    assert.equal(new Set(all).size, all.length);
  });

  test('malformed shapes classify without throwing (classify is total)', () => {
    for (const r of [
      { resourceType: 'Condition', code: 'F32', clinicalStatus: 'active', meta: { security: 'HIV' } },
      { resourceType: 'Observation', code: { coding: [null, 7, { code: 5 }] }, category: {} },
      { resourceType: 'Bundle', entry: [null, {}, { resource: 'x' }] },
      {},
    ]) {
      assert.doesNotThrow(() => classify(r as unknown as Resource));
    }
  });
});
