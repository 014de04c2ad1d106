/**
 * Records benchmarks against the real node (`healthledger start` in a child process):
 * - consented read: sign access.request → committed decision → signed release → records
 *   decrypted locally (p50/p99 over many reads);
 * - emergency summary of a patient with 1,000 resources: break-glass committed once, then the
 *   release of the emergency summary and its local decryption (p50/p99).
 * @module
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { toBase64Url } from '../protocol/bytes.js';
import { generateEncryptionKeyPair } from '../protocol/envelope.js';
import { HealthLedgerClient, identityFromFile, openReleased, type Identity } from '../sdk/client.js';
import { createIdentity, initHome } from '../cli/home-init.js';
import { homePaths, loadHome, readIdentity, type NodeConfig } from '../node/home.js';
import type { Role } from '../protocol/x509.js';
import { freePort, startNodeProcess } from './ledger-bench.js';

const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return Math.round((s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? 0) * 10) / 10;
};

function resourceFor(i: number): Record<string, unknown> {
  const active = {
    coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }],
  };
  switch (i % 10) {
    case 0:
      return {
        resourceType: 'AllergyIntolerance',
        clinicalStatus: {
          coding: [
            { system: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical', code: 'active' },
          ],
        },
        patient: { reference: 'Patient/p' },
        code: { text: `allergen ${i}` },
      };
    case 1:
      return {
        resourceType: 'Condition',
        clinicalStatus: active,
        code: { text: `condition ${i}` },
        subject: { reference: 'Patient/p' },
      };
    case 2:
      return {
        resourceType: 'MedicationRequest',
        status: 'active',
        intent: 'order',
        subject: { reference: 'Patient/p' },
        medicationCodeableConcept: { text: `medication ${i}` },
      };
    default:
      return {
        resourceType: 'Observation',
        status: 'final',
        code: { coding: [{ system: 'http://loinc.org', code: '2339-0' }] },
        valueQuantity: {
          value: 80 + (i % 100),
          unit: 'mg/dL',
          system: 'http://unitsofmeasure.org',
          code: 'mg/dL',
        },
      };
  }
}

export async function benchRecords(opts: { reads: number; summaryResources: number; summaryReads: number }) {
  const dir = mkdtempSync(join(tmpdir(), 'hl-bench-records-'));
  const port = await freePort();
  initHome(dir, {
    chainId: 'hl-bench',
    orgs: ['st-mary', 'city-clinic'],
    host: '127.0.0.1',
    port,
    nowMs: Date.now(),
  });
  const cfgPath = homePaths(dir).nodeConfig;
  writeFileSync(
    cfgPath,
    JSON.stringify({ ...(JSON.parse(readFileSync(cfgPath, 'utf8')) as NodeConfig), verifyThreads: 1 }),
  );
  const { genesis } = loadHome(dir);
  const { child, url } = await startNodeProcess(dir);
  try {
    const client = new HealthLedgerClient({ baseUrl: url, genesis });
    const enroll = async (
      org: string,
      id: string,
      role: Role,
      attributes: Record<string, string> = {},
    ): Promise<Identity> => {
      const f = createIdentity(dir, { orgId: org, memberId: id, role, attributes, nowMs: Date.now() });
      await client.sendAndVerify(identityFromFile(readIdentity(dir, `${org}/admin`)), 'member.enroll', {
        certificate: f.certificate,
      });
      return identityFromFile(f);
    };
    const withKey = async (id: Identity) => {
      const kp = await generateEncryptionKeyPair();
      await client.sendAndVerify(id, 'member.set-encryption-key', { publicKey: toBase64Url(kp.publicKey) });
      return kp;
    };
    const dana = await enroll('st-mary', 'p-dana', 'patient');
    const sam = await enroll('st-mary', 'p-sam', 'patient');
    const alice = await enroll('st-mary', 'dr-alice', 'practitioner');
    const erin = await enroll('city-clinic', 'dr-erin', 'practitioner', { specialty: 'emergency-medicine' });
    await withKey(dana);
    await withKey(sam);
    const erinKey = await withKey(erin);
    await client.health.writeRecord(alice, dana.memberId, resourceFor(3));
    const now = Date.now();
    await client.sendAndVerify(dana, 'consent.grant', {
      id: 'bench',
      patient: dana.memberId,
      actor: { kind: 'member', id: erin.memberId },
      categories: ['*'],
      purposes: ['treatment'],
      validFromMs: now - 60_000,
      validUntilMs: now + 3_600_000,
    });

    // Consented read, end to end.
    const read: number[] = [];
    for (let i = 0; i < opts.reads; i++) {
      const t = performance.now();
      const c = await client.submitAndWait(
        client.sign(erin, 'access.request', { patient: dana.memberId, purpose: 'treatment' }),
      );
      if (c.code !== 'VALID') throw new Error(`bench: access ${c.code}`);
      const rel = await client.health.releaseRecords(erin, c.txId);
      const resources = await openReleased(rel.release, erin.memberId, erinKey.privateKey);
      if (resources.length !== 1) throw new Error('bench: expected one record');
      read.push(performance.now() - t);
    }

    // A patient with many resources; the emergency summary under break-glass.
    let next = 0;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < opts.summaryResources)
          await client.health.writeRecord(alice, sam.memberId, resourceFor(next++));
      }),
    );
    const bg = await client.sendAndVerify(erin, 'access.break-glass', {
      patient: sam.memberId,
      reason: 'unconscious on arrival (benchmark)',
      durationMs: 3_600_000,
    });
    const summary: number[] = [];
    let summarySize = 0;
    for (let i = 0; i < opts.summaryReads; i++) {
      const t = performance.now();
      const rel = await client.health.releaseRecords(erin, bg.txId);
      const resources = await openReleased(rel.release, erin.memberId, erinKey.privateKey);
      summary.push(performance.now() - t);
      summarySize = resources.length;
    }
    return {
      consented_read_p50_ms: pct(read, 50),
      consented_read_p99_ms: pct(read, 99),
      consented_reads: read.length,
      emergency_summary_p50_ms: pct(summary, 50),
      emergency_summary_p99_ms: pct(summary, 99),
      emergency_summary_records: summarySize,
      patient_resources: opts.summaryResources,
    };
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    rmSync(dir, { recursive: true, force: true });
  }
}
