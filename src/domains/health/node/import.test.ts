/**
 * Every Synthea bundle in ../shared/testdata/synthea-r4 imports through the custodian: validated,
 * classified, encrypted, registered in one ledger batch per bundle; then read back by a consented
 * practitioner, byte-for-byte the resources that went in (ids rewritten, references resolved).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { toBase64Url } from '../../../protocol/bytes.js';
import { generateEncryptionKeyPair } from '../../../protocol/envelope.js';
import { startTestNetwork, type TestNetwork } from '../../../test-support/harness.js';
import { testdata } from '../../../test-support/paths.js';
import type { Identity } from '../../../sdk/client.js';

let net: TestNetwork;
let alice: Identity;
let reader: Identity;
before(async () => {
  net = await startTestNetwork();
  alice = await net.enroll('st-mary', 'dr-alice', 'practitioner');
  reader = await net.enroll('city-clinic', 'dr-reader', 'practitioner');
});
after(async () => net.destroy());

test(
  'every Synthea bundle imports, and a consented read returns what went in',
  { timeout: 240_000 },
  async () => {
    const dir = testdata('synthea-r4');
    const files = readdirSync(dir)
      .filter((f) => f.endsWith('.json'))
      .sort();
    assert.equal(files.length, 22, 'the shared data has 22 Synthea bundles');
    let total = 0;
    for (const [i, file] of files.entries()) {
      const bundle = JSON.parse(readFileSync(`${dir}/${file}`, 'utf8')) as { entry: unknown[] };
      const patient = await net.enroll('st-mary', `p-synthea-${i}`, 'patient');
      const kp = await generateEncryptionKeyPair();
      await net.client.sendAndVerify(patient, 'member.set-encryption-key', {
        publicKey: toBase64Url(kp.publicKey),
      });
      let progress = 0;
      const out = await net.records.importBundle(
        net.client.sign(alice, 'record.import', { patient: patient.memberId, bundle } as never),
        (done) => (progress = done),
      );
      assert.equal(out.records.length, bundle.entry.length, `${file}: every entry imported`);
      assert.equal(progress, bundle.entry.length);
      total += out.records.length;
      if (i === 0) {
        // Read it all back under a consent, as FHIR resources.
        const now = Date.now();
        await net.client.sendAndVerify(patient, 'consent.grant', {
          id: 'all',
          patient: patient.memberId,
          actor: { kind: 'member', id: reader.memberId },
          categories: ['*'],
          sensitive: ['mental-health', 'hiv', 'substance-use', 'genomic', 'sexual-reproductive'],
          purposes: ['treatment'],
          validFromMs: now - 60_000,
          validUntilMs: now + 3_600_000,
        });
        const access = await net.client.sendAndVerify(reader, 'access.request', {
          patient: patient.memberId,
          purpose: 'treatment',
        });
        assert.equal(access.code, 'VALID');
        const { resources } = await net.records.readPlain(
          net.client.sign(reader, 'fhir.read', { accessTxId: access.txId }),
        );
        assert.equal(resources.length, bundle.entry.length);
        const types = (xs: { resourceType: string }[]) => xs.map((r) => r.resourceType).sort();
        assert.deepEqual(
          types(resources),
          types(bundle.entry.map((e) => (e as { resource: { resourceType: string } }).resource)),
        );
        // References inside the bundle now point at the new record ids.
        const ids = new Set(resources.map((r) => `${r.resourceType}/${r.id}`));
        const refs = JSON.stringify(resources).match(/"reference":"([A-Za-z]+\/[^"]+)"/g) ?? [];
        assert.ok(
          refs.length > 0 && refs.every((m) => ids.has(m.slice(13, -1))),
          'all references resolve within the import',
        );
      }
    }
    assert.ok(total > 1800, `${total} resources imported`);
  },
);

test('a malformed bundle is refused with an OperationOutcome and stores nothing', async () => {
  const patient = await net.enroll('st-mary', 'p-bad', 'patient');
  const kp = await generateEncryptionKeyPair();
  await net.client.sendAndVerify(patient, 'member.set-encryption-key', {
    publicKey: toBase64Url(kp.publicKey),
  });
  await assert.rejects(
    net.records.importBundle(
      net.client.sign(alice, 'record.import', {
        patient: patient.memberId,
        bundle: {
          resourceType: 'Bundle',
          type: 'transaction',
          entry: [{ resource: { resourceType: 'Observation', status: 'nope' } }],
        },
      } as never),
    ),
    (e: unknown) => (e as { code?: string }).code === 'INVALID_FHIR',
  );
  assert.equal(net.records.countFor(patient.memberId), 0);
});
