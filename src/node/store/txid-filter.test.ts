import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { ScalableTxIdFilter, TxIdFilter } from './txid-filter.js';

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
