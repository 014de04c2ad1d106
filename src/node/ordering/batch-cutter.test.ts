import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HealthLedgerError } from '../../protocol/errors.js';
import { BatchCutter } from './batch-cutter.js';

const clock = { now: () => Date.now() };
const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('cuts by size at once, by time after blockTimeoutMs, one batch at a time', async () => {
  const cuts: string[][] = [];
  let release: () => void = () => {};
  const cutter = new BatchCutter({
    maxBlockTxs: 3,
    blockTimeoutMs: 30,
    clock,
    onCut: (txs) => {
      cuts.push(txs);
      return new Promise<void>((r) => (release = r));
    },
  });
  cutter.open();
  cutter.add(['a', 'b', 'c', 'd']);
  assert.deepEqual(cuts, [['a', 'b', 'c']], 'a full batch is cut at once');
  cutter.add(['e', 'f']);
  await tick(60);
  assert.equal(cuts.length, 1, 'nothing more is cut while a batch is being handed on');
  assert.equal(cutter.pending, 3);
  release();
  await tick(5);
  assert.deepEqual(cuts[1], ['d', 'e', 'f'], 'then the next, which has grown meanwhile');
  release();
  cutter.add(['g']);
  await tick(5);
  assert.equal(cuts.length, 2, 'a lone transaction waits for the timeout');
  await tick(50);
  assert.deepEqual(cuts[2], ['g']);
  release();
  await cutter.close();
});

test('a full queue refuses with OVERLOADED and adds nothing; a closed cutter cuts nothing', async () => {
  const cuts: string[][] = [];
  const cutter = new BatchCutter({
    maxBlockTxs: 100,
    blockTimeoutMs: 10,
    clock,
    maxPending: 5,
    onCut: async (txs) => {
      cuts.push(txs);
    },
  });
  cutter.add(['a', 'b', 'c']);
  assert.throws(
    () => cutter.add(['d', 'e', 'f']),
    (e: unknown) => e instanceof HealthLedgerError && e.code === 'OVERLOADED',
  );
  assert.equal(cutter.pending, 3);
  await tick(30);
  assert.deepEqual(cuts, [], 'not opened yet');
  cutter.open();
  await tick(30);
  assert.deepEqual(cuts, [['a', 'b', 'c']]);
  await cutter.close();
  cutter.add(['x']);
  await tick(30);
  assert.equal(cuts.length, 1, 'closed: kept, not cut');
  assert.equal(cutter.pending, 1);
});

test('offer (an orderer broadcast): NODE_UNAVAILABLE while closed, OVERLOADED when full', async () => {
  const cutter = new BatchCutter({
    maxBlockTxs: 10,
    blockTimeoutMs: 5,
    clock,
    maxPending: 2,
    onCut: async () => {},
  });
  const code = (p: Promise<void>) =>
    p.then(
      () => 'ok',
      (e: unknown) => (e as HealthLedgerError).code,
    );
  assert.equal(await code(cutter.offer(['a'])), 'NODE_UNAVAILABLE');
  cutter.open();
  assert.equal(await code(cutter.offer(['a', 'b', 'c'])), 'OVERLOADED');
  assert.equal(await code(cutter.offer(['a'])), 'ok');
  await cutter.close();
  assert.equal(await code(cutter.offer(['b'])), 'NODE_UNAVAILABLE');
});
