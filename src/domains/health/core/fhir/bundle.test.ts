/**
 * Bundle import: what entriesOfTransactionBundle refuses (with the element named), and how
 * resolveReferences rewrites each kind of intra-bundle reference — urn:uuid, absolute, relative
 * against the entry's base, versioned — while leaving external and contained ones alone.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { Bundle, DocumentReference, Observation, Resource } from '@medplum/fhirtypes';
import { testdata } from '../../../../test-support/paths.js';
import {
  entriesOfTransactionBundle,
  FhirBundleError,
  resolveReferences,
  type BundleResourceEntry,
} from './bundle.js';

const PATIENT_URN = 'urn:uuid:0b7a1c2e-2f4d-4e59-9b1a-3c5d7e9f1a2b';
const patient = { resourceType: 'Patient', gender: 'female' } as const;
const obs = (ref: string): Observation => ({
  resourceType: 'Observation',
  status: 'final',
  code: { text: 'x' },
  subject: { reference: ref },
});
const transaction = (entry: unknown[]) => ({ resourceType: 'Bundle', type: 'transaction', entry });
const post = <R extends { resourceType: string }>(fullUrl: string | undefined, resource: R) => ({
  ...(fullUrl && { fullUrl }),
  resource,
  request: { method: 'POST', url: resource.resourceType },
});

function refusal(bundle: unknown): [string | undefined, string | undefined] {
  try {
    entriesOfTransactionBundle(bundle);
  } catch (err) {
    assert.ok(err instanceof FhirBundleError, String(err));
    const first = err.outcome.issue[0];
    return [first?.expression?.[0], first?.code];
  }
  assert.fail('bundle was accepted');
}

describe('entriesOfTransactionBundle', () => {
  test('returns the resources of a transaction, in order, as fresh copies', () => {
    const input = transaction([post(PATIENT_URN, patient), post(undefined, obs(PATIENT_URN))]);
    const entries = entriesOfTransactionBundle(input);
    assert.deepEqual(entries, [{ fullUrl: PATIENT_URN, resource: patient }, { resource: obs(PATIENT_URN) }]);
    assert.notEqual(entries[0]?.resource, input.entry[0]);
  });

  const refused: [string, unknown, string, string][] = [
    ['not a Bundle', { resourceType: 'Patient' }, 'Patient.resourceType', 'invalid'],
    ['not JSON', 'bundle', 'Resource', 'structure'],
    [
      'an invalid entry (validated first)',
      transaction([post(undefined, { ...patient, gender: 'z' })]),
      'Bundle.entry[0].resource.gender',
      'code-invalid',
    ],
    [
      'a transaction-response bundle',
      { resourceType: 'Bundle', type: 'transaction-response' },
      'Bundle.type',
      'not-supported',
    ],
    ['a history bundle', { resourceType: 'Bundle', type: 'history' }, 'Bundle.type', 'not-supported'],
    [
      'a DELETE entry',
      transaction([{ request: { method: 'DELETE', url: 'Patient/1' } }]),
      'Bundle.entry[0].request.method',
      'not-supported',
    ],
    [
      'a POST whose url names another type',
      transaction([{ resource: patient, request: { method: 'POST', url: 'Observation' } }]),
      'Bundle.entry[0].request.url',
      'invalid',
    ],
    [
      'a POST without a resource',
      transaction([{ fullUrl: PATIENT_URN, request: { method: 'POST', url: 'Patient' } }]),
      'Bundle.entry[0].resource',
      'required',
    ],
    // Medplum evaluates the Bundle invariants: bdl-5 (entry needs a resource or request) and
    // bdl-7 (fullUrl unique unless versions differ) come back as invariant issues.
    [
      'a collection entry without resource (bdl-5)',
      { resourceType: 'Bundle', type: 'collection', entry: [{ fullUrl: PATIENT_URN }] },
      'Bundle.entry[0]',
      'invariant',
    ],
    [
      'a repeated fullUrl (bdl-7)',
      transaction([post(PATIENT_URN, patient), post(PATIENT_URN, patient)]),
      'Bundle',
      'invariant',
    ],
    [
      'a RESTful fullUrl whose id differs from the resource id',
      {
        resourceType: 'Bundle',
        type: 'collection',
        entry: [{ fullUrl: 'http://a.org/fhir/Patient/1', resource: { ...patient, id: '2' } }],
      },
      'Bundle.entry[0].fullUrl',
      'invalid',
    ],
  ];
  for (const [name, bundle, expression, code] of refused) {
    test(`refuses ${name} at ${expression}`, () => assert.deepEqual(refusal(bundle), [expression, code]));
  }

  test('two versions of one resource may share a fullUrl (bdl-7)', () => {
    const v = (versionId: string) => ({
      fullUrl: 'http://a.org/fhir/Patient/1',
      resource: { ...patient, id: '1', meta: { versionId } },
    });
    assert.equal(
      entriesOfTransactionBundle({ resourceType: 'Bundle', type: 'collection', entry: [v('1'), v('2')] })
        .length,
      2,
    );
  });

  test('searchset: outcome entries are skipped, matches and includes kept', () => {
    const entries = entriesOfTransactionBundle({
      resourceType: 'Bundle',
      type: 'searchset',
      entry: [
        { resource: { ...patient, id: 'p' }, search: { mode: 'match' } },
        {
          resource: {
            resourceType: 'OperationOutcome',
            issue: [{ severity: 'warning', code: 'informational' }],
          },
          search: { mode: 'outcome' },
        },
      ],
    });
    assert.deepEqual(
      entries.map((e) => e.resource.resourceType),
      ['Patient'],
    );
  });

  test('all problems are reported at once', () => {
    try {
      entriesOfTransactionBundle(
        transaction([
          { request: { method: 'GET', url: 'Patient' } },
          { request: { method: 'DELETE', url: 'Patient/1' } },
        ]),
      );
      assert.fail('accepted');
    } catch (err) {
      assert.ok(err instanceof FhirBundleError);
      assert.deepEqual(
        err.outcome.issue.map((i) => i.expression?.[0]),
        ['Bundle.entry[0].request.method', 'Bundle.entry[1].request.method'],
      );
      assert.match(err.message, /Bundle\.entry\[0\]\.request\.method/);
    }
  });
});

describe('resolveReferences', () => {
  const seq = (_r: Resource, i: number) => `n${i}`;

  test('urn:uuid fullUrls become the assigned ids, in every referring entry', () => {
    const entries: BundleResourceEntry[] = [
      { fullUrl: PATIENT_URN, resource: { ...patient } },
      { resource: obs(PATIENT_URN) },
    ];
    const before = JSON.stringify(entries);
    const { resources, ids } = resolveReferences(entries, seq);
    assert.deepEqual(
      resources.map((r) => r.id),
      ['n0', 'n1'],
    );
    assert.equal((resources[1] as Observation).subject?.reference, 'Patient/n0');
    assert.equal(ids.get(PATIENT_URN), 'Patient/n0');
    assert.equal(JSON.stringify(entries), before, 'entries were modified');
  });

  test('contained (#) and external references stay as they are', () => {
    const { resources } = resolveReferences(
      [
        { resource: obs('#p') },
        { resource: obs('http://elsewhere.org/fhir/Patient/9') },
        { resource: obs('Patient/9') },
      ],
      seq,
    );
    assert.deepEqual(
      resources.map((r) => (r as Observation).subject?.reference),
      ['#p', 'http://elsewhere.org/fhir/Patient/9', 'Patient/9'],
    );
  });

  test('an Attachment.url pointing at a Binary in the bundle is rewritten; a canonical url is not', () => {
    const binaryUrn = 'urn:uuid:6e1b1c52-0c3e-4b8e-9f8a-2f3c4d5e6f70';
    const doc: DocumentReference = {
      resourceType: 'DocumentReference',
      status: 'current',
      content: [{ attachment: { url: binaryUrn } }],
    };
    const vs = { resourceType: 'ValueSet', status: 'active', url: binaryUrn } as Resource;
    const { resources } = resolveReferences(
      [
        { fullUrl: binaryUrn, resource: { resourceType: 'Binary', contentType: 'text/plain' } },
        { resource: doc },
        { resource: vs },
      ],
      seq,
    );
    assert.equal((resources[1] as DocumentReference).content[0]?.attachment.url, 'Binary/n0');
    assert.equal((resources[2] as { url?: string }).url, binaryUrn);
  });

  test('an urn:uuid reference to nothing in the bundle is an error naming the element', () => {
    assert.throws(
      () => resolveReferences([{ resource: obs('urn:uuid:00000000-0000-4000-8000-000000000000') }], seq),
      (err: unknown) =>
        err instanceof FhirBundleError &&
        err.outcome.issue[0]?.code === 'not-found' &&
        err.outcome.issue[0]?.expression?.[0] === 'entry[0].resource.subject.reference',
    );
  });

  test('an id generator returning bad or repeated ids is a programming error (RangeError)', () => {
    const two: BundleResourceEntry[] = [{ resource: { ...patient } }, { resource: { ...patient } }];
    assert.throws(() => resolveReferences(two, () => 'same'), RangeError);
    assert.throws(() => resolveReferences(two, (_r, i) => `bad id ${i}`), RangeError);
  });

  test('the R4 "bundle-references" example: every reference form resolves as the spec says', () => {
    const bundle = JSON.parse(
      readFileSync(testdata('fhir-r4-examples', 'Bundle-bundle-references.json'), 'utf8'),
    ) as Bundle;
    const { resources } = resolveReferences(entriesOfTransactionBundle(bundle), seq);
    const subject = (i: number) => (resources[i] as Observation).subject?.reference;
    assert.equal(subject(2), 'Patient/n0', 'relative Patient/23 against base http://example.org/fhir');
    assert.equal(subject(3), 'Patient/n0', 'absolute http://example.org/fhir/Patient/23');
    assert.equal(subject(4), 'Patient/n1', 'urn:uuid fullUrl');
    assert.equal(subject(5), 'http://example.org/fhir-2/Patient/1', 'not in the bundle: external');
    assert.equal(subject(6), 'Patient/23', 'relative against base fhir-2: a different server, not entry 0');
    assert.equal(subject(9), 'Patient/n8', 'Patient/45/_history/2 → the entry with versionId 2');
  });
});
