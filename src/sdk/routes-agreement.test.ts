/**
 * The SDK and the route table agree: every request the SDK's core and domain actions make (or
 * URL they build) is a defined route, and every client-facing route has an action that uses it.
 * Each action runs against a recording fetch with canned answers, so what is checked is what the
 * SDK really sends, not a declared list.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Routes, type RouteDef } from '../protocol/api.js';
import { consortium } from '../test-support/ledger-fixture.js';
import { consentToFhir } from '../domains/health/core/fhir/consent.js';
import type { healthActions } from '../domains/health/sdk/index.js';
import { DOMAIN_ROUTES } from '../core/domains.js';
import type { supplyActions } from '../domains/supply/sdk/index.js';
import type { domainActions } from './client.js';
import { HealthLedgerClient, type Identity } from './client.js';

/** Every route definition: the shared table and each domain's. */
const DEFINED: Record<string, RouteDef> = Object.assign({}, Routes, ...Object.values(DOMAIN_ROUTES));

/** Routes no SDK action needs, and why. */
const NOT_CLIENT_FACING: Partial<Record<keyof typeof DEFINED, string>> = {
  metrics: 'Prometheus scrapes it; operators, not SDK users',
  openapi: 'the API description, for tools',
  peerSnapshot: 'node to node (snapshot sync), signed with node keys',
  peerRelease: 'node to node (data plane), signed with node keys',
  portalRoot: 'the portal itself, for browsers',
  portalHome: 'the portal itself, for browsers',
  portalFile: 'the portal itself, for browsers',
  fhirMetadata: 'FHIR REST for standard FHIR clients (fhirclient, fhir-kit-client), not this SDK',
  fhirEverything: 'FHIR REST for standard FHIR clients',
  fhirAuditEvent: 'FHIR REST for standard FHIR clients (the SDK exports the trail via auditEvents)',
  fhirCreate: 'FHIR REST for standard FHIR clients (the SDK writes via writeRecord)',
  fhirSearch: 'FHIR REST for standard FHIR clients',
  fhirRead: 'FHIR REST for standard FHIR clients',
};

/** The defined route a request is for (a literal path segment beats a parameter). */
function routeOf(method: string, pathname: string): string | undefined {
  const hits = Object.entries(DEFINED).filter(
    ([, d]) =>
      d.method === method &&
      new RegExp(`^${d.url.replace(/:[A-Za-z]+/g, '[^/]+').replace(/\$/g, '\\$')}$`).test(pathname),
  );
  hits.sort(([, a], [, b]) => a.url.split(':').length - b.url.split(':').length);
  return hits[0]?.[0];
}

const HASH = 'ab'.repeat(32);
const committed = { txId: HASH, status: 'committed', height: 1, index: 0, seq: 0, code: 'VALID' };
const facts = {
  eventHash: 'ni:///sha-256;x',
  step: 'commission',
  eventTimeMs: 1,
  location: 'urn:epc:id:sgln:0614141.00001.0',
  epcs: [],
  parent: null,
  lot: null,
  party: null,
};
/** Answers that let each action go as far as it can (verification then fails, which is fine). */
const CANNED: Record<string, unknown> = {
  submitTx: committed,
  submitBatch: { results: [committed] },
  supplyFacts: { results: [{ index: 0, ok: true, facts }] },
  supplyEvent: { alerts: [] },
  patientEvents: { events: [], next: 0 },
  supplyAlerts: { events: [], next: 0 },
  supplyHistory: { entries: [] },
  attestations: { height: 1, attestations: [], status: null },
  listSubscriptions: { subscriptions: [] },
};

/** A client whose fetch records the route of every request. */
function recordingClient(): {
  client: HealthLedgerClient;
  requests: { action: string; route?: string; url: string }[];
  current: { action: string };
} {
  const requests: { action: string; route?: string; url: string }[] = [];
  const current = { action: '' };
  const { genesis } = consortium(['st-mary']);
  const client = new HealthLedgerClient({
    baseUrl: 'http://node.invalid',
    genesis,
    fetch: async (input, init) => {
      const url = new URL(String(input));
      const route = routeOf(init?.method ?? 'GET', url.pathname);
      requests.push({
        action: current.action,
        url: `${init?.method ?? 'GET'} ${url.pathname}`,
        ...(route ? { route } : {}),
      });
      return new Response(JSON.stringify((route && CANNED[route]) ?? {}), { status: 200 });
    },
  });
  return { client, requests, current };
}

const who: Identity = { memberId: 'st-mary/alice', privateKey: new Uint8Array(32).fill(7) };
const P = 'st-mary/dana';
type Calls<A> = { [K in keyof A]: (c: HealthLedgerClient) => unknown };

/** One call of every health action (the type makes a new action without a call here an error). */
const HEALTH: Calls<typeof healthActions> = {
  writeRecord: (c) => c.health.writeRecord(who, P, { resourceType: 'Observation' }),
  importBundle: (c) => c.health.importBundle(who, P, { resourceType: 'Bundle' }),
  releaseRecords: (c) => c.health.releaseRecords(who, HASH),
  putBlob: (c) => c.health.putBlob(who, P, 'application/pdf', new Uint8Array(3)),
  getBlob: (c) => c.health.getBlob(who, HASH, HASH),
  grantFromFhirConsent: (c) =>
    c.health.grantFromFhirConsent(
      who,
      consentToFhir({
        id: 'travel',
        patient: P,
        actor: { kind: 'member', id: 'st-mary/erin' },
        categories: ['*'],
        sensitive: [],
        resourceTypes: ['*'],
        purposes: ['treatment'],
        validFromMs: 1,
        validUntilMs: 2,
        revokedAtHeight: null,
      }),
    ),
  consents: (c) => c.health.consents(who, P),
  eventsToken: (c) => c.health.eventsToken(who, P),
  events: (c) => c.health.events(P, 'tok', 0, 10),
  eventStreamUrl: (c) => c.health.eventStreamUrl(P, 'tok', 3),
  auditEvents: (c) => c.health.auditEvents(P, 'tok', { verify: false }),
  createSubscription: (c) => c.health.createSubscription(who, P, 'https://hook.invalid/'),
  listSubscriptions: (c) => c.health.listSubscriptions(who),
  deleteSubscription: (c) => c.health.deleteSubscription(who, 'sub-1'),
};

/** One call of every supply action. */
const SUPPLY: Calls<typeof supplyActions> = {
  captureEpcis: (c) => c.supply.captureEpcis(who, { type: 'EPCISDocument' }),
  supplyFacts: (c) => c.supply.supplyFacts({ type: 'EPCISDocument' }),
  supplyEvent: (c) => c.supply.supplyEvent(HASH),
  verifyProduct: (c) =>
    c.supply.verifyProduct({ gtin: '00614141107346', serial: '1', lot: 'L1', expiry: '2030-01-31' }),
  supplyHistory: (c) => c.supply.supplyHistory('sgtin:00614141107346.1', { verify: false }),
  supplyAlert: (c) => c.supply.supplyAlert(`${'ab'.repeat(16)}.1`),
  supplyAlertsToken: (c) => c.supply.supplyAlertsToken(who),
  createSupplySubscription: (c) => c.supply.createSupplySubscription(who, 'https://hook.invalid/'),
  supplyAlerts: (c) => c.supply.supplyAlerts('tok', 0, 10),
  supplyAlertStreamUrl: (c) => c.supply.supplyAlertStreamUrl('tok', 3),
};

/** The core's requests. */
const CORE: Record<string, (c: HealthLedgerClient) => unknown> = {
  sendAndVerify: (c) => c.sendAndVerify(who, 'anchor.put', { key: 'k', commitment: HASH }),
  submitBatch: (c) => c.submitBatch([c.sign(who, 'anchor.put', { key: 'k', commitment: HASH })]),
  latestCheckpoint: (c) => c.latestCheckpoint(),
  checkpoint: (c) => c.checkpoint(2),
  verifiedConsistency: (c) => c.verifiedConsistency(1, 2),
  block: (c) => c.block(1),
  blocks: (c) => c.blocks(1, 10),
  member: (c) => c.member('st-mary/alice'),
  attestations: (c) => c.attestations(1),
  nodeHealth: (c) => c.nodeHealth(),
  connect: (c) => HealthLedgerClient.connect(c.baseUrl, 'not-the-hash', c.fetchFn),
};

/** One call of every action of every domain (the type makes a missing domain or action an error). */
const DOMAIN_CALLS: { [D in keyof typeof domainActions]: Calls<(typeof domainActions)[D]> } = {
  health: HEALTH,
  supply: SUPPLY,
};
const allDomainCalls = () =>
  Object.assign(
    {},
    ...Object.entries(DOMAIN_CALLS).map(([ns, calls]) =>
      prefixed(ns, calls as Record<string, (c: HealthLedgerClient) => unknown>),
    ),
  ) as Record<string, (c: HealthLedgerClient) => unknown>;

/** Runs every call; returns the requests made, with URL-building actions' URLs as GETs. */
async function exercise(): Promise<{ action: string; route?: string; url: string }[]> {
  const { client, requests, current } = recordingClient();
  const calls = { ...allDomainCalls(), ...CORE };
  for (const [action, run] of Object.entries(calls)) {
    current.action = action;
    let out: unknown;
    try {
      out = await run(client);
    } catch {
      // Canned answers fail verification after the requests were made: what matters is those.
    }
    if (typeof out === 'string') {
      const url = new URL(out);
      const route = routeOf('GET', url.pathname);
      requests.push({ action, url: `GET ${url.pathname}`, ...(route ? { route } : {}) });
    }
  }
  return requests;
}

function prefixed(ns: string, calls: Record<string, (c: HealthLedgerClient) => unknown>) {
  return Object.fromEntries(Object.entries(calls).map(([k, v]) => [`${ns}.${k}`, v]));
}

test('every bound action has a call in this test', () => {
  const client = recordingClient().client;
  for (const [ns, calls] of Object.entries(DOMAIN_CALLS))
    assert.deepEqual(
      Object.keys((client as unknown as Record<string, object>)[ns]!).sort(),
      Object.keys(calls).sort(),
      ns,
    );
});

test('every request the SDK makes is a defined route', async () => {
  const undefinedRoutes = (await exercise()).filter((r) => r.route === undefined);
  assert.deepEqual(undefinedRoutes, [], 'requests that match no route definition');
});

test('every client-facing route has an SDK action that uses it', async () => {
  const used = new Set((await exercise()).map((r) => r.route));
  const unused = Object.keys(DEFINED).filter((k) => !used.has(k) && !(k in NOT_CLIENT_FACING));
  assert.deepEqual(
    unused,
    [],
    'routes no SDK action calls (add an action, or list why in NOT_CLIENT_FACING)',
  );
  assert.ok(used.has('fhirConsent'));
  for (const k of Object.keys(NOT_CLIENT_FACING))
    assert.ok(!used.has(k), `${k} is listed as not client-facing`);
});

test('every action that makes a request makes it at a defined route', async () => {
  const requests = await exercise();
  const actions = new Set(requests.map((r) => r.action));
  for (const a of Object.keys(allDomainCalls()))
    assert.ok(actions.has(a), `${a} made no request and built no URL`);
});
