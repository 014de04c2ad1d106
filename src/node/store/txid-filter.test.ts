import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { ScalableTxIdFilter, StateKeyFilter, TxIdFilter } from './txid-filter.js';

const id = (): string => randomBytes(32).toString('hex');

test('no false negatives; false-positive rate near design (≤ 2%)', () => {
  const f = new TxIdFilter(50_000);
  const added = Array.from({ length: 50_000 }, id);
  for (const a of added) f.add(a);
  for (const a of added) assert.equal(f.mightContain(a), true, `false negative for ${a}`);
  let fp = 0;
  for (let i = 0; i < 50_000; i++) if (f.mightContain(id())) fp++;
  assert.ok(fp / 50_000 < 0.02, `false-positive rate ${fp / 50_000}`);
});

test('reports when it must grow', () => {
  const f = new TxIdFilter(1);
  assert.equal(f.needsGrowth, false);
  for (let i = 0; i < f.size / 12 + 1; i++) f.add(id());
  assert.equal(f.needsGrowth, true);
});

test('the scalable filter grows without losing any id', () => {
  const f = new ScalableTxIdFilter(1);
  const added = Array.from({ length: 300_000 }, id);
  for (const a of added) f.add(a);
  assert.ok(f.generations > 1, 'expected growth');
  for (const a of added) assert.equal(f.mightContain(a), true);
  let fp = 0;
  for (let i = 0; i < 20_000; i++) if (f.mightContain(id())) fp++;
  assert.ok(fp / 20_000 < 0.05, `false-positive rate ${fp / 20_000}`);
});

test('state keys: no false negatives and a low false-positive rate for similar, structured keys', () => {
  const f = new StateKeyFilter(1);
  // Keys as contracts write them: long shared prefixes, short varying suffixes, some non-ASCII.
  const added: string[] = [];
  for (let i = 0; i < 200_000; i++) added.push(`anchor/st-mary/clinician-${i % 97}/doc-${i}`);
  for (let i = 0; i < 1000; i++) added.push(`consent/pat-é中-${i}/😀`);
  for (const k of added) f.add(k);
  assert.ok(f.generations > 1, 'expected growth');
  for (const k of added) assert.equal(f.mightContain(k), true, `false negative for ${k}`);
  let fp = 0;
  for (let i = 0; i < 50_000; i++) if (f.mightContain(`anchor/st-mary/clinician-${i % 97}/doc-x${i}`)) fp++;
  assert.ok(fp / 50_000 < 0.03, `false-positive rate ${fp / 50_000}`);
  assert.equal(f.mightContain(''), false);
});
