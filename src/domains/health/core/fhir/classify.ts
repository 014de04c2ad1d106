/**
 * Consent classification of a FHIR R4 resource: which kinds of data it holds, which legally
 * sensitive categories it touches, and whether it belongs in an emergency summary. Consents on
 * the ledger name categories; a record is released only if a consent covers one of its
 * categories AND every one of its sensitive categories is named explicitly. So this function
 * errs towards over-labelling: a false "sensitive" withholds a record until the patient
 * consents; a false "not sensitive" would disclose it.
 *
 * Pure and deterministic: output depends only on the resource, arrays come out in the fixed
 * order of {@link CATEGORIES} / {@link SENSITIVE_CATEGORIES} or sorted by code unit.
 * It looks only at the resource itself (and its contained resources): a MedicationRequest that
 * points to a diabetes Condition by reference alone is not tagged 'diabetes'.
 *
 * ## Categories by resource type
 * | resource types | categories |
 * |---|---|
 * | Patient, RelatedPerson, Person | demographics |
 * | Condition, FamilyMemberHistory | conditions |
 * | Medication, MedicationRequest/Statement/Dispense/Administration | medications |
 * | AllergyIntolerance | allergies |
 * | Immunization, ImmunizationRecommendation, ImmunizationEvaluation | immunizations |
 * | Observation | observations, + labs / vital-signs / imaging (below) |
 * | Specimen, MolecularSequence | labs |
 * | Procedure, ServiceRequest | procedures |
 * | Encounter, EpisodeOfCare, Appointment | encounters |
 * | CarePlan, CareTeam, Goal | care-plans |
 * | DocumentReference, DocumentManifest, Composition, Binary | documents |
 * | ImagingStudy, Media | imaging |
 * | DiagnosticReport | diagnostic-reports, + labs / imaging (below) |
 * | Claim, ClaimResponse, Coverage, ExplanationOfBenefit, Account, Invoice, ChargeItem, Coverage/Enrollment request+response, PaymentNotice, PaymentReconciliation | financial |
 * | Consent | consents |
 * | anything else (Practitioner, Organization, AuditEvent, Provenance, Contract, Research*, …) | other |
 * | Bundle | union over its entries (see {@link classify}) |
 *
 * labs: Observation.category `laboratory` (observation-category) or a v2-0074 lab section
 * (LAB BG BLB CG CH CP GE HM IMM MB MCB MYC OSL PAR PAT SP SR TX URN VR) in Observation/
 * DiagnosticReport.category, or SNOMED 15220000 / 252275004 there. imaging: category `imaging`,
 * v2-0074 CT CUS IMG NMR NMS OUS RAD RUS RX VUS XRC, or SNOMED 394914008. vital-signs: category
 * `vital-signs`, the R4 vitalsigns profile, or a code in the R4 vital-signs value set.
 *
 * ## Topic tags (also in `categories`)
 * | tag | rule (any coding anywhere in the resource, except meta and narrative) |
 * |---|---|
 * | diabetes | ICD-10 E08–E14, O24; SNOMED {@link DIABETES_SNOMED}; LOINC glucose/HbA1c {@link DIABETES_LOINC}; RxNorm insulins {@link INSULIN_RXNORM}; in Medication* resources, a coding display or CodeableConcept text containing "insulin" |
 *
 * ## Sensitive categories
 * Vocabulary in ./vocabulary/ (sources, licences and limits: docs/adr/0014-sensitive-vocabulary.md).
 * | category | meta.security (v3-ActCode) | codes and text |
 * |---|---|---|
 * | mental-health | PSY PSYTHPN MH BH COGN DVD EMOTDIS MST | ICD-10 F01–F09, F20–F99, R45.851, X71–X83…; ATC N05A N05B N06A N06BA N06C; RxNorm ingredients; SNOMED/LOINC lists |
 * | substance-use | ETH SUD ETHUD OPIOIDUD | ICD-10 F10–F19 (includes F17 nicotine), Z71.4–Z71.5, R78…; ATC N07B; RxNorm; SNOMED/LOINC lists (drug screens) |
 * | hiv | HIV | ICD-10 B20–B24, Z21, R75, Z20.6, Z11.4, Z71.7, O98.7; ATC J05AE J05AF J05AG J05AJ J05AR + J05AX list; RxNorm; SNOMED/LOINC lists |
 * | genomic | GDIS | ICD-10 Q90–Q99, Z14–Z15…; LOINC genetics list; SNOMED 363779003; v2-0074 GE, CG; MolecularSequence; observation-genetics* extensions or profile |
 * | sexual-reproductive | SEX STD SDV MST | ICD-10 O00–O9A, A50–A64, N46, N96–N98, Z30–Z37, Z39, Z3A…; ATC G02AD G02B G03A–G03H G03XB; RxNorm; SNOMED/LOINC lists; v2-0074 OUS |
 * ICD-10 entries match by prefix (any subcode), ATC by class prefix less listed exceptions
 * (Paxlovid, hepatitis-B-only NRTIs). Every resource's text — displays, CodeableConcept.text,
 * notes, the narrative with tags stripped, but not URLs, ids or codes — is also searched for
 * whole-word terms (disorders, tests, ingredient and brand names; acronyms such as AIDS and PrEP
 * case-sensitively); hormone names (estradiol, testosterone…) count only in Medication* resources,
 * where they are treatments rather than lab analytes. Definitional resources (ValueSet,
 * Questionnaire, …) are matched by code only. SNOMED CT subsumption is not computed: codes outside
 * the lists are caught by their display.
 * Labels match with system v3-ActCode, its pre-R4 URL, or no system (over-labelling is safe).
 * Other labels (confidentiality R/V, TBOO, SCA…) are reported in `securityLabels` only; the
 * consent layer decides what they mean.
 *
 * ## Emergency summary
 * | resource | emergency when |
 * |---|---|
 * | AllergyIntolerance | always, unless verificationStatus entered-in-error |
 * | MedicationRequest, MedicationStatement | status `active` |
 * | Condition | clinicalStatus active / recurrence / relapse, and verificationStatus not refuted / entered-in-error |
 * | Immunization | status not entered-in-error |
 * | Observation | blood type: LOINC 882-1, 883-9, 884-7, 10331-7, status not cancelled / entered-in-error |
 * | Consent | advance directive: status `active` and scope `adr`, or category consentcategorycodes acd/dnr/polst/hcd or LOINC 42348-3 |
 * | DocumentReference | type or category LOINC 42348-3 (Advance directives), status `current` |
 * | Bundle, everything else | never |
 * LOINC 59284-0 is "Patient Consent" — every privacy consent in the R4 examples carries it — so
 * it does not by itself mark an advance directive.
 */
import type { Resource } from '@medplum/fhirtypes';
import { SENSITIVE_CATEGORIES, type SensitiveCategory } from '../vocabulary.js';
import { ICD10_SENSITIVE } from './vocabulary/icd10.js';
import { ATC_EXCEPTIONS, ATC_SENSITIVE } from './vocabulary/atc.js';
import { LOINC_SENSITIVE, RXNORM_INGREDIENTS, SNOMED_SENSITIVE } from './vocabulary/codes.js';
import {
  ACRONYMS,
  DRUG_TERMS,
  INGREDIENT_TERMS,
  MEDICATION_ONLY_TERMS,
  TERM_GUARDS,
  TOPIC_TERMS,
} from './vocabulary/text.js';

/** Record-kind categories, then topic tags; consents name these. */
export const CATEGORIES = [
  'demographics',
  'conditions',
  'medications',
  'allergies',
  'immunizations',
  'observations',
  'labs',
  'vital-signs',
  'procedures',
  'encounters',
  'care-plans',
  'documents',
  'imaging',
  'diagnostic-reports',
  'financial',
  'consents',
  'other',
  'diabetes',
] as const;

/** A consent-relevant category: a kind of record or a clinical topic. */
export type Category = (typeof CATEGORIES)[number];

export { SENSITIVE_CATEGORIES, type SensitiveCategory };

/** What {@link classify} reports about one resource. */
export interface Classification {
  resourceType: string;
  /** In {@link CATEGORIES} order; never empty ('other' when nothing else applies). */
  categories: Category[];
  /** Every meta.security coding as `system|code` (just `code` without a system), sorted. */
  securityLabels: string[];
  /** In {@link SENSITIVE_CATEGORIES} order. */
  sensitive: SensitiveCategory[];
  /** Belongs in an emergency summary (break-glass access). */
  emergency: boolean;
}

// ---------------------------------------------------------------------------------------------
// Code systems

const LOINC = 'loinc';
const SNOMED = 'snomed';
const ICD10 = 'icd10';
const RXNORM = 'rxnorm';
const V2_0074 = 'v2-0074';
const ATC = 'atc';
type SystemKey = typeof LOINC | typeof SNOMED | typeof ICD10 | typeof RXNORM | typeof V2_0074 | typeof ATC;

function systemKey(system: unknown): SystemKey | undefined {
  if (typeof system !== 'string') return undefined;
  if (system === 'http://loinc.org' || system === 'urn:oid:2.16.840.1.113883.6.1') return LOINC;
  if (system === 'http://snomed.info/sct' || system === 'urn:oid:2.16.840.1.113883.6.96') return SNOMED;
  if (
    system === 'http://www.nlm.nih.gov/research/umls/rxnorm' ||
    system === 'urn:oid:2.16.840.1.113883.6.88'
  ) {
    return RXNORM;
  }
  // icd-10, icd-10-cm and national variants (icd-10-de, icd-10-nl…); ICD-10-CM and WHO OIDs.
  if (
    system.startsWith('http://hl7.org/fhir/sid/icd-10') ||
    system === 'urn:oid:2.16.840.1.113883.6.90' ||
    system === 'urn:oid:2.16.840.1.113883.6.3'
  ) {
    return ICD10;
  }
  if (system === 'http://www.whocc.no/atc' || system === 'urn:oid:2.16.840.1.113883.6.73') return ATC;
  if (
    system === 'http://terminology.hl7.org/CodeSystem/v2-0074' ||
    system === 'http://hl7.org/fhir/v2/0074'
  ) {
    return V2_0074;
  }
  return undefined;
}

/** SNOMED CT concepts tagged 'diabetes' (disorders and findings, including Synthea's). */
export const DIABETES_SNOMED = [
  '73211009', // Diabetes mellitus
  '44054006', // Diabetes mellitus type 2
  '46635009', // Diabetes mellitus type 1
  '15777000', // Prediabetes
  '11687002', // Gestational diabetes mellitus
  '127013003', // Disorder of kidney due to diabetes mellitus
  '90781000119102', // Microalbuminuria due to type 2 diabetes mellitus
  '157141000119108', // Proteinuria due to type 2 diabetes mellitus
  '368581000119106', // Neuropathy due to type 2 diabetes mellitus
  '1551000119108', // Nonproliferative diabetic retinopathy due to type 2 diabetes mellitus
  '97331000119101', // Macular edema and retinopathy due to type 2 diabetes mellitus
  '60951000119105', // Blindness due to type 2 diabetes mellitus
  '422034002', // Diabetic retinopathy associated with type II diabetes mellitus
  '4855003', // Retinopathy due to diabetes mellitus
  '473189005', // On subcutaneous insulin for diabetes mellitus
] as const;

/** LOINC glucose and HbA1c tests tagged 'diabetes'. */
export const DIABETES_LOINC = [
  '2339-0', // Glucose [Mass/volume] in Blood
  '2345-7', // Glucose [Mass/volume] in Serum or Plasma
  '4548-4', // Hemoglobin A1c/Hemoglobin.total in Blood
  '15074-8', // Glucose [Moles/volume] in Blood
  '41653-7', // Glucose [Mass/volume] in Capillary blood by Glucometer
  '14749-6', // Glucose [Moles/volume] in Serum or Plasma
  '17856-6', // Hemoglobin A1c/Hemoglobin.total in Blood by HPLC
  '1558-6', // Fasting glucose [Mass/volume] in Serum or Plasma
] as const;

/** RxNorm insulin ingredients (IN) plus the Lantus product used in the R4 examples. */
export const INSULIN_RXNORM = [
  '5856', // insulin
  '253182', // insulin regular, human
  '274783', // insulin glargine
  '86009', // insulin lispro
  '51428', // insulin aspart
  '139825', // insulin detemir
  '400008', // insulin glulisine
  '1605101', // insulin degludec
  '285018', // Lantus 100 unit/ml injectable solution (R4 example MedicationRequest)
] as const;

type Tag = Category | SensitiveCategory;

/** Exact-match code lists per system (extended below); ICD-10 and ATC are handled by prefix. */
const BASE_CODE_TAGS: Readonly<
  Record<Exclude<SystemKey, typeof ICD10 | typeof ATC>, Readonly<Record<string, readonly Tag[]>>>
> = {
  [SNOMED]: {
    ...tagAll(DIABETES_SNOMED, 'diabetes'),
    ...tagAll(
      [
        '74732009', // Mental disorder
        '35489007', // Depressive disorder
        '370143000', // Major depressive disorder
        '36923009', // Major depression, single episode
        '197480006', // Anxiety disorder
        '58214004', // Schizophrenia
        '13746004', // Bipolar disorder
        '47505003', // Posttraumatic stress disorder
        '69322001', // Psychotic disorder
        '406506008', // Attention deficit hyperactivity disorder
      ],
      'mental-health',
    ),
    ...tagAll(
      [
        '66214007', // Substance abuse
        '7200002', // Alcoholism
        '15167005', // Alcohol abuse
        '26416006', // Drug abuse
        '6525002', // Dependent drug abuse
        '5602001', // Opioid abuse
        '75544000', // Opioid dependence
      ],
      'substance-use',
    ),
    ...tagAll(
      [
        '86406008', // Human immunodeficiency virus infection
        '165816005', // HIV positive
        '62479008', // AIDS
        '91947003', // Asymptomatic HIV infection
      ],
      'hiv',
    ),
    ...tagAll(['363779003'], 'genomic'), // Genotype determination
    ...tagAll(
      [
        '77386006', // Pregnancy
        '72892002', // Normal pregnancy
        '19169002', // Miscarriage in first trimester
        '22633006', // Vaginal delivery
        '386637004', // Obstetric procedure
        '13197004', // Contraception
        '287664005', // Bilateral tubal ligation
        '8098009', // Sexually transmitted infectious disease
        '76272004', // Syphilis
        '15628003', // Gonorrhea
        '105629000', // Chlamydial infection
        '33839006', // Genital herpes simplex
      ],
      'sexual-reproductive',
    ),
    '15220000': ['labs'], // Laboratory test (DiagnosticReport.category)
    '252275004': ['labs'], // Haematology test
    '394914008': ['imaging'], // Radiology
  },
  [LOINC]: {
    ...tagAll(DIABETES_LOINC, 'diabetes'),
    ...tagAll(
      [
        '7917-8', // HIV 1 Ab [Presence] in Serum
        '5221-7', // HIV 1 Ab [Presence] in Serum by Immunoblot
        '68961-2', // HIV 1 Ab [Presence] in Serum or Plasma by Immunoassay
        '31201-7', // HIV 1+2 Ab [Presence] in Serum
        '56888-1', // HIV 1+2 Ab + HIV 1 p24 Ag [Presence] in Serum or Plasma by Immunoassay
        '75622-1', // HIV 1+2 Ab + HIV 1 p24 Ag [Presence] in Serum or Plasma by Immunoassay
        '25836-8', // HIV 1 RNA [#/volume] (viral load) by NAA with probe detection
        '20447-9', // HIV 1 RNA [#/volume] (viral load) in Serum or Plasma by NAA
      ],
      'hiv',
    ),
    ...tagAll(
      [
        '55233-1', // Genetic analysis master panel
        '55232-3', // Genetic disease analysis overall interpretation
        '51969-4', // Genetic analysis report
        '81247-9', // Master HL7 genetic variant reporting panel
        '69548-6', // Genetic variant assessment
        '48018-6', // Gene studied [ID]
        '81252-9', // Discrete genetic variant
        '48004-6', // DNA change (c.HGVS)
        '48005-3', // Amino acid change (p.HGVS)
        '84413-4', // Genotype display name
        '53037-8', // Genetic disease assessed
        '13303-3', // HLA-A+B+C (class I) [Type]
        '57290-9', // HLA-A [Type] by High resolution
        '57291-7', // HLA-B [Type] by High resolution
        '77636-9', // HLA-C [Type] by High resolution
        '59041-4', // BRCA1+BRCA2 gene mutations tested for
        '54447-8', // FLT3 gene mutation analysis
        '55201-8', // KIT gene mutation analysis
        '75034-9', // NPM1 gene mutations found
        '79716-7', // CYP2C9 gene product metabolic activity interpretation
        '33893-9', // Karyotype
      ],
      'genomic',
    ),
    ...tagAll(
      [
        '8665-2', // Date last menstrual period
        '82810-3', // Pregnancy status
        '11449-6', // Pregnancy status - Reported
        '2106-3', // Choriogonadotropin (pregnancy test) [Presence] in Urine
      ],
      'sexual-reproductive',
    ),
    // The R4 observation-vitalsignresult value set (panel, vitals and blood pressure parts).
    ...tagAll(
      [
        '85353-1',
        '9279-1',
        '8867-4',
        '2708-6',
        '8310-5',
        '8302-2',
        '9843-4',
        '29463-7',
        '39156-5',
        '85354-9',
        '8480-6',
        '8462-4',
        '8478-0',
      ],
      'vital-signs',
    ),
  },
  [RXNORM]: tagAll(INSULIN_RXNORM, 'diabetes'),
  [V2_0074]: {
    ...tagAll(
      [
        'LAB',
        'BG',
        'BLB',
        'CH',
        'CP',
        'HM',
        'IMM',
        'MB',
        'MCB',
        'MYC',
        'OSL',
        'PAR',
        'PAT',
        'SP',
        'SR',
        'TX',
        'URN',
        'VR',
      ],
      'labs',
    ),
    GE: ['labs', 'genomic'],
    CG: ['labs', 'genomic'],
    ...tagAll(['CT', 'CUS', 'IMG', 'NMR', 'NMS', 'RAD', 'RUS', 'RX', 'VUS', 'XRC'], 'imaging'),
    OUS: ['imaging', 'sexual-reproductive'],
  },
};

function tagAll(codes: readonly string[], tag: Tag): Record<string, readonly Tag[]> {
  return Object.fromEntries(codes.map((c) => [c, [tag]]));
}

/** The lists above plus vocabulary/codes.ts, merged once into one Map per system (tags add up). */
const CODE_TAGS = (() => {
  const merged = {} as Record<keyof typeof BASE_CODE_TAGS, Map<string, Tag[]>>;
  for (const [system, table] of Object.entries(BASE_CODE_TAGS) as [
    keyof typeof BASE_CODE_TAGS,
    Readonly<Record<string, readonly Tag[]>>,
  ][]) {
    merged[system] = new Map(Object.entries(table).map(([code, tags]) => [code, [...tags]]));
  }
  const add = (system: keyof typeof BASE_CODE_TAGS, code: string, tag: string): void => {
    const tags = merged[system].get(code) ?? [];
    if (!tags.includes(tag as Tag)) tags.push(tag as Tag);
    merged[system].set(code, tags);
  };
  for (const [tag, codes] of Object.entries(SNOMED_SENSITIVE)) for (const c of codes) add(SNOMED, c, tag);
  for (const [tag, codes] of Object.entries(LOINC_SENSITIVE)) for (const c of codes) add(LOINC, c, tag);
  for (const [tag, entries] of Object.entries(RXNORM_INGREDIENTS)) {
    for (const [cui] of entries) add(RXNORM, cui, tag);
  }
  return merged;
})();

// ---------------------------------------------------------------------------------------------
// Text: whole words and phrases (vocabulary/text.ts), compiled once into a few regular expressions.

interface TermIndex {
  pattern: RegExp;
  tags: ReadonlyMap<string, readonly SensitiveCategory[]>;
  caseSensitive: boolean;
}

function normalizeTerm(term: string, caseSensitive: boolean): string {
  const t = term.trim().replace(/[\s-]+/g, ' ');
  return caseSensitive ? t : t.toLowerCase();
}

function termIndex(
  groups: readonly Readonly<Record<string, readonly string[]>>[],
  caseSensitive: boolean,
): TermIndex {
  const tags = new Map<string, SensitiveCategory[]>();
  for (const group of groups) {
    for (const [category, terms] of Object.entries(group)) {
      for (const term of terms) {
        const key = normalizeTerm(term, caseSensitive);
        const list = tags.get(key) ?? [];
        if (!list.includes(category as SensitiveCategory)) list.push(category as SensitiveCategory);
        tags.set(key, list);
      }
    }
  }
  const alternatives = [...tags.keys()]
    .sort((a, b) => b.length - a.length || compareCodeUnits(a, b))
    .map((k) =>
      k
        .split(' ')
        .map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
        .join('[\\s-]+'),
    );
  const pattern = new RegExp(
    `(?<![\\p{L}\\p{N}])(?:${alternatives.join('|')})(?![\\p{L}\\p{N}])`,
    caseSensitive ? 'gu' : 'giu',
  );
  return { pattern, tags, caseSensitive };
}

const TEXT_EVERYWHERE = [
  termIndex([TOPIC_TERMS, DRUG_TERMS, INGREDIENT_TERMS], false),
  termIndex([ACRONYMS], true),
];
const TEXT_IN_MEDICATIONS = [termIndex([MEDICATION_ONLY_TERMS], false)];

function textTags(text: string, indexes: readonly TermIndex[], into: Set<Tag>): void {
  for (const { pattern, tags, caseSensitive } of indexes) {
    for (const m of text.matchAll(pattern)) {
      const key = normalizeTerm(m[0], caseSensitive);
      const guard = TERM_GUARDS[key];
      if (guard && guard.test(text)) continue;
      for (const t of tags.get(key) ?? []) into.add(t);
    }
  }
}

// Properties whose strings are identifiers, URLs or machine codes, not text: not read.
const NOT_TEXT = new Set([
  'id',
  'reference',
  'url',
  'system',
  'version',
  'fullUrl',
  'data',
  'resourceType',
  'status',
  'intent',
  'use',
  'language',
  'contentType',
  'hash',
  'code',
  'currency',
  'profile',
]);

// Definitions, not records about a patient: their words (a PHQ-9 form, a value set) are not read.
const DEFINITION_TYPES = new Set([
  'ValueSet',
  'CodeSystem',
  'ConceptMap',
  'NamingSystem',
  'StructureDefinition',
  'StructureMap',
  'CapabilityStatement',
  'OperationDefinition',
  'SearchParameter',
  'ImplementationGuide',
  'Questionnaire',
  'PlanDefinition',
  'ActivityDefinition',
  'Library',
  'Measure',
]);

/** Every human-readable string of a resource (narrative with its tags stripped), outside meta. */
function resourceText(resource: Json): string {
  const out: string[] = [];
  const walk = (value: unknown, key: string): void => {
    if (typeof value === 'string') {
      if (key === 'div') out.push(value.replace(/<[^>]*>/g, ' ').replace(/&[a-z]+;|&#[0-9]+;/gi, ' '));
      else if (!NOT_TEXT.has(key) && !/^(https?|urn|ftp):/i.test(value)) out.push(value);
      return;
    }
    if (Array.isArray(value)) {
      for (const v of value) walk(v, key);
      return;
    }
    if (!isObject(value)) return;
    for (const [k, v] of Object.entries(value)) if (k !== 'meta') walk(v, k);
  };
  walk(resource, '');
  return out.join('\u0000'); // not a word or space character: no phrase spans two strings
}

/**
 * ICD-10 prefixes and ranges: sensitive ones from vocabulary/icd10.ts, then the diabetes tags.
 * `[from, to, tag]` over the code without its dot, compared on the first `from.length` characters.
 */
const ICD10_RANGES: readonly (readonly [string, string, Tag])[] = [
  ...(ICD10_SENSITIVE as readonly (readonly [string, string, Tag])[]),
  ['E08', 'E14', 'diabetes'],
  ['O24', 'O24', 'diabetes'],
];
const ICD10_BY_LETTER = new Map<string, (readonly [string, string, Tag])[]>();
for (const range of ICD10_RANGES) {
  const list = ICD10_BY_LETTER.get(range[0][0]!) ?? [];
  list.push(range);
  ICD10_BY_LETTER.set(range[0][0]!, list);
}

function icd10Tags(code: string): Tag[] {
  const c = code.replace('.', '').trim().toUpperCase();
  if (!/^[A-Z][0-9][0-9A-Z]/.test(c)) return [];
  return (ICD10_BY_LETTER.get(c[0]!) ?? [])
    .filter(([lo, hi]) => {
      const head = c.slice(0, lo.length);
      return head.length === lo.length && head >= lo && head <= hi;
    })
    .map(([, , tag]) => tag);
}

/** ATC: the longest listed class prefix decides; exceptions are exact substance codes. */
function atcTags(code: string): Tag[] {
  const c = code.trim().toUpperCase();
  if (ATC_EXCEPTIONS.has(c)) return [];
  for (let n = Math.min(c.length, 7); n >= 3; n--) {
    const tag = ATC_SENSITIVE[c.slice(0, n)];
    if (tag) return [tag as Tag];
  }
  return [];
}

// Which meta.security ActCodes imply which sensitive category.
const LABEL_TAGS: Readonly<Record<string, readonly SensitiveCategory[]>> = {
  PSY: ['mental-health'],
  PSYTHPN: ['mental-health'],
  MH: ['mental-health'],
  BH: ['mental-health'],
  COGN: ['mental-health'],
  DVD: ['mental-health'],
  EMOTDIS: ['mental-health'],
  MST: ['mental-health', 'sexual-reproductive'],
  ETH: ['substance-use'],
  SUD: ['substance-use'],
  ETHUD: ['substance-use'],
  OPIOIDUD: ['substance-use'],
  HIV: ['hiv'],
  GDIS: ['genomic'],
  SEX: ['sexual-reproductive'],
  STD: ['sexual-reproductive'],
  SDV: ['sexual-reproductive'],
};
const ACT_CODE_SYSTEMS = new Set([
  undefined,
  'http://terminology.hl7.org/CodeSystem/v3-ActCode',
  'http://hl7.org/fhir/v3/ActCode',
]);

const BY_TYPE: Readonly<Record<string, readonly Category[]>> = {
  ...typesTo(['Patient', 'RelatedPerson', 'Person'], 'demographics'),
  ...typesTo(['Condition', 'FamilyMemberHistory'], 'conditions'),
  ...typesTo(
    [
      'Medication',
      'MedicationRequest',
      'MedicationStatement',
      'MedicationDispense',
      'MedicationAdministration',
    ],
    'medications',
  ),
  AllergyIntolerance: ['allergies'],
  ...typesTo(['Immunization', 'ImmunizationRecommendation', 'ImmunizationEvaluation'], 'immunizations'),
  Observation: ['observations'],
  ...typesTo(['Specimen', 'MolecularSequence'], 'labs'),
  ...typesTo(['Procedure', 'ServiceRequest'], 'procedures'),
  ...typesTo(['Encounter', 'EpisodeOfCare', 'Appointment'], 'encounters'),
  ...typesTo(['CarePlan', 'CareTeam', 'Goal'], 'care-plans'),
  ...typesTo(['DocumentReference', 'DocumentManifest', 'Composition', 'Binary'], 'documents'),
  ...typesTo(['ImagingStudy', 'Media'], 'imaging'),
  DiagnosticReport: ['diagnostic-reports'],
  ...typesTo(
    [
      'Claim',
      'ClaimResponse',
      'Coverage',
      'ExplanationOfBenefit',
      'Account',
      'Invoice',
      'ChargeItem',
      'CoverageEligibilityRequest',
      'CoverageEligibilityResponse',
      'EnrollmentRequest',
      'EnrollmentResponse',
      'PaymentNotice',
      'PaymentReconciliation',
    ],
    'financial',
  ),
  Consent: ['consents'],
};

function typesTo(types: readonly string[], category: Category): Record<string, readonly Category[]> {
  return Object.fromEntries(types.map((t) => [t, [category]]));
}

// Tags that count only when the code sits in `category` (a section, not a finding).
const SECTION_TAGS = new Set<Tag>(['labs', 'imaging']);
const OBSERVATION_CATEGORY = 'http://terminology.hl7.org/CodeSystem/observation-category';
const OBSERVATION_SECTIONS: Readonly<Record<string, Category>> = {
  laboratory: 'labs',
  'vital-signs': 'vital-signs',
  imaging: 'imaging',
};
const MEDICATION_TYPES = new Set(Object.keys(BY_TYPE).filter((t) => BY_TYPE[t]?.includes('medications')));

// ---------------------------------------------------------------------------------------------

type Json = Record<string, unknown>;

interface Coding {
  system: unknown;
  code: string;
  /** Property path from the resource root, e.g. `category` or `contained.code`. */
  under: string;
}

/**
 * Classify one resource for consent — a validated one (validateFhir bounds its depth; on
 * arbitrary input classify does not throw on odd shapes but may recurse as deep as the input).
 * For a Bundle the result is the union over its entries'
 * resources (categories, labels, sensitive), with `emergency` false: emergency access releases
 * whole resources, and releasing a bundle because one entry is an allergy would over-disclose —
 * split bundles first (entriesOfTransactionBundle) and classify each entry.
 *
 * @example
 * classify({ resourceType: 'Condition', subject: { reference: 'Patient/1' },
 *   clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] },
 *   code: { coding: [{ system: 'http://hl7.org/fhir/sid/icd-10-cm', code: 'F32.9' }] } });
 * // → { categories: ['conditions'], sensitive: ['mental-health'], emergency: true, … }
 */
export function classify(resource: Resource): Classification {
  const r = resource as unknown as Json;
  const resourceType = typeof r['resourceType'] === 'string' ? r['resourceType'] : 'unknown';
  const tags = new Set<Tag>();
  const labels = new Set<string>();

  if (resourceType === 'Bundle') {
    for (const entry of asArray(r['entry'])) {
      const inner = isObject(entry) ? entry['resource'] : undefined;
      if (!isObject(inner)) continue;
      const c = classify(inner as unknown as Resource);
      c.categories.forEach((t) => tags.add(t));
      c.sensitive.forEach((t) => tags.add(t));
      c.securityLabels.forEach((l) => labels.add(l));
    }
    return finish(resourceType, tags, labels, false);
  }

  for (const t of BY_TYPE[resourceType] ?? []) tags.add(t);
  for (const res of [r, ...asArray(r['contained']).filter(isObject)]) {
    const meta = isObject(res['meta']) ? res['meta'] : {};
    for (const label of asArray(meta['security']).filter(isObject)) {
      if (typeof label['code'] !== 'string') continue;
      const system = typeof label['system'] === 'string' ? label['system'] : undefined;
      labels.add(system ? `${system}|${label['code']}` : label['code']);
      if (ACT_CODE_SYSTEMS.has(system)) for (const t of LABEL_TAGS[label['code']] ?? []) tags.add(t);
    }
    if (asArray(meta['profile']).some((p) => typeof p === 'string' && p.includes('/observation-genetics'))) {
      tags.add('genomic');
    }
    if (res['resourceType'] === 'MolecularSequence') tags.add('genomic');
    if (
      asArray(res['extension']).some((e) => isObject(e) && String(e['url']).includes('/observation-genetics'))
    ) {
      tags.add('genomic');
    }
    if (
      res['resourceType'] === 'Observation' &&
      asArray(meta['profile']).includes('http://hl7.org/fhir/StructureDefinition/vitalsigns')
    ) {
      tags.add('vital-signs');
    }
  }

  const codings = collectCodings(r);
  const isObservationOrReport = resourceType === 'Observation' || resourceType === 'DiagnosticReport';
  for (const c of codings) {
    const key = systemKey(c.system);
    const found: readonly Tag[] =
      key === ICD10
        ? icd10Tags(c.code)
        : key === ATC
          ? atcTags(c.code)
          : key
            ? (CODE_TAGS[key].get(c.code) ?? [])
            : [];
    for (const t of found) {
      if (SECTION_TAGS.has(t) && !(isObservationOrReport && c.under === 'category')) continue;
      if (t === 'vital-signs' && !(resourceType === 'Observation' && c.under === 'code')) continue;
      tags.add(t);
    }
    if (resourceType === 'Observation' && c.under === 'category' && c.system === OBSERVATION_CATEGORY) {
      const section = OBSERVATION_SECTIONS[c.code];
      if (section) tags.add(section);
    }
  }
  if (MEDICATION_TYPES.has(resourceType) && mentionsInsulin(r)) tags.add('diabetes');
  if (!DEFINITION_TYPES.has(resourceType)) {
    const text = resourceText(r);
    textTags(text, TEXT_EVERYWHERE, tags);
    if (MEDICATION_TYPES.has(resourceType)) textTags(text, TEXT_IN_MEDICATIONS, tags);
  }

  return finish(resourceType, tags, labels, isEmergency(resourceType, r));
}

function finish(
  resourceType: string,
  tags: Set<Tag>,
  labels: Set<string>,
  emergency: boolean,
): Classification {
  const categories = CATEGORIES.filter((c) => tags.has(c));
  return {
    resourceType,
    categories: categories.length > 0 ? categories : ['other'],
    securityLabels: [...labels].sort(compareCodeUnits),
    sensitive: SENSITIVE_CATEGORIES.filter((c) => tags.has(c)),
    emergency,
  };
}

function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0; // not localeCompare: the order must not depend on the runtime's locale
}

/** Every Coding-shaped object (a string `code`) outside meta and narrative, with its top-level property. */
function collectCodings(resource: Json): Coding[] {
  const out: Coding[] = [];
  const walk = (value: unknown, under: string): void => {
    if (Array.isArray(value)) {
      for (const v of value) walk(v, under);
      return;
    }
    if (!isObject(value)) return;
    if (typeof value['code'] === 'string') {
      out.push({ system: value['system'], code: value['code'], under });
    }
    for (const [k, v] of Object.entries(value)) {
      if (k === 'meta' || (k === 'text' && isObject(v))) continue;
      walk(v, under === '' ? k : under);
    }
  };
  walk(resource, '');
  return out;
}

/** A medication named only in words: displays and CodeableConcept texts, outside narrative. */
function mentionsInsulin(resource: Json): boolean {
  let found = false;
  const walk = (value: unknown): void => {
    if (found) return;
    if (Array.isArray(value)) return value.forEach(walk);
    if (!isObject(value)) return;
    for (const [k, v] of Object.entries(value)) {
      if (k === 'meta') continue;
      if ((k === 'display' || k === 'text') && typeof v === 'string' && /insulin/i.test(v)) found = true;
      else if (!(k === 'text' && isObject(v))) walk(v);
    }
  };
  walk(resource);
  return found;
}

const BLOOD_TYPE_LOINC = new Set(['882-1', '883-9', '884-7', '10331-7']);
const ADVANCE_DIRECTIVE_LOINC = '42348-3';
const CONSENT_CATEGORY = 'http://terminology.hl7.org/CodeSystem/consentcategorycodes';
const CONSENT_SCOPE = 'http://terminology.hl7.org/CodeSystem/consentscope';
const DIRECTIVE_CATEGORIES = new Set(['acd', 'dnr', 'polst', 'hcd']);

function isEmergency(type: string, r: Json): boolean {
  const status = r['status'];
  switch (type) {
    case 'AllergyIntolerance':
      return !hasCode(r['verificationStatus'], undefined, ['entered-in-error']);
    case 'MedicationRequest':
    case 'MedicationStatement':
      return status === 'active';
    case 'Condition':
      return (
        hasCode(r['clinicalStatus'], undefined, ['active', 'recurrence', 'relapse']) &&
        !hasCode(r['verificationStatus'], undefined, ['refuted', 'entered-in-error'])
      );
    case 'Immunization':
      return status !== 'entered-in-error';
    case 'Observation':
      return (
        status !== 'cancelled' &&
        status !== 'entered-in-error' &&
        codingsOf(r['code']).some(
          (c) => systemKey(c['system']) === LOINC && BLOOD_TYPE_LOINC.has(String(c['code'])),
        )
      );
    case 'Consent':
      return (
        status === 'active' &&
        (hasCode(r['scope'], CONSENT_SCOPE, ['adr']) ||
          asArray(r['category']).some(
            (cat) =>
              hasCode(cat, CONSENT_CATEGORY, [...DIRECTIVE_CATEGORIES]) ||
              hasCode(cat, 'http://loinc.org', [ADVANCE_DIRECTIVE_LOINC]),
          ))
      );
    case 'DocumentReference':
      return (
        status === 'current' &&
        [r['type'], ...asArray(r['category'])].some((cc) =>
          hasCode(cc, 'http://loinc.org', [ADVANCE_DIRECTIVE_LOINC]),
        )
      );
    default:
      return false;
  }
}

/** Does a CodeableConcept carry one of `codes` (from `system`, if given)? */
function hasCode(cc: unknown, system: string | undefined, codes: readonly string[]): boolean {
  return codingsOf(cc).some(
    (c) =>
      (system === undefined || c['system'] === system) &&
      typeof c['code'] === 'string' &&
      codes.includes(c['code']),
  );
}

function codingsOf(cc: unknown): Json[] {
  return isObject(cc) ? asArray(cc['coding']).filter(isObject) : [];
}

function asArray(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
