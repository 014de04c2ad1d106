/**
 * Keys at rest (issue 16, finding 4; ADR 0015): a copy of a node's data folder and home, without
 * the key-encryption key, opens nothing — no custodian key, node key, events secret or patient
 * commitment secret is in any copied file (raw, base64url or hex) and the copy does not start —
 * while the node itself, with its KEK (a key file outside the home, or a SoftHSM2 PKCS#11 token),
 * starts and releases records. An unsealed home is sealed on its first start with a KEK.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { fromBase64Url, toBase64Url } from '../protocol/bytes.js';
import { generateEncryptionKeyPair, type EncryptionKeyPair } from '../protocol/envelope.js';
import { homePaths, readJson, writeJson, type NodeConfig } from '../node/home.js';
import { serveHome } from './serve.js';
import { KeyFileSealer } from '../node/sealer.js';
import { WebhookDeliverer } from '../node/events/webhooks.js';
import { sealStoredWebhookSecrets, webhookSecrets } from '../node/events/webhook-secrets.js';
import type { EventFeed } from '../node/events/webhooks.js';
import { startTestNetwork, type TestNetwork } from '../test-support/harness.js';
import { openReleased, type Identity } from '../sdk/client.js';

const H = 3600_000;
/** A patient whose commitment secret a pre-sealing store kept in clear. */
const LEGACY = 'st-mary/p-legacy';
const SOFTHSM = '/usr/lib/softhsm/libsofthsm2.so';
const temps: string[] = [];
const temp = (prefix: string): string => {
  const d = mkdtempSync(join(tmpdir(), prefix));
  temps.push(d);
  return d;
};
after(() => {
  for (const d of temps) rmSync(d, { recursive: true, force: true });
});

const observation = (value: number) => ({
  resourceType: 'Observation',
  status: 'final',
  code: { coding: [{ system: 'http://loinc.org', code: '2339-0', display: 'Glucose' }] },
  valueQuantity: { value, unit: 'mg/dL', system: 'http://unitsofmeasure.org', code: 'mg/dL' },
});

/** A secret as an attacker would look for it: raw, base64url and hex. */
function needles(what: string, bytes: Uint8Array): { what: string; bytes: Buffer }[] {
  const b = Buffer.from(bytes);
  return [
    { what: `${what} (raw)`, bytes: b },
    { what: `${what} (base64url)`, bytes: Buffer.from(toBase64Url(b)) },
    { what: `${what} (base64)`, bytes: Buffer.from(b.toString('base64')) },
    { what: `${what} (hex)`, bytes: Buffer.from(b.toString('hex')) },
  ];
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? filesUnder(join(dir, e.name)) : e.isFile() ? [join(dir, e.name)] : [],
  );
}

/** Which secrets occur in which files under `dir`. */
function scan(dir: string, secrets: { what: string; bytes: Buffer }[]): string[] {
  const found: string[] = [];
  for (const file of filesUnder(dir)) {
    const data = readFileSync(file);
    for (const n of secrets)
      if (data.indexOf(n.bytes) !== -1) found.push(`${file.slice(dir.length + 1)}: ${n.what}`);
  }
  return found;
}

/** Every secret of an (as yet unsealed) home, read in clear before it is sealed. */
function plaintextSecrets(home: string, patients: string[]): { what: string; bytes: Buffer }[] {
  const custodian = readJson<{ signingKey: string; encryptionPrivateKey: string }>(
    join(home, 'keys', 'custodian.json'),
  );
  const nodeKey = readJson<{ seed: string }>(homePaths(home).nodeKey);
  const events = readJson<{ secret: string }>(join(home, 'keys', 'events-secret'));
  const out = [
    ...needles('custodian X25519 private key', fromBase64Url(custodian.encryptionPrivateKey)),
    ...needles('custodian signing seed', fromBase64Url(custodian.signingKey)),
    ...needles('node signing seed', fromBase64Url(nodeKey.seed)),
    ...needles('events secret', fromBase64Url(events.secret)),
  ];
  // Commitment secrets: in clear in stores older than sealing (32 bytes), else sealed under a key
  // derived from the custodian's decryption key. A legacy clear row is planted to test its migration.
  const secretsKey = Buffer.from(
    hkdfSync(
      'sha256',
      fromBase64Url(custodian.encryptionPrivateKey),
      new Uint8Array(0),
      'healthledger/v1/patient-secrets',
      32,
    ),
  );
  const db = new Database(join(homePaths(home).data, 'records.sqlite'));
  try {
    db.prepare('INSERT INTO patient_secrets (patient, secret) VALUES (?, ?)').run(LEGACY, randomBytes(32));
    for (const p of [...patients, LEGACY]) {
      const row = db.prepare('SELECT secret FROM patient_secrets WHERE patient = ?').get(p) as {
        secret: Buffer;
      };
      let secret = row.secret;
      if (secret.length !== 32) {
        const d = createDecipheriv('aes-256-gcm', secretsKey, secret.subarray(1, 13))
          .setAAD(Buffer.from(`healthledger/v1/sealed|patient-secret|${p}`))
          .setAuthTag(secret.subarray(secret.length - 16));
        secret = Buffer.concat([d.update(secret.subarray(13, secret.length - 16)), d.final()]);
      }
      out.push(...needles(`${p} commitment secret`, secret));
    }
  } finally {
    db.close();
  }
  return out;
}

interface Cast {
  dana: Identity;
  alice: Identity;
  erin: Identity;
  erinKey: EncryptionKeyPair;
}

async function cast(net: TestNetwork): Promise<Cast> {
  const dana = await net.enroll('st-mary', 'p-dana', 'patient');
  const alice = await net.enroll('st-mary', 'dr-alice', 'practitioner');
  const erin = await net.enroll('city-clinic', 'dr-erin', 'practitioner');
  const erinKey = await generateEncryptionKeyPair();
  for (const [id, k] of [[dana, await generateEncryptionKeyPair()] as const, [erin, erinKey] as const]) {
    const r = await net.client.sendAndVerify(id, 'member.set-encryption-key', {
      publicKey: toBase64Url(k.publicKey),
    });
    assert.equal(r.code, 'VALID');
  }
  for (const v of [142, 118]) await net.client.health.writeRecord(alice, dana.memberId, observation(v));
  const now = Date.now();
  const g = await net.client.sendAndVerify(dana, 'consent.grant', {
    id: 'all-erin',
    patient: dana.memberId,
    actor: { kind: 'member', id: erin.memberId },
    categories: ['*'],
    purposes: ['treatment'],
    validFromMs: now - 60_000,
    validUntilMs: now + H,
  });
  assert.equal(g.code, 'VALID');
  return { dana, alice, erin, erinKey };
}

/** Erin's release of Dana's records, opened (the custodian key unwraps them for her). */
async function release(net: TestNetwork, c: Cast): Promise<number[]> {
  const a = await net.client.sendAndVerify(c.erin, 'access.request', {
    patient: c.dana.memberId,
    purpose: 'treatment',
  });
  assert.equal(a.code, 'VALID');
  const released = await net.client.health.releaseRecords(c.erin, a.txId);
  const opened = await openReleased(released.release, c.erin.memberId, c.erinKey.privateKey);
  return opened.map((r) => (r['valueQuantity'] as { value: number }).value).sort();
}

function setSeal(home: string, seal: NodeConfig['seal'] | undefined): void {
  const config = readJson<NodeConfig>(homePaths(home).nodeConfig);
  delete config.seal;
  writeJson(homePaths(home).nodeConfig, seal === undefined ? config : { ...config, seal });
}

/** Copies of the home (data folder included) elsewhere; the copy never holds the KEK. */
function copyHome(home: string): string {
  const copy = join(temp('hl-sealed-copy-'), 'home');
  cpSync(home, copy, { recursive: true });
  return copy;
}

async function sealedNodeHoldsNoSecretInClear(
  seal: NonNullable<NodeConfig['seal']>,
  env: Record<string, string> = {},
): Promise<void> {
  const net = await startTestNetwork();
  try {
    const c = await cast(net);
    assert.deepEqual(await release(net, c), [118, 142]);
    await net.stop();
    const secrets = plaintextSecrets(net.dir, [c.dana.memberId]);
    // An unsealed home found with a KEK configured is sealed on this start.
    setSeal(net.dir, seal);
    Object.assign(process.env, env);
    await net.restart();
    assert.deepEqual(await release(net, c), [118, 142], 'with the KEK the node starts and releases');
    await net.client.health.writeRecord(c.alice, c.dana.memberId, observation(131));
    assert.deepEqual(await release(net, c), [118, 131, 142]);
    await net.stop();

    const copy = copyHome(net.dir);
    assert.deepEqual(scan(copy, secrets), [], 'no secret in clear in a copy of the home and data folder');
    // The copy without the KEK does not start, and says what is missing.
    setSeal(copy, undefined);
    for (const k of Object.keys(env)) delete process.env[k];
    await assert.rejects(serveHome(copy, { port: 0, log: () => {} }), (e: Error) => {
      assert.match(e.message, /SEAL_KEK_MISSING/);
      assert.match(e.message, /keys\/node\.key is sealed/);
      assert.match(e.message, /"seal" in node\.json .*HEALTHLEDGER_KEK/);
      return true;
    });
    // Another KEK does not open it.
    process.env['HEALTHLEDGER_KEK'] = toBase64Url(new Uint8Array(32).fill(7));
    try {
      await assert.rejects(serveHome(copy, { port: 0, log: () => {} }), /SEAL_UNSEAL_FAILED/);
    } finally {
      delete process.env['HEALTHLEDGER_KEK'];
    }
    // The node restarts with its KEK and still releases.
    Object.assign(process.env, env);
    await net.restart();
    assert.deepEqual(await release(net, c), [118, 131, 142]);
  } finally {
    await net.destroy();
    for (const k of Object.keys(env)) delete process.env[k];
  }
}

test('a key file outside the home seals every node secret; a copy of home and data opens nothing', async () => {
  const kekDir = temp('hl-kek-');
  const keyFile = join(kekDir, 'kek');
  writeFileSync(keyFile, toBase64Url(new Uint8Array(32).map((_, i) => i * 11 + 3)) + '\n', { mode: 0o600 });
  await sealedNodeHoldsNoSecretInClear({ keyFile });
});

test('a configured key file that is missing is refused naming it', async () => {
  const net = await startTestNetwork();
  try {
    await net.stop();
    const missing = join(temp('hl-kek-'), 'gone');
    setSeal(net.dir, { keyFile: missing });
    await assert.rejects(net.restart(), (e: Error) => {
      assert.match(e.message, /SEAL_KEK_MISSING: node\.json seal\.keyFile/);
      assert.ok(e.message.includes(missing));
      return true;
    });
  } finally {
    await net.destroy();
  }
});

test('a sealed file cannot be swapped in for another purpose', async () => {
  const kek = toBase64Url(new Uint8Array(32).fill(9));
  const net = await startTestNetwork();
  process.env['HEALTHLEDGER_KEK'] = kek;
  try {
    await net.stop();
    await net.restart(); // seals the home under HEALTHLEDGER_KEK
    await net.stop();
    const keys = join(net.dir, 'keys');
    cpSync(join(keys, 'node.key'), join(keys, 'events-secret'));
    await assert.rejects(
      net.restart(),
      /SEAL_UNSEAL_FAILED: .*keys\/events-secret is sealed as node-key, not events-secret/,
    );
  } finally {
    delete process.env['HEALTHLEDGER_KEK'];
    await net.destroy();
  }
});

const softhsm = existsSync(SOFTHSM) && existsSync('/usr/bin/softhsm2-util');
if (!softhsm)
  process.stdout.write(
    `# SKIPPED PKCS#11 tests: softhsm2 is not installed (${SOFTHSM}); apt-get install softhsm2\n`,
  );

test(
  'a PKCS#11 token (SoftHSM2) seals every node secret; a copy of home and data opens nothing',
  { skip: softhsm ? false : 'softhsm2 is not installed' },
  async () => {
    const dir = temp('hl-softhsm-');
    mkdirTokens(dir);
    execFileSync(
      'softhsm2-util',
      ['--init-token', '--free', '--label', 't', '--pin', '1234', '--so-pin', '1234'],
      {
        env: { ...process.env, SOFTHSM2_CONF: join(dir, 'softhsm2.conf') },
        stdio: 'ignore',
      },
    );
    process.env['SOFTHSM2_CONF'] = join(dir, 'softhsm2.conf');
    try {
      await sealedNodeHoldsNoSecretInClear(
        {
          pkcs11: {
            library: SOFTHSM,
            tokenLabel: 't',
            pinEnv: 'HL_TEST_TOKEN_PIN',
            keyLabel: 'healthledger-kek',
          },
        },
        { HL_TEST_TOKEN_PIN: '1234' },
      );
    } finally {
      delete process.env['SOFTHSM2_CONF'];
    }
  },
);

function mkdirTokens(dir: string): void {
  const tokens = join(dir, 'tokens');
  mkdirSync(tokens);
  writeFileSync(
    join(dir, 'softhsm2.conf'),
    `directories.tokendir = ${tokens}\nobjectstore.backend = file\nlog.level = ERROR\n`,
  );
}

test('webhook secrets: stored sealed, clear ones from before sealing sealed on start, bound to their subscription', () => {
  const db = new Database(':memory:');
  try {
    const feed = { onEvents: () => () => {} } as unknown as EventFeed;
    new WebhookDeliverer(db, feed, { clock: { now: () => 0 } });
    const secret = randomBytes(32).toString('hex');
    db.prepare(
      'INSERT INTO subscriptions (id, patient, url, secret, created_by, created_at_ms, cursor) VALUES (?, ?, ?, ?, ?, ?, ?)',
    ).run('sub-1', 'st-mary/p-dana', 'https://example.org/hook', secret, 'st-mary/p-dana', 0, 0);
    const sealer = new KeyFileSealer(new Uint8Array(32).fill(5));
    sealStoredWebhookSecrets(db, sealer);
    const stored = (db.prepare('SELECT secret FROM subscriptions').get() as { secret: string }).secret;
    assert.match(stored, /^sealed:/);
    assert.ok(!stored.includes(secret));
    const s = webhookSecrets(sealer);
    assert.equal(s.unseal('sub-1', stored), secret);
    assert.throws(() => s.unseal('sub-2', stored), /SEAL_UNSEAL_FAILED/);
    assert.throws(() => webhookSecrets(null).unseal('sub-1', stored), /SEAL_KEK_MISSING/);
  } finally {
    db.close();
  }
});
