/**
 * The health vocabulary shared by the contracts (which decide access) and the FHIR layer (which
 * classifies resources): one definition, so a category the classifier emits is one the consent
 * rules know.
 * @module
 */

/** Categories denied unless a consent names them explicitly (42 CFR Part 2, state law). */
export const SENSITIVE_CATEGORIES = [
  'mental-health',
  'hiv',
  'substance-use',
  'genomic',
  'sexual-reproductive',
] as const;

/** A legally sensitive category. */
export type SensitiveCategory = (typeof SENSITIVE_CATEGORIES)[number];

/** Purposes of use (HL7 v3 PurposeOfUse: TREAT, ETREAT, HRESCH, HPAYMT). */
export const PURPOSES = ['treatment', 'emergency', 'research', 'payment'] as const;

/** A purpose of use. */
export type Purpose = (typeof PURPOSES)[number];
