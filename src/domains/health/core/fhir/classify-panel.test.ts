/**
 * Issue 16, finding 8: deny-by-default for sensitive categories holds only if the classifier
 * sees them. A panel of realistically coded sensitive resources — medications by RxNorm
 * ingredient, RxNorm product (with its display), ATC class and text alone; diagnoses by SNOMED CT
 * and ICD-10-CM; lab tests by LOINC; free text only — NONE of which may classify without its
 * sensitive category; and a control panel of everyday resources that must not be labelled
 * sensitive. Codes and displays follow the published code systems; sources in
 * docs/adr/0014-sensitive-vocabulary.md.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Resource } from '@medplum/fhirtypes';
import { classify, type Classification } from './classify.js';
import type { SensitiveCategory } from '../vocabulary.js';
import { validateFhir } from './validate.js';

const ICD = 'http://hl7.org/fhir/sid/icd-10-cm';
const SCT = 'http://snomed.info/sct';
const LOINC = 'http://loinc.org';
const RXNORM = 'http://www.nlm.nih.gov/research/umls/rxnorm';
const ATC = 'http://www.whocc.no/atc';
const subject = { reference: 'Patient/p1' };

type Concept = { coding?: { system: string; code: string; display?: string }[]; text?: string };
const coded = (system: string, code: string, display?: string): Concept => ({
  coding: [{ system, code, ...(display !== undefined && { display }) }],
});
const text = (t: string): Concept => ({ text: t });

const medRequest = (medication: Concept): Resource =>
  ({
    resourceType: 'MedicationRequest',
    status: 'active',
    intent: 'order',
    subject,
    medicationCodeableConcept: medication,
  }) as Resource;
const medStatement = (medication: Concept): Resource =>
  ({
    resourceType: 'MedicationStatement',
    status: 'active',
    subject,
    medicationCodeableConcept: medication,
  }) as Resource;
const condition = (code: Concept): Resource =>
  ({
    resourceType: 'Condition',
    subject,
    clinicalStatus: coded('http://terminology.hl7.org/CodeSystem/condition-clinical', 'active'),
    code,
  }) as Resource;
const observation = (code: Concept, extra: Record<string, unknown> = {}): Resource =>
  ({
    resourceType: 'Observation',
    status: 'final',
    category: [coded('http://terminology.hl7.org/CodeSystem/observation-category', 'laboratory')],
    subject,
    code,
    ...extra,
  }) as Resource;
const procedure = (code: Concept): Resource =>
  ({ resourceType: 'Procedure', status: 'completed', subject, code }) as Resource;

type Case = [name: string, resource: Resource, category: SensitiveCategory];

/** Sensitive resources: each must carry (at least) the named category. */
export const SENSITIVE_PANEL: Case[] = [
  // --- mental health: medications
  ['RxNorm IN sertraline 36437', medRequest(coded(RXNORM, '36437')), 'mental-health'],
  [
    'RxNorm SCD sertraline 50 MG Oral Tablet (312940, with display)',
    medRequest(coded(RXNORM, '312940', 'sertraline 50 MG Oral Tablet')),
    'mental-health',
  ],
  ['ATC N06AB03 fluoxetine', medStatement(coded(ATC, 'N06AB03', 'fluoxetine')), 'mental-health'],
  ['RxNorm IN escitalopram 321988', medRequest(coded(RXNORM, '321988')), 'mental-health'],
  ['text only: Wellbutrin XL 150 mg', medStatement(text('Wellbutrin XL 150 mg once daily')), 'mental-health'],
  ['RxNorm IN venlafaxine 39786', medRequest(coded(RXNORM, '39786')), 'mental-health'],
  ['RxNorm IN quetiapine 51272', medRequest(coded(RXNORM, '51272')), 'mental-health'],
  ['ATC N05AH04 quetiapine', medRequest(coded(ATC, 'N05AH04')), 'mental-health'],
  ['tall-man text: OLANZapine 10 mg tablet', medRequest(text('OLANZapine 10 mg tablet')), 'mental-health'],
  [
    'RxNorm branded product, code outside the lists, with display "Abilify 5 MG Oral Tablet"',
    medRequest(coded(RXNORM, '349545', 'Abilify 5 MG Oral Tablet')),
    'mental-health',
  ],
  ['RxNorm IN lithium carbonate 42351', medRequest(coded(RXNORM, '42351')), 'mental-health'],
  ['ATC N05AN01 lithium', medStatement(coded(ATC, 'N05AN01')), 'mental-health'],
  ['ATC N05BA06 lorazepam (anxiolytic)', medRequest(coded(ATC, 'N05BA06')), 'mental-health'],
  ['RxNorm IN methylphenidate 6901 (ADHD)', medRequest(coded(RXNORM, '6901')), 'mental-health'],
  ['text only: Vyvanse 30 MG Oral Capsule', medRequest(text('Vyvanse 30 MG Oral Capsule')), 'mental-health'],
  // --- substance use: medications
  ['RxNorm IN buprenorphine 1819', medRequest(coded(RXNORM, '1819')), 'substance-use'],
  [
    'text only: Suboxone 8 mg/2 mg sublingual film',
    medRequest(text('Suboxone 8 mg/2 mg sublingual film')),
    'substance-use',
  ],
  ['RxNorm IN methadone 6813', medStatement(coded(RXNORM, '6813')), 'substance-use'],
  ['ATC N07BC02 methadone', medRequest(coded(ATC, 'N07BC02')), 'substance-use'],
  ['ATC N07BB04 naltrexone (alcohol dependence)', medRequest(coded(ATC, 'N07BB04')), 'substance-use'],
  ['RxNorm IN disulfiram 3554', medRequest(coded(RXNORM, '3554')), 'substance-use'],
  [
    'RxNorm product, code outside the lists, display acamprosate calcium 333 MG DR tablet',
    medRequest(coded(RXNORM, '199149', 'acamprosate calcium 333 MG Delayed Release Oral Tablet')),
    'substance-use',
  ],
  // --- HIV: antiretrovirals, PrEP included
  [
    'PrEP by display: emtricitabine 200 MG / tenofovir disoproxil fumarate 300 MG Oral Tablet',
    medRequest(
      coded(RXNORM, '476445', 'emtricitabine 200 MG / tenofovir disoproxil fumarate 300 MG Oral Tablet'),
    ),
    'hiv',
  ],
  ['RxNorm IN dolutegravir 1433868', medRequest(coded(RXNORM, '1433868')), 'hiv'],
  ['RxNorm IN zidovudine 11413', medRequest(coded(RXNORM, '11413')), 'hiv'],
  ['ATC J05AJ03 dolutegravir (integrase inhibitor)', medRequest(coded(ATC, 'J05AJ03')), 'hiv'],
  ['ATC J05AR03 tenofovir disoproxil and emtricitabine', medStatement(coded(ATC, 'J05AR03')), 'hiv'],
  ['ATC J05AG03 efavirenz', medRequest(coded(ATC, 'J05AG03')), 'hiv'],
  ['text only: Biktarvy', medStatement(text('Biktarvy 1 tablet daily')), 'hiv'],
  [
    'text only: Apretude (cabotegravir PrEP injection)',
    medRequest(text('Apretude 600 mg IM q2 months')),
    'hiv',
  ],
  // --- sexual and reproductive health: medications
  [
    'ATC G03AA07 levonorgestrel and ethinylestradiol (oral contraceptive)',
    medRequest(coded(ATC, 'G03AA07')),
    'sexual-reproductive',
  ],
  [
    'RxNorm product, code outside the lists, display norethindrone 0.35 MG (progestin-only pill)',
    medRequest(coded(RXNORM, '198042', 'norethindrone 0.35 MG Oral Tablet')),
    'sexual-reproductive',
  ],
  ['text only: Nexplanon implant', medRequest(text('Nexplanon 68 mg implant')), 'sexual-reproductive'],
  ['text only: Depo-Provera', medStatement(text('Depo-Provera CI 150 mg/mL')), 'sexual-reproductive'],
  ['ATC G03XB01 mifepristone', medRequest(coded(ATC, 'G03XB01')), 'sexual-reproductive'],
  [
    'text only: mifepristone 200 mg',
    medRequest(text('mifepristone 200 mg oral tablet')),
    'sexual-reproductive',
  ],
  ['ATC G03BA03 testosterone', medRequest(coded(ATC, 'G03BA03')), 'sexual-reproductive'],
  ['ATC G03CA03 estradiol', medRequest(coded(ATC, 'G03CA03')), 'sexual-reproductive'],
  ['ATC G03GB02 clomifene (fertility)', medRequest(coded(ATC, 'G03GB02')), 'sexual-reproductive'],
  // --- diagnoses: SNOMED CT
  ['SNOMED 21897009 generalized anxiety disorder', condition(coded(SCT, '21897009')), 'mental-health'],
  ['SNOMED 66344007 recurrent major depression', condition(coded(SCT, '66344007')), 'mental-health'],
  [
    'SNOMED 371596008 bipolar I disorder (with display)',
    condition(coded(SCT, '371596008', 'Bipolar I disorder')),
    'mental-health',
  ],
  ['SNOMED 56882008 anorexia nervosa', condition(coded(SCT, '56882008')), 'mental-health'],
  ['SNOMED 6471006 suicidal thoughts', condition(coded(SCT, '6471006')), 'mental-health'],
  [
    'SNOMED 10939881000119105 unhealthy alcohol drinking behavior (with display)',
    condition(coded(SCT, '10939881000119105', 'Unhealthy alcohol drinking behavior (finding)')),
    'substance-use',
  ],
  [
    'SNOMED 55680006 drug overdose (with display)',
    condition(coded(SCT, '55680006', 'Drug overdose')),
    'substance-use',
  ],
  ['SNOMED 191816009 drug dependence', condition(coded(SCT, '191816009')), 'substance-use'],
  [
    'SNOMED HIV-1 infection, code outside the list (with display)',
    condition(coded(SCT, '713722000', 'Infection caused by Human immunodeficiency virus type 1')),
    'hiv',
  ],
  ['SNOMED 17369002 miscarriage', condition(coded(SCT, '17369002')), 'sexual-reproductive'],
  [
    'SNOMED 240589008 Chlamydia trachomatis infection',
    condition(coded(SCT, '240589008')),
    'sexual-reproductive',
  ],
  // --- diagnoses: ICD-10-CM hierarchies
  ['ICD-10-CM F32.A depression, unspecified (2022 code)', condition(coded(ICD, 'F32.A')), 'mental-health'],
  ['ICD-10-CM F11.20 opioid dependence', condition(coded(ICD, 'F11.20')), 'substance-use'],
  [
    'ICD-10-CM Z20.6 contact with and exposure to HIV (PrEP indication)',
    condition(coded(ICD, 'Z20.6')),
    'hiv',
  ],
  ['ICD-10-CM Z11.4 screening for HIV', condition(coded(ICD, 'Z11.4')), 'hiv'],
  [
    'ICD-10-CM O04.89 induced termination with complications',
    condition(coded(ICD, 'O04.89')),
    'sexual-reproductive',
  ],
  ['ICD-10-CM Z3A.12 12 weeks of gestation', condition(coded(ICD, 'Z3A.12')), 'sexual-reproductive'],
  ['ICD-10-CM R45.851 suicidal ideations', condition(coded(ICD, 'R45.851')), 'mental-health'],
  ['ICD-10-CM Z71.41 alcohol abuse counseling', condition(coded(ICD, 'Z71.41')), 'substance-use'],
  ['ICD-10-CM Z15.01 genetic susceptibility to breast cancer', condition(coded(ICD, 'Z15.01')), 'genomic'],
  ['ICD-10-CM N46.9 male infertility', condition(coded(ICD, 'N46.9')), 'sexual-reproductive'],
  [
    'ICD-10-CM Z11.3 screening for sexually transmitted infections',
    condition(coded(ICD, 'Z11.3')),
    'sexual-reproductive',
  ],
  // --- lab tests: LOINC
  ['LOINC 21613-5 Chlamydia trachomatis DNA', observation(coded(LOINC, '21613-5')), 'sexual-reproductive'],
  ['LOINC 24111-7 Neisseria gonorrhoeae DNA', observation(coded(LOINC, '24111-7')), 'sexual-reproductive'],
  ['LOINC 20507-0 Reagin Ab (RPR, syphilis)', observation(coded(LOINC, '20507-0')), 'sexual-reproductive'],
  [
    'LOINC HIV 1+2 Ab, code outside the list (with display)',
    observation(coded(LOINC, '48345-3', 'HIV 1+2 Ab [Presence] in Serum or Plasma')),
    'hiv',
  ],
  [
    'LOINC HIV 1 RNA viral load, code outside the list (with display)',
    observation(
      coded(
        LOINC,
        '70241-5',
        'HIV 1 RNA [Log #/volume] (viral load) in Serum or Plasma by NAA with probe detection',
      ),
    ),
    'hiv',
  ],
  [
    'LOINC opiates urine screen (with display)',
    observation(coded(LOINC, '19295-5', 'Opiates [Presence] in Urine by Screen method')),
    'substance-use',
  ],
  [
    'LOINC cocaine urine screen (with display)',
    observation(coded(LOINC, '3397-7', 'Cocaine [Presence] in Urine')),
    'substance-use',
  ],
  ['LOINC 5643-2 ethanol in serum', observation(coded(LOINC, '5643-2')), 'substance-use'],
  [
    'LOINC 14334-7 lithium level (therapeutic drug monitoring)',
    observation(coded(LOINC, '14334-7', 'Lithium [Moles/volume] in Serum or Plasma')),
    'mental-health',
  ],
  [
    'LOINC 44249-1 PHQ-9 quick depression assessment panel',
    observation(coded(LOINC, '44249-1')),
    'mental-health',
  ],
  // --- free text only
  [
    'text only: Condition "Major depressive disorder, recurrent"',
    condition(text('Major depressive disorder, recurrent, moderate')),
    'mental-health',
  ],
  ['text only: Condition "PTSD"', condition(text('PTSD after deployment')), 'mental-health'],
  ['text only: Condition "schizophrenia"', condition(text('Paranoid schizophrenia')), 'mental-health'],
  [
    'text only: Condition "Opioid use disorder, severe"',
    condition(text('Opioid use disorder, severe')),
    'substance-use',
  ],
  ['text only: Observation "HIV-1 viral load"', observation(text('HIV-1 viral load')), 'hiv'],
  ['text only: Condition "AIDS"', condition(text('AIDS-defining illness')), 'hiv'],
  [
    'text only: Procedure "medical abortion"',
    procedure(text('Medical abortion, first trimester')),
    'sexual-reproductive',
  ],
  [
    'text only: Observation "Chlamydia NAAT"',
    observation(text('Chlamydia NAAT, urine')),
    'sexual-reproductive',
  ],
  [
    'text only: Condition "gender dysphoria"',
    condition(text('Gender dysphoria in adolescent')),
    'mental-health',
  ],
  [
    'text only: Observation "BRCA1 germline variant"',
    observation(text('BRCA1 germline variant analysis')),
    'genomic',
  ],
  [
    'a SNOMED code outside the list but a telling display: 724653003 "Opioid use disorder"',
    condition(coded(SCT, '724653003', 'Opioid use disorder')),
    'substance-use',
  ],
  [
    'note text on an otherwise plain Observation',
    observation(coded(LOINC, '718-7'), { note: [{ text: 'Patient on methadone maintenance' }] }),
    'substance-use',
  ],
];

/** Everyday resources that must NOT be labelled sensitive. */
export const CONTROL_PANEL: [string, Resource][] = [
  [
    'RxNorm metformin 860975',
    medRequest(coded(RXNORM, '860975', '24 HR metformin hydrochloride 500 MG Extended Release Oral Tablet')),
  ],
  ['RxNorm insulin glargine 274783', medRequest(coded(RXNORM, '274783', 'insulin glargine'))],
  [
    'RxNorm amoxicillin/clavulanate 562251',
    medRequest(coded(RXNORM, '562251', 'Amoxicillin 250 MG / Clavulanate 125 MG Oral Tablet')),
  ],
  ['ATC A10BA02 metformin', medRequest(coded(ATC, 'A10BA02'))],
  ['ATC J01CA04 amoxicillin', medRequest(coded(ATC, 'J01CA04'))],
  ['ATC J05AB01 aciclovir (an antiviral, not an antiretroviral)', medRequest(coded(ATC, 'J05AB01'))],
  ['ATC J05AF10 entecavir (hepatitis B only)', medRequest(coded(ATC, 'J05AF10'))],
  ['text: lisinopril 10 MG Oral Tablet', medRequest(text('lisinopril 10 MG Oral Tablet'))],
  ['text: Acetaminophen 325 MG Oral Tablet', medRequest(text('Acetaminophen 325 MG Oral Tablet'))],
  [
    'SNOMED 38341003 hypertension',
    condition(coded(SCT, '38341003', 'Hypertensive disorder, systemic arterial (disorder)')),
  ],
  ['ICD-10-CM I10 essential hypertension', condition(coded(ICD, 'I10'))],
  [
    'SNOMED 263102004 fracture subluxation of wrist',
    condition(coded(SCT, '263102004', 'Fracture subluxation of wrist')),
  ],
  ['ICD-10-CM S52.501A fracture of radius', condition(coded(ICD, 'S52.501A'))],
  ['SNOMED 44054006 type 2 diabetes', condition(coded(SCT, '44054006', 'Diabetes mellitus type 2'))],
  ['LOINC 4548-4 HbA1c', observation(coded(LOINC, '4548-4', 'Hemoglobin A1c/Hemoglobin.total in Blood'))],
  ['LOINC 2345-7 glucose', observation(coded(LOINC, '2345-7', 'Glucose [Mass/volume] in Serum or Plasma'))],
  ['LOINC 718-7 haemoglobin', observation(coded(LOINC, '718-7', 'Hemoglobin [Mass/volume] in Blood'))],
  ['ICD-10-CM G30.9 Alzheimer disease', condition(coded(ICD, 'G30.9'))],
  ['text: Herpes zoster (shingles)', condition(text('Herpes zoster'))],
  ['text: hearing aids', procedure(text('Fitting of hearing aids'))],
  ['text: bowel prep before colonoscopy', procedure(text('Bowel prep before colonoscopy'))],
  [
    'text: "Avoid alcoholic drink" dosage warning on an antihistamine',
    {
      resourceType: 'MedicationRequest',
      status: 'active',
      intent: 'order',
      subject,
      medicationCodeableConcept: text('chlorphenamine 4 mg tablet'),
      dosageInstruction: [
        {
          additionalInstruction: [
            coded(
              SCT,
              '418914006',
              'Warning. May cause drowsiness. If affected do not drive or operate machinery. Avoid alcoholic drink (qualifier value)',
            ),
          ],
        },
      ],
    } as Resource,
  ],
];

function check(resource: Resource): Classification {
  const v = validateFhir(resource);
  assert.ok(v.ok, `panel resource is invalid: ${JSON.stringify(!v.ok && v.outcome.issue)}`);
  return classify(resource);
}

describe('sensitive panel: every resource carries its sensitive category', () => {
  test('the panel is large enough to mean something', () => assert.ok(SENSITIVE_PANEL.length >= 40));
  for (const [name, resource, category] of SENSITIVE_PANEL) {
    test(`${name} → ${category}`, () => {
      const c = check(resource);
      assert.ok(c.sensitive.includes(category), `got [${c.sensitive.join(', ')}]`);
    });
  }
});

describe('control panel: everyday resources are not sensitive', () => {
  for (const [name, resource] of CONTROL_PANEL) {
    test(name, () => assert.deepEqual(check(resource).sensitive, []));
  }
});
