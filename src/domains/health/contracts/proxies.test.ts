/**
 * Issue 16, finding 1: an organization admin must not read a patient's record without her.
 * Proxies are appointed by the patient's signature, or by a two-person institutional flow; a
 * proxy acts as a proxy, within its appointment's scope — never as `self`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { consortium, pureLedger, tx, type TestMember } from '../../../test-support/ledger-fixture.js';
import { txIdOf } from '../../../protocol/tx.js';
import { HealthKeys, type AccessGrant, type RecordEntry } from './model.js';
import { inScope } from './access.js';

const c = consortium(['st-mary', 'city-clinic']);

function world() {
  const l = pureLedger(c.genesis);
  const admin = c.admin('st-mary');
  const m = {
    dana: c.member('st-mary', 'p-dana', 'patient'),
    mom: c.member('st-mary', 'p-dana-mother', 'patient'),
    aunt: c.member('st-mary', 'p-dana-aunt', 'patient'),
    records: c.member('st-mary', 'records', 'custodian'),
    admin2: c.member('st-mary', 'admin-2', 'org-admin'),
    privacy: c.member('st-mary', 'privacy-officer', 'auditor'),
    derm: c.member('st-mary', 'dr-derm', 'practitioner', { specialty: 'dermatology' }),
    otherAdmin: c.admin('city-clinic'),
  };
  const enroll = (who: TestMember) => tx(admin, 'member.enroll', { certificate: who.pem });
  const out = l.apply([m.dana, m.mom, m.aunt, m.records, m.admin2, m.privacy, m.derm].map(enroll));
  assert.ok(
    out.codes.every((x) => x === 'VALID'),
    out.codes.join(),
  );
  const record = (id: string, resourceType: string, categories: string[], sensitive: string[]) =>
    tx(m.records, 'record.register', {
      id,
      patient: m.dana.memberId,
      resourceType,
      categories,
      sensitive,
      emergency: false,
      version: 1,
      commitment: 'ab'.repeat(32),
      author: m.derm.memberId,
    });
  assert.deepEqual(
    l.apply([
      record('glucose-0001', 'Observation', ['labs'], []),
      record('depress-0001', 'Condition', ['conditions'], ['mental-health']),
      record('patient-0001', 'Patient', ['demographics'], []),
    ]).codes,
    ['VALID', 'VALID', 'VALID'],
  );
  return { l, m, admin };
}

const grantOf = (l: ReturnType<typeof pureLedger>, t: ReturnType<typeof tx>) =>
  JSON.parse(l.state.get(HealthKeys.access(txIdOf(t.body)))!) as AccessGrant;
const released = (l: ReturnType<typeof pureLedger>, t: ReturnType<typeof tx>) => {
  const g = grantOf(l, t);
  return ['glucose-0001', 'depress-0001', 'patient-0001']
    .map((id) => JSON.parse(l.state.get(HealthKeys.record(id))!) as RecordEntry)
    .filter((r) => inScope(g, r))
    .map((r) => r.id);
};

test('finding 1: the org-admin cannot name itself proxy and read the whole record', () => {
  const { l, m, admin } = world();
  assert.deepEqual(
    l.apply([tx(m.dana, 'patient.set-proxies', { patient: m.dana.memberId, proxies: [m.mom.memberId] })])
      .codes,
    ['VALID'],
  );
  const selfProxy = tx(admin, 'patient.set-proxies', {
    patient: m.dana.memberId,
    proxies: [admin.memberId],
  });
  const attack = l.apply([selfProxy]).codes;
  const read0 = tx(admin, 'access.request', { patient: m.dana.memberId, purpose: 'payment' });
  if (l.apply([read0]).codes[0] === 'VALID')
    assert.deepEqual(released(l, read0), [], 'the admin was released the whole record');
  assert.deepEqual(attack, ['PROXY_NEEDS_PATIENT_SIGNATURE']);
  // The patient's own list is untouched.
  assert.deepEqual(JSON.parse(l.state.get(HealthKeys.proxies(m.dana.memberId))!), [m.mom.memberId]);
  const read = tx(admin, 'access.request', { patient: m.dana.memberId, purpose: 'treatment' });
  assert.deepEqual(l.apply([read]).codes, ['NO_CONSENT']);
  assert.equal(l.state.get(HealthKeys.access(txIdOf(read.body))), undefined);
});
