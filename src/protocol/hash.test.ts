/** The native shortcuts in hash.ts give exactly the bytes of the reference composition. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { toHex, utf8 } from './bytes.js';
import { Domain, domainSeparated, domainSeparatedText, sha256Hex, sha256Js, sha256Text } from './hash.js';

/** Random text mixing ASCII, 2- and 3-byte characters, astral pairs and lone surrogates. */
function randomText(length: number, seed: number): string {
  let x = seed;
  const next = (): number => (x = (Math.imul(x, 1103515245) + 12345) >>> 0);
  const pool = ['a', '"', '\\', 'é', '中', '😀', '\ud800', '\udc00', '\u0000', '~'];
  let s = '';
  while (s.length < length) s += pool[next() % pool.length];
  return s;
}

const texts = [
  '',
  'abc',
  '{"a":1}',
  ...Array.from({ length: 40 }, (_, i) => randomText(i * 7, i + 1)),
  randomText(5000, 99), // longer than the reused space: it grows
  randomText(20_000, 7),
];

test('sha256Hex and sha256Text equal the pure-JS SHA-256 of the UTF-8 bytes', () => {
  for (const t of texts) {
    const want = sha256Js(utf8(t));
    assert.equal(sha256Hex(utf8(t)), toHex(want));
    assert.deepEqual(new Uint8Array(sha256Text(t)), want);
  }
  // FIPS 180-2 "abc".
  assert.equal(sha256Hex(utf8('abc')), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
});

test('domainSeparatedText equals domainSeparated over the UTF-8 bytes, and results never share memory', () => {
  const results: [Uint8Array, Uint8Array][] = [];
  for (const t of texts) {
    const got = domainSeparatedText(Domain.transaction, t);
    const want = domainSeparated(Domain.transaction, utf8(t));
    assert.deepEqual(got, want);
    results.push([got, want]);
  }
  // Later calls reuse the encoding space: earlier results must be unaffected.
  for (const [got, want] of results) assert.deepEqual(got, want);
});
