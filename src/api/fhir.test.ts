/** The FHIR R4 edge: capability statement, create, consented read/search/$everything, Consent export, OperationOutcome errors. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { toBase64Url, utf8 } from '../protocol/bytes.js';
import { generateEncryptionKeyPair } from '../protocol/envelope.js';
import { validateFhir } from '../domains/health/core/fhir/index.js';
import { startTestNetwork, type TestNetwork } from '../test-support/harness.js';
import type { Identity } from '../sdk/client.js';

let net: TestNetwork;
let dana: Identity;
let alice: Identity;
let erin: Identity;
const auth = (signed: unknown) => `HealthLedger ${toBase64Url(utf8(JSON.stringify(signed)))}`;
const glucose = {
  resourceType: 'Observation',
  status: 'final',
  code: { coding: [{ system: 'http://loinc.org', code: '2339-0', display: 'Glucose' }] },
  valueQuantity: { value: 99, unit: 'mg/dL', system: 'http://unitsofmeasure.org', code: 'mg/dL' },
};

before(async () => {
  net = await startTestNetwork();
  dana = await net.enroll('st-mary', 'p-dana', 'patient');
  alice = await net.enroll('st-mary', 'dr-alice', 'practitioner');
  erin = await net.enroll('city-clinic', 'dr-erin', 'practitioner', { specialty: 'emergency-medicine' });
  const kp = await generateEncryptionKeyPair();
  await net.client.sendAndVerify(dana, 'member.set-encryption-key', { publicKey: toBase64Url(kp.publicKey) });
});
after(async () => net.destroy());

test('GET /fhir/metadata is a valid R4 CapabilityStatement', async () => {
  const res = await net.app.inject({ url: '/fhir/metadata' });
  assert.equal(res.statusCode, 200);
  assert.match(String(res.headers['content-type']), /fhir\+json/);
  const cs = res.json() as { resourceType: string; fhirVersion: string };
  assert.equal(cs.fhirVersion, '4.0.1');
  assert.ok(validateFhir(cs).ok);
});

test('create, then read, search and $everything within a committed grant; errors as OperationOutcome', async () => {
  const created = await net.app.inject({
    method: 'POST',
    url: '/fhir/Observation',
    payload: JSON.stringify(
      net.client.sign(alice, 'record.write', { patient: dana.memberId, resource: glucose } as never),
    ),
    headers: { 'content-type': 'application/json' },
  });
  assert.equal(created.statusCode, 201, created.body);
  const id = (created.json() as { id: string }).id;
  assert.match(String(created.headers['location']), new RegExp(`/fhir/Observation/${id}/_history/1`));

  const noGrant = await net.app.inject({ url: `/fhir/Observation/${id}` });
  assert.equal(noGrant.statusCode, 401);
  assert.equal((noGrant.json() as { resourceType: string }).resourceType, 'OperationOutcome');

  const now = Date.now();
  await net.client.sendAndVerify(dana, 'consent.grant', {
    id: 'er',
    patient: dana.memberId,
    actor: { kind: 'member', id: erin.memberId },
    categories: ['*'],
    purposes: ['treatment'],
    validFromMs: now - 60_000,
    validUntilMs: now + 3_600_000,
  });
  const access = await net.client.sendAndVerify(erin, 'access.request', {
    patient: dana.memberId,
    purpose: 'treatment',
  });
  const read = (url: string) =>
    net.app.inject({
      url,
      headers: { authorization: auth(net.client.sign(erin, 'fhir.read', { accessTxId: access.txId })) },
    });
  const one = await read(`/fhir/Observation/${id}`);
  assert.equal(one.statusCode, 200, one.body);
  assert.deepEqual((one.json() as { valueQuantity: unknown }).valueQuantity, glucose.valueQuantity);
  const search = (await read('/fhir/Observation')).json() as { type: string; total: number };
  assert.deepEqual([search.type, search.total], ['searchset', 1]);
  const everything = (await read('/fhir/Patient/$everything')).json() as { total: number };
  assert.equal(everything.total, 1);
  const missing = await read('/fhir/Observation/not-there');
  assert.equal(missing.statusCode, 404);
  // A denied request's transaction opens nothing.
  const denied = await net.client.sendAndVerify(alice, 'access.request', {
    patient: dana.memberId,
    purpose: 'research',
  });
  assert.notEqual(denied.code, 'VALID');
  const viaDenied = await net.app.inject({
    url: '/fhir/Observation',
    headers: { authorization: auth(net.client.sign(alice, 'fhir.read', { accessTxId: denied.txId })) },
  });
  assert.equal(viaDenied.statusCode, 403);
  const oo = viaDenied.json() as { issue: { details: { coding: { code: string }[] } }[] };
  assert.equal(oo.issue[0]!.details.coding[0]!.code, 'ACCESS_NOT_GRANTED');
  // Invalid FHIR: the validator's OperationOutcome comes back as is.
  const bad = await net.app.inject({
    method: 'POST',
    url: '/fhir/Observation',
    payload: JSON.stringify(
      net.client.sign(alice, 'record.write', {
        patient: dana.memberId,
        resource: { resourceType: 'Observation', status: 'final' },
      } as never),
    ),
    headers: { 'content-type': 'application/json' },
  });
  assert.equal(bad.statusCode, 400);
  assert.equal((bad.json() as { resourceType: string }).resourceType, 'OperationOutcome');
});

test("GET /fhir/Consent exports the patient's consents as valid FHIR, to the patient only", async () => {
  const mine = await net.app.inject({
    url: `/fhir/Consent?patient=${dana.memberId}`,
    headers: { authorization: auth(net.client.sign(dana, 'fhir.consents', { patient: dana.memberId })) },
  });
  assert.equal(mine.statusCode, 200, mine.body);
  const bundle = mine.json() as { entry: { resource: { resourceType: string } }[] };
  assert.ok(bundle.entry.length >= 1);
  for (const e of bundle.entry) assert.ok(validateFhir(e.resource).ok);
  const theirs = await net.app.inject({
    url: `/fhir/Consent?patient=${dana.memberId}`,
    headers: { authorization: auth(net.client.sign(erin, 'fhir.consents', { patient: dana.memberId })) },
  });
  assert.equal(theirs.statusCode, 403);
});

test('GET /fhir/AuditEvent: the patient trail as valid FHIR AuditEvents, token required', async () => {
  const { token } = await net.client.health.eventsToken(dana, dana.memberId);
  const res = await net.app.inject({
    url: `/fhir/AuditEvent?patient=${dana.memberId}`,
    headers: { authorization: `Bearer ${token}` },
  });
  assert.equal(res.statusCode, 200, res.body);
  const bundle = res.json() as { resourceType: string; entry?: { resource: { resourceType: string } }[] };
  assert.equal(bundle.resourceType, 'Bundle');
  assert.ok((bundle.entry ?? []).length >= 2, 'grant and access are in the trail');
  for (const e of bundle.entry ?? []) assert.ok(validateFhir(e.resource).ok);
  const none = await net.app.inject({ url: `/fhir/AuditEvent?patient=${dana.memberId}` });
  assert.equal(none.statusCode, 401);
  assert.equal((none.json() as { resourceType: string }).resourceType, 'OperationOutcome');
  const other = await net.app.inject({
    url: `/fhir/AuditEvent?patient=${erin.memberId}`,
    headers: { authorization: `Bearer ${token}` },
  });
  assert.equal(other.statusCode, 403);
});
