/**
 * Erasure is forensically complete when it is acknowledged: once the `erasure.complete`
 * tombstone commits, no file under the node's home — records.sqlite, its -wal and -shm, free
 * pages, the blob folder, temp files — holds any of the erased patient's wrapped data keys,
 * commitment secret, record ciphertexts or blob ciphertext (nor 16-byte fragments of them), while
 * the node is still running; another patient's records still decrypt and release.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { fromBase64Url, fromUtf8, toBase64Url } from '../../../protocol/bytes.js';
import {
  generateEncryptionKeyPair,
  type EncryptionKeyPair,
  type SealedRecord,
} from '../../../protocol/envelope.js';
import { homePaths } from '../../../node/home.js';
import { startTestNetwork, type TestNetwork } from '../../../test-support/harness.js';
import { openReleased, type Identity } from '../../../sdk/client.js';

const H = 3600_000;
const glucose = (day: string, value: number) => ({
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
  effectiveDateTime: `${day}T08:00:00Z`,
  valueQuantity: { value, unit: 'mg/dL', system: 'http://unitsofmeasure.org', code: 'mg/dL' },
});

/** One value to look for, with where it came from (for the failure message). */
interface Needle {
  what: string;
  bytes: Buffer;
}

/** The value itself and its 16-byte windows (stride 16, plus the tail), so a fragment is found too. */
function needlesOf(what: string, bytes: Buffer, stride = 16): Needle[] {
  const out: Needle[] = [{ what, bytes }];
  if (bytes.length > 16) {
    for (let o = 0; o + 16 <= bytes.length; o += stride)
      out.push({ what: `${what} [${o}..${o + 16})`, bytes: bytes.subarray(o, o + 16) });
    out.push({ what: `${what} [tail]`, bytes: bytes.subarray(bytes.length - 16) });
  }
  return out;
}

/** A base64url string as stored (its ASCII text) and as the bytes it encodes. */
function base64Needles(what: string, b64: string): Needle[] {
  return [
    ...needlesOf(`${what} (text)`, Buffer.from(b64, 'latin1')),
    ...needlesOf(`${what} (bytes)`, Buffer.from(fromBase64Url(b64))),
  ];
}

/** Every regular file under `dir`, recursively. */
function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...filesUnder(p));
    else if (e.isFile()) out.push(p);
  }
  return out;
}

/** Findings grouped by file and kind of value (record ids and windows left out), with counts. */
function summary(found: readonly string[]): string {
  const counts = new Map<string, number>();
  for (const f of found) {
    const k = f.replace(/record \S+ v\d+ /, 'record ').replace(/ \[[^\]]*[\])]$/, '');
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  return [...counts].map(([k, n]) => `  ${n} × ${k}`).join('\n');
}

/** Which needles occur in which files under `dir` (read raw, as a forensic copy would be). */
function scan(dir: string, needles: readonly Needle[]): string[] {
  const found: string[] = [];
  for (const file of filesUnder(dir)) {
    let data: Buffer;
    try {
      data = readFileSync(file);
    } catch {
      continue; // removed while scanning (a temp file)
    }
    for (const n of needles)
      if (data.indexOf(n.bytes) !== -1) found.push(`${file.slice(dir.length + 1)}: ${n.what}`);
  }
  return found;
}

let net: TestNetwork;
let dana: Identity;
let bob: Identity;
let alice: Identity;
let erin: Identity;
const enc: Record<string, EncryptionKeyPair> = {};

before(async () => {
  net = await startTestNetwork();
  dana = await net.enroll('st-mary', 'p-dana', 'patient');
  bob = await net.enroll('st-mary', 'p-bob', 'patient');
  alice = await net.enroll('st-mary', 'dr-alice', 'practitioner');
  erin = await net.enroll('city-clinic', 'dr-erin', 'practitioner', { specialty: 'emergency-medicine' });
  for (const id of [dana, bob, erin]) {
    enc[id.memberId] = await generateEncryptionKeyPair();
    const r = await net.client.sendAndVerify(id, 'member.set-encryption-key', {
      publicKey: toBase64Url(enc[id.memberId]!.publicKey),
    });
    assert.equal(r.code, 'VALID');
  }
});
after(async () => net.destroy());

/** Consent for erin to read `patient`'s records, then her release, opened. */
async function releaseToErin(patient: Identity): Promise<Record<string, unknown>[]> {
  const now = Date.now();
  const g = await net.client.sendAndVerify(patient, 'consent.grant', {
    id: `all-${patient.memberId.split('/')[1]}`,
    patient: patient.memberId,
    actor: { kind: 'member', id: erin.memberId },
    categories: ['*'],
    purposes: ['treatment'],
    validFromMs: now - 60_000,
    validUntilMs: now + H,
  });
  assert.equal(g.code, 'VALID');
  const a = await net.client.sendAndVerify(erin, 'access.request', {
    patient: patient.memberId,
    purpose: 'treatment',
  });
  assert.equal(a.code, 'VALID');
  const released = await net.client.health.releaseRecords(erin, a.txId);
  return openReleased(released.release, erin.memberId, enc[erin.memberId]!.privateKey);
}

test(
  'after the tombstone commits, no file of the running node holds the erased patient’s keys, secret or ciphertexts',
  { timeout: 120_000 },
  async () => {
    const days = ['2026-11-16', '2026-11-17', '2026-11-18', '2026-11-19', '2026-11-20', '2026-11-21'];
    const danaValues = [142, 118, 196, 131, 104, 167];
    const written: string[] = [];
    for (const [i, day] of days.entries())
      written.push(
        (await net.client.health.writeRecord(alice, dana.memberId, glucose(day, danaValues[i]!))).recordId,
      );
    // A second version of one record: the older version's envelope must go too.
    await net.client.health.writeRecord(alice, dana.memberId, glucose(days[0]!, 150), written[0]);
    for (const [i, day] of days.slice(0, 3).entries())
      await net.client.health.writeRecord(alice, bob.memberId, glucose(day, 90 + i));
    // Binaries: Dana's spans several 64 KiB chunks; Bob's must survive her erasure.
    const danaBlob = new Uint8Array(200 * 1024).map((_, i) => (i * 7) % 251);
    const bobBlob = new Uint8Array(70 * 1024).map((_, i) => (i * 13) % 249);
    const danaPut = await net.client.health.putBlob(alice, dana.memberId, 'application/pdf', danaBlob);
    const bobPut = await net.client.health.putBlob(alice, bob.memberId, 'application/pdf', bobBlob);
    // A release to another organization's reader before the erasure (the gatekeeper path).
    assert.equal((await releaseToErin(dana)).length, days.length);

    // What an attacker would look for: every stored value of Dana's, captured raw beforehand.
    const home = net.dir;
    const dbPath = join(homePaths(home).data, 'records.sqlite');
    const needles: Needle[] = [];
    const raw = new Database(dbPath, { readonly: true });
    try {
      const rows = raw
        .prepare('SELECT id, version, envelope, custodian_key FROM records WHERE patient = ?')
        .all(dana.memberId) as { id: string; version: number; envelope: string; custodian_key: string }[];
      assert.equal(rows.length, days.length + 1);
      for (const r of rows) {
        const what = `record ${r.id} v${r.version}`;
        const sealed = JSON.parse(r.envelope) as SealedRecord;
        needles.push(...base64Needles(`${what} custodian key`, r.custodian_key));
        needles.push(...base64Needles(`${what} ciphertext`, sealed.ciphertext));
        for (const k of sealed.keys) {
          needles.push(...base64Needles(`${what} key wrapped for ${k.recipient}`, k.wrapped));
          needles.push(...base64Needles(`${what} key encapsulation for ${k.recipient}`, k.enc));
        }
      }
      const secret = raw
        .prepare('SELECT secret FROM patient_secrets WHERE patient = ?')
        .get(dana.memberId) as { secret: Buffer } | undefined;
      assert.ok(secret, 'Dana has a commitment secret');
      needles.push(...needlesOf('commitment secret', secret.secret));
      needles.push(...needlesOf('commitment secret (hex)', Buffer.from(secret.secret.toString('hex'))));
      needles.push(...needlesOf('commitment secret (base64url)', Buffer.from(toBase64Url(secret.secret))));
      const blob = raw.prepare('SELECT wrapped_key FROM blobs WHERE id = ?').get(danaPut.blobId) as {
        wrapped_key: string;
      };
      needles.push(...base64Needles('blob key', blob.wrapped_key));
    } finally {
      raw.close();
    }
    const blobFile = readFileSync(join(homePaths(home).data, 'blobs', danaPut.blobId));
    // Header (salt, nonce prefix, key check) and a 16-byte window every 4 KiB of ciphertext.
    needles.push(...needlesOf('blob file', blobFile, 4096));
    assert.ok(needles.length > 500, `${needles.length} needles`);
    // The scan itself finds what is there (before erasure, in records.sqlite or its WAL).
    assert.ok(scan(home, needles).length > 0, 'the captured values are found before erasure');

    // Erasure: the tombstone commits once the custodian has shredded.
    assert.equal(
      (await net.client.sendAndVerify(dana, 'erasure.request', { patient: dana.memberId })).code,
      'VALID',
    );
    const deadline = Date.now() + 20_000;
    while (!/"org":"st-mary"/.test(net.running.node.getState(`erasure/${dana.memberId}`) ?? ''))
      if (Date.now() > deadline) assert.fail('no tombstone');
      else await new Promise((r) => setTimeout(r, 10));

    // At once, with the node still running: nothing of Dana's in any file of the home.
    const found = scan(home, needles);
    assert.equal(found.length, 0, `${found.length} erased values still on disk:\n${summary(found)}`);

    // Bob is untouched: his records release and decrypt, his binary opens.
    const bobs = await releaseToErin(bob);
    assert.deepEqual(bobs.map((r) => (r['valueQuantity'] as { value: number }).value).sort(), [90, 91, 92]);
    const vault = net.records.vault;
    for (const row of vault.latestRecords(bob.memberId, false))
      assert.match(fromUtf8(await vault.open(row, bob.memberId)), /"2339-0"/);
    const meta = vault.blob(bobPut.blobId);
    assert.ok(meta);
    const parts: Uint8Array[] = [];
    for await (const part of vault.openBlob(bobPut.blobId, meta)) parts.push(part);
    assert.deepEqual(new Uint8Array(Buffer.concat(parts)), bobBlob);
    assert.equal(net.records.countFor(dana.memberId), 0);

    // And after a clean stop, still nothing.
    await net.stop();
    const afterStop = scan(home, needles);
    assert.equal(
      afterStop.length,
      0,
      `${afterStop.length} erased values on disk after stop:\n${summary(afterStop)}`,
    );
    assert.ok(statSync(dbPath).size > 0);
  },
);
