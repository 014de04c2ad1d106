/**
 * Records, consent, audited access, break-glass and erasure — decided by the pure contracts.
 * The story of the issue, transaction by transaction, plus each denial rule by name.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { T0, consortium, pureLedger, tx, type TestMember } from '../../../test-support/ledger-fixture.js';
import { txIdOf } from '../../../protocol/tx.js';
import { HealthKeys, type AccessGrant, type RecordEntry } from './model.js';
import { inScope } from './access.js';

const H = 3600_000;
const c = consortium(['st-mary', 'city-clinic']);

function world() {
  const l = pureLedger(c.genesis);
  const m = {
    dana: c.member('st-mary', 'p-dana', 'patient'),
    mom: c.member('st-mary', 'p-dana-mother', 'patient'),
    records: c.member('st-mary', 'records', 'custodian'),
    erin: c.member('city-clinic', 'dr-erin', 'practitioner', {
      specialty: 'emergency-medicine',
      licence: 'MD-3',
    }),
    derm: c.member('st-mary', 'dr-derm', 'practitioner', { specialty: 'dermatology' }),
    gp: c.member('city-clinic', 'dr-gp', 'practitioner', { specialty: 'general-practice' }),
  };
  const enroll = (org: string, who: TestMember) =>
    tx(c.admin(org), 'member.enroll', { certificate: who.pem });
  const out = l.apply([
    enroll('st-mary', m.dana),
    enroll('st-mary', m.mom),
    enroll('st-mary', m.records),
    enroll('city-clinic', m.erin),
    enroll('st-mary', m.derm),
    enroll('city-clinic', m.gp),
  ]);
  assert.ok(
    out.codes.every((x) => x === 'VALID'),
    out.codes.join(),
  );
  const record = (
    id: string,
    resourceType: string,
    categories: string[],
    sensitive: string[],
    emergency: boolean,
    version = 1,
  ) =>
    tx(m.records, 'record.register', {
      id,
      patient: m.dana.memberId,
      resourceType,
      categories,
      sensitive,
      emergency,
      version,
      commitment: 'ab'.repeat(32),
      author: m.derm.memberId,
    });
  const regs = l.apply([
    record('glucose-0001', 'Observation', ['observations', 'labs', 'diabetes'], [], false),
    record('insulin-0001', 'MedicationRequest', ['medications', 'diabetes'], [], true),
    record('depress-0001', 'Condition', ['conditions'], ['mental-health'], true),
    record('allergy-0001', 'AllergyIntolerance', ['allergies'], [], true),
  ]);
  assert.deepEqual(regs.codes, ['VALID', 'VALID', 'VALID', 'VALID']);
  return { l, m, record };
}

const request = (who: TestMember, payload: Record<string, unknown>, now = T0 + 1000) =>
  tx(who, 'access.request', payload, {}, now);
const records = (l: ReturnType<typeof pureLedger>) =>
  ['glucose-0001', 'insulin-0001', 'depress-0001', 'allergy-0001'].map(
    (id) => JSON.parse(l.state.get(HealthKeys.record(id))!) as RecordEntry,
  );
const released = (l: ReturnType<typeof pureLedger>, t: ReturnType<typeof tx>) => {
  const g = JSON.parse(l.state.get(HealthKeys.access(txIdOf(t.body)))!) as AccessGrant;
  return records(l)
    .filter((r) => inScope(g, r))
    .map((r) => r.id);
};

test('the diabetic traveller: emergency physicians anywhere, diabetes records, 48 h; then revoked', () => {
  const { l, m } = world();
  const grant = tx(m.dana, 'consent.grant', {
    id: 'travel-2026',
    patient: m.dana.memberId,
    actor: { kind: 'role', role: 'practitioner', attributes: { specialty: 'emergency-medicine' } },
    categories: ['diabetes'],
    resourceTypes: ['Observation', 'MedicationRequest'],
    purposes: ['treatment', 'emergency'],
    validFromMs: T0,
    validUntilMs: T0 + 48 * H,
  });
  assert.deepEqual(l.apply([grant]).codes, ['VALID']);

  const read = request(m.erin, { patient: m.dana.memberId, purpose: 'treatment', categories: ['diabetes'] });
  assert.deepEqual(l.apply([read]).codes, ['VALID']);
  assert.deepEqual(released(l, read), ['glucose-0001', 'insulin-0001']);

  // Not an emergency physician: no consent covers them.
  assert.deepEqual(l.apply([request(m.gp, { patient: m.dana.memberId, purpose: 'treatment' })]).codes, [
    'NO_CONSENT',
  ]);
  // Wrong purpose, categories beyond the grant, a sensitive category, after expiry.
  assert.deepEqual(l.apply([request(m.erin, { patient: m.dana.memberId, purpose: 'research' })]).codes, [
    'PURPOSE_NOT_PERMITTED',
  ]);
  assert.deepEqual(
    l.apply([request(m.erin, { patient: m.dana.memberId, purpose: 'treatment', categories: ['allergies'] })])
      .codes,
    ['CATEGORY_NOT_PERMITTED'],
  );
  assert.deepEqual(
    l.apply([
      request(m.erin, { patient: m.dana.memberId, purpose: 'treatment', resourceTypes: ['Condition'] }),
    ]).codes,
    ['CATEGORY_NOT_PERMITTED'],
  );
  assert.deepEqual(
    l.apply([
      request(m.erin, { patient: m.dana.memberId, purpose: 'treatment', categories: ['mental-health'] }),
    ]).codes,
    ['SENSITIVE_NOT_PERMITTED'],
  );
  const late = T0 + 49 * H;
  assert.deepEqual(
    l.apply([request(m.erin, { patient: m.dana.memberId, purpose: 'treatment' }, late)], late).codes,
    ['CONSENT_EXPIRED'],
  );

  // Revocation: one transaction, effective from the next block.
  const revoke = tx(m.dana, 'consent.revoke', { patient: m.dana.memberId, id: 'travel-2026' });
  const sameBlock = request(m.erin, { patient: m.dana.memberId, purpose: 'treatment' });
  assert.deepEqual(l.apply([revoke, sameBlock]).codes, ['VALID', 'VALID']);
  assert.deepEqual(l.apply([request(m.erin, { patient: m.dana.memberId, purpose: 'treatment' })]).codes, [
    'CONSENT_REVOKED',
  ]);
});

test('a dermatologist with general treatment consent is denied mental-health records', () => {
  const { l, m } = world();
  l.apply([
    tx(m.dana, 'consent.grant', {
      id: 'st-mary-care',
      patient: m.dana.memberId,
      actor: { kind: 'role', role: 'practitioner', org: 'st-mary' },
      categories: ['*'],
      purposes: ['treatment'],
      validFromMs: T0,
      validUntilMs: T0 + 365 * 24 * H,
    }),
  ]);
  assert.deepEqual(
    l.apply([
      request(m.derm, { patient: m.dana.memberId, purpose: 'treatment', categories: ['mental-health'] }),
    ]).codes,
    ['SENSITIVE_NOT_PERMITTED'],
  );
  const all = request(m.derm, { patient: m.dana.memberId, purpose: 'treatment' });
  assert.deepEqual(l.apply([all]).codes, ['VALID']);
  assert.deepEqual(
    released(l, all),
    ['glucose-0001', 'insulin-0001', 'allergy-0001'],
    'sensitive record withheld',
  );
  // Named explicitly, it is released.
  l.apply([
    tx(m.dana, 'consent.grant', {
      id: 'psych',
      patient: m.dana.memberId,
      actor: { kind: 'member', id: m.derm.memberId },
      categories: [],
      sensitive: ['mental-health'],
      purposes: ['treatment'],
      validFromMs: T0,
      validUntilMs: T0 + H,
    }),
  ]);
  const psych = request(m.derm, {
    patient: m.dana.memberId,
    purpose: 'treatment',
    categories: ['mental-health'],
  });
  assert.deepEqual(l.apply([psych]).codes, ['VALID']);
  assert.deepEqual(released(l, psych), ['depress-0001']);
});

test('break-glass: emergency role only, ≤ 24 h, emergency summary, patient exclusions honoured, flagged for review', () => {
  const { l, m } = world();
  const bg = tx(m.erin, 'access.break-glass', {
    patient: m.dana.memberId,
    reason: 'unconscious after a car accident',
    durationMs: 4 * H,
  });
  assert.deepEqual(l.apply([bg]).codes, ['VALID']);
  assert.deepEqual(released(l, bg), ['insulin-0001', 'depress-0001', 'allergy-0001']);
  const g = JSON.parse(l.state.get(HealthKeys.access(txIdOf(bg.body)))!) as AccessGrant;
  assert.equal(g.expiresAtMs, T0 + 1000 + 4 * H);
  assert.ok(l.state.get(HealthKeys.review(txIdOf(bg.body)))?.includes('pending'));
  assert.deepEqual(
    l.apply([
      tx(m.derm, 'access.break-glass', {
        patient: m.dana.memberId,
        reason: 'I would like to look',
        durationMs: H,
      }),
    ]).codes,
    ['NOT_EMERGENCY_PRACTITIONER'],
  );
  assert.deepEqual(
    l.apply([
      tx(m.erin, 'access.break-glass', {
        patient: m.dana.memberId,
        reason: 'unconscious after a car accident',
        durationMs: 25 * H,
      }),
    ]).codes,
    ['INVALID_PAYLOAD'],
  );
  assert.deepEqual(
    l.apply([
      tx(m.dana, 'patient.set-break-glass-exclusions', {
        patient: m.dana.memberId,
        exclude: ['mental-health'],
      }),
    ]).codes,
    ['VALID'],
  );
  const bg2 = tx(m.erin, 'access.break-glass', {
    patient: m.dana.memberId,
    reason: 'unconscious again, second admission',
    durationMs: H,
  });
  l.apply([bg2]);
  assert.deepEqual(released(l, bg2), ['insulin-0001', 'allergy-0001']);
});

test('who may grant: the patient, a named proxy; nobody else', () => {
  const { l, m } = world();
  const consent = (who: TestMember, id: string) =>
    tx(who, 'consent.grant', {
      id,
      patient: m.dana.memberId,
      actor: { kind: 'org', org: 'city-clinic' },
      categories: ['allergies'],
      purposes: ['treatment'],
      validFromMs: T0,
      validUntilMs: T0 + H,
    });
  assert.deepEqual(l.apply([consent(m.mom, 'by-mom')]).codes, ['NOT_PATIENT_OR_PROXY']);
  assert.deepEqual(
    l.apply([tx(m.dana, 'patient.set-proxies', { patient: m.dana.memberId, proxies: [m.mom.memberId] })])
      .codes,
    ['VALID'],
  );
  assert.deepEqual(l.apply([consent(m.mom, 'by-mom'), consent(m.mom, 'by-mom')]).codes, [
    'VALID',
    'CONSENT_EXISTS',
  ]);
  assert.deepEqual(l.apply([consent(m.erin, 'by-erin')]).codes, ['NOT_PATIENT_OR_PROXY']);
  assert.deepEqual(l.apply([tx(m.dana, 'consent.revoke', { patient: m.dana.memberId, id: 'nope' })]).codes, [
    'CONSENT_NOT_FOUND',
  ]);
  assert.deepEqual(l.apply([request(m.erin, { patient: 'st-mary/nobody', purpose: 'treatment' })]).codes, [
    'UNKNOWN_PATIENT',
  ]);
});

test('records: custodian only, versions append with provenance, nothing overwritten', () => {
  const { l, m, record } = world();
  assert.deepEqual(
    l.apply([
      tx(m.derm, 'record.register', {
        id: 'x-00000001',
        patient: m.dana.memberId,
        resourceType: 'Observation',
        categories: [],
        sensitive: [],
        emergency: false,
        version: 1,
        commitment: 'ab'.repeat(32),
        author: m.derm.memberId,
      }),
    ]).codes,
    ['UNAUTHORIZED_ROLE'],
  );
  assert.deepEqual(l.apply([record('glucose-0001', 'Observation', ['labs'], [], false, 1)]).codes, [
    'RECORD_VERSION_CONFLICT',
  ]);
  assert.deepEqual(
    l.apply([record('glucose-0001', 'Observation', ['labs', 'diabetes'], [], false, 2)]).codes,
    ['VALID'],
  );
  assert.ok(
    l.state.has(HealthKeys.recordVersion('glucose-0001', 1)) &&
      l.state.has(HealthKeys.recordVersion('glucose-0001', 2)),
  );
  const e = JSON.parse(l.state.get(HealthKeys.record('glucose-0001'))!) as RecordEntry;
  assert.deepEqual([e.version, e.registeredAtHeight < e.updatedAtHeight], [2, true]);
});

test('erasure: requested by the patient, then every access is denied; custodians tombstone once', () => {
  const { l, m, record } = world();
  l.apply([
    tx(m.dana, 'consent.grant', {
      id: 'all',
      patient: m.dana.memberId,
      actor: { kind: 'org', org: 'city-clinic' },
      categories: ['*'],
      purposes: ['treatment'],
      validFromMs: T0,
      validUntilMs: T0 + H,
    }),
  ]);
  assert.deepEqual(
    l.apply([tx(m.records, 'erasure.complete', { patient: m.dana.memberId, records: 4 })]).codes,
    ['ERASURE_NOT_REQUESTED'],
  );
  assert.deepEqual(l.apply([tx(m.dana, 'erasure.request', { patient: m.dana.memberId })]).codes, ['VALID']);
  assert.deepEqual(l.apply([request(m.erin, { patient: m.dana.memberId, purpose: 'treatment' })]).codes, [
    'PATIENT_ERASED',
  ]);
  assert.deepEqual(
    l.apply([
      tx(m.erin, 'access.break-glass', {
        patient: m.dana.memberId,
        reason: 'unconscious after a car accident',
        durationMs: H,
      }),
    ]).codes,
    ['PATIENT_ERASED'],
  );
  assert.deepEqual(l.apply([record('new-00000001', 'Observation', ['labs'], [], false)]).codes, [
    'PATIENT_ERASED',
  ]);
  assert.deepEqual(
    l.apply([
      tx(m.records, 'erasure.complete', { patient: m.dana.memberId, records: 4 }),
      tx(m.records, 'erasure.complete', { patient: m.dana.memberId, records: 4 }),
    ]).codes,
    ['VALID', 'ERASURE_ALREADY_REQUESTED'],
  );
  assert.deepEqual(l.apply([tx(m.dana, 'erasure.request', { patient: m.dana.memberId })]).codes, [
    'ERASURE_ALREADY_REQUESTED',
  ]);
});
