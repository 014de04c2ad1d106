import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { concatBytes, fromHex, toHex } from '../../protocol/bytes.js';
import { testdata } from '../../test-support/paths.js';
import { publicKeyOf } from '../../protocol/ed25519.js';
import { signNative, verifySodium } from './ed25519-native.js';
import { precomputedVerifier } from './ed25519-precomputed.js';
import { packChunk, type VerifyItem } from './verify-pool.js';
import { verifyPacked } from './verify-pool.worker.js';

// Wycheproof and the small/mixed-order edge cases run against this verifier in
// ed25519-native.test.ts; here: the tables themselves, the cache, tampering, the chunk API.
if (!precomputedVerifier)
  throw new Error('native Ed25519 addon not built: run `node scripts/build-native.mjs`');
const native = precomputedVerifier;

const L = 2n ** 252n + 27742317777372353535851937790883648493n;
const le = (n: bigint, bytes = 32): Uint8Array => {
  const out = new Uint8Array(bytes);
  for (let i = 0; i < bytes; i++, n >>= 8n) out[i] = Number(n & 0xffn);
  return out;
};
const leToBigint = (b: Uint8Array): bigint => {
  let n = 0n;
  for (let i = b.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(b[i]!);
  return n;
};

test('base-point table: [a]B for RFC 8032 §5.1.5 secret scalars equals libsodium-derived public keys', () => {
  for (let i = 0; i < 100; i++) {
    const seed = new Uint8Array(randomBytes(32));
    const h = createHash('sha512').update(seed).digest();
    const a = new Uint8Array(h.subarray(0, 32));
    a[0]! &= 248;
    a[31]! &= 127;
    a[31]! |= 64;
    assert.equal(toHex(native.scalarMultBase(a)), toHex(publicKeyOf(seed)));
  }
  // Scalars that exercise every digit edge: 0 → identity, 1 → B, L → identity, L - 1 → -B.
  const identity = '01' + '00'.repeat(31);
  const B = '58' + '66'.repeat(31);
  assert.equal(toHex(native.scalarMultBase(le(0n))), identity);
  assert.equal(toHex(native.scalarMultBase(le(1n))), B);
  assert.equal(toHex(native.scalarMultBase(le(L))), identity);
  assert.equal(toHex(native.scalarMultBase(le(L - 1n))), '58' + '66'.repeat(30) + 'e6', '-B: sign bit set');
  assert.throws(() => native.scalarMultBase(new Uint8Array(31)), RangeError);
  assert.throws(() => native.scalarMultBase(new Uint8Array(32).fill(0xff)), RangeError);
});

test('random signatures and tampering: the precomputed verifier answers exactly as libsodium', () => {
  const keys = Array.from({ length: 24 }, () => new Uint8Array(randomBytes(32)));
  const mismatches: string[] = [];
  let valid = 0;
  for (let i = 0; i < 6000; i++) {
    const seed = keys[i % keys.length]!;
    const publicKey = publicKeyOf(seed);
    const message = new Uint8Array(randomBytes(i % 400));
    const signature = signNative(message, seed);
    switch (i % 6) {
      case 1: // one bit of R or S
        signature[i % 64]! ^= 1 << (i % 8);
        break;
      case 2: // one bit of the message
        if (message.length > 0) message[i % message.length]! ^= 1 << (i % 8);
        break;
      case 3: // S + L: the same group element, but not canonical (RFC 8032 §5.1.7)
        signature.set(le(leToBigint(signature.subarray(32)) + L), 32);
        break;
      case 4: // another enrolled key
        publicKey.set(publicKeyOf(keys[(i + 1) % keys.length]!));
        break;
      case 5: // a flipped key bit: usually off the curve or another point
        publicKey[i % 32]! ^= 1 << (i % 8);
        break;
    }
    const want = verifySodium(signature, message, publicKey);
    if (native.verify(signature, message, publicKey) !== want) mismatches.push(`case ${i % 6} #${i}`);
    if (want) valid++;
  }
  assert.deepEqual(mismatches, []);
  assert.ok(valid >= 1000 && valid <= 1100, `valid ${valid}: only untampered and message-less cases verify`);
});

test('key cache: more keys than slots evict and rebuild tables without changing any answer', () => {
  const before = native.cacheStats();
  const items = Array.from({ length: 1500 }, (_, i) => {
    const seed = new Uint8Array(randomBytes(32));
    const message = new Uint8Array(randomBytes(32));
    const signature = signNative(message, seed);
    if (i % 2 === 1) signature[40]! ^= 4;
    return { signature, message, publicKey: publicKeyOf(seed), valid: i % 2 === 0 };
  });
  for (let round = 0; round < 2; round++) {
    for (const it of items) assert.equal(native.verify(it.signature, it.message, it.publicKey), it.valid);
  }
  const after = native.cacheStats();
  // 1,500 distinct keys through 1,024 slots twice: at least 1,500 builds, and some rebuilds.
  assert.ok(after.misses - before.misses > 1500, `misses ${after.misses - before.misses}`);
  for (const it of items.slice(0, 10)) native.verify(it.signature, it.message, it.publicKey);
  assert.ok(native.cacheStats().hits > after.hits || native.cacheStats().misses > after.misses);
});

test('verifyPacked: same flags as the JavaScript chunk verifier; malformed chunks throw RangeError', () => {
  const items: VerifyItem[] = [];
  for (let i = 0; i < 300; i++) {
    const seed = new Uint8Array(randomBytes(32));
    const message = new Uint8Array(randomBytes(i % 50));
    const signature = signNative(message, seed);
    if (i % 3 === 0) signature[i % 64]! ^= 2;
    const publicKey = publicKeyOf(seed);
    // Wrong lengths are answered 0, not thrown.
    items.push(
      i % 29 === 0
        ? { signature: concatBytes(signature, new Uint8Array([0])), message, publicKey }
        : i % 31 === 0
          ? { signature, message, publicKey: publicKey.subarray(0, 31) }
          : { signature, message, publicKey },
    );
  }
  const chunk = packChunk(items, 0, items.length);
  const want = verifyPacked(chunk.slice(0));
  assert.deepEqual([...native.verifyPacked(chunk.slice(0))], [...want]);
  assert.deepEqual([...native.verifyPacked(new Uint8Array(chunk))], [...want], 'a Uint8Array view');
  assert.ok(want.includes(1) && want.includes(0));
  assert.throws(() => native.verifyPacked(new ArrayBuffer(2)), RangeError);
  assert.throws(() => native.verifyPacked(chunk.slice(0, chunk.byteLength - 1)), RangeError);
  const trailing = new Uint8Array(chunk.byteLength + 1);
  trailing.set(new Uint8Array(chunk));
  assert.throws(() => native.verifyPacked(trailing.buffer), RangeError);
  const hugeCount = new Uint8Array(chunk.slice(0));
  new DataView(hugeCount.buffer).setUint32(0, 0xffffffff, true);
  assert.throws(() => native.verifyPacked(hugeCount.buffer), RangeError);
  assert.throws(() => native.verifyPacked('not bytes' as unknown as ArrayBuffer), RangeError);
  assert.deepEqual([...native.verifyPacked(packChunk([], 0, 0))], []);
});

test('verifyPacked: every Wycheproof vector in one chunk (groups sharing one inversion) gives the expected result', () => {
  interface Group {
    publicKey: { pk: string };
    tests: { tcId: number; msg: string; sig: string; result: string }[];
  }
  const file = JSON.parse(readFileSync(testdata('wycheproof', 'ed25519_test.json'), 'utf8')) as {
    testGroups: Group[];
  };
  const vectors = file.testGroups.flatMap((g) =>
    g.tests.map((t) => ({
      tcId: t.tcId,
      valid: t.result === 'valid',
      item: { signature: fromHex(t.sig), message: fromHex(t.msg), publicKey: fromHex(g.publicKey.pk) },
    })),
  );
  // Twice over, so valid and invalid items share groups in two different alignments.
  const all = [...vectors, ...vectors.slice(7)];
  const flags = native.verifyPacked(
    packChunk(
      all.map((v) => v.item),
      0,
      all.length,
    ),
  );
  const wrong = all.filter((v, i) => (flags[i] === 1) !== v.valid).map((v) => v.tcId);
  assert.deepEqual(wrong, []);
  assert.ok(vectors.some((v) => v.valid) && vectors.some((v) => !v.valid));
});
