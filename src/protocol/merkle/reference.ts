/**
 * Deliberately naive reference implementation, transcribed from the recursive definitions of
 * RFC 9162 §2.1.1 (MTH), §2.1.3.1 (PATH) and §2.1.4.1 (PROOF / SUBPROOF), plus the same recursion
 * generalised to subtrees. Quadratic and allocation-heavy: it exists only so tests can cross-check
 * the fast code. Not re-exported from `index.ts`; do not use in production paths.
 * @module
 */
import { sha256 } from '../hash.js';
import type { Sha256 } from '../hash.js';
import { leafHash, nodeHash } from './rfc9162.js';

/** The largest power of two strictly smaller than `n` (n > 1): RFC 9162's `k`, with k < n ≤ 2k. */
export function splitPoint(n: number): number {
  if (n < 2) throw new RangeError(`no split point for n = ${n}`);
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/**
 * Memo for {@link referenceMth}: hash function → first entry (by identity) → length → MTH. The
 * recursion slices one entry list over and over, so the same sub-ranges recur; memoising them
 * changes no result, only the cost. Entries must not be mutated after being hashed.
 */
const mthMemo = new WeakMap<Sha256, WeakMap<Uint8Array, Map<number, Uint8Array>>>();

/**
 * RFC 9162 §2.1.1 Merkle Tree Hash of the entries `D[n]`:
 * `MTH({}) = SHA-256()`, `MTH({d0}) = SHA-256(0x00 || d0)`,
 * `MTH(D[n]) = SHA-256(0x01 || MTH(D[0:k]) || MTH(D[k:n]))`. The result is shared: do not mutate it.
 * @example referenceMth([utf8('a'), utf8('b')])
 */
export function referenceMth(entries: readonly Uint8Array[], hash: Sha256 = sha256): Uint8Array {
  const n = entries.length;
  if (n === 0) return new Uint8Array(hash(new Uint8Array(0)));
  let byFirst = mthMemo.get(hash);
  if (!byFirst) mthMemo.set(hash, (byFirst = new WeakMap()));
  let byLength = byFirst.get(entries[0]!);
  if (!byLength) byFirst.set(entries[0]!, (byLength = new Map()));
  const known = byLength.get(n);
  if (known) return known;
  let h: Uint8Array;
  if (n === 1) {
    h = leafHash(entries[0]!, hash);
  } else {
    const k = splitPoint(n);
    h = nodeHash(referenceMth(entries.slice(0, k), hash), referenceMth(entries.slice(k), hash), hash);
  }
  byLength.set(n, h);
  return h;
}

/**
 * RFC 9162 §2.1.3.1 `PATH(m, D[n])`, the inclusion proof of entry `m`:
 * `PATH(0, {d0}) = {}`; for m < k `PATH(m, D[0:k]) : MTH(D[k:n])`, else `PATH(m − k, D[k:n]) : MTH(D[0:k])`.
 */
export function referencePath(
  m: number,
  entries: readonly Uint8Array[],
  hash: Sha256 = sha256,
): Uint8Array[] {
  const n = entries.length;
  if (m < 0 || m >= n) throw new RangeError(`PATH(${m}) outside ${n} entries`);
  if (n === 1) return [];
  const k = splitPoint(n);
  if (m < k) return [...referencePath(m, entries.slice(0, k), hash), referenceMth(entries.slice(k), hash)];
  return [...referencePath(m - k, entries.slice(k), hash), referenceMth(entries.slice(0, k), hash)];
}

/**
 * RFC 9162 §2.1.4.1 `SUBPROOF(m, D[n], b)`:
 * `SUBPROOF(m, D[m], true) = {}`, `SUBPROOF(m, D[m], false) = {MTH(D[m])}`; for m ≤ k
 * `SUBPROOF(m, D[0:k], b) : MTH(D[k:n])`, else `SUBPROOF(m − k, D[k:n], false) : MTH(D[0:k])`.
 */
export function referenceSubproof(
  m: number,
  entries: readonly Uint8Array[],
  b: boolean,
  hash: Sha256 = sha256,
): Uint8Array[] {
  const n = entries.length;
  if (m < 1 || m > n) throw new RangeError(`SUBPROOF(${m}) outside ${n} entries`);
  if (m === n) return b ? [] : [referenceMth(entries, hash)];
  const k = splitPoint(n);
  if (m <= k)
    return [...referenceSubproof(m, entries.slice(0, k), b, hash), referenceMth(entries.slice(k), hash)];
  return [
    ...referenceSubproof(m - k, entries.slice(k), false, hash),
    referenceMth(entries.slice(0, k), hash),
  ];
}

/** RFC 9162 §2.1.4.1 `PROOF(m, D[n]) = SUBPROOF(m, D[n], true)`, the consistency proof from size m. */
export function referenceProof(
  m: number,
  entries: readonly Uint8Array[],
  hash: Sha256 = sha256,
): Uint8Array[] {
  return referenceSubproof(m, entries, true, hash);
}

/** Subtree inclusion proof: `PATH(index − start, D[start:end])`. */
export function referenceSubtreeInclusionProof(
  index: number,
  start: number,
  end: number,
  entries: readonly Uint8Array[],
  hash: Sha256 = sha256,
): Uint8Array[] {
  return referencePath(index - start, entries.slice(start, end), hash);
}

/**
 * Subtree consistency proof of `[start, end)` in `D[n]`, the SUBPROOF recursion generalised to a
 * subtree (start = 0 gives `PROOF(end, D[n])`); `{}` for the empty subtree. Requires a valid subtree.
 */
export function referenceSubtreeConsistencyProof(
  start: number,
  end: number,
  entries: readonly Uint8Array[],
  hash: Sha256 = sha256,
): Uint8Array[] {
  if (start === end) return [];
  const sub = (s: number, e: number, d: readonly Uint8Array[], b: boolean): Uint8Array[] => {
    const n = d.length;
    if (s === 0 && e === n) return b ? [] : [referenceMth(d, hash)];
    const k = splitPoint(n);
    if (e <= k) return [...sub(s, e, d.slice(0, k), b), referenceMth(d.slice(k), hash)];
    if (s >= k) return [...sub(s - k, e - k, d.slice(k), b), referenceMth(d.slice(0, k), hash)];
    if (s !== 0) throw new RangeError(`[${start}, ${end}) is not a subtree`);
    return [...sub(0, e - k, d.slice(k), false), referenceMth(d.slice(0, k), hash)];
  };
  return sub(start, end, entries, true);
}
