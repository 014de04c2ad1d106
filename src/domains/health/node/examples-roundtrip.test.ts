/**
 * Every official FHIR R4 example of a supported type (../shared/testdata/fhir-r4-examples)
 * round-trips through the custodian: validated, encrypted, registered on the ledger, released
 * under a committed grant, decrypted — and equal to what went in (but for the id and meta the
 * custodian assigns).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { toBase64Url } from '../../../protocol/bytes.js';
import { generateEncryptionKeyPair } from '../../../protocol/envelope.js';
import { validateFhir } from '../core/fhir/index.js';
import { startTestNetwork, type TestNetwork } from '../../../test-support/harness.js';
import { testdata } from '../../../test-support/paths.js';
import type { Identity } from '../../../sdk/client.js';

let net: TestNetwork;
let alice: Identity;
let reader: Identity;
let patient: Identity;
before(async () => {
  net = await startTestNetwork();
  alice = await net.enroll('st-mary', 'dr-alice', 'practitioner');
  reader = await net.enroll('city-clinic', 'dr-reader', 'practitioner');
  patient = await net.enroll('st-mary', 'p-examples', 'patient');
  const kp = await generateEncryptionKeyPair();
  await net.client.sendAndVerify(patient, 'member.set-encryption-key', {
    publicKey: toBase64Url(kp.publicKey),
  });
});
after(async () => net.destroy());

test(
  'every supported official example round-trips through encryption, the ledger and release',
  { timeout: 300_000 },
  async () => {
    const dir = testdata('fhir-r4-examples');
    const examples = readdirSync(dir)
      .filter((f) => f.endsWith('.json') && !f.startsWith('Bundle-'))
      .map((f) => ({
        file: f,
        resource: JSON.parse(readFileSync(`${dir}/${f}`, 'utf8')) as Record<string, unknown>,
      }))
      .filter((e) => validateFhir(e.resource).ok);
    assert.ok(examples.length > 250, `${examples.length} examples`);
    const written = new Map<string, { file: string; resource: Record<string, unknown> }>();
    let next = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next < examples.length) {
          const e = examples[next++]!;
          const r = await net.client.health.writeRecord(alice, patient.memberId, e.resource);
          written.set(r.recordId, e);
        }
      }),
    );
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
    const { resources } = await net.records.readPlain(
      net.client.sign(reader, 'fhir.read', { accessTxId: access.txId }),
    );
    assert.equal(resources.length, examples.length);
    const strip = (r: Record<string, unknown>) => {
      const { id: _id, meta, ...rest } = r;
      const m = { ...((meta as Record<string, unknown> | undefined) ?? {}) };
      delete m['versionId'];
      return Object.keys(m).length ? { ...rest, meta: m } : rest;
    };
    for (const r of resources as unknown as Record<string, unknown>[]) {
      const original = written.get(r['id'] as string);
      assert.ok(original, `unknown record ${String(r['id'])}`);
      assert.deepEqual(
        strip(r),
        strip(
          JSON.parse(JSON.stringify(validateFhir(original.resource).ok && original.resource)) as Record<
            string,
            unknown
          >,
        ),
        original.file,
      );
    }
  },
);
