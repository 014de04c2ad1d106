/**
 * FHIR R4 support for HealthLedger: validation, consent classification, bundle import and
 * legacy normalization. Browser-safe: builds only on Medplum (see validate.ts for how the R4
 * definitions are loaded outside Node).
 */
export {
  loadFhirDefinitions,
  MAX_FHIR_DEPTH,
  MAX_FHIR_JSON_BYTES,
  REQUIRED_BINDINGS,
  supportedResourceTypes,
  validateFhir,
  type FhirValidationResult,
  type RequiredBinding,
} from './validate.js';
export {
  CATEGORIES,
  classify,
  DIABETES_LOINC,
  DIABETES_SNOMED,
  INSULIN_RXNORM,
  SENSITIVE_CATEGORIES,
  type Category,
  type Classification,
  type SensitiveCategory,
} from './classify.js';
export {
  entriesOfTransactionBundle,
  FhirBundleError,
  IMPORTABLE_BUNDLE_TYPES,
  resolveReferences,
  type BundleResourceEntry,
  type ResolvedEntries,
} from './bundle.js';
export { normalizeLegacy, type LegacyNormalization } from './legacy.js';
export { consentFromFhir, consentToFhir, ConsentMappingError, type LedgerConsent } from './consent.js';
