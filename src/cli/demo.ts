/**
 * The Quick start's demo: a consortium of a hospital, a clinic, a pharmacy and a payer, served
 * by one embedded node, with demo members and anchored (keyed) document commitments. Re-running
 * reuses the existing demo folder and ledger.
 * @module
 */
import { createHmac } from 'node:crypto';
import { existsSync, rmSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import {
  homePaths,
  loadHomeConfig,
  readIdentity,
  readJson,
  writeFileDurable,
  writeJson,
  writeSecret,
  type NodeConfig,
} from '../node/home.js';
import { newKek } from '../node/sealer.js';
import type { RecordService } from '../domains/health/node/record-service.js';
import { HealthLedgerClient, identityFromFile } from '../sdk/client.js';
import { generateEncryptionKeyPair } from '../protocol/envelope.js';
import { toBase64Url } from '../protocol/bytes.js';
import { VerifyPool } from '../node/crypto/verify-pool.js';
import { verifyChain } from '../node/verify-chain.js';
import type { Role } from '../protocol/x509.js';
import { createIdentity, initHome } from './home-init.js';
import { serveHome } from './serve.js';
import {
  aggregationEvent,
  commissioningEvent,
  dispensingEvent,
  EPCIS_CONTEXT,
  epcisDocument,
  inspectingEvent,
  receivingEvent,
  shippingEvent,
} from '../domains/supply/core/documents.js';
import { supplyFactsOf } from '../domains/supply/core/facts.js';
import type { EpcisEvent } from '../domains/supply/core/epcis.js';
import { Gs1Error, parseEpcUri } from '../domains/supply/core/gs1.js';

const ORGS = [
  'st-mary:St Mary Hospital',
  'city-clinic:City Clinic',
  'corner-pharmacy:Corner Pharmacy',
  'acme-payer:Acme Health Plan',
  'novapharm:NovaPharm Manufacturing',
  'medsupply:MedSupply Distribution',
  'health-authority:Health Authority',
];

const MEMBERS: { org: string; id: string; role: Role; attributes: Record<string, string> }[] = [
  {
    org: 'st-mary',
    id: 'dr-alice',
    role: 'practitioner',
    attributes: { licence: 'MD-104233', specialty: 'endocrinology' },
  },
  {
    org: 'st-mary',
    id: 'dr-bob',
    role: 'practitioner',
    attributes: { licence: 'MD-220871', specialty: 'dermatology' },
  },
  {
    org: 'city-clinic',
    id: 'dr-erin',
    role: 'practitioner',
    attributes: { licence: 'MD-318455', specialty: 'emergency-medicine' },
  },
  { org: 'st-mary', id: 'patient-dana', role: 'patient', attributes: {} },
  { org: 'st-mary', id: 'auditor-ivan', role: 'auditor', attributes: {} },
  { org: 'corner-pharmacy', id: 'pharm-frank', role: 'dispenser', attributes: { licence: 'RPH-55120' } },
  { org: 'acme-payer', id: 'claims-gina', role: 'payer', attributes: {} },
  { org: 'novapharm', id: 'packaging-line', role: 'manufacturer', attributes: {} },
  { org: 'medsupply', id: 'warehouse', role: 'distributor', attributes: {} },
  { org: 'health-authority', id: 'inspector', role: 'regulator', attributes: {} },
  {
    org: 'st-mary',
    id: 'dr-mallory',
    role: 'practitioner',
    attributes: { licence: 'MD-999001', specialty: 'surgery' },
  },
];

/** Dana's records at St Mary (FHIR R4), stored encrypted; the ledger sees metadata and commitments. */
const DEMO_RESOURCES: Record<string, unknown>[] = [
  {
    resourceType: 'Observation',
    status: 'final',
    code: {
      coding: [
        { system: 'http://loinc.org', code: '4548-4', display: 'Hemoglobin A1c/Hemoglobin.total in Blood' },
      ],
    },
    valueQuantity: { value: 7.1, unit: '%', system: 'http://unitsofmeasure.org', code: '%' },
  },
  {
    resourceType: 'MedicationRequest',
    status: 'active',
    intent: 'order',
    subject: { reference: 'Patient/dana' },
    medicationCodeableConcept: {
      coding: [
        {
          system: 'http://www.nlm.nih.gov/research/umls/rxnorm',
          code: '274783',
          display: 'Insulin Glargine',
        },
      ],
    },
  },
  {
    resourceType: 'AllergyIntolerance',
    clinicalStatus: {
      coding: [
        { system: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical', code: 'active' },
      ],
    },
    patient: { reference: 'Patient/dana' },
    code: { text: 'Penicillin' },
  },
];

/** Dana's glucose readings (LOINC 2339-0), for the portal's chart. */
for (const [day, value] of [
  ['2026-11-16', 142],
  ['2026-11-17', 118],
  ['2026-11-18', 196],
  ['2026-11-19', 131],
  ['2026-11-20', 104],
] as const)
  DEMO_RESOURCES.push({
    resourceType: 'Observation',
    status: 'final',
    category: [
      {
        coding: [
          { system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'laboratory' },
        ],
      },
    ],
    code: {
      coding: [{ system: 'http://loinc.org', code: '2339-0', display: 'Glucose [Mass/volume] in Blood' }],
    },
    effectiveDateTime: `${day}T08:00:00Z`,
    valueQuantity: { value, unit: 'mg/dL', system: 'http://unitsofmeasure.org', code: 'mg/dL' },
  });

/** Sample documents a clinician anchors; only their keyed commitments reach the ledger. */
const DOCUMENTS = [
  {
    key: 'dana:discharge-summary:2026-03-02',
    text: 'Discharge summary: type 1 diabetes, stable on basal-bolus insulin.',
  },
  { key: 'dana:lab:hba1c:2026-05-10', text: 'HbA1c 7.1 %' },
  { key: 'dana:prescription:insulin-glargine', text: 'Insulin glargine 100 U/mL, 18 U nightly' },
];

/**
 * Where demo homes made before commitment secrets moved into the vault kept Dana's (removed on the
 * next run: a per-patient secret outside the vault would survive her erasure).
 */
const LEGACY_SECRETS = 'secrets';

/**
 * DEMO ONLY: the demo home's secrets are sealed under a key file kept beside the home, not in it
 * (`.data/demo-kek` for `.data/demo`), created on first run. A real node keeps its KEK in a
 * PKCS#11 token or a key file on another volume (ADR 0015). Demo homes from before sealing are
 * sealed on this run.
 */
function useDemoKek(dir: string): void {
  const keyFile = join(dirname(resolve(dir)), `${basename(resolve(dir))}-kek`);
  if (!existsSync(keyFile)) writeSecret(keyFile, newKek());
  const config = readJson<NodeConfig>(homePaths(dir).nodeConfig);
  if (config.seal === undefined) writeJson(homePaths(dir).nodeConfig, { ...config, seal: { keyFile } });
}

/** Present while a demo home is being seeded: if a run finds it, the previous run was interrupted. */
const SEEDING_MARKER = '.demo-seeding';

export async function runDemo(opts: { dir: string; port: number; once: boolean }): Promise<void> {
  const marker = join(opts.dir, SEEDING_MARKER);
  if (existsSync(marker)) {
    // Seeding is not resumable; the folder holds nothing but what this command made.
    process.stdout.write(`An earlier demo run stopped while seeding ${opts.dir}: starting afresh.\n`);
    rmSync(opts.dir, { recursive: true, force: true });
  }
  const fresh = !existsSync(homePaths(opts.dir).genesis);
  if (fresh) {
    initHome(opts.dir, {
      chainId: 'healthledger-demo',
      orgs: ORGS,
      host: '127.0.0.1',
      port: opts.port,
      nowMs: Date.now(),
    });
    for (const m of MEMBERS)
      createIdentity(opts.dir, {
        orgId: m.org,
        memberId: m.id,
        role: m.role,
        attributes: m.attributes,
        nowMs: Date.now(),
      });
    writeFileDurable(marker, '');
  }
  rmSync(join(opts.dir, LEGACY_SECRETS), { recursive: true, force: true });
  useDemoKek(opts.dir);
  const served = await serveHome(opts.dir, { port: opts.port, log: () => {} });
  const { genesis } = loadHomeConfig(opts.dir);
  const client = new HealthLedgerClient({ baseUrl: served.url, genesis });
  try {
    if (served.running.node.getMember('st-mary/dr-alice') === undefined)
      await seed(opts.dir, client, served.records);
    rmSync(marker, { force: true });
    const head = (await client.nodeHealth()).head;
    const cp = await client.latestCheckpoint();
    const lines = [
      '',
      'HealthLedger demo node is running',
      `  portal      ${served.url}/portal/   (sign in with the identity files in ${opts.dir}/identities)`,
      `  API         ${served.url}   (OpenAPI: ${served.url}/openapi.json)`,
      `  chain       ${genesis.chainId}, ${genesis.orgs.length} organizations: ${genesis.orgs.map((o) => o.id).join(', ')}`,
      `  ledger      ${head.height} blocks, ${head.logSize} transactions; checkpoint root ${cp.checkpoint.logRoot.slice(0, 16)}… (signature verified)`,
      `  records     8 FHIR resources of st-mary/patient-dana, encrypted at St Mary; her travel consent for`,
      `              emergency physicians anywhere (diabetes, 48 h); city-clinic/dr-erin read them under it`,
      ...(genesis.orgs.some((o) => o.id === 'novapharm')
        ? [
            `  supply      6 insulin pens (GTIN 10614141073464, lot ${SUPPLY.lot}) NovaPharm → MedSupply → Corner Pharmacy,`,
            `              one dispensed; an inspection that contradicts custody raised an alert (EPCIS 2.0)`,
          ]
        : [`  supply      (this demo folder predates the supply-chain demo: delete ${opts.dir} to get it)`]),
      `  home        ${opts.dir}   (identities in ${opts.dir}/identities)`,
      '',
      'Try:',
      `  curl ${served.url}/health`,
      `  curl ${served.url}/v1/blocks/1`,
      `  node bin/healthledger.js identity show ${opts.dir} st-mary/dr-alice`,
      `  node bin/healthledger.js tx anchor ${opts.dir} --as st-mary/dr-alice --key note-1 --commitment ${'ab'.repeat(32)}`,
      `  node bin/healthledger.js proof checkpoint ${opts.dir}`,
      `  node bin/healthledger.js verify ${opts.dir}`,
      `  curl '${served.url}/v1/supply/verify/01/10614141073464/10/${SUPPLY.lot}/21/PEN0003?exp=271130'`,
      `  node bin/healthledger.js supply history ${opts.dir} ${SUPPLY.pen(1)}`,
      `  node bin/healthledger.js supply alerts ${opts.dir} --as health-authority/inspector`,
      '',
    ];
    process.stdout.write(lines.join('\n') + '\n');
  } catch (e) {
    await served.close();
    throw e;
  }
  if (opts.once) {
    await served.close();
    const verifier = await VerifyPool.create({});
    const r = await verifyChain({ storePath: homePaths(opts.dir).store, verifier, expectedGenesis: genesis });
    await verifier.close();
    process.stdout.write(
      r.ok
        ? `verify: OK (${r.height} blocks, ${r.txCount} transactions)\n`
        : `verify: FAILED at block ${r.badHeight}: ${r.reason}\n`,
    );
    if (!r.ok) process.exitCode = 1;
    return;
  }
  process.stdout.write('Press Ctrl-C to stop.\n');
  const stop = async (): Promise<void> => {
    await served.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
}

async function seed(dir: string, client: HealthLedgerClient, records: RecordService): Promise<void> {
  for (const m of MEMBERS) {
    const admin = identityFromFile(readIdentity(dir, `${m.org}/admin`));
    const file = readIdentity(dir, `${m.org}/${m.id}`);
    const r = await client.sendAndVerify(admin, 'member.enroll', { certificate: file.certificate });
    if (r.code !== 'VALID') throw new Error(`demo: enrolling ${file.memberId} gave ${r.code}`);
  }
  // A per-patient secret keys the commitments, so the ledger never holds a plain hash of health data.
  // It is Dana's commitment secret in St Mary's vault, never a file of its own: her erasure
  // destroys it with her keys, and the commitments become unlinkable.
  const secret = records.vault.secretFor('st-mary/patient-dana');
  const alice = identityFromFile(readIdentity(dir, 'st-mary/dr-alice'));
  const txs = DOCUMENTS.map((d) =>
    client.sign(alice, 'anchor.put', {
      key: d.key,
      commitment: createHmac('sha256', secret).update(d.text).digest('hex'),
    }),
  );
  for (const t of txs) await client.submitAndWait(t);
  const admin = identityFromFile(readIdentity(dir, 'st-mary/admin'));
  await client.sendAndVerify(admin, 'member.revoke', {
    memberId: 'st-mary/dr-mallory',
    reason: 'left the hospital',
  });

  // Records and consent: encryption keys, records written by dr-alice, Dana's travel consent,
  // and an emergency physician at another organization reading under it.
  const dana = identityFromFile(readIdentity(dir, 'st-mary/patient-dana'));
  const erin = identityFromFile(readIdentity(dir, 'city-clinic/dr-erin'));
  for (const id of [dana, erin, alice]) {
    const kp = await generateEncryptionKeyPair();
    writeSecret(
      `${dir}/identities/${id.memberId}.enc.json`,
      JSON.stringify({ privateKey: toBase64Url(kp.privateKey), publicKey: toBase64Url(kp.publicKey) }) + '\n',
    );
    await client.sendAndVerify(id, 'member.set-encryption-key', { publicKey: toBase64Url(kp.publicKey) });
  }
  for (const resource of DEMO_RESOURCES) await client.health.writeRecord(alice, dana.memberId, resource);
  const now = Date.now();
  await client.sendAndVerify(dana, 'consent.grant', {
    id: 'travel-2026',
    patient: dana.memberId,
    actor: { kind: 'role', role: 'practitioner', attributes: { specialty: 'emergency-medicine' } },
    categories: ['diabetes'],
    purposes: ['treatment', 'emergency'],
    validFromMs: now - 60_000,
    validUntilMs: now + 48 * 3600_000,
  });
  const access = await client.sendAndVerify(erin, 'access.request', {
    patient: dana.memberId,
    purpose: 'treatment',
    categories: ['diabetes'],
  });
  await client.health.releaseRecords(erin, access.txId);
  await seedSupply(dir, client);
  writeSecret(
    `${dir}/README.txt`,
    'Demo home created by `healthledger demo`. Delete this folder to start afresh.\n',
  );
}

/** GS1 keys of the demo supply chain (GS1's example company prefixes). */
const SUPPLY = {
  prefix: {
    novapharm: '0614141',
    medsupply: '0765432',
    'corner-pharmacy': '0888888',
    'health-authority': '0111111',
  },
  pen: (n: number) => `urn:epc:id:sgtin:0614141.107346.PEN${String(n).padStart(4, '0')}`,
  case: 'urn:epc:id:sscc:0614141.1000000001',
  lot: 'INS2611A',
  expiry: '2027-11-30',
} as const;
const sgln = (prefix: string) => `urn:epc:id:sgln:${prefix}.00001.0`;
const pgln = (prefix: string) => `urn:epc:id:pgln:${prefix}.00001`;

/**
 * The demo's drug supply chain: six insulin pens from NovaPharm, packed in a case, shipped through
 * MedSupply to Corner Pharmacy, unpacked, one dispensed; an inspector's report that contradicts the
 * ledger raises an alert. Facts are derived locally from EPCIS 2.0 documents (`supplyFactsOf`).
 */
async function seedSupply(dir: string, client: HealthLedgerClient): Promise<void> {
  const id = (m: string) => identityFromFile(readIdentity(dir, m));
  const inspector = id('health-authority/inspector');
  for (const [org, prefix] of Object.entries(SUPPLY.prefix)) {
    const gln = parseEpcUri(pgln(prefix));
    if (gln instanceof Gs1Error || gln.kind !== 'pgln') throw new Error('demo: bad party GLN');
    const r = await client.sendAndVerify(inspector, 'supply.register-party', {
      org,
      companyPrefixes: org === 'novapharm' ? [prefix] : [],
      glns: [gln.gln],
    });
    if (r.code !== 'VALID') throw new Error(`demo: registering ${org} gave ${r.code}`);
  }
  const P = SUPPLY.prefix;
  const pens = [1, 2, 3, 4, 5, 6].map(SUPPLY.pen);
  let t = Date.now() - 3600_000;
  const at = () => new Date((t += 60_000));
  const steps: [string, Record<string, unknown>][] = [
    [
      'novapharm/packaging-line',
      commissioningEvent({
        at: at(),
        epcs: pens,
        location: sgln(P.novapharm),
        lot: SUPPLY.lot,
        expiry: SUPPLY.expiry,
      }),
    ],
    [
      'novapharm/packaging-line',
      aggregationEvent({
        at: at(),
        parent: SUPPLY.case,
        children: pens,
        location: sgln(P.novapharm),
        action: 'ADD',
      }),
    ],
    [
      'novapharm/packaging-line',
      shippingEvent({
        at: at(),
        epcs: [SUPPLY.case],
        location: sgln(P.novapharm),
        from: pgln(P.novapharm),
        to: pgln(P.medsupply),
      }),
    ],
    [
      'medsupply/warehouse',
      receivingEvent({
        at: at(),
        epcs: [SUPPLY.case],
        location: sgln(P.medsupply),
        from: pgln(P.novapharm),
        to: pgln(P.medsupply),
      }),
    ],
    [
      'medsupply/warehouse',
      shippingEvent({
        at: at(),
        epcs: [SUPPLY.case],
        location: sgln(P.medsupply),
        from: pgln(P.medsupply),
        to: pgln(P['corner-pharmacy']),
      }),
    ],
    [
      'corner-pharmacy/pharm-frank',
      receivingEvent({
        at: at(),
        epcs: [SUPPLY.case],
        location: sgln(P['corner-pharmacy']),
        from: pgln(P.medsupply),
        to: pgln(P['corner-pharmacy']),
      }),
    ],
    [
      'corner-pharmacy/pharm-frank',
      aggregationEvent({
        at: at(),
        parent: SUPPLY.case,
        children: [],
        location: sgln(P['corner-pharmacy']),
        action: 'DELETE',
      }),
    ],
    [
      'corner-pharmacy/pharm-frank',
      dispensingEvent({ at: at(), epcs: [pens[0]!], location: sgln(P['corner-pharmacy']) }),
    ],
    // The inspector finds "pen 2" at the distributor, though the ledger has it on the pharmacy's shelf.
    [
      'health-authority/inspector',
      inspectingEvent({ at: at(), epcs: [pens[1]!], location: sgln(P.medsupply) }),
    ],
  ];
  for (const [member, event] of steps) {
    const [r] = await client.supply.captureEpcis(id(member), epcisDocument([event]), {
      facts: [supplyFactsOf(event as unknown as EpcisEvent, EPCIS_CONTEXT)],
    });
    if (r?.code !== 'VALID') throw new Error(`demo: ${member} ${String(event['bizStep'])} gave ${r?.code}`);
  }
}
