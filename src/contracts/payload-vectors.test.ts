/**
 * Payload vectors (vectors/payloads-v1.json): every registered contract's `parse` must accept or
 * refuse each named payload exactly as recorded, and return the recorded parsed payload. Which
 * payloads are valid is consensus: a node that disagrees forks. A contract without vectors fails.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Value } from '@sinclair/typebox/value';
import { repoRoot } from '../test-support/paths.js';
import type { JsonObject } from '../protocol/tx.js';
import { isInvalid } from './contract.js';
import { contractRegistry } from './registry.js';

interface PayloadVector {
  name: string;
  payload: JsonObject;
  valid: boolean;
  /** What parse returns when it differs from the payload (defaults filled in). */
  parsed?: unknown;
}
interface PayloadVectors {
  description: string;
  types: Record<string, PayloadVector[]>;
}

const V = JSON.parse(readFileSync(join(repoRoot, 'vectors', 'payloads-v1.json'), 'utf8')) as PayloadVectors;
const registry = contractRegistry();

test('every registered contract has payload vectors: valid ones and named mutations', () => {
  for (const type of registry.keys()) {
    const list = V.types[type];
    assert.ok(list !== undefined, `${type} has no payload vectors in vectors/payloads-v1.json`);
    assert.ok(
      list.some((v) => v.valid),
      `${type} has no valid payload vector`,
    );
    assert.ok(list.filter((v) => !v.valid).length >= 3, `${type} has fewer than 3 invalid mutations`);
    assert.equal(new Set(list.map((v) => v.name)).size, list.length, `${type} has duplicate vector names`);
  }
  for (const type of Object.keys(V.types)) assert.ok(registry.has(type), `vectors for unknown type ${type}`);
});

/** Every object in a schema, nested ones included. */
function* objects(schema: unknown): Generator<Record<string, unknown>> {
  if (typeof schema !== 'object' || schema === null) return;
  const s = schema as Record<string, unknown>;
  if (s['type'] === 'object') yield s;
  for (const v of Object.values(s)) yield* objects(v);
}

test('every payload schema is closed: objects refuse unknown fields', () => {
  for (const [type, contract] of registry)
    for (const o of objects(contract.payload))
      assert.equal(o['additionalProperties'], false, `${type}: an object of its payload schema is open`);
});

for (const [type, list] of Object.entries(V.types)) {
  test(`payload vectors: ${type} (${list.length})`, () => {
    const contract = registry.get(type);
    assert.ok(contract !== undefined, `no contract for ${type}`);
    for (const v of list) {
      const r = contract.parse(structuredClone(v.payload));
      const why = isInvalid(r) ? `refused (${r.invalid})` : 'accepted';
      assert.equal(
        !isInvalid(r),
        v.valid,
        `${type} "${v.name}": expected ${v.valid ? 'valid' : 'invalid'}, ${why}`,
      );
      if (!v.valid) continue;
      assert.deepEqual(r, v.parsed ?? v.payload, `${type} "${v.name}": parsed payload differs`);
      // The published schema, checked by TypeBox's interpreter rather than its compiled check,
      // accepts every valid payload: what the docs show never refuses what nodes accept.
      assert.ok(Value.Check(contract.payload, v.payload), `${type} "${v.name}": published schema refuses it`);
    }
  });
}
