/**
 * transparency-dev/merkle test vectors (../shared/testdata/merkle-rfc6962/testdata): one named test
 * per JSON file. Hashes are standard base64 (with padding), `proof` may be `null` (= no hashes),
 * and "sub @1" variants carry the uint64 wrap-around 2^64 − 1, which JSON.parse rounds to an
 * unsafe number — rejected as out of range, as the vectors expect.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { testdata } from '../../test-support/paths.js';
import { MerkleProofError, rootFromInclusionProof, verifyConsistency, verifyInclusion } from './rfc9162.js';
import {
  rootFromSubtreeInclusionProof,
  verifySubtreeConsistency,
  verifySubtreeInclusion,
} from './subtree.js';

const ROOT = testdata('merkle-rfc6962', 'testdata');
const FOLDERS = ['inclusion', 'consistency', 'subtreeinclusion', 'subtreeconsistency'] as const;
type Folder = (typeof FOLDERS)[number];

/** Strict standard base64: must re-encode to the same text, so Buffer's leniency cannot hide a typo. */
function b64(s: unknown, what: string): Uint8Array {
  assert.equal(typeof s, 'string', `${what} must be a base64 string`);
  const bytes = Buffer.from(s as string, 'base64');
  assert.equal(bytes.toString('base64'), s, `${what} is not canonical base64`);
  return new Uint8Array(bytes);
}

function proofOf(p: unknown): Uint8Array[] {
  if (p === null) return [];
  assert.ok(Array.isArray(p), 'proof must be an array or null');
  return p.map((h, i) => b64(h, `proof[${i}]`));
}

function num(v: unknown, what: string): number {
  assert.equal(typeof v, 'number', `${what} must be a JSON number`);
  return v as number;
}

function listFiles(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const p = join(dir, name);
      return statSync(p).isDirectory() ? listFiles(p) : [p];
    });
}

const FIELDS: Record<Folder, string[]> = {
  inclusion: ['desc', 'leafHash', 'leafIdx', 'proof', 'root', 'treeSize', 'wantErr'],
  consistency: ['desc', 'proof', 'root1', 'root2', 'size1', 'size2', 'wantErr'],
  subtreeinclusion: ['desc', 'end', 'leafHash', 'leafIdx', 'proof', 'root', 'start', 'wantErr'],
  subtreeconsistency: ['desc', 'end', 'proof', 'root1', 'root2', 'size', 'start', 'wantErr'],
};

/** Runs one vector through the matching verifier; throws whatever the verifier throws. */
function run(folder: Folder, v: Record<string, unknown>): void {
  const proof = proofOf(v['proof']);
  switch (folder) {
    case 'inclusion': {
      const [index, size] = [num(v['leafIdx'], 'leafIdx'), num(v['treeSize'], 'treeSize')];
      const [leaf, root] = [b64(v['leafHash'], 'leafHash'), b64(v['root'], 'root')];
      verifyInclusion(index, size, leaf, proof, root);
      assert.deepEqual(rootFromInclusionProof(index, size, leaf, proof), root);
      return;
    }
    case 'consistency':
      verifyConsistency(
        num(v['size1'], 'size1'),
        num(v['size2'], 'size2'),
        proof,
        b64(v['root1'], 'root1'),
        b64(v['root2'], 'root2'),
      );
      return;
    case 'subtreeinclusion': {
      const [index, start, end] = [
        num(v['leafIdx'], 'leafIdx'),
        num(v['start'], 'start'),
        num(v['end'], 'end'),
      ];
      const [leaf, root] = [b64(v['leafHash'], 'leafHash'), b64(v['root'], 'root')];
      verifySubtreeInclusion(index, start, end, leaf, proof, root);
      assert.deepEqual(rootFromSubtreeInclusionProof(index, start, end, leaf, proof), root);
      return;
    }
    case 'subtreeconsistency':
      verifySubtreeConsistency(
        num(v['start'], 'start'),
        num(v['end'], 'end'),
        num(v['size'], 'size'),
        proof,
        b64(v['root1'], 'root1'),
        b64(v['root2'], 'root2'),
      );
      return;
  }
}

const files = new Map<Folder, string[]>(FOLDERS.map((f) => [f, listFiles(join(ROOT, f))]));
const allFiles = listFiles(ROOT);
const exercised = new Map<Folder, number>(FOLDERS.map((f) => [f, 0]));
const passed = new Map<Folder, number>(FOLDERS.map((f) => [f, 0]));

for (const folder of FOLDERS) {
  describe(`transparency-dev/merkle vectors: ${folder}`, () => {
    for (const file of files.get(folder)!) {
      const name = relative(ROOT, file);
      test(name, () => {
        exercised.set(folder, exercised.get(folder)! + 1);
        assert.ok(name.endsWith('.json'), `unexpected non-JSON vector file ${name}`);
        const v = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
        assert.deepEqual(Object.keys(v).sort(), FIELDS[folder], 'unexpected vector fields');
        assert.equal(typeof v['wantErr'], 'boolean');
        // Numbers JSON.parse could not represent exactly may only appear in must-fail vectors.
        for (const k of ['leafIdx', 'treeSize', 'size1', 'size2', 'start', 'end', 'size']) {
          if (k in v && !Number.isSafeInteger(v[k]))
            assert.equal(v['wantErr'], true, `${k} is not a safe integer`);
        }
        if (v['wantErr'] === true) {
          assert.throws(
            () => run(folder, v),
            (e: unknown) => e instanceof MerkleProofError && typeof e.code === 'string',
            `${String(v['desc'])}: must be rejected with a MerkleProofError`,
          );
        } else {
          run(folder, v);
        }
        passed.set(folder, passed.get(folder)! + 1);
      });
    }
  });
}

test('every vector file found was exercised and passed (no folder silently skipped)', () => {
  let total = 0;
  for (const folder of FOLDERS) {
    const found = files.get(folder)!.length;
    assert.ok(found > 0, `${folder}: no vector files found`);
    assert.equal(exercised.get(folder), found, `${folder}: exercised ${exercised.get(folder)} of ${found}`);
    assert.equal(passed.get(folder), found, `${folder}: passed ${passed.get(folder)} of ${found}`);
    total += found;
  }
  assert.equal(total, allFiles.length, 'vector files outside the four known folders');
  console.log(`vectors passed: ${FOLDERS.map((f) => `${f}=${passed.get(f)}`).join(', ')}, total=${total}`);
});
