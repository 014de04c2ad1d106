import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createPublicKey, randomBytes, verify as rawOpenSslVerify } from 'node:crypto';
import { ed25519 } from '@noble/curves/ed25519.js';
import { sha512 } from '@noble/hashes/sha2.js';
import { testdata } from '../../test-support/paths.js';
import { concatBytes, fromHex, toBase64Url, toHex, utf8 } from '../../protocol/bytes.js';
import { generateKeyPair, publicKeyOf, sign, verify } from '../../protocol/ed25519.js';
import type { Ed25519Verify } from '../../protocol/ed25519.js';
import {
  isCanonicalPointEncoding,
  isSmallOrderEncoding,
  signNative,
  verifyNodeCrypto,
  verifySodium,
} from './ed25519-native.js';
import { RFC8032 } from '../../test-support/rfc8032.js';
import { verifyPrecomputed } from './ed25519-precomputed.js';

// The node's fast path must be built for the tests (`npm test` builds it; `.ci/run` has a C
// compiler): a missing addon would otherwise silently drop it from every cross-check below.
if (!verifyPrecomputed)
  throw new Error('native Ed25519 addon not built: run `node scripts/build-native.mjs`');
const precomputed: Ed25519Verify = verifyPrecomputed;

interface WycheproofVector {
  tcId: number;
  flags: string[];
  msg: string;
  sig: string;
  result: 'valid' | 'invalid' | 'acceptable';
}
interface WycheproofFile {
  numberOfTests: number;
  testGroups: { publicKey: { pk: string }; tests: WycheproofVector[] }[];
}

const wycheproof = JSON.parse(
  readFileSync(testdata('wycheproof', 'ed25519_test.json'), 'utf8'),
) as WycheproofFile;
const vectors = wycheproof.testGroups.flatMap((g) =>
  g.tests.map((v) => ({
    ...v,
    publicKey: fromHex(g.publicKey.pk),
    sigBytes: fromHex(v.sig),
    msgBytes: fromHex(v.msg),
  })),
);

const verifiers: [string, Ed25519Verify][] = [
  ['protocol verify (noble, zip215:false)', verify],
  ['verifySodium (libsodium)', verifySodium],
  ['verifyNodeCrypto (OpenSSL)', verifyNodeCrypto],
  ['verifyPrecomputed (precomputed tables, ADR 0010)', precomputed],
];

test('Wycheproof ed25519 file: vector count', () => {
  assert.ok(vectors.length > 100, `only ${vectors.length} vectors`);
  assert.equal(vectors.length, wycheproof.numberOfTests);
  assert.equal(new Set(vectors.map((v) => v.tcId)).size, vectors.length, 'tcIds unique');
});

for (const [name, fn] of verifiers) {
  test(`Wycheproof ed25519: ${name} matches every vector`, () => {
    const failures: string[] = [];
    let count = 0;
    for (const v of vectors) {
      // Policy for `acceptable` (none in this file today): any verdict is tolerated per
      // verifier, but the cross-verifier test below still demands all of them agree.
      if (v.result === 'acceptable') continue;
      count++;
      const got = fn(v.sigBytes, v.msgBytes, v.publicKey);
      if (got !== (v.result === 'valid'))
        failures.push(`tcId ${v.tcId} (${v.flags.join(',')}): got ${got}, want ${v.result}`);
    }
    assert.equal(count, wycheproof.numberOfTests, 'every vector exercised (no "acceptable" skipped)');
    assert.deepEqual(failures, []);
  });
}

test('Wycheproof ed25519: the verifiers never disagree (a disagreement would split consensus)', () => {
  const disagreements: string[] = [];
  for (const v of vectors) {
    const verdicts = verifiers.map(([, fn]) => fn(v.sigBytes, v.msgBytes, v.publicKey));
    if (new Set(verdicts).size !== 1) disagreements.push(`tcId ${v.tcId}: ${verdicts.join('/')}`);
  }
  assert.deepEqual(disagreements, []);
});

test('RFC 8032 §7.1 tests 1-3: signNative produces the RFC signature; all verifiers accept it', () => {
  for (const [i, [seed, pub, msg, sig]] of RFC8032.entries()) {
    const name = `TEST ${i + 1}`;
    assert.equal(toHex(signNative(fromHex(msg), fromHex(seed))), sig, name);
    for (const [vname, fn] of verifiers) {
      assert.equal(fn(fromHex(sig), fromHex(msg), fromHex(pub)), true, `${name} ${vname}`);
      const bad = fromHex(sig);
      bad[63]! ^= 0x01;
      assert.equal(fn(bad, fromHex(msg), fromHex(pub)), false, `${name} ${vname} flipped S`);
    }
  }
});

test('cross-implementation: noble-signed verifies natively and libsodium-signed verifies with noble', () => {
  for (let i = 0; i < 50; i++) {
    const seed = new Uint8Array(randomBytes(32));
    const publicKey = publicKeyOf(seed);
    const message = new Uint8Array(randomBytes(i * 7));
    const nobleSig = sign(message, seed);
    const sodiumSig = signNative(message, seed);
    assert.equal(toHex(sodiumSig), toHex(nobleSig), 'RFC 8032 signatures are deterministic');
    for (const [vname, fn] of verifiers) {
      assert.equal(fn(nobleSig, message, publicKey), true, `noble sig, ${vname}`);
      assert.equal(fn(sodiumSig, message, publicKey), true, `sodium sig, ${vname}`);
    }
  }
});

test('native verifiers: wrong key, wrong lengths, garbage and views never throw and return false', () => {
  const { privateKey, publicKey } = generateKeyPair();
  const message = utf8('m');
  const sig = signNative(message, privateKey);
  const other = generateKeyPair().publicKey;
  // Unaligned views into a larger buffer (as the verify pool uses) must work.
  const backing = new Uint8Array(200);
  backing.set(sig, 3);
  backing.set(publicKey, 101);
  backing.set(message, 150);
  for (const [vname, fn] of verifiers.slice(1)) {
    assert.equal(
      fn(backing.subarray(3, 67), backing.subarray(150, 151), backing.subarray(101, 133)),
      true,
      vname,
    );
    assert.equal(fn(sig, message, other), false, vname);
    assert.equal(fn(sig.subarray(0, 63), message, publicKey), false, vname);
    assert.equal(
      fn(new Uint8Array([...sig, 0]), message, publicKey),
      false,
      `${vname} signature with garbage`,
    );
    assert.equal(fn(sig, message, publicKey.subarray(0, 31)), false, vname);
    assert.equal(fn(sig, message, new Uint8Array([...publicKey, 0])), false, vname);
    assert.equal(fn(new Uint8Array(0), message, new Uint8Array(0)), false, vname);
    assert.equal(fn(sig, message, new Uint8Array(32).fill(0xff)), false, `${vname} non-canonical key`);
  }
  assert.throws(() => signNative(message, new Uint8Array(31)), TypeError);
});

// ---- Edge cases outside Wycheproof (small-order and mixed-order points, cf. "Taming the many
// EdDSAs", Chalkias et al. 2020). Built here from curve arithmetic rather than copied vectors.

const Point = ed25519.Point;
const L = Point.Fn.ORDER;
const mod = (a: bigint, m: bigint): bigint => ((a % m) + m) % m;
const leToBigint = (b: Uint8Array): bigint => {
  let n = 0n;
  for (let i = b.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(b[i]!);
  return n;
};
const bigintToLe32 = (n: bigint): Uint8Array => {
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++, n >>= 8n) out[i] = Number(n & 0xffn);
  return out;
};
/** RFC 8032 §5.1.7 step 2: k = SHA-512(R || A || M) mod L. */
const challenge = (R: Uint8Array, A: Uint8Array, M: Uint8Array): bigint =>
  mod(leToBigint(sha512(concatBytes(R, A, M))), L);
/** A point of order 8 (libsodium blocklist entry); its multiples are all 8 small-order points. */
const T8 = Point.fromHex('c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a', true);
const smallOrderPoints = Array.from({ length: 8 }, (_, i) => {
  let p = Point.ZERO;
  for (let j = 0; j < i; j++) p = p.add(T8);
  return p;
});
const IDENTITY = fromHex('01' + '00'.repeat(31));

test('isSmallOrderEncoding: all 8 small-order points (both sign bits) and only those', () => {
  const encodings = new Set(smallOrderPoints.map((p) => toHex(p.toBytes())));
  assert.equal(encodings.size, 8, 'T8 generates 8 distinct points');
  for (const p of smallOrderPoints) {
    assert.ok(p.isSmallOrder());
    const enc = p.toBytes();
    assert.ok(isSmallOrderEncoding(enc), toHex(enc));
    const flipped = enc.slice();
    flipped[31]! ^= 0x80;
    assert.ok(isSmallOrderEncoding(flipped), `sign-flipped ${toHex(flipped)}`);
  }
  // Non-canonical encodings of y = 0 and y = 1 (y + p).
  assert.ok(isSmallOrderEncoding(fromHex('ed' + 'ff'.repeat(30) + '7f')));
  assert.ok(isSmallOrderEncoding(fromHex('ee' + 'ff'.repeat(30) + '7f')));
  for (let i = 0; i < 200; i++) {
    const { publicKey } = generateKeyPair();
    assert.equal(isSmallOrderEncoding(publicKey), false);
    assert.equal(
      isSmallOrderEncoding(Point.fromHex(toHex(publicKey)).add(T8).toBytes()),
      false,
      'mixed order',
    );
  }
  assert.equal(isSmallOrderEncoding(new Uint8Array(31)), false);
});

test('isCanonicalPointEncoding: y must be < p (RFC 8032 §5.1.3)', () => {
  assert.equal(isCanonicalPointEncoding(fromHex('ec' + 'ff'.repeat(30) + '7f')), true, 'p - 1');
  assert.equal(isCanonicalPointEncoding(fromHex('ec' + 'ff'.repeat(30) + 'ff')), true, 'p - 1, sign bit');
  assert.equal(isCanonicalPointEncoding(fromHex('ed' + 'ff'.repeat(30) + '7f')), false, 'p');
  assert.equal(isCanonicalPointEncoding(fromHex('ff'.repeat(32))), false, '2^255 - 1, sign bit');
  assert.equal(isCanonicalPointEncoding(fromHex('ff' + 'ff'.repeat(29) + 'fe7f')), true);
  assert.equal(isCanonicalPointEncoding(IDENTITY), true);
});

test('small-order public key, R = identity, S = 0: raw OpenSSL accepts; every verifier here rejects', () => {
  const message = utf8('any message at all');
  const sig = concatBytes(IDENTITY, new Uint8Array(32));
  // Why verifyNodeCrypto has its own checks: OpenSSL on its own "verifies" this forgery.
  const rawKey = createPublicKey({
    key: { kty: 'OKP', crv: 'Ed25519', x: toBase64Url(IDENTITY) },
    format: 'jwk',
  });
  assert.equal(
    rawOpenSslVerify(null, message, rawKey, sig),
    true,
    'OpenSSL behaviour changed: revisit the pre-checks',
  );
  for (const A of smallOrderPoints) {
    for (const [name, fn] of verifiers) {
      assert.equal(fn(sig, message, A.toBytes()), false, `${name}, A = ${A.toHex()}`);
    }
  }
});

/** A prime-order key with S = k·a: cofactored verification accepts R = T8, cofactorless rejects. */
function smallOrderRSignature(): { sig: Uint8Array; message: Uint8Array; publicKey: Uint8Array } {
  const { scalar, pointBytes } = ed25519.utils.getExtendedPublicKey(new Uint8Array(randomBytes(32)));
  const message = new Uint8Array(randomBytes(16));
  const R = T8.toBytes();
  const S = mod(challenge(R, pointBytes, message) * scalar, L);
  return { sig: concatBytes(R, bigintToLe32(S)), message, publicKey: pointBytes };
}

/**
 * R = identity with S = k·a: the cofactorless equation [S]B = R + [k]A holds, so only the
 * small-order-R rule rejects it — the one case that tells whether a verifier applies that rule.
 */
function identityRSignature(): { sig: Uint8Array; message: Uint8Array; publicKey: Uint8Array } {
  const { scalar, pointBytes } = ed25519.utils.getExtendedPublicKey(new Uint8Array(randomBytes(32)));
  const message = new Uint8Array(randomBytes(16));
  const S = mod(challenge(IDENTITY, pointBytes, message) * scalar, L);
  return { sig: concatBytes(IDENTITY, bigintToLe32(S)), message, publicKey: pointBytes };
}

test('R = identity satisfying the cofactorless equation: every verifier rejects it (small-order R)', () => {
  for (let i = 0; i < 8; i++) {
    const a = identityRSignature();
    const point = Point.fromHex(toHex(a.publicKey));
    const S = leToBigint(a.sig.subarray(32));
    const k = challenge(IDENTITY, a.publicKey, a.message);
    assert.ok(Point.BASE.multiply(S).equals(point.multiply(k)), 'the equation holds');
    for (const [name, fn] of verifiers) assert.equal(fn(a.sig, a.message, a.publicKey), false, name);
  }
});

/** A mixed-order key A' = A + T8 with an honest-looking S = r + k·a: cofactored always accepts. */
function mixedOrderKeySignature(): {
  sig: Uint8Array;
  message: Uint8Array;
  publicKey: Uint8Array;
  k: bigint;
} {
  const { scalar, point } = ed25519.utils.getExtendedPublicKey(new Uint8Array(randomBytes(32)));
  const publicKey = point.add(T8).toBytes();
  const message = new Uint8Array(randomBytes(16));
  const r = mod(leToBigint(new Uint8Array(randomBytes(64))), L);
  const R = Point.BASE.multiply(r).toBytes();
  const k = challenge(R, publicKey, message);
  return { sig: concatBytes(R, bigintToLe32(mod(r + k * scalar, L))), message, publicKey, k };
}

test('small-order R and mixed-order A: libsodium, OpenSSL (with pre-checks) and the precomputed tables agree', () => {
  let accepted = 0;
  let rejected = 0;
  // Until both outcomes for mixed-order keys were seen several times (accepted when k ≡ 0 mod 8).
  for (let i = 0; i < 16 || accepted < 3 || rejected < 3; i++) {
    const a = smallOrderRSignature();
    assert.equal(verifySodium(a.sig, a.message, a.publicKey), false, 'sodium, small-order R');
    assert.equal(verifyNodeCrypto(a.sig, a.message, a.publicKey), false, 'OpenSSL, small-order R');
    assert.equal(precomputed(a.sig, a.message, a.publicKey), false, 'precomputed, small-order R');
    const b = mixedOrderKeySignature();
    // Cofactorless [S]B = R + [k]A' holds exactly when k·T8 = 0, i.e. k ≡ 0 (mod 8).
    const want = b.k % 8n === 0n;
    assert.equal(verifySodium(b.sig, b.message, b.publicKey), want, 'sodium, mixed-order A');
    assert.equal(verifyNodeCrypto(b.sig, b.message, b.publicKey), want, 'OpenSSL, mixed-order A');
    assert.equal(precomputed(b.sig, b.message, b.publicKey), want, 'precomputed, mixed-order A');
    if (want) accepted++;
    else rejected++;
  }
});

test('protocol verify (cofactorless, browser-safe) agrees with libsodium on small-order R / mixed-order A', () => {
  const mismatches: string[] = [];
  for (let i = 0; i < 16; i++) {
    const a = smallOrderRSignature();
    if (verify(a.sig, a.message, a.publicKey) !== verifySodium(a.sig, a.message, a.publicKey)) {
      mismatches.push(`small-order R: noble ${verify(a.sig, a.message, a.publicKey)}, sodium false`);
    }
    const b = mixedOrderKeySignature();
    if (verify(b.sig, b.message, b.publicKey) !== verifySodium(b.sig, b.message, b.publicKey)) {
      mismatches.push(
        `mixed-order A (k mod 8 = ${b.k % 8n}): noble ${verify(b.sig, b.message, b.publicKey)}`,
      );
    }
  }
  assert.deepEqual(mismatches, []);
});
