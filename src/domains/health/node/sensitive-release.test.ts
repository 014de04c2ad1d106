/**
 * Issue 16, finding 8, through the consent decision: a record that reveals mental health only by
 * its medication (sertraline; duloxetine given for diabetic neuropathy) is registered sensitive
 * and is not released under a consent that never named mental health — neither one naming only
 * `diabetes` nor one naming all `medications`. Same harness as story.test.ts.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { toBase64Url } from '../../../protocol/bytes.js';
import { generateEncryptionKeyPair } from '../../../protocol/envelope.js';
import { startTestNetwork, type TestNetwork } from '../../../test-support/harness.js';
import type { Identity } from '../../../sdk/client.js';

const RXNORM = 'http://www.nlm.nih.gov/research/umls/rxnorm';
const H = 3600_000;
const request = (coding: Record<string, string>, extra: Record<string, unknown> = {}) => ({
  resourceType: 'MedicationRequest',
  status: 'active',
  intent: 'order',
  subject: { reference: 'Patient/dana' },
  medicationCodeableConcept: { coding: [{ system: RXNORM, ...coding }] },
  ...extra,
});
const insulin = request({ code: '274783', display: 'insulin glargine' });
const sertraline = request({ code: '312940', display: 'sertraline 50 MG Oral Tablet' });
// Duloxetine (ingredient code only) for painful diabetic neuropathy: tagged diabetes AND mental-health.
const duloxetine = request(
  { code: '72625' },
  {
    reasonCode: [
      {
        coding: [
          {
            system: 'http://snomed.info/sct',
            code: '368581000119106',
            display: 'Neuropathy due to type 2 diabetes mellitus',
          },
        ],
      },
    ],
  },
);

describe('sensitive medications are withheld under consents that do not name their category', () => {
  let net: TestNetwork;
  const who: Record<string, Identity> = {};
  const ids: Record<string, string> = {};
  let patient = '';
  const send = (id: Identity, type: string, payload: Record<string, unknown>) =>
    net.client.sendAndVerify(id, type, payload as never);

  before(async () => {
    net = await startTestNetwork();
    who['dana'] = await net.enroll('st-mary', 'p-dana', 'patient');
    who['alice'] = await net.enroll('st-mary', 'dr-alice', 'practitioner', { specialty: 'endocrinology' });
    who['erin'] = await net.enroll('city-clinic', 'dr-erin', 'practitioner', {
      specialty: 'emergency-medicine',
    });
    patient = who['dana'].memberId;
    for (const name of ['dana', 'erin']) {
      const key = await generateEncryptionKeyPair();
      const r = await send(who[name]!, 'member.set-encryption-key', {
        publicKey: toBase64Url(key.publicKey),
      });
      assert.equal(r.code, 'VALID');
    }
    for (const [name, resource] of Object.entries({ insulin, sertraline, duloxetine })) {
      ids[name] = (await net.client.health.writeRecord(who['alice']!, patient, resource)).recordId;
    }
  });
  after(async () => {
    await net.destroy();
  });

  const sensitiveOf = (id: string) =>
    (JSON.parse(net.running.node.getState(`record/${id}`)!) as { sensitive: string[] }).sensitive;

  test('the ledger registers sertraline and duloxetine as mental-health, insulin as not sensitive', () => {
    assert.deepEqual(sensitiveOf(ids['sertraline']!), ['mental-health']);
    assert.deepEqual(sensitiveOf(ids['duloxetine']!), ['mental-health']);
    assert.deepEqual(sensitiveOf(ids['insulin']!), []);
  });

  for (const [consent, categories] of [
    ['diabetes-only', ['diabetes']],
    ['all-medications', ['medications']],
  ] as const) {
    test(`a consent naming only ${categories.join(', ')} releases insulin, not sertraline or duloxetine`, async () => {
      const now = Date.now();
      const g = await send(who['dana']!, 'consent.grant', {
        id: consent,
        patient,
        actor: { kind: 'role', role: 'practitioner', attributes: { specialty: 'emergency-medicine' } },
        categories,
        purposes: ['treatment'],
        validFromMs: now - 60_000,
        validUntilMs: now + H,
      });
      assert.equal(g.code, 'VALID');
      const a = await send(who['erin']!, 'access.request', { patient, purpose: 'treatment', categories });
      assert.equal(a.code, 'VALID');
      const released = await net.client.health.releaseRecords(who['erin']!, a.txId);
      assert.deepEqual(
        released.release.records.map((r) => r.id),
        [ids['insulin']],
      );
      assert.equal((await send(who['dana']!, 'consent.revoke', { patient, id: consent })).code, 'VALID');
    });
  }
});
