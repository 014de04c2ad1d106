import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { testdata } from '../../../test-support/paths.js';
import { createEpcisValidator, EPCIS_EVENT_TYPES, type EpcisResult } from './epcis.js';

const root = testdata('epcis2', 'JSON');
const schema = JSON.parse(readFileSync(testdata('epcis2', 'EPCIS-JSON-Schema.json'), 'utf8')) as object;
const validateEpcis = createEpcisValidator(schema);

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) =>
    d.isDirectory() ? walk(join(dir, d.name)) : [join(dir, d.name)],
  );
}
const files = walk(root)
  .filter((f) => /\.(jsonld|json)$/.test(f))
  .sort();

/**
 * Examples the reference schema rejects, with the exact first error. At gs1/EPCIS @ 2b888be the
 * schema accepts every example, so this is empty; a schema or example change that rejects one fails.
 */
const EXPECTED_REJECTIONS: Record<string, { path: string; message: string }> = {};

function loadDoc(file: string): unknown {
  return JSON.parse(readFileSync(file, 'utf8'));
}

function rejected(r: EpcisResult): { path: string; message: string }[] {
  assert.equal(r.ok, false, 'expected a rejection');
  return r.ok ? [] : r.errors;
}

test('EPCIS: every example under epcis2/JSON is exercised; valid ones accepted, listed ones rejected', () => {
  assert.ok(files.length >= 40, `found only ${files.length} examples`);
  let exercised = 0;
  const unexpected: string[] = [];
  const eventTypes = new Set<string>();
  for (const file of files) {
    const name = relative(root, file);
    const r = validateEpcis(loadDoc(file));
    exercised += 1;
    const want = EXPECTED_REJECTIONS[name];
    if (r.ok) {
      if (want) unexpected.push(`${name}: accepted, expected ${JSON.stringify(want)}`);
      assert.ok(r.events.length > 0, `${name}: no events returned`);
      for (const e of r.events) {
        assert.equal(typeof e.type, 'string');
        assert.equal(typeof e.eventTime, 'string', `${name}: event without eventTime`);
        eventTypes.add(e.type);
      }
    } else if (!want) {
      unexpected.push(`${name}: rejected ${JSON.stringify(r.errors)}`);
    } else {
      assert.deepEqual(r.errors[0], want, name);
    }
  }
  assert.deepEqual(unexpected, []);
  assert.equal(exercised, files.length);
  for (const t of EPCIS_EVENT_TYPES) assert.ok(eventTypes.has(t), `no example of ${t}`);
});

test('EPCIS: the ObjectEvent example yields its event with the standard fields', () => {
  const r = validateEpcis(loadDoc(join(root, 'Example_9.6.1-ObjectEvent.jsonld')));
  assert.ok(r.ok);
  assert.ok(r.events.every((e) => e.type === 'ObjectEvent'));
  assert.ok(r.events.length >= 1);
});

test('EPCIS: a single event (not wrapped in a document) is accepted and returned', () => {
  const doc = loadDoc(join(root, 'Example_9.6.1-ObjectEvent.jsonld')) as {
    '@context': unknown;
    epcisBody: { eventList: Record<string, unknown>[] };
  };
  const event = { '@context': doc['@context'], ...doc.epcisBody.eventList[0] };
  const r = validateEpcis(event);
  assert.ok(r.ok, JSON.stringify(r));
  assert.equal(r.events.length, 1);
  assert.equal(r.events[0]?.type, 'ObjectEvent');
  // The schema requires a JSON-LD @context on a bare event.
  const { '@context': _ctx, ...bare } = event;
  assert.deepEqual(rejected(validateEpcis(bare))[0]?.path, '/@context');
});

function mutated(mutate: (event: Record<string, unknown>) => void): unknown {
  const doc = loadDoc(join(root, 'Example_9.6.1-ObjectEvent.jsonld')) as {
    epcisBody: { eventList: Record<string, unknown>[] };
  };
  const event = doc.epcisBody.eventList[0];
  assert.ok(event);
  mutate(event);
  return doc;
}

test('EPCIS: named invalid variants are rejected with a JSON pointer', () => {
  const cases: [string, unknown, string, RegExp][] = [
    [
      'missing document type',
      (() => {
        const d = loadDoc(join(root, 'Example_9.6.1-ObjectEvent.jsonld')) as Record<string, unknown>;
        delete d['type'];
        return d;
      })(),
      '/type',
      /required/,
    ],
    ['missing event type', mutated((e) => delete e['type']), '/epcisBody/eventList/0/type', /required/],
    [
      'unknown event type',
      mutated((e) => (e['type'] = 'TeleportEvent')),
      '/epcisBody/eventList/0/type',
      /format "uri"/,
    ],
    [
      'eventTime not a date-time',
      mutated((e) => (e['eventTime'] = '2005-04-03 20:33')),
      '/epcisBody/eventList/0/eventTime',
      /date-time/,
    ],
    [
      'epcList not an array',
      mutated((e) => (e['epcList'] = 'urn:epc:id:sgtin:0614141.107346.2017')),
      '/epcisBody/eventList/0/epcList',
      /array/,
    ],
  ];
  for (const [name, doc, path, message] of cases) {
    const errors = rejected(validateEpcis(doc));
    assert.ok(errors.length > 0, name);
    assert.ok(
      errors.some((e) => e.path === path),
      `${name}: ${JSON.stringify(errors)}`,
    );
    assert.ok(
      errors.some((e) => e.path === path && message.test(e.message)),
      `${name}: ${JSON.stringify(errors)}`,
    );
  }
});

test('EPCIS: non-object and hostile input is rejected, never thrown', () => {
  for (const bad of [null, undefined, 42, 'EPCISDocument', [], {}]) {
    const errors = rejected(validateEpcis(bad));
    assert.ok(errors.length > 0);
  }
  // The schema dispatches on `type` before its `required`, so `{}` fails first as an extension event.
  assert.deepEqual(rejected(validateEpcis({}))[0], {
    path: '/@context',
    message: "must have required property '@context'",
  });
  for (const e of rejected(validateEpcis({ type: 'ObjectEvent' }))) assert.match(e.path, /^(\/.*)?$/);
  const cyclic: Record<string, unknown> = {
    type: 'ObjectEvent',
    '@context': 'https://ref.gs1.org/standards/epcis/epcis-context.jsonld',
  };
  cyclic['self'] = cyclic;
  assert.doesNotThrow(() => validateEpcis(cyclic));
});
