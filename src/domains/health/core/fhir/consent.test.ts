import { test } from 'node:test';
import assert from 'node:assert/strict';
import { consentFromFhir, consentToFhir, ConsentMappingError, type LedgerConsent } from './consent.js';
import { validateFhir } from './validate.js';

const travel: LedgerConsent = {
  id: 'travel-2026',
  patient: 'st-mary/p-dana',
  actor: { kind: 'role', role: 'practitioner', attributes: { specialty: 'emergency-medicine' } },
  categories: ['diabetes'],
  sensitive: [],
  resourceTypes: ['Observation', 'MedicationRequest'],
  purposes: ['treatment', 'emergency'],
  validFromMs: 1_763_700_000_000,
  validUntilMs: 1_763_872_800_000,
  revokedAtHeight: null,
};
const cases: LedgerConsent[] = [
  travel,
  {
    ...travel,
    id: 'psych',
    actor: { kind: 'member', id: 'st-mary/dr-derm' },
    categories: [],
    sensitive: ['mental-health', 'hiv'],
    resourceTypes: ['*'],
  },
  {
    ...travel,
    id: 'clinic',
    actor: { kind: 'org', org: 'city-clinic' },
    categories: ['*'],
    purposes: ['payment'],
    revokedAtHeight: 12,
  },
  { ...travel, id: 'st-mary-staff', actor: { kind: 'role', role: 'practitioner', org: 'st-mary' } },
];

for (const c of cases) {
  test(`consent ${c.id}: exports as valid FHIR R4 and imports back unchanged`, () => {
    const fhir = consentToFhir(c);
    const v = validateFhir(fhir);
    assert.ok(v.ok, JSON.stringify(!v.ok && v.outcome));
    assert.equal(fhir.status, c.revokedAtHeight ? 'inactive' : 'active');
    const { revokedAtHeight: _r, ...rest } = c;
    assert.deepEqual(consentFromFhir(fhir), rest);
  });
}

test('import refuses consents it cannot represent', () => {
  const f = consentToFhir(travel);
  assert.throws(
    () => consentFromFhir({ ...f, provision: { ...f.provision!, type: 'deny' } }),
    ConsentMappingError,
  );
  assert.throws(() => consentFromFhir({ ...f, patient: { reference: 'Patient/123' } }), ConsentMappingError);
  assert.throws(
    () =>
      consentFromFhir({
        ...f,
        provision: { ...f.provision!, purpose: [{ system: 'x', code: 'MARKETING' }] },
      }),
    ConsentMappingError,
  );
  assert.throws(
    () => consentFromFhir({ ...f, provision: { ...f.provision!, period: {} } }),
    ConsentMappingError,
  );
});
