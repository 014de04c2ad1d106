/**
 * Issue 16, finding 1: an organization admin must not read a patient's record without her.
 * Proxies are appointed by the patient's signature, or by a two-person institutional flow; a
 * proxy acts as a proxy, within its appointment's scope — never as `self`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { T0, consortium, pureLedger, tx, type TestMember } from '../../../test-support/ledger-fixture.js';
import { txIdOf } from '../../../protocol/tx.js';
import { HealthKeys, type AccessGrant, type RecordEntry } from './model.js';
import { inScope } from './access.js';
import { healthProjection } from '../node/projection.js';

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

const H = 3600_000;
const D = 24 * H;

test("a patient's proxy acts as a proxy: not `self`; sensitive categories only if the patient named them", () => {
  const { l, m } = world();
  assert.deepEqual(
    l.apply([tx(m.dana, 'patient.set-proxies', { patient: m.dana.memberId, proxies: [m.mom.memberId] })])
      .codes,
    ['VALID'],
  );
  const read = tx(m.mom, 'access.request', { patient: m.dana.memberId, purpose: 'treatment' });
  assert.deepEqual(l.apply([read]).codes, ['VALID']);
  const g = grantOf(l, read);
  assert.equal(g.kind, 'proxy');
  assert.deepEqual(g.proxy, { actor: m.mom.memberId, onBehalfOf: m.dana.memberId, appointedBy: 'patient' });
  assert.deepEqual(g.scope.sensitive, []);
  assert.deepEqual(released(l, read), ['glucose-0001', 'patient-0001']);
  const mh = tx(m.mom, 'access.request', {
    patient: m.dana.memberId,
    purpose: 'treatment',
    categories: ['mental-health'],
  });
  assert.deepEqual(l.apply([mh]).codes, ['SENSITIVE_NOT_PERMITTED']);
  // Nor can the proxy grant itself (or anyone) more than it may see.
  const widen = tx(m.mom, 'consent.grant', {
    id: 'widen',
    patient: m.dana.memberId,
    actor: { kind: 'member', id: m.mom.memberId },
    categories: ['*'],
    sensitive: ['mental-health'],
    purposes: ['treatment'],
    validFromMs: T0,
    validUntilMs: T0 + H,
  });
  assert.deepEqual(l.apply([widen]).codes, ['SENSITIVE_NOT_PERMITTED']);
  // The patient includes it explicitly: now, and only by name or `*`, it is released.
  assert.deepEqual(
    l.apply([
      tx(m.dana, 'patient.set-proxies', {
        patient: m.dana.memberId,
        proxies: [m.mom.memberId],
        sensitive: ['mental-health'],
      }),
    ]).codes,
    ['VALID'],
  );
  const mh2 = tx(m.mom, 'access.request', {
    patient: m.dana.memberId,
    purpose: 'research',
    categories: ['mental-health'],
  });
  assert.deepEqual(l.apply([mh2]).codes, ['VALID']);
  assert.deepEqual(released(l, mh2), ['depress-0001']);
  // The patient herself is still `self`.
  const own = tx(m.dana, 'access.request', { patient: m.dana.memberId, purpose: 'treatment' });
  assert.deepEqual(l.apply([own]).codes, ['VALID']);
  assert.equal(grantOf(l, own).kind, 'self');
  assert.equal(grantOf(l, own).proxy, undefined);
});

const propose = (
  who: TestMember,
  patient: TestMember,
  guardian: string,
  over: Record<string, unknown> = {},
  now = T0 + 1000,
) =>
  tx(
    who,
    'guardian.propose',
    { id: 'g-1', patient: patient.memberId, guardian, sensitive: [], durationMs: 30 * D, ...over },
    {},
    now,
  );
const approve = (who: TestMember, patient: TestMember, id = 'g-1', now = T0 + 1000) =>
  tx(who, 'guardian.approve', { id, patient: patient.memberId }, {}, now);

test('institutional guardian: two distinct officers, never themselves or an org-admin, time-limited', () => {
  const { l, m, admin } = world();
  assert.deepEqual(
    l.apply([tx(m.dana, 'patient.set-proxies', { patient: m.dana.memberId, proxies: [m.mom.memberId] })])
      .codes,
    ['VALID'],
  );
  // Not the proposer, not the patient, not any org-admin; only the patient's organization.
  assert.deepEqual(
    l.apply([
      propose(admin, m.dana, admin.memberId, { id: 'self' }),
      propose(admin, m.dana, m.admin2.memberId, { id: 'admin2' }),
      propose(admin, m.dana, m.dana.memberId, { id: 'herself' }),
      propose(m.otherAdmin, m.dana, m.aunt.memberId, { id: 'other-org' }),
      propose(admin, m.dana, 'st-mary/nobody', { id: 'nobody' }),
      propose(m.privacy, m.dana, m.aunt.memberId, { id: 'by-auditor' }),
    ]).codes,
    [
      'GUARDIAN_CONFLICT',
      'GUARDIAN_CONFLICT',
      'GUARDIAN_CONFLICT',
      'WRONG_ORGANIZATION',
      'MEMBER_NOT_FOUND',
      'UNAUTHORIZED_ROLE',
    ],
  );
  // The approver may not be appointed either.
  assert.deepEqual(l.apply([propose(admin, m.dana, m.privacy.memberId, { id: 'g-priv' })]).codes, ['VALID']);
  assert.deepEqual(l.apply([approve(m.privacy, m.dana, 'g-priv')]).codes, ['GUARDIAN_CONFLICT']);

  // One person doing both steps: refused; nothing in force.
  assert.deepEqual(l.apply([propose(admin, m.dana, m.aunt.memberId)]).codes, ['VALID']);
  assert.deepEqual(l.apply([approve(admin, m.dana)]).codes, ['GUARDIAN_SAME_SIGNER']);
  const early = tx(m.aunt, 'access.request', { patient: m.dana.memberId, purpose: 'payment' });
  assert.deepEqual(l.apply([early]).codes, ['NO_CONSENT']);

  // A second officer approves, in a later block: in force for 30 days from that block's time.
  const t1 = T0 + 2 * H;
  assert.deepEqual(l.apply([approve(m.privacy, m.dana, 'g-1', t1)], t1).codes, ['VALID']);
  assert.deepEqual(l.apply([approve(m.admin2, m.dana, 'g-1', t1)], t1).codes, [
    'GUARDIAN_PROPOSAL_NOT_FOUND',
  ]);
  // The patient's own list is untouched by it.
  assert.deepEqual(JSON.parse(l.state.get(HealthKeys.proxies(m.dana.memberId))!), [m.mom.memberId]);

  const read = tx(m.aunt, 'access.request', { patient: m.dana.memberId, purpose: 'treatment' }, {}, t1);
  assert.deepEqual(l.apply([read], t1).codes, ['VALID']);
  const g = grantOf(l, read);
  assert.equal(g.kind, 'proxy');
  assert.deepEqual(g.proxy, {
    actor: m.aunt.memberId,
    onBehalfOf: m.dana.memberId,
    appointedBy: 'institution',
  });
  assert.deepEqual(released(l, read), ['glucose-0001', 'patient-0001']);

  // Expired: after 30 days the guardian no longer acts for her.
  const t2 = t1 + 30 * D + 1;
  const late = tx(m.aunt, 'access.request', { patient: m.dana.memberId, purpose: 'treatment' }, {}, t2);
  assert.deepEqual(l.apply([late], t2).codes, ['NO_CONSENT']);
});

test('institutional guardian: a proposal left unapproved for 7 days lapses; the patient can end an appointment', () => {
  const { l, m, admin } = world();
  assert.deepEqual(l.apply([propose(admin, m.dana, m.aunt.memberId)]).codes, ['VALID']);
  const t1 = T0 + 7 * D + 2000;
  assert.deepEqual(l.apply([approve(m.admin2, m.dana, 'g-1', t1)], t1).codes, ['GUARDIAN_PROPOSAL_EXPIRED']);
  assert.deepEqual(l.apply([propose(admin, m.dana, m.aunt.memberId, { id: 'g-2' }, t1)], t1).codes, [
    'VALID',
  ]);
  assert.deepEqual(l.apply([approve(m.admin2, m.dana, 'g-2', t1)], t1).codes, ['VALID']);
  assert.deepEqual(
    l.apply([tx(m.dana, 'guardian.end', { patient: m.dana.memberId, guardian: m.aunt.memberId }, {}, t1)], t1)
      .codes,
    ['VALID'],
  );
  const read = tx(m.aunt, 'access.request', { patient: m.dana.memberId, purpose: 'treatment' }, {}, t1);
  assert.deepEqual(l.apply([read], t1).codes, ['NO_CONSENT']);
});

test("the patient's trail shows the appointment and who acted for whom", () => {
  const { l, m, admin } = world();
  const p = propose(admin, m.dana, m.aunt.memberId);
  const a = approve(m.privacy, m.dana);
  const read = tx(m.aunt, 'access.request', { patient: m.dana.memberId, purpose: 'treatment' });
  assert.deepEqual(l.apply([p, a, read]).codes, ['VALID', 'VALID', 'VALID']);
  const get = (k: string) => l.state.get(k);
  const ev = (t: ReturnType<typeof tx>) =>
    healthProjection.project(
      { type: t.body.type, code: 'VALID', txId: txIdOf(t.body), payload: t.body.payload, atMs: T0 + 1000 },
      get,
    );
  assert.equal(ev(p)?.subject, m.dana.memberId);
  assert.deepEqual(ev(a), {
    subject: m.dana.memberId,
    detail: {
      proposalId: 'g-1',
      guardian: m.aunt.memberId,
      proposer: admin.memberId,
      approver: m.privacy.memberId,
      expiresAtMs: T0 + 1000 + 30 * D,
    },
  });
  const d = ev(read)?.detail;
  assert.equal(d?.['grant'], 'proxy');
  assert.equal(d?.['actor'], m.aunt.memberId);
  assert.equal(d?.['onBehalfOf'], m.dana.memberId);
  assert.equal(d?.['appointedBy'], 'institution');
});
