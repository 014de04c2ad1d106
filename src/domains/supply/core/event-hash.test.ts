/**
 * EPCIS Event Hash ID (CBV 2.0 §8.9): the reference implementation's vectors
 * (vectors/epcis-event-hash/), the invariances the algorithm promises, and every GS1 example.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { repoRoot, testdata } from '../../../test-support/paths.js';
import { createEpcisValidator, type EpcisEvent } from './epcis.js';
import {
  EPCIS_EVENT_HASH_VERSION,
  epcisEventHash,
  epcisPreHashString,
  hashEpcisDocument,
} from './event-hash.js';

interface Expected {
  name: string;
  hashes: string[];
  prehashes: string[];
}
interface Vectors {
  reference: { repository: string; commit: string; profile: string };
  vectors: (Expected & { source: string; document: { '@context': unknown; epcisBody: unknown } })[];
  sharedTestdataVectors: (Expected & { testdata: string })[];
}

const V = JSON.parse(
  readFileSync(join(repoRoot, 'vectors', 'epcis-event-hash', 'vectors.json'), 'utf8'),
) as Vectors;
const HASH_ID = /^ni:\/\/\/sha-256;[0-9a-f]{64}\?ver=CBV2\.0$/;

const clone = <T>(v: T): T => structuredClone(v);

/** Checks one document against its expected pre-hash strings and hashes, event by event. */
function checkDocument(name: string, doc: unknown, want: Expected): void {
  const got = hashEpcisDocument(doc);
  assert.equal(got.length, want.hashes.length, `${name}: number of events`);
  assert.equal(want.prehashes.length, want.hashes.length, `${name}: vector file is inconsistent`);
  got.forEach((r, i) => {
    assert.equal(r.preHash, want.prehashes[i], `${name}[${i}]: pre-hash string`);
    assert.equal(r.hash, want.hashes[i], `${name}[${i}]: hash`);
  });
}

test('event hash: the reference vectors (CBV2.0 profile) all match, pre-hash string and hash', () => {
  assert.equal(V.reference.profile, EPCIS_EVENT_HASH_VERSION);
  assert.ok(V.vectors.length >= 25, `only ${V.vectors.length} vectors`);
  let events = 0;
  for (const v of V.vectors) {
    assert.ok(v.source.startsWith(`${V.reference.repository}@`), v.name);
    checkDocument(v.name, v.document, v);
    events += v.hashes.length;
  }
  assert.ok(events >= 45, `only ${events} events`);
});

test('event hash: reference expectations for a GS1 example read from shared test data', () => {
  for (const v of V.sharedTestdataVectors) {
    checkDocument(v.name, JSON.parse(readFileSync(testdata(...v.testdata.split('/')), 'utf8')), v);
  }
});

test('event hash: epcisEventHash/epcisPreHashString agree with hashEpcisDocument for every vector event', () => {
  for (const v of V.vectors) {
    const body = v.document.epcisBody as {
      eventList?: EpcisEvent[];
      queryResults?: { resultsBody: { eventList: EpcisEvent[] } };
    };
    const events = body.eventList ?? body.queryResults?.resultsBody.eventList ?? [];
    events.forEach((e, i) => {
      assert.equal(epcisPreHashString(e, v.document['@context']), v.prehashes[i], `${v.name}[${i}]`);
      assert.equal(epcisEventHash(e, v.document['@context']), v.hashes[i], `${v.name}[${i}]`);
    });
  }
});

function vectorEvent(name: string, index = 0): { event: EpcisEvent; context: unknown } {
  const v = V.vectors.find((x) => x.name === name);
  assert.ok(v, name);
  const body = v.document.epcisBody as { eventList: EpcisEvent[] };
  const event = body.eventList[index];
  assert.ok(event, `${name}[${index}]`);
  return { event: clone(event), context: clone(v.document['@context']) };
}

/** Every object's keys in reverse order, and every array reversed. */
function reversed(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(reversed).reverse();
  if (typeof v === 'object' && v !== null)
    return Object.fromEntries(
      Object.entries(v)
        .reverse()
        .map(([k, x]) => [k, reversed(x)]),
    );
  return v;
}

test('event hash: the order of JSON members and of list items does not change the hash', () => {
  for (const name of [
    'ObjectEvent_all_possible_fields',
    'AggregationEvent_all_possible_fields',
    'TransformationEventWithUserExtensions',
    'epcisDocWithSensorDataObjectEvent',
  ]) {
    const { event, context } = vectorEvent(name);
    const want = epcisEventHash(event, context);
    assert.equal(epcisEventHash(reversed(event) as EpcisEvent, context), want, name);
  }
});

const base: EpcisEvent = {
  type: 'ObjectEvent',
  eventTime: '2020-03-04T11:00:30.000+01:00',
  eventTimeZoneOffset: '+01:00',
  epcList: ['urn:epc:id:sgtin:0614141.107346.2017', 'urn:epc:id:sscc:0614141.1234567890'],
  action: 'OBSERVE',
  bizStep: 'shipping',
  disposition: 'in_transit',
  readPoint: { id: 'urn:epc:id:sgln:0614141.07346.1234' },
  bizLocation: { id: 'urn:epc:id:sgln:0614141.00888.0' },
  quantityList: [{ epcClass: 'urn:epc:class:lgtin:4012345.012345.998877', quantity: 200, uom: 'KGM' }],
  sourceList: [{ type: 'owning_party', source: 'urn:epc:id:pgln:4012345.00225' }],
  destinationList: [{ type: 'owning_party', destination: 'urn:epc:id:pgln:0614141.00777' }],
  bizTransactionList: [{ type: 'po', bizTransaction: 'urn:epc:id:gdti:0614141.00001.1618034' }],
  'example:note': 'kept cold',
};
const CONTEXT = [
  'https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld',
  { example: 'https://ns.example.com/epcis/' },
];
const hashOf = (changes: Record<string, unknown>, context: unknown = CONTEXT): string =>
  epcisEventHash({ ...clone(base), ...changes } as EpcisEvent, context);

test('event hash: an EPC URI and the GS1 Digital Link for the same identifier hash the same', () => {
  const want = hashOf({});
  assert.match(want, HASH_ID);
  const links = {
    epcList: ['https://id.gs1.org/01/10614141073464/21/2017', 'https://id.gs1.org/00/106141412345678908'],
    readPoint: { id: 'https://id.gs1.org/414/0614141073467/254/1234' },
    bizLocation: { id: 'https://id.gs1.org/414/0614141008889' },
    quantityList: [{ epcClass: 'https://id.gs1.org/01/04012345123456/10/998877', quantity: 200, uom: 'KGM' }],
    sourceList: [{ type: 'owning_party', source: 'https://id.gs1.org/417/4012345002256' }],
    destinationList: [{ type: 'owning_party', destination: 'https://id.gs1.org/417/0614141007776' }],
    bizTransactionList: [{ type: 'po', bizTransaction: 'https://id.gs1.org/253/06141410000121618034' }],
  };
  assert.equal(hashOf(links), want);
  // Rule 18: another resolver domain, http, short names, a query string and a lot above the serial.
  const custom = {
    epcList: [
      'https://example.com/products/gtin/10614141073464/lot/A1/ser/2017?17=251231',
      'http://brand.example/00/106141412345678908',
    ],
  };
  assert.equal(hashOf(custom), want);
  // A GTIN-13 in a Digital Link is padded to 14 digits.
  const sgtin = (epc: string): string => hashOf({ epcList: [epc] });
  assert.equal(
    sgtin('https://example.org/01/0614141999996/21/7'),
    sgtin('urn:epc:id:sgtin:0614141.099999.7'),
  );
});

test('event hash: the same instant in another time zone, or without milliseconds, hashes the same', () => {
  const want = hashOf({});
  for (const eventTime of [
    '2020-03-04T10:00:30Z',
    '2020-03-04T10:00:30.000Z',
    '2020-03-04T05:00:30-05:00',
    '2020-03-04T15:30:30.0000+05:30',
    '2020-03-04T10:00:30.0004Z', // below half a millisecond: rounds down
  ])
    assert.equal(hashOf({ eventTime }), want, eventTime);
  assert.notEqual(hashOf({ eventTime: '2020-03-04T10:00:30.0005Z' }), want, 'half a millisecond rounds up');
});

test('event hash: CBV values hash the same in bare, CURIE, web URI and URN form', () => {
  const want = hashOf({});
  assert.equal(hashOf({ bizStep: 'cbv:BizStep-shipping' }), want);
  assert.equal(hashOf({ bizStep: 'https://ref.gs1.org/cbv/BizStep-shipping' }), want);
  assert.equal(hashOf({ bizStep: 'urn:epcglobal:cbv:bizstep:shipping' }), want);
  assert.equal(hashOf({ disposition: 'urn:epcglobal:cbv:disp:in_transit' }), want);
  const urnTypes = {
    sourceList: [{ type: 'urn:epcglobal:cbv:sdt:owning_party', source: 'urn:epc:id:pgln:4012345.00225' }],
    bizTransactionList: [
      { bizTransaction: 'urn:epc:id:gdti:0614141.00001.1618034', type: 'urn:epcglobal:cbv:btt:po' },
    ],
  };
  assert.equal(hashOf(urnTypes), want);
  // A numeric value without trailing zeros (rule 6); the namespace, not its prefix, names an extension.
  const quantity = [{ epcClass: 'urn:epc:class:lgtin:4012345.012345.998877', quantity: 200.0, uom: 'KGM' }];
  assert.equal(hashOf({ quantityList: quantity }), want);
  const { ['example:note']: note, ...rest } = clone(base);
  const renamed = { ...rest, 'ex:note': note } as EpcisEvent;
  assert.equal(epcisEventHash(renamed, [{ ex: 'https://ns.example.com/epcis/' }]), want);
});

test('event hash: fields outside the canonical property order do not change the hash', () => {
  const want = hashOf({});
  assert.equal(
    hashOf({
      eventID: 'urn:uuid:374d95fc-9457-4a51-bd6a-0bba133845a8',
      recordTime: '2021-01-01T00:00:00Z',
      certificationInfo: 'https://accreditation-council.example.org/certificate/ABC12345',
      errorDeclaration: { declarationTime: '2021-01-02T00:00:00Z', reason: 'did_not_occur' },
      'rdfs:comment': 'a comment is not event data',
    }),
    want,
  );
});

test('event hash: changing any significant field changes the hash', () => {
  const want = hashOf({});
  const changes: Record<string, unknown>[] = [
    { epcList: ['urn:epc:id:sgtin:0614141.107346.2018', 'urn:epc:id:sscc:0614141.1234567890'] },
    { epcList: ['urn:epc:id:sgtin:0614141.107346.2017'] },
    { bizStep: 'receiving' },
    { eventTime: '2020-03-04T11:00:30.001+01:00' },
    { eventTimeZoneOffset: '+02:00' },
    { sourceList: [{ type: 'owning_party', source: 'urn:epc:id:pgln:4012345.00226' }] },
    { sourceList: [{ type: 'possessing_party', source: 'urn:epc:id:pgln:4012345.00225' }] },
    { readPoint: { id: 'urn:epc:id:sgln:0614141.07346.1235' } },
    { quantityList: [{ epcClass: 'urn:epc:class:lgtin:4012345.012345.998877', quantity: 201, uom: 'KGM' }] },
    { action: 'ADD' },
    { 'example:note': 'kept warm' },
    { ilmd: { 'example:lot': 'A1' } },
    { readPoint: { id: 'urn:epc:id:sgln:0614141.07346.1234', 'example:gate': '7' } },
  ];
  const seen = new Set([want]);
  for (const change of changes) {
    const h = hashOf(change);
    assert.ok(!seen.has(h), `unchanged or colliding hash for ${JSON.stringify(change)}`);
    seen.add(h);
  }
});

test('event hash: every event of every valid GS1 EPCIS 2.0 example is hashed', () => {
  const root = testdata('epcis2', 'JSON');
  const schema = JSON.parse(readFileSync(testdata('epcis2', 'EPCIS-JSON-Schema.json'), 'utf8')) as object;
  const validate = createEpcisValidator(schema);
  const walk = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((d) =>
      d.isDirectory() ? walk(join(dir, d.name)) : [join(dir, d.name)],
    );
  const files = walk(root)
    .filter((f) => /\.(jsonld|json)$/.test(f))
    .sort();
  assert.ok(files.length >= 40, `found only ${files.length} examples`);
  let events = 0;
  for (const file of files) {
    const doc = JSON.parse(readFileSync(file, 'utf8')) as unknown;
    const checked = validate(doc);
    if (!checked.ok) continue;
    const name = relative(root, file);
    const results = hashEpcisDocument(doc);
    assert.equal(results.length, checked.events.length, name);
    for (const r of results) {
      assert.match(r.hash, HASH_ID, name);
      assert.match(r.preHash, /^eventType=\w+eventTime=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/, name);
    }
    events += results.length;
  }
  assert.ok(events >= 50, `only ${events} events hashed`);
});

test('event hash: a standalone event may carry its own @context; bad input is rejected', () => {
  const own = { ...clone(base), '@context': CONTEXT } as EpcisEvent;
  assert.equal(epcisEventHash(own), hashOf({}));
  // Without a context the extension's prefix is not a namespace, so the key is hashed as written.
  assert.notEqual(epcisEventHash(clone(base)), hashOf({}));
  assert.throws(() => epcisPreHashString(null as unknown as EpcisEvent), TypeError);
  assert.throws(() => hashEpcisDocument({ type: 'EPCISDocument' }), TypeError);
});
