/**
 * The records-and-consent story end to end, over HTTP against a real node and custodian:
 * records written encrypted, a travelling diabetic's consent, a read from another organization
 * decrypted only by the reader, a dermatologist denied mental-health records, revocation,
 * break-glass, erasure by crypto-shredding — every step a committed entry with a verified proof.
 */
import { after, before, describe, test } from 'node:test';
import { createServer, type Server } from 'node:http';
import { createHmac } from 'node:crypto';
import assert from 'node:assert/strict';
import { toBase64Url } from '../../../protocol/bytes.js';
import { generateEncryptionKeyPair, type EncryptionKeyPair } from '../../../protocol/envelope.js';
import { HealthLedgerError } from '../../../protocol/errors.js';
import { startTestNetwork, type TestNetwork } from '../../../test-support/harness.js';
import { openReleased, type Identity } from '../../../sdk/client.js';
import { homePaths } from '../../../node/home.js';
import { VerifyPool } from '../../../node/crypto/verify-pool.js';
import { verifyChain } from '../../../node/verify-chain.js';

const H = 3600_000;
const glucose = {
  resourceType: 'Observation',
  status: 'final',
  category: [
    {
      coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'laboratory' }],
    },
  ],
  code: {
    coding: [{ system: 'http://loinc.org', code: '2339-0', display: 'Glucose [Mass/volume] in Blood' }],
  },
  valueQuantity: { value: 182, unit: 'mg/dL', system: 'http://unitsofmeasure.org', code: 'mg/dL' },
};
const insulin = {
  resourceType: 'MedicationRequest',
  status: 'active',
  intent: 'order',
  subject: { reference: 'Patient/dana' },
  medicationCodeableConcept: {
    coding: [
      { system: 'http://www.nlm.nih.gov/research/umls/rxnorm', code: '274783', display: 'Insulin Glargine' },
    ],
    text: 'insulin glargine',
  },
};
const depression = {
  resourceType: 'Condition',
  clinicalStatus: {
    coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }],
  },
  code: {
    coding: [{ system: 'http://hl7.org/fhir/sid/icd-10', code: 'F32.9', display: 'Depressive episode' }],
  },
  subject: { reference: 'Patient/dana' },
};
const allergy = {
  resourceType: 'AllergyIntolerance',
  clinicalStatus: {
    coding: [{ system: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical', code: 'active' }],
  },
  patient: { reference: 'Patient/dana' },
  code: { text: 'Penicillin' },
};

describe('records, consent and audited access (end to end)', () => {
  let net: TestNetwork;
  const who: Record<string, Identity> = {};
  const enc: Record<string, EncryptionKeyPair> = {};
  const txs: string[] = [];
  let patient = '';
  // A webhook receiver for Dana's notifications: verifies each signature, records the kinds.
  const notified: { id: string; kind: string }[] = [];
  let hook: Server;
  let hookSecret = '';

  const send = async (id: Identity, type: string, payload: Record<string, unknown>) => {
    const r = await net.client.sendAndVerify(id, type, payload as never);
    txs.push(r.txId);
    return r;
  };

  before(async () => {
    // The test's webhook receiver listens on loopback: allowlisted here, refused by default.
    net = await startTestNetwork({ events: { webhooks: { allow: ['127.0.0.1'] } } });
    who['dana'] = await net.enroll('st-mary', 'p-dana', 'patient');
    who['alice'] = await net.enroll('st-mary', 'dr-alice', 'practitioner', { specialty: 'endocrinology' });
    who['derm'] = await net.enroll('st-mary', 'dr-derm', 'practitioner', { specialty: 'dermatology' });
    who['erin'] = await net.enroll('city-clinic', 'dr-erin', 'practitioner', {
      specialty: 'emergency-medicine',
    });
    patient = who['dana']!.memberId;
    hook = createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        const sig = String(req.headers['x-healthledger-signature'] ?? '');
        const m = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(sig);
        const ok =
          m !== null && createHmac('sha256', hookSecret).update(`${m[1]}.${body}`).digest('hex') === m[2];
        if (ok)
          notified.push({
            id: String(req.headers['x-healthledger-event-id']),
            kind: (JSON.parse(body) as { kind: string }).kind,
          });
        res.statusCode = ok ? 200 : 400;
        res.end();
      });
    });
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
    const port = (hook.address() as { port: number }).port;
    hookSecret = (
      await net.client.health.createSubscription(who['dana']!, patient, `http://127.0.0.1:${port}/hook`)
    ).secret;
    for (const name of ['dana', 'derm', 'erin']) {
      enc[name] = await generateEncryptionKeyPair();
      const r = await send(who[name]!, 'member.set-encryption-key', {
        publicKey: toBase64Url(enc[name]!.publicKey),
      });
      assert.equal(r.code, 'VALID');
    }
  });
  after(async () => {
    await net.destroy();
    hook.close();
  });

  const ids: Record<string, string> = {};

  test('a practitioner writes records: validated, encrypted, registered with categories', async () => {
    for (const [name, resource] of Object.entries({ glucose, insulin, depression, allergy })) {
      const r = await net.client.health.writeRecord(who['alice']!, patient, resource);
      ids[name] = r.recordId;
      txs.push(r.txId);
    }
    const entry = JSON.parse(net.running.node.getState(`record/${ids['depression']}`)!) as {
      sensitive: string[];
      custodian: string;
      commitment: string;
    };
    assert.deepEqual(entry.sensitive, ['mental-health']);
    assert.equal(entry.custodian, 'st-mary');
    assert.doesNotMatch(JSON.stringify(entry), /F32|Depressive/, 'no health data on the ledger');
  });

  test('invalid FHIR is refused with an OperationOutcome; others cannot write here', async () => {
    await assert.rejects(
      net.client.health.writeRecord(who['alice']!, patient, { resourceType: 'Observation', status: 'bogus' }),
      (e: unknown) => {
        const outcome = (e as HealthLedgerError).details?.['outcome'] as
          { resourceType: string; issue: unknown[] } | undefined;
        return (
          e instanceof HealthLedgerError &&
          e.code === 'INVALID_FHIR' &&
          outcome?.resourceType === 'OperationOutcome' &&
          outcome.issue.length > 0
        );
      },
    );
    await assert.rejects(
      net.client.health.writeRecord(who['erin']!, patient, glucose),
      (e: unknown) => (e as HealthLedgerError).code === 'UNAUTHORIZED_ROLE',
    );
    await assert.rejects(
      net.client.health.writeRecord(who['alice']!, 'st-mary/nobody', glucose),
      (e: unknown) => (e as HealthLedgerError).code === 'UNKNOWN_PATIENT',
    );
  });

  test('emergency physician at another organization reads diabetes records under the travel consent', async () => {
    const now = Date.now();
    const g = await send(who['dana']!, 'consent.grant', {
      id: 'travel',
      patient,
      actor: { kind: 'role', role: 'practitioner', attributes: { specialty: 'emergency-medicine' } },
      categories: ['diabetes'],
      purposes: ['treatment', 'emergency'],
      validFromMs: now - 60_000,
      validUntilMs: now + 48 * H,
    });
    assert.equal(g.code, 'VALID');
    const a = await send(who['erin']!, 'access.request', {
      patient,
      purpose: 'treatment',
      categories: ['diabetes'],
    });
    assert.equal(a.code, 'VALID');
    const released = await net.client.health.releaseRecords(who['erin']!, a.txId);
    assert.deepEqual(
      released.release.records.map((r) => r.id).sort(),
      [ids['glucose'], ids['insulin']].sort(),
    );
    // One key leaves: the release key, wrapped to erin only.
    assert.equal(released.release.releaseKey.recipient, who['erin']!.memberId);
    // Patterns no base64url ciphertext or random id can contain by chance ("182" alone was seen in a UUID).
    assert.doesNotMatch(
      JSON.stringify(released),
      /Glucose|glargine|mg\/dL|"value":182/i,
      'no plaintext in the release',
    );
    const resources = await openReleased(released.release, who['erin']!.memberId, enc['erin']!.privateKey);
    assert.deepEqual(resources.map((r) => r['resourceType']).sort(), ['MedicationRequest', 'Observation']);
    // Nobody else can open what was released to erin, and nobody else can use her grant.
    await assert.rejects(
      openReleased(
        { ...released.release, recipient: who['derm']!.memberId },
        who['derm']!.memberId,
        enc['derm']!.privateKey,
      ),
    );
    await assert.rejects(
      net.client.health.releaseRecords(who['derm']!, a.txId),
      (e: unknown) => (e as HealthLedgerError).code === 'ACCESS_NOT_GRANTED',
    );
  });

  test('a dermatologist is denied mental-health records, and the denial is committed', async () => {
    const now = Date.now();
    await send(who['dana']!, 'consent.grant', {
      id: 'st-mary-care',
      patient,
      actor: { kind: 'role', role: 'practitioner', org: 'st-mary' },
      categories: ['*'],
      purposes: ['treatment'],
      validFromMs: now - 60_000,
      validUntilMs: now + H,
    });
    const d = await send(who['derm']!, 'access.request', {
      patient,
      purpose: 'treatment',
      categories: ['mental-health'],
    });
    assert.equal(d.code, 'SENSITIVE_NOT_PERMITTED');
    await assert.rejects(
      net.client.health.releaseRecords(who['derm']!, d.txId),
      (e: unknown) => (e as HealthLedgerError).code === 'ACCESS_NOT_GRANTED',
    );
    const general = await send(who['derm']!, 'access.request', { patient, purpose: 'treatment' });
    const rel = await net.client.health.releaseRecords(who['derm']!, general.txId);
    assert.ok(!rel.release.records.some((r) => r.id === ids['depression']), 'mental-health record withheld');
    assert.equal(rel.release.records.length, 3);
  });

  test('revocation: the next read is denied', async () => {
    assert.equal((await send(who['dana']!, 'consent.revoke', { patient, id: 'travel' })).code, 'VALID');
    const a = await send(who['erin']!, 'access.request', {
      patient,
      purpose: 'treatment',
      categories: ['diabetes'],
    });
    assert.equal(a.code, 'CONSENT_REVOKED');
    await assert.rejects(
      net.client.health.releaseRecords(who['erin']!, a.txId),
      (e: unknown) => (e as HealthLedgerError).code === 'ACCESS_NOT_GRANTED',
    );
  });

  test('break-glass opens the emergency summary of an unconscious patient, flagged for review', async () => {
    const bg = await send(who['erin']!, 'access.break-glass', {
      patient,
      reason: 'unconscious on arrival, hypoglycaemia suspected',
      durationMs: 4 * H,
    });
    assert.equal(bg.code, 'VALID');
    const rel = await net.client.health.releaseRecords(who['erin']!, bg.txId);
    const types = (await openReleased(rel.release, who['erin']!.memberId, enc['erin']!.privateKey))
      .map((r) => r['resourceType'])
      .sort();
    assert.deepEqual(types, ['AllergyIntolerance', 'Condition', 'MedicationRequest']);
    assert.match(net.running.node.getState(`review/${bg.txId}`) ?? '', /pending/);
  });

  test('replayed or forged requests release nothing', async () => {
    const req = net.client.sign(who['erin']!, 'record.release', { accessTxId: txs.at(-1)! });
    const post = (body: unknown) =>
      net.app.inject({
        method: 'POST',
        url: '/v1/records/release',
        payload: JSON.stringify(body),
        headers: { 'content-type': 'application/json' },
      });
    assert.equal((await post(req)).statusCode, 200);
    const replay = await post(req);
    assert.equal((replay.json() as { error: { code: string } }).error.code, 'DUPLICATE_TX');
    const forged = {
      ...net.client.sign(who['erin']!, 'record.release', { accessTxId: txs.at(-1)! }),
      sig: req.sig,
    };
    assert.equal(((await post(forged)).json() as { error: { code: string } }).error.code, 'BAD_SIGNATURE');
  });

  test('every step is a committed entry whose inclusion proof verifies', async () => {
    for (const txId of txs) {
      const r = await net.client.verifiedReceipt(txId);
      assert.equal(r.txId, txId);
    }
    assert.ok(txs.length >= 14);
  });

  test("the patient's trail lists every access, denial, grant, revoke and break-glass, with proofs that verify", async () => {
    const { token } = await net.client.health.eventsToken(who['dana']!, patient);
    const page = await net.client.health.events(patient, token);
    const kinds = page.events.map((e) => e.kind);
    for (const k of ['consent.granted', 'access.granted', 'access.denied', 'consent.revoked', 'break-glass'])
      assert.ok(kinds.includes(k as never), `trail lacks ${k}: ${kinds.join(', ')}`);
    assert.doesNotMatch(
      JSON.stringify(page),
      /F32\.9|Depressive|glucose|glargine|penicillin/i,
      'no health data in the trail',
    );
    // FHIR AuditEvents, each checked by the SDK against its proven ledger entry.
    const audit = await net.client.health.auditEvents(patient, token);
    assert.equal(audit.receipts.length, audit.bundle.entry?.length);
    assert.ok(audit.receipts.length >= 8);
    // Another patient's token cannot read Dana's trail.
    const other = await net.enroll('st-mary', 'p-other', 'patient');
    const otherToken = (await net.client.health.eventsToken(other, other.memberId)).token;
    await assert.rejects(
      net.client.health.events(patient, otherToken),
      (e: unknown) => (e as HealthLedgerError).code === 'EVENTS_TOKEN_WRONG_PATIENT',
    );
  });

  test('notifications arrived: every trail event was delivered to the webhook, signed, in order', async () => {
    const { token } = await net.client.health.eventsToken(who['dana']!, patient);
    const trail = (await net.client.health.events(patient, token, undefined, 500)).events;
    const deadline = Date.now() + 10_000;
    while (notified.length < trail.length && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(
      notified.map((n) => n.kind),
      trail.map((e) => e.kind),
    );
  });

  test('erasure: crypto-shredded at the custodian, every later access denied, the chain still verifies', async () => {
    assert.equal((await send(who['dana']!, 'erasure.request', { patient })).code, 'VALID');
    const deadline = Date.now() + 10_000;
    while (
      net.running.node.getState(`erasure/${patient}`)?.includes('"completed":[]') &&
      Date.now() < deadline
    )
      await new Promise((r) => setTimeout(r, 50));
    assert.match(net.running.node.getState(`erasure/${patient}`)!, /"org":"st-mary"/, 'tombstone committed');
    assert.equal(net.records.countFor(patient), 0, 'ciphertexts and wrapped keys destroyed');
    const bg = await send(who['erin']!, 'access.break-glass', {
      patient,
      reason: 'unconscious again after erasure',
      durationMs: H,
    });
    assert.equal(bg.code, 'PATIENT_ERASED');
    await assert.rejects(
      net.client.health.writeRecord(who['alice']!, patient, glucose),
      (e: unknown) => (e as HealthLedgerError).code === 'PATIENT_ERASED',
    );
    const pool = await VerifyPool.create({ threads: 1 });
    try {
      const v = await verifyChain({ storePath: homePaths(net.dir).store, verifier: pool });
      assert.equal(v.ok, true, JSON.stringify(v));
    } finally {
      await pool.close();
    }
  });
});
