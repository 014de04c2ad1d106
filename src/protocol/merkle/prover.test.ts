/**
 * Cross-checks the fast code (prover, CompactRange, verifiers) against the naive RFC 9162
 * reference for every tree size 1..130, every leaf index and every size1 ≤ size2, then checks
 * that named broken variants fail with the expected MerkleProofError code.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { fromHex, toHex, utf8 } from '../bytes.js';
import { sha256 } from '../hash.js';
import type { Sha256 } from '../hash.js';
import { CompactRange } from './compact-range.js';
import type { PerfectNode } from './compact-range.js';
import { consistencyProof, inclusionProof, rootAt } from './prover.js';
import type { PerfectNodeReader } from './prover.js';
import {
  referenceMth,
  referencePath,
  referenceProof,
  referenceSubtreeConsistencyProof,
  referenceSubtreeInclusionProof,
  splitPoint,
} from './reference.js';
import {
  EMPTY_ROOT,
  MerkleProofError,
  leafHash,
  rootFromInclusionProof,
  verifyConsistency,
  verifyInclusion,
} from './rfc9162.js';
import type { MerkleErrorCode } from './rfc9162.js';
import { isValidSubtree, verifySubtreeConsistency, verifySubtreeInclusion } from './subtree.js';

/**
 * Node's native SHA-256, injected everywhere below: the exhaustive loops hash millions of times
 * and the pure-JS SHA-256 is ~10x slower. A separate test checks the default gives identical results.
 */
const H: Sha256 = (d) => new Uint8Array(createHash('sha256').update(d).digest());

const MAX = 130;
const entries = Array.from({ length: MAX }, (_, i) => utf8(`healthledger entry ${i}`));
const leaves = entries.map((e) => leafHash(e, H));
// The verifiers with the native hash injected (see H).
const vInclusion = (i: number, n: number, leaf: Uint8Array, proof: Uint8Array[], root: Uint8Array) =>
  verifyInclusion(i, n, leaf, proof, root, H);
const vConsistency = (m: number, n: number, proof: Uint8Array[], r1: Uint8Array, r2: Uint8Array) =>
  verifyConsistency(m, n, proof, r1, r2, H);
const vSubtreeInclusion = (
  i: number,
  s: number,
  e: number,
  leaf: Uint8Array,
  proof: Uint8Array[],
  root: Uint8Array,
) => verifySubtreeInclusion(i, s, e, leaf, proof, root, H);
const vSubtreeConsistency = (
  s: number,
  e: number,
  n: number,
  proof: Uint8Array[],
  r1: Uint8Array,
  r2: Uint8Array,
) => verifySubtreeConsistency(s, e, n, proof, r1, r2, H);

/** refRoot[n] = reference MTH of the first n entries. */
const refRoot = Array.from({ length: MAX + 1 }, (_, n) => referenceMth(entries.slice(0, n), H));

/** In-memory PerfectNodeReader fed by CompactRange.append outputs, keyed `${level}:${index}`. */
class MapStore {
  readonly map = new Map<string, Uint8Array>();
  put(nodes: PerfectNode[]): void {
    for (const n of nodes) {
      const key = `${n.level}:${n.index}`;
      assert.ok(!this.map.has(key), `node ${key} emitted twice`);
      this.map.set(key, n.hash);
    }
  }
  /** A reader for the tree of `size` leaves that refuses nodes not complete at that size. */
  reader(size: number): PerfectNodeReader & { reads: number } {
    const map = this.map;
    return {
      reads: 0,
      node(level: number, index: number): Uint8Array {
        this.reads++;
        assert.ok(
          (index + 1) * 2 ** level <= size,
          `read of node ${level}:${index}, not perfect at size ${size}`,
        );
        const h = map.get(`${level}:${index}`);
        assert.ok(h, `node ${level}:${index} missing`);
        return h;
      },
    };
  }
}

const store = new MapStore();
const range = new CompactRange({ hash: H });
const frontiers: PerfectNode[][] = [range.frontier()];
for (const leaf of leaves) {
  store.put(range.append(leaf));
  frontiers.push(range.frontier());
}

/** Tree sizes for the broken-variant sweeps: every size up to 64, then a few larger ones. */
const VARIANT_SIZES = [...Array.from({ length: 64 }, (_, i) => i + 1), 65, 96, 127, 128, 129, 130];

const bitLength = (n: number) => (n === 0 ? 0 : Math.floor(Math.log2(n)) + 1);
/** O(log n) read budget: one sibling per level plus one ephemeral node's tiling. */
const readBudget = (n: number) => 2 * bitLength(n) + 2;

function expectCode(fn: () => void, code: MerkleErrorCode, what: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof MerkleProofError, `${what}: threw a non-MerkleProofError: ${String(e)}`);
    assert.equal(e.code, code, `${what}: ${e.message}`);
    return true;
  });
}

/** Fast equality for hash lists (assert.deepEqual on typed arrays is slow in these hot loops). */
function assertSameHashes(actual: Uint8Array[], expected: Uint8Array[], what: string): void {
  const hex = (l: Uint8Array[]) => l.map(toHex).join(',');
  assert.equal(hex(actual), hex(expected), what);
}

function flipBit(h: Uint8Array, bit: number): Uint8Array {
  const out = new Uint8Array(h); // a copy even if h is a Buffer (whose slice() is a view)
  out[(bit >> 3) % out.length]! ^= 1 << (bit & 7);
  return out;
}

/**
 * Sibling directions of RFC 9162 §2.1.3.1 PATH(m, D[n]), lowest first ('R': MTH(D[k:n]) appended
 * in the m < k branch; 'L': MTH(D[0:k]) in the other), taken from the recursive definition. Two
 * (index, size) pairs with the same shape run the very same hash computation on a given proof.
 */
function pathShape(m: number, n: number): string {
  if (n === 1) return '';
  const k = splitPoint(n);
  return m < k ? pathShape(m, k) + 'R' : pathShape(m - k, n - k) + 'L';
}

/** Shape of RFC 9162 §2.1.4.1 SUBPROOF(m, D[n], b): 'S' for the emitted MTH(D[m]), then R/L siblings. */
function subproofShape(m: number, n: number, b: boolean): string {
  if (m === n) return b ? '' : 'S';
  const k = splitPoint(n);
  return m <= k ? subproofShape(m, k, b) + 'R' : subproofShape(m - k, n - k, false) + 'L';
}

/** What the verifier must say about inclusion of leaves[index0] (proof made for (index0, n0)) at (i, n). */
function expectedInclusion(
  index0: number,
  n0: number,
  i: number,
  n: number,
  proofLen: number,
): MerkleErrorCode | 'ACCEPT' {
  if (!Number.isSafeInteger(n) || n < 0) return 'SIZE_OUT_OF_RANGE';
  if (!Number.isSafeInteger(i) || i < 0 || i >= n) return 'INDEX_OUT_OF_RANGE';
  const shape = pathShape(i, n);
  if (shape.length !== proofLen) return 'WRONG_PROOF_SIZE';
  return shape === pathShape(index0, n0) ? 'ACCEPT' : 'ROOT_MISMATCH';
}

function expectedConsistency(
  m0: number,
  n0: number,
  m: number,
  n: number,
  proofLen: number,
): MerkleErrorCode | 'ACCEPT' {
  if (!Number.isSafeInteger(m) || !Number.isSafeInteger(n) || m < 0 || n < 0 || m > n || m === 0) {
    return 'SIZE_OUT_OF_RANGE';
  }
  if (m === n) return proofLen === 0 ? (m0 === n0 ? 'ACCEPT' : 'ROOT_MISMATCH') : 'WRONG_PROOF_SIZE';
  const shape = subproofShape(m, n, true);
  if (shape.length !== proofLen) return 'WRONG_PROOF_SIZE';
  return shape === subproofShape(m0, n0, true) ? 'ACCEPT' : 'ROOT_MISMATCH';
}

describe('reference implementation', () => {
  test('matches the RFC 6962 test tree roots (transparency-dev/merkle) and SHA-256("")', () => {
    const data = [
      '',
      '00',
      '10',
      '2021',
      '3031',
      '40414243',
      '5051525354555657',
      '606162636465666768696a6b6c6d6e6f',
    ];
    const want = [
      '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
      'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
      'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
      '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
      '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
      'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
      '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
    ];
    const d = data.map(fromHex);
    for (let n = 1; n <= 8; n++) assert.equal(toHex(referenceMth(d.slice(0, n))), want[n - 1], `MTH of ${n}`);
    assert.equal(toHex(referenceMth([])), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    assert.deepEqual(EMPTY_ROOT, referenceMth([]));
    // RFC 6962 / transparency-dev known proofs: PATH(0, D[8]) and PROOF(6, D[8]).
    assert.deepEqual(referencePath(0, d).map(toHex), [
      '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
    ]);
    assert.deepEqual(referenceProof(6, d).map(toHex), [
      '0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a',
      'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ]);
  });
});

describe('CompactRange', () => {
  test('root equals the reference MTH after every append; emitted nodes are the perfect subtrees', () => {
    const r = new CompactRange({ hash: H });
    assert.deepEqual(r.root(), EMPTY_ROOT);
    for (let n = 0; n < MAX; n++) {
      const emitted = r.append(leaves[n]!);
      let trailingOnes = 0;
      for (let s = n; s % 2 === 1; s = Math.floor(s / 2)) trailingOnes++;
      assert.equal(emitted.length, 1 + trailingOnes, `size ${n + 1}: number of completed nodes`);
      emitted.forEach((node, j) => {
        assert.equal(node.level, j);
        assert.equal(node.index, Math.floor(n / 2 ** j));
        const begin = node.index * 2 ** node.level;
        const want = referenceMth(entries.slice(begin, begin + 2 ** node.level), H);
        assert.deepEqual(node.hash, want, `node ${node.level}:${node.index}`);
      });
      assert.equal(r.size, n + 1);
      assert.deepEqual(r.root(), refRoot[n + 1], `root at size ${n + 1}`);
    }
  });

  test('appendEach visits exactly the nodes append returns, in order, with any hash (plain or Buffer)', () => {
    const native: Sha256 = (d) => createHash('sha256').update(d).digest();
    for (const hash of [H, native]) {
      const a = new CompactRange({ hash });
      const b = new CompactRange({ hash });
      for (let n = 0; n < MAX; n++) {
        const visited: PerfectNode[] = [];
        b.appendEach(leaves[n]!, (level, index, h) =>
          visited.push({ level, index, hash: new Uint8Array(h) }),
        );
        assert.deepEqual(visited, a.append(leaves[n]!), `leaf ${n}`);
        assert.deepEqual(b.root(), refRoot[n + 1]);
      }
      assert.deepEqual(b.frontier(), a.frontier());
    }
  });

  test('fromNodes rebuilds the same frontier, root and future appends at every size', () => {
    for (let n = 0; n <= MAX; n++) {
      const reader = store.reader(n);
      const rebuilt = CompactRange.fromNodes(n, reader, { hash: H });
      assert.ok(reader.reads <= bitLength(n), `size ${n}: ${reader.reads} reads`);
      assert.equal(rebuilt.size, n);
      assert.deepEqual(rebuilt.frontier(), frontiers[n], `frontier at size ${n}`);
      assert.deepEqual(rebuilt.root(), refRoot[n]);
      if (n < MAX) {
        // Appending to the rebuilt range emits exactly the nodes the original emitted for leaf n.
        assert.deepEqual(rebuilt.append(leaves[n]!), lastAppend(n));
        assert.deepEqual(rebuilt.frontier(), frontiers[n + 1]);
        assert.deepEqual(rebuilt.root(), refRoot[n + 1]);
      }
    }
  });

  test('returned nodes and roots are copies; bad leaf hashes are rejected', () => {
    const r = new CompactRange({ hash: H });
    const out = r.append(leaves[0]!);
    out[0]!.hash.fill(0);
    r.root().fill(0);
    assert.deepEqual(r.root(), refRoot[1]);
    expectCode(() => r.append(new Uint8Array(31)), 'BAD_HASH_LENGTH', 'short leaf hash');
    expectCode(() => r.append('x' as unknown as Uint8Array), 'BAD_HASH_LENGTH', 'non-bytes leaf hash');
    expectCode(() => CompactRange.fromNodes(-1, store.reader(0)), 'SIZE_OUT_OF_RANGE', 'negative size');
    expectCode(() => CompactRange.fromNodes(1.5, store.reader(0)), 'SIZE_OUT_OF_RANGE', 'fractional size');
    expectCode(
      () => CompactRange.fromNodes(1, { node: () => new Uint8Array(33) }),
      'BAD_HASH_LENGTH',
      'bad stored node',
    );
  });

  test('the default protocol hash gives the same nodes, roots and proofs as the injected one', () => {
    const r = new CompactRange();
    const plain = new MapStore();
    for (let n = 0; n < 40; n++) {
      plain.put(r.append(leaves[n]!));
      assert.deepEqual(r.root(), refRoot[n + 1]);
    }
    assert.deepEqual(plain.map, new Map([...store.map].filter(([k]) => plain.map.has(k))));
    assert.deepEqual(leafHash(entries[3]!), leaves[3]);
    assert.deepEqual(referenceMth(entries.slice(0, 13)), refRoot[13]);
    for (const n of [1, 2, 3, 7, 8, 13, 31, 40]) {
      assert.deepEqual(rootAt(plain.reader(n), n), refRoot[n]);
      for (let i = 0; i < n; i++) {
        const proof = inclusionProof(plain.reader(n), i, n);
        assert.deepEqual(proof, inclusionProof(store.reader(n), i, n, H));
        verifyInclusion(i, n, leaves[i]!, proof, refRoot[n]!);
      }
      for (let m = 1; m <= n; m++) {
        const proof = consistencyProof(plain.reader(n), m, n);
        assert.deepEqual(proof, consistencyProof(store.reader(n), m, n, H));
        verifyConsistency(m, n, proof, refRoot[m]!, refRoot[n]!);
        verifySubtreeConsistency(0, m, n, proof, refRoot[m]!, refRoot[n]!);
      }
    }
    let calls = 0;
    const counting: Sha256 = (d) => {
      calls++;
      return sha256(d);
    };
    verifyInclusion(5, 8, leaves[5]!, inclusionProof(store.reader(8), 5, 8, H), refRoot[8]!, counting);
    assert.equal(calls, 3, 'the injected hash is the one used');
  });
});

/** The nodes a CompactRange of size n emits when leaf n is appended (from the shared store). */
function lastAppend(n: number): PerfectNode[] {
  const out: PerfectNode[] = [];
  for (let level = 0; ; level++) {
    const index = Math.floor(n / 2 ** level);
    if (level > 0 && Math.floor(n / 2 ** (level - 1)) % 2 === 0) break;
    out.push({ level, index, hash: store.map.get(`${level}:${index}`)! });
  }
  return out;
}

describe('prover vs reference, sizes 1..130', () => {
  test('rootAt equals the reference MTH for every size (and the empty root for 0)', () => {
    for (let n = 0; n <= MAX; n++) {
      const reader = store.reader(n);
      assert.deepEqual(rootAt(reader, n, H), refRoot[n], `size ${n}`);
      assert.ok(reader.reads <= readBudget(n), `size ${n}: ${reader.reads} reads`);
    }
  });

  test('inclusionProof equals reference PATH and verifies, for every size and index', () => {
    let count = 0;
    for (let n = 1; n <= MAX; n++) {
      const d = entries.slice(0, n);
      for (let i = 0; i < n; i++) {
        const reader = store.reader(n);
        const proof = inclusionProof(reader, i, n, H);
        assert.ok(reader.reads <= readBudget(n), `(${i}, ${n}): ${reader.reads} reads`);
        assertSameHashes(proof, referencePath(i, d, H), `PATH(${i}, D[${n}])`);
        vInclusion(i, n, leaves[i]!, proof, refRoot[n]!);
        assertSameHashes([rootFromInclusionProof(i, n, leaves[i]!, proof, H)], [refRoot[n]!], 'root');
        count++;
      }
    }
    assert.equal(count, (MAX * (MAX + 1)) / 2);
  });

  test('consistencyProof equals reference PROOF and verifies, for every 1 ≤ size1 ≤ size2', () => {
    let count = 0;
    for (let n = 1; n <= MAX; n++) {
      const d = entries.slice(0, n);
      for (let m = 1; m <= n; m++) {
        const reader = store.reader(n);
        const proof = consistencyProof(reader, m, n, H);
        assert.ok(reader.reads <= readBudget(n) + 1, `(${m}, ${n}): ${reader.reads} reads`);
        assertSameHashes(proof, referenceProof(m, d, H), `PROOF(${m}, D[${n}])`);
        vConsistency(m, n, proof, refRoot[m]!, refRoot[n]!);
        // The subtree verifier generalises the RFC one: [0, m) is a subtree.
        vSubtreeConsistency(0, m, n, proof, refRoot[m]!, refRoot[n]!);
        count++;
      }
    }
    assert.equal(count, (MAX * (MAX + 1)) / 2);
  });

  test('provers reject bad arguments with typed errors', () => {
    const reader = store.reader(MAX);
    expectCode(() => inclusionProof(reader, 5, 5), 'INDEX_OUT_OF_RANGE', 'index = size');
    expectCode(() => inclusionProof(reader, -1, 5), 'INDEX_OUT_OF_RANGE', 'negative index');
    expectCode(() => inclusionProof(reader, 0, 0), 'INDEX_OUT_OF_RANGE', 'empty tree');
    expectCode(() => inclusionProof(reader, 0, 2 ** 53), 'SIZE_OUT_OF_RANGE', 'unsafe size');
    expectCode(() => consistencyProof(reader, 0, 5), 'SIZE_OUT_OF_RANGE', 'size1 = 0');
    expectCode(() => consistencyProof(reader, 6, 5), 'SIZE_OUT_OF_RANGE', 'size1 > size2');
    expectCode(() => rootAt(reader, NaN), 'SIZE_OUT_OF_RANGE', 'NaN size');
    expectCode(() => rootAt({ node: () => new Uint8Array(0) }, 3), 'BAD_HASH_LENGTH', 'bad stored node');
  });
});

describe('inclusion: broken variants are rejected with the expected code', () => {
  /** Every (index, size, proof) of sizes 1..MAX, built once. */
  const cases: { i: number; n: number; proof: Uint8Array[] }[] = [];
  for (const n of VARIANT_SIZES) {
    for (let i = 0; i < n; i++) cases.push({ i, n, proof: inclusionProof(store.reader(n), i, n, H) });
  }

  test('a flipped bit in any proof hash → ROOT_MISMATCH', () => {
    for (const { i, n, proof } of cases) {
      proof.forEach((_, j) => {
        const bad = proof.map((h, k) => (k === j ? flipBit(h, i + j * 7) : h));
        expectCode(
          () => vInclusion(i, n, leaves[i]!, bad, refRoot[n]!),
          'ROOT_MISMATCH',
          `(${i},${n})[${j}]`,
        );
      });
    }
  });

  test('one hash too many or too few → WRONG_PROOF_SIZE', () => {
    for (const { i, n, proof } of cases) {
      const variants = [
        [...proof, refRoot[n]!],
        [leaves[i]!, ...proof],
      ];
      if (proof.length > 0) variants.push(proof.slice(0, -1), proof.slice(1), [...proof, proof.at(-1)!]);
      for (const bad of variants) {
        expectCode(() => vInclusion(i, n, leaves[i]!, bad, refRoot[n]!), 'WRONG_PROOF_SIZE', `(${i},${n})`);
      }
    }
  });

  test('a proof hash of the wrong length → BAD_HASH_LENGTH', () => {
    for (const { i, n, proof } of cases) {
      if (proof.length === 0) continue;
      const bad = [proof[0]!.subarray(1), ...proof.slice(1)];
      expectCode(() => vInclusion(i, n, leaves[i]!, bad, refRoot[n]!), 'BAD_HASH_LENGTH', `(${i},${n})`);
    }
  });

  test('wrong index → INDEX_OUT_OF_RANGE, WRONG_PROOF_SIZE or ROOT_MISMATCH', () => {
    for (const { i, n, proof } of cases) {
      for (const wrong of [i - 1, i + 1, i ^ 2, n, i + n, 2 ** 53, 0.5, -0.5]) {
        if (wrong === i) continue;
        const want = expectedInclusion(i, n, wrong, n, proof.length);
        if (want === 'ACCEPT')
          assert.fail(`distinct leaves of one tree never share a path shape (${i}, ${wrong})`);
        expectCode(
          () => vInclusion(wrong, n, leaves[i]!, proof, refRoot[n]!),
          want,
          `index ${wrong} for (${i},${n})`,
        );
      }
    }
  });

  test('wrong size → rejected unless the path shape is identical (then it is the same computation)', () => {
    let rejected = 0;
    let sameShape = 0;
    for (const { i, n, proof } of cases) {
      for (const wrong of [n - 1, n + 1, 2 * n, Math.floor(n / 2), i, -1, 2 ** 53]) {
        if (wrong === n) continue;
        const want = expectedInclusion(i, n, i, wrong, proof.length);
        if (want === 'ACCEPT') {
          vInclusion(i, wrong, leaves[i]!, proof, refRoot[n]!);
          sameShape++;
        } else {
          expectCode(
            () => vInclusion(i, wrong, leaves[i]!, proof, refRoot[n]!),
            want,
            `size ${wrong} for (${i},${n})`,
          );
          rejected++;
        }
      }
    }
    assert.ok(rejected > 0 && sameShape >= 0, `${rejected} rejected, ${sameShape} same-shape`);
    console.log(
      `wrong-size variants: ${rejected} rejected, ${sameShape} identical-shape (accepted by design)`,
    );
  });

  test('wrong root or leaf → ROOT_MISMATCH; wrong-length root or leaf → BAD_HASH_LENGTH', () => {
    for (const { i, n, proof } of cases) {
      const what = `(${i},${n})`;
      expectCode(() => vInclusion(i, n, leaves[i]!, proof, flipBit(refRoot[n]!, i)), 'ROOT_MISMATCH', what);
      expectCode(() => vInclusion(i, n, leaves[i]!, proof, EMPTY_ROOT), 'ROOT_MISMATCH', what);
      expectCode(() => vInclusion(i, n, leaves[(i + 1) % MAX]!, proof, refRoot[n]!), 'ROOT_MISMATCH', what);
      expectCode(() => vInclusion(i, n, leaves[i]!, proof, refRoot[n]!.subarray(1)), 'BAD_HASH_LENGTH', what);
      expectCode(() => vInclusion(i, n, entries[i]!, proof, refRoot[n]!), 'BAD_HASH_LENGTH', what);
    }
  });
});

describe('consistency: broken variants are rejected with the expected code', () => {
  const cases: { m: number; n: number; proof: Uint8Array[] }[] = [];
  for (const n of VARIANT_SIZES) {
    for (let m = 1; m <= n; m++) cases.push({ m, n, proof: consistencyProof(store.reader(n), m, n, H) });
  }

  test('a flipped bit in any proof hash → ROOT_MISMATCH', () => {
    for (const { m, n, proof } of cases) {
      proof.forEach((_, j) => {
        const bad = proof.map((h, k) => (k === j ? flipBit(h, m + j * 5) : h));
        expectCode(
          () => vConsistency(m, n, bad, refRoot[m]!, refRoot[n]!),
          'ROOT_MISMATCH',
          `(${m},${n})[${j}]`,
        );
      });
    }
  });

  test('one hash too many or too few → WRONG_PROOF_SIZE', () => {
    for (const { m, n, proof } of cases) {
      const variants = [
        [...proof, refRoot[n]!],
        [refRoot[m]!, ...proof],
      ];
      if (proof.length > 0) variants.push(proof.slice(0, -1), proof.slice(1), [proof[0]!, ...proof]);
      for (const bad of variants) {
        expectCode(
          () => vConsistency(m, n, bad, refRoot[m]!, refRoot[n]!),
          'WRONG_PROOF_SIZE',
          `(${m},${n})`,
        );
      }
    }
  });

  test('wrong size1 or size2 → rejected unless the proof shape is identical', () => {
    let rejected = 0;
    let sameShape = 0;
    for (const { m, n, proof } of cases) {
      const wrongs: [number, number][] = [
        [m - 1, n],
        [m + 1, n],
        [m ^ 2, n],
        [0, n],
        [m, n - 1],
        [m, n + 1],
        [m, 2 * n],
        [m, Math.floor(n / 2)],
        [n, m],
        [m, 2 ** 53],
        [m + 0.5, n],
      ];
      for (const [m2, n2] of wrongs) {
        if (m2 === m && n2 === n) continue;
        const want = expectedConsistency(m, n, m2, n2, proof.length);
        if (want === 'ACCEPT') {
          vConsistency(m2, n2, proof, refRoot[m]!, refRoot[n]!);
          sameShape++;
        } else {
          expectCode(
            () => vConsistency(m2, n2, proof, refRoot[m]!, refRoot[n]!),
            want,
            `(${m2},${n2}) for (${m},${n})`,
          );
          rejected++;
        }
      }
    }
    assert.ok(rejected > 0 && sameShape >= 0, `${rejected} rejected, ${sameShape} same-shape`);
    console.log(
      `wrong-size variants: ${rejected} rejected, ${sameShape} identical-shape (accepted by design)`,
    );
  });

  test('wrong, swapped or wrong-length roots → ROOT_MISMATCH / BAD_HASH_LENGTH', () => {
    for (const { m, n, proof } of cases) {
      const what = `(${m},${n})`;
      const [r1, r2] = [refRoot[m]!, refRoot[n]!];
      expectCode(() => vConsistency(m, n, proof, flipBit(r1, n), r2), 'ROOT_MISMATCH', what);
      expectCode(() => vConsistency(m, n, proof, r1, flipBit(r2, m)), 'ROOT_MISMATCH', what);
      if (m < n) {
        expectCode(() => vConsistency(m, n, proof, r2, r1), 'ROOT_MISMATCH', what);
        expectCode(() => vConsistency(m, n, proof, r1.subarray(1), r2), 'BAD_HASH_LENGTH', what);
        expectCode(() => vConsistency(m, n, proof, r1, new Uint8Array(0)), 'BAD_HASH_LENGTH', what);
      }
    }
  });
});

describe('subtree proofs vs reference (all valid subtrees of trees up to 48 leaves)', () => {
  const N = 48;

  test('subtree inclusion: reference proofs verify; mutations are rejected', () => {
    let count = 0;
    for (let end = 1; end <= N; end++) {
      for (let start = 0; start < end; start++) {
        if (!isValidSubtree(start, end)) {
          expectCode(
            () => vSubtreeInclusion(start, start, end, leaves[start]!, [], refRoot[1]!),
            'INVALID_SUBTREE',
            `[${start},${end})`,
          );
          continue;
        }
        const root = referenceMth(entries.slice(start, end), H);
        for (let i = start; i < end; i++) {
          const proof = referenceSubtreeInclusionProof(i, start, end, entries, H);
          vSubtreeInclusion(i, start, end, leaves[i]!, proof, root);
          if (proof.length > 0) {
            const bad = [flipBit(proof[0]!, i), ...proof.slice(1)];
            expectCode(
              () => vSubtreeInclusion(i, start, end, leaves[i]!, bad, root),
              'ROOT_MISMATCH',
              'flip',
            );
          }
          expectCode(
            () => vSubtreeInclusion(i, start, end, leaves[i]!, [...proof, root], root),
            'WRONG_PROOF_SIZE',
            'extra',
          );
          count++;
        }
        expectCode(
          () => vSubtreeInclusion(end, start, end, leaves[0]!, [], root),
          'INDEX_OUT_OF_RANGE',
          'oob',
        );
      }
    }
    assert.ok(count > 0);
  });

  test('subtree consistency: reference proofs verify; mutations are rejected', () => {
    let count = 0;
    for (let size = 0; size <= N; size++) {
      const d = entries.slice(0, size);
      for (let end = 0; end <= size; end++) {
        for (let start = 0; start <= end; start++) {
          if (!isValidSubtree(start, end)) {
            expectCode(
              () => vSubtreeConsistency(start, end, size, [], EMPTY_ROOT, refRoot[size]!),
              'INVALID_SUBTREE',
              `[${start},${end}) in ${size}`,
            );
            continue;
          }
          const what = `[${start},${end}) in ${size}`;
          const sub = referenceMth(d.slice(start, end), H);
          const proof = referenceSubtreeConsistencyProof(start, end, d, H);
          if (start === 0 && end > 0) assertSameHashes(proof, referenceProof(end, d, H), what);
          vSubtreeConsistency(start, end, size, proof, sub, refRoot[size]!);
          count++;
          if (start === end) continue;
          proof.forEach((_, j) => {
            const bad = proof.map((h, k) => (k === j ? flipBit(h, j + start) : h));
            expectCode(
              () => vSubtreeConsistency(start, end, size, bad, sub, refRoot[size]!),
              'ROOT_MISMATCH',
              what,
            );
          });
          expectCode(
            () => vSubtreeConsistency(start, end, size, [...proof, sub], sub, refRoot[size]!),
            'WRONG_PROOF_SIZE',
            what,
          );
          if (proof.length > 0) {
            expectCode(
              () => vSubtreeConsistency(start, end, size, proof.slice(1), sub, refRoot[size]!),
              'WRONG_PROOF_SIZE',
              what,
            );
          }
          expectCode(
            () => vSubtreeConsistency(start, end, size, proof, flipBit(sub, 3), refRoot[size]!),
            'ROOT_MISMATCH',
            what,
          );
          expectCode(
            () => vSubtreeConsistency(start, end, size, proof, sub, flipBit(refRoot[size]!, 5)),
            'ROOT_MISMATCH',
            what,
          );
          expectCode(
            () => vSubtreeConsistency(start, end, end - 1, proof, sub, refRoot[size]!),
            'SIZE_OUT_OF_RANGE',
            what,
          );
        }
      }
    }
    assert.ok(count > 0);
  });
});

test('sanity: default hash is SHA-256', () => {
  assert.equal(toHex(sha256(new Uint8Array(0))), toHex(EMPTY_ROOT));
});
