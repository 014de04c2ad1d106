/**
 * Issue 16, finding 3: revocation ends access already granted, at once, and every release is a
 * committed disclosure on the patient's trail before any byte leaves.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { toBase64Url, utf8 } from '../../../protocol/bytes.js';
import { generateEncryptionKeyPair } from '../../../protocol/envelope.js';
import type { HealthLedgerError } from '../../../protocol/errors.js';
import type { Block } from '../../../protocol/block.js';
import { startTestNetwork, type TestNetwork } from '../../../test-support/harness.js';
import type { Identity } from '../../../sdk/client.js';

const H = 3_600_000;
let net: TestNetwork;
let alice: Identity;
let erin: Identity;
let auditor: Identity;
/** Every committed `access.disclose`, by the block it committed in. */
const disclosures: { height: number; payload: Record<string, unknown>; code: string }[] = [];

const code = (c: string) => (e: unknown) => (e as HealthLedgerError).code === c;

before(async () => {
  net = await startTestNetwork();
  alice = await net.enroll('st-mary', 'dr-alice', 'practitioner');
  erin = await net.enroll('city-clinic', 'dr-erin', 'practitioner', { specialty: 'emergency-medicine' });
  auditor = await net.enroll('st-mary', 'privacy-office', 'auditor');
  const kp = await generateEncryptionKeyPair();
  await net.client.sendAndVerify(erin, 'member.set-encryption-key', { publicKey: toBase64Url(kp.publicKey) });
  net.running.node.onBlock((b: Block) => {
    b.txs.forEach((tx, i) => {
      if (tx.body.type === 'access.disclose')
        disclosures.push({
          height: b.header.height,
          payload: tx.body.payload as Record<string, unknown>,
          code: b.codes[i]!,
        });
    });
  });
});
after(async () => net.destroy());

/** A patient with a blood test and a scanned document (whose binary is stored here). */
async function patientWithRecords(name: string) {
  const p = await net.enroll('st-mary', name, 'patient');
  const kp = await generateEncryptionKeyPair();
  await net.client.sendAndVerify(p, 'member.set-encryption-key', { publicKey: toBase64Url(kp.publicKey) });
  const blob = await net.client.health.putBlob(
    alice,
    p.memberId,
    'application/pdf',
    new Uint8Array(2048).fill(7),
  );
  const doc = await net.client.health.writeRecord(alice, p.memberId, {
    resourceType: 'DocumentReference',
    status: 'current',
    content: [{ attachment: { contentType: 'application/pdf', url: blob.url } }],
  });
  const lab = await net.client.health.writeRecord(alice, p.memberId, {
    resourceType: 'Observation',
    status: 'final',
    code: { coding: [{ system: 'http://loinc.org', code: '2339-0', display: 'Glucose' }] },
    valueQuantity: { value: 101, unit: 'mg/dL' },
  });
  return { p, blobId: blob.blobId, ids: [doc.recordId, lab.recordId].sort() };
}

async function consentAndRequest(p: Identity) {
  const now = Date.now();
  await net.client.sendAndVerify(p, 'consent.grant', {
    id: 'care',
    patient: p.memberId,
    actor: { kind: 'member', id: erin.memberId },
    categories: ['*'],
    purposes: ['treatment'],
    validFromMs: now - 60_000,
    validUntilMs: now + H,
  });
  const a = await net.client.sendAndVerify(erin, 'access.request', {
    patient: p.memberId,
    purpose: 'treatment',
  });
  assert.equal(a.code, 'VALID');
  return a.txId;
}

const rest = (accessTxId: string) => net.client.health.releaseRecords(erin, accessTxId);
const fhir = (accessTxId: string) =>
  net.records.readPlain(net.client.sign(erin, 'fhir.read', { accessTxId }));
/** `GET /fhir/Patient/$everything` over the FHIR edge. */
const everything = (accessTxId: string) =>
  net.app.inject({
    url: '/fhir/Patient/$everything',
    headers: {
      authorization: `HealthLedger ${toBase64Url(utf8(JSON.stringify(net.client.sign(erin, 'fhir.read', { accessTxId }))))}`,
    },
  });
const blob = (accessTxId: string, blobId: string) => net.client.health.getBlob(erin, accessTxId, blobId);

test('revocation ends a grant obtained before it: REST release, FHIR read and blobs are refused', async () => {
  const { p, blobId } = await patientWithRecords('p-rita');
  const grant = await consentAndRequest(p);
  assert.equal((await rest(grant)).release.records.length, 2);
  assert.equal((await fhir(grant)).resources.length, 2);
  const before = await everything(grant);
  assert.equal(before.statusCode, 200, before.body);
  assert.equal((before.json() as { total: number }).total, 2);
  assert.equal((await blob(grant, blobId)).status, 200);

  assert.equal(
    (await net.client.sendAndVerify(p, 'consent.revoke', { patient: p.memberId, id: 'care' })).code,
    'VALID',
  );
  await assert.rejects(rest(grant), code('CONSENT_REVOKED'));
  await assert.rejects(fhir(grant), code('CONSENT_REVOKED'));
  const afterRevoke = await everything(grant);
  assert.equal(afterRevoke.statusCode, 403);
  assert.match(afterRevoke.body, /CONSENT_REVOKED/);
  assert.doesNotMatch(afterRevoke.body, /Glucose/);
  await assert.rejects(blob(grant, blobId), code('CONSENT_REVOKED'));
});

test('access.end: the patient ends a consented grant; the patient or a reviewer ends break-glass', async () => {
  const { p, blobId } = await patientWithRecords('p-sam');
  const grant = await consentAndRequest(p);
  assert.equal((await rest(grant)).release.records.length, 2);
  // Nobody but the patient (or proxy), the grantee, or a reviewer (for break-glass) ends a grant.
  assert.equal(
    (await net.client.sendAndVerify(alice, 'access.end', { patient: p.memberId, accessTxId: grant })).code,
    'NOT_PATIENT_OR_PROXY',
  );
  const end = await net.client.sendAndVerify(p, 'access.end', { patient: p.memberId, accessTxId: grant });
  assert.equal(end.code, 'VALID');
  await assert.rejects(rest(grant), code('ACCESS_ENDED'));
  await assert.rejects(fhir(grant), code('ACCESS_ENDED'));
  await assert.rejects(blob(grant, blobId), code('ACCESS_ENDED'));
  assert.equal(
    (await net.client.sendAndVerify(p, 'access.end', { patient: p.memberId, accessTxId: grant })).code,
    'ACCESS_ENDED',
  );

  for (const ender of [p, auditor]) {
    const bg = await net.client.sendAndVerify(erin, 'access.break-glass', {
      patient: p.memberId,
      reason: 'unconscious on arrival, history unknown',
      durationMs: 24 * H,
    });
    assert.equal(bg.code, 'VALID');
    await rest(bg.txId);
    const e = await net.client.sendAndVerify(ender, 'access.end', {
      patient: p.memberId,
      accessTxId: bg.txId,
    });
    assert.equal(e.code, 'VALID');
    await assert.rejects(rest(bg.txId), code('ACCESS_ENDED'));
  }
});

test('every release commits a disclosure (grant, requester, record ids and versions) before data leaves', async () => {
  const { p, blobId, ids } = await patientWithRecords('p-tess');
  const grant = await consentAndRequest(p);
  const ofGrant = () => disclosures.filter((d) => d.payload['accessTxId'] === grant);

  const released = await rest(grant);
  // Committed by the time the response arrived.
  assert.equal(ofGrant().length, 1);
  const d = ofGrant()[0]!;
  assert.equal(d.code, 'VALID');
  assert.equal(d.payload['requester'], erin.memberId);
  assert.equal(d.payload['patient'], p.memberId);
  assert.deepEqual(
    (d.payload['records'] as { id: string; version: number }[]).map((r) => `${r.id}@${r.version}`).sort(),
    released.release.records.map((r) => `${r.id}@${r.version}`).sort(),
  );
  assert.doesNotMatch(JSON.stringify(d.payload), /Glucose|mg\/dL/);

  assert.equal((await everything(grant)).statusCode, 200);
  assert.equal(ofGrant().length, 2);
  assert.equal(ofGrant()[1]!.payload['channel'], 'fhir');
  await (await blob(grant, blobId)).arrayBuffer();
  assert.equal(ofGrant().length, 3);
  assert.equal(ofGrant()[2]!.payload['blobId'], blobId);

  // The trail and its AuditEvent export show the disclosures with the record ids.
  const { token } = await net.client.health.eventsToken(p, p.memberId);
  const deadline = Date.now() + 5_000;
  let shown: { kind: string; detail: Record<string, unknown> }[] = [];
  while (Date.now() < deadline) {
    shown = (await net.client.health.events(p.memberId, token)).events.filter((e) => e.kind === 'disclosure');
    if (shown.length >= 3) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.equal(shown.length, 3);
  assert.equal(shown[0]!.detail['accessTxId'], grant);
  assert.equal(shown[0]!.detail['requester'], erin.memberId);
  assert.deepEqual([...(shown[0]!.detail['records'] as string[])].map((r) => r.split('@')[0]).sort(), ids);
  const { bundle } = await net.client.health.auditEvents(p.memberId, token);
  const ae = bundle
    .entry!.map((e) => e.resource!)
    .find((e) => e.subtype?.some((s) => s.code === 'disclosure'));
  assert.ok(ae, 'a disclosure AuditEvent');
  const recordEntities = (ae.entity ?? []).filter(
    (e) => e.what?.identifier?.system === 'urn:healthledger:record',
  );
  assert.deepEqual(recordEntities.map((e) => e.what!.identifier!.value).sort(), ids);
  assert.ok(
    ae.agent.some((a) => a.who?.identifier?.value === erin.memberId),
    'the recipient is an agent',
  );
});

test('no disclosure committed, no data released', async () => {
  const { p, blobId } = await patientWithRecords('p-uma');
  const grant = await consentAndRequest(p);
  const node = net.running.node;
  const submit = node.submit.bind(node);
  node.submit = async (inputs, opts) => {
    if (JSON.stringify(inputs).includes('access.disclose')) throw new Error('injected: ordering unavailable');
    return submit(inputs, opts);
  };
  try {
    await assert.rejects(rest(grant));
    await assert.rejects(fhir(grant));
    const e = await everything(grant);
    assert.equal(e.statusCode, 503);
    assert.doesNotMatch(e.body, /Glucose/);
    await assert.rejects(blob(grant, blobId));
  } finally {
    node.submit = submit;
  }
  assert.equal((await rest(grant)).release.records.length, 2);
});
