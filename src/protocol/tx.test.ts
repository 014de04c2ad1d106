/** HealthLedger's own envelope vectors (vectors/transactions-v1.json) and envelope decoding rules. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../test-support/paths.js';
import { fromHex, toHex, utf8 } from './bytes.js';
import { blockHash, logLeafBytes, logLeafHash, type BlockHeader, type LogLeaf } from './block.js';
import { verify } from './ed25519.js';
import { fromBase64Url } from './bytes.js';
import { canonicalize } from './jcs.js';
import { leafHash } from './merkle/index.js';
import { decodeRawTx, decodeTx, isDecodeFailure, signTx, txIdOf, txSigningBytes, type TxBody } from './tx.js';

interface Vectors {
  privateKeySeed: string;
  publicKey: string;
  vectors: {
    name: string;
    body: TxBody;
    canonicalBody: string;
    signingBytesHex: string;
    txId: string;
    sig: string;
    leafHash: string;
  }[];
  blockHeader: { header: BlockHeader; hash: string };
}
const V = JSON.parse(readFileSync(join(repoRoot, 'vectors', 'transactions-v1.json'), 'utf8')) as Vectors;

for (const v of V.vectors) {
  test(`vector: ${v.name}`, () => {
    assert.equal(canonicalize(v.body), v.canonicalBody);
    assert.equal(toHex(txSigningBytes(v.body)), v.signingBytesHex);
    assert.equal(txIdOf(v.body), v.txId);
    assert.equal(signTx(v.body, fromHex(V.privateKeySeed)).sig, v.sig);
    assert.ok(verify(fromBase64Url(v.sig), fromHex(v.signingBytesHex), fromBase64Url(V.publicKey)));
    const leaf = logLeafBytes({ v: 1, txId: v.txId, sig: v.sig, height: 1, index: 0, code: 'VALID' });
    assert.equal(toHex(leafHash(leaf)), v.leafHash);
    const d = decodeRawTx(canonicalize({ body: v.body, sig: v.sig }), 65536);
    assert.ok(!isDecodeFailure(d) && d.txId === v.txId);
  });
}

test('vector: block header hash', () => {
  assert.equal(blockHash(V.blockHeader.header), V.blockHeader.hash);
});

test('decodeTx rejects malformed envelopes by name', () => {
  const good = { body: V.vectors[0]!.body, sig: V.vectors[0]!.sig };
  const bad: [string, unknown][] = [
    ['not an object', 'x'],
    ['extra top-level field', { ...good, x: 1 }],
    ['missing body field', { ...good, body: { ...good.body, nonce: undefined } }],
    ['extra body field', { ...good, body: { ...good.body, extra: 1 } }],
    ['version 2', { ...good, body: { ...good.body, v: 2 } }],
    ['fractional timestamp', { ...good, body: { ...good.body, timestampMs: 1.5 } }],
    ['negative timestamp', { ...good, body: { ...good.body, timestampMs: -1 } }],
    ['short nonce', { ...good, body: { ...good.body, nonce: 'abc' } }],
    ['bad signer', { ...good, body: { ...good.body, signer: 'no-slash' } }],
    ['bad type', { ...good, body: { ...good.body, type: 'Anchor' } }],
    ['payload array', { ...good, body: { ...good.body, payload: [] } }],
    ['sig wrong length', { ...good, sig: good.sig.slice(1) }],
    ['non-finite number in payload', { ...good, body: { ...good.body, payload: { x: Infinity } } }],
  ];
  for (const [name, input] of bad) {
    const r = decodeTx(input, 65536);
    assert.ok(isDecodeFailure(r) && r.code === 'MALFORMED_TX', name);
  }
  assert.ok(!isDecodeFailure(decodeTx(good, 65536)));
  const tooBig = decodeTx(good, 100);
  assert.ok(isDecodeFailure(tooBig) && tooBig.code === 'TX_TOO_LARGE');
  const spaced = decodeRawTx(JSON.stringify(good, null, 1), 65536);
  assert.ok(isDecodeFailure(spaced) && /canonical/.test(spaced.reason));
});

/** Leaves for vector `v`: the fast shape at both ends of its ranges, and one it does not cover. */
function leafCases(v: Vectors['vectors'][number]): LogLeaf[] {
  return [
    { v: 1, txId: v.txId, sig: v.sig, height: 1, index: 0, code: 'VALID' },
    { v: 1, txId: v.txId, sig: '', height: Number.MAX_SAFE_INTEGER, index: 1999, code: 'DUPLICATE_TX' },
    // Not the fast shape (a character JCS must escape): the generic encoder decides.
    { v: 1, txId: v.txId, sig: 'a"b', height: 3, index: 4, code: 'VALID' },
  ];
}

test('the fast log-leaf encoding equals the generic JCS encoding', async () => {
  const { canonicalBytes } = await import('./jcs.js');
  const { Domain, domainSeparated } = await import('./hash.js');
  for (const v of V.vectors)
    for (const leaf of leafCases(v))
      assert.deepEqual(logLeafBytes(leaf), domainSeparated(Domain.logLeaf, canonicalBytes(leaf)));
});

test('logLeafHash equals the RFC 9162 leaf hash of logLeafBytes, on the fast path and off it', () => {
  for (const v of V.vectors) {
    for (const leaf of leafCases(v))
      assert.deepEqual(new Uint8Array(logLeafHash(leaf)), leafHash(logLeafBytes(leaf)));
    assert.equal(toHex(logLeafHash(leafCases(v)[0]!)), v.leafHash);
  }
});

test('decodeTx: encodedLength is the UTF-8 length of the encoding, with multi-byte payloads', () => {
  const good = signTx(
    { ...V.vectors[0]!.body, payload: { note: 'é中😀', key: '\u0000"' } },
    fromHex(V.privateKeySeed),
  );
  const d = decodeTx(good, 65536);
  assert.ok(!isDecodeFailure(d));
  assert.equal(d.encodedLength, utf8(d.encoded).length);
  assert.equal(d.txId, txIdOf(good.body));
  assert.deepEqual(d.signingBytes, txSigningBytes(good.body));
  // The size limit applies to those bytes, not to UTF-16 code units.
  assert.ok(!isDecodeFailure(decodeTx(good, d.encodedLength)));
  const over = decodeTx(good, d.encodedLength - 1);
  assert.ok(isDecodeFailure(over) && over.code === 'TX_TOO_LARGE');
});
