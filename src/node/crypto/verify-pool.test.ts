import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Worker } from 'node:worker_threads';
import { testdata } from '../../test-support/paths.js';
import { fromHex } from '../../protocol/bytes.js';
import { publicKeyOf, verify } from '../../protocol/ed25519.js';
import { signNative } from './ed25519-native.js';
import { MIN_CHUNK, packChunk, VerifyPool } from './verify-pool.js';
import type { VerifyItem } from './verify-pool.js';
import { verifyPacked } from './verify-pool.worker.js';

const N = 10_000;
const keys = Array.from({ length: 32 }, () => {
  const seed = new Uint8Array(randomBytes(32));
  return { seed, publicKey: publicKeyOf(seed) };
});

function makeItems(n: number): VerifyItem[] {
  const items: VerifyItem[] = [];
  for (let i = 0; i < n; i++) {
    const key = keys[i % keys.length]!;
    const message = new Uint8Array(randomBytes(20 + (i % 200)));
    items.push({ signature: signNative(message, key.seed), message, publicKey: key.publicKey });
  }
  return items;
}

/** Corrupts a deterministic set of positions in different ways; returns the expected flags. */
function corrupt(items: VerifyItem[]): Uint8Array {
  const expected = new Uint8Array(items.length).fill(1);
  for (let i = 0; i < items.length; i++) {
    if (i % 7 !== 3 && i !== 0 && i !== items.length - 1) continue;
    const it = items[i]!;
    let bad: VerifyItem;
    switch (i % 5) {
      case 0: {
        const signature = it.signature.slice();
        signature[i % 64]! ^= 0x40;
        bad = { ...it, signature };
        break;
      }
      case 1: {
        const message = it.message.slice();
        message[0]! ^= 1;
        bad = { ...it, message };
        break;
      }
      case 2:
        bad = { ...it, publicKey: keys[(i + 1) % keys.length]!.publicKey };
        break;
      case 3:
        bad = { ...it, signature: it.signature.subarray(0, 63) };
        break;
      default:
        bad = { ...it, signature: new Uint8Array([...it.signature, 0]) };
    }
    items[i] = bad;
    expected[i] = 0;
  }
  return expected;
}

function firstDifferences(got: Uint8Array, want: Uint8Array): number[] {
  const diffs: number[] = [];
  for (let i = 0; i < want.length && diffs.length < 10; i++) if (got[i] !== want[i]) diffs.push(i);
  return diffs;
}

let pool: VerifyPool;
let items: VerifyItem[];
let expected: Uint8Array;

before(async () => {
  pool = await VerifyPool.create({ threads: 2 });
  items = makeItems(N);
  expected = corrupt(items);
});
after(() => pool.close());

test('packChunk / verifyPacked round trip (in-process)', () => {
  const sample = items.slice(0, 200);
  const flags = verifyPacked(packChunk(sample, 0, sample.length));
  assert.deepEqual([...flags], [...expected.subarray(0, 200)]);
  assert.equal(verifyPacked(packChunk(sample, 5, 5)).length, 0);
  assert.throws(() => verifyPacked(new ArrayBuffer(2)), RangeError);
  const truncated = packChunk(sample, 0, 2).slice(0, -1);
  assert.throws(() => verifyPacked(truncated), /overruns/);
});

test('default thread count is at least 1', async () => {
  const p = await VerifyPool.create();
  try {
    assert.ok(p.threads >= 1);
    assert.equal(pool.threads, 2);
  } finally {
    await p.close();
  }
});

test(`10k-item batch with corruptions at known positions returns exactly the expected flags`, async () => {
  const zeros = expected.reduce((n, f) => n + (f === 0 ? 1 : 0), 0);
  assert.ok(zeros > 1000 && zeros < N - 1000, `test setup: ${zeros} corrupted`);
  const got = await pool.verifyBatch(items);
  assert.equal(got.length, N);
  assert.deepEqual(firstDifferences(got, expected), []);
  assert.equal(got[0], 0);
  assert.equal(got[N - 1], 0);
  assert.equal(got[1], 1);
});

test('empty batch, single item and batches around the chunking threshold', async () => {
  assert.deepEqual(await pool.verifyBatch([]), new Uint8Array(0));
  for (const n of [1, MIN_CHUNK - 1, MIN_CHUNK, 2 * MIN_CHUNK - 1, 2 * MIN_CHUNK, 2 * MIN_CHUNK + 1, 1001]) {
    const got = await pool.verifyBatch(items.slice(0, n));
    assert.deepEqual(firstDifferences(got, expected.subarray(0, n)), [], `n = ${n}`);
    assert.equal(got.length, n);
  }
});

test('concurrent batches each get their own, correctly ordered results', async () => {
  const slices = Array.from({ length: 12 }, (_, i) => [i * 700, i * 700 + 150 + i * 97] as const);
  const results = await Promise.all(slices.map(([s, e]) => pool.verifyBatch(items.slice(s, e))));
  for (const [i, [s, e]] of slices.entries()) {
    assert.deepEqual(firstDifferences(results[i]!, expected.subarray(s, e)), [], `slice ${i}`);
  }
});

test('agrees with the protocol verifier, including every Wycheproof ed25519 vector', async () => {
  const file = JSON.parse(readFileSync(testdata('wycheproof', 'ed25519_test.json'), 'utf8')) as {
    testGroups: {
      publicKey: { pk: string };
      tests: { tcId: number; msg: string; sig: string; result: string }[];
    }[];
  };
  const wp = file.testGroups.flatMap((g) =>
    g.tests.map((t) => ({
      item: { signature: fromHex(t.sig), message: fromHex(t.msg), publicKey: fromHex(g.publicKey.pk) },
      want: t.result === 'valid' ? 1 : 0,
      tcId: t.tcId,
    })),
  );
  const mixed = [...wp.map((w) => w.item), ...items.slice(0, 400)];
  const got = await pool.verifyBatch(mixed);
  const disagreements: string[] = [];
  mixed.forEach((it, i) => {
    const protocol = verify(it.signature, it.message, it.publicKey) ? 1 : 0;
    if (got[i] !== protocol) disagreements.push(`#${i}: pool ${got[i]}, protocol ${protocol}`);
  });
  assert.deepEqual(disagreements, []);
  const wrong = wp.filter((w, i) => got[i] !== w.want).map((w) => w.tcId);
  assert.deepEqual(wrong, [], 'Wycheproof tcIds with the wrong verdict');
});

test('a crashed worker rejects its pending batch with a clear error and is replaced', async () => {
  const p = await VerifyPool.create({ threads: 1 });
  try {
    // Reach the worker (TypeScript-private) and send it a malformed chunk: a real crash path.
    const slots = (p as unknown as { slots: { worker: Worker }[] }).slots;
    const original = slots[0]!.worker;
    original.postMessage({ id: 1e9, buffer: new ArrayBuffer(2) });
    await assert.rejects(p.verifyBatch(items.slice(0, 500)), /worker 0 crashed.*truncated header/);
    assert.notEqual(slots[0]!.worker, original, 'worker replaced');
    const got = await p.verifyBatch(items.slice(0, 500));
    assert.deepEqual(firstDifferences(got, expected.subarray(0, 500)), []);
  } finally {
    await p.close();
  }
});

test('close() rejects in-flight batches cleanly; verifyBatch after close rejects', async () => {
  const p = await VerifyPool.create({ threads: 2 });
  const inFlight = p.verifyBatch(items);
  const closing = p.close();
  await assert.rejects(inFlight, /VerifyPool closed/);
  await closing;
  await p.close(); // idempotent
  await assert.rejects(p.verifyBatch(items.slice(0, 10)), /VerifyPool is closed/);
  await assert.rejects(p.verifyBatch([]), /VerifyPool is closed/);
});

test('closing pools in the middle of native verification, again and again, never crashes the process', async () => {
  // A worker terminated inside the addon's verifyPacked used to get an uninitialized handle back
  // from Node-API and crash the whole process about one time in two.
  for (let round = 0; round < 12; round++) {
    const p = await VerifyPool.create({ threads: 2 });
    // Settled handlers attached at once: the batch may be rejected while close() is awaited.
    const outcome = p.verifyBatch(items).then(
      (flags) => assert.equal(flags.length, items.length),
      (e: unknown) => assert.match((e as Error).message, /VerifyPool closed/),
    );
    await new Promise((r) => setTimeout(r, round % 4));
    await p.close();
    await outcome;
  }
});

test('invalid thread counts are refused', async () => {
  await assert.rejects(VerifyPool.create({ threads: 0 }), RangeError);
  await assert.rejects(VerifyPool.create({ threads: 1.5 }), RangeError);
});
