import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { unwrapKey, wrapKey, EnvelopeError } from '../../../protocol/envelope.js';
import { unwrapKeyNative, wrapKeyNative } from './native-wrap.js';

test('native and WebCrypto key wrapping interoperate; tampering fails', async () => {
  const kek = new Uint8Array(randomBytes(32));
  const key = new Uint8Array(randomBytes(32));
  const aad = new TextEncoder().encode('record|1|p');
  assert.deepEqual(await unwrapKey(kek, wrapKeyNative(kek, key, aad), aad), key);
  assert.deepEqual(unwrapKeyNative(kek, await wrapKey(kek, key, aad), aad), key);
  const w = wrapKeyNative(kek, key, aad);
  assert.throws(() => unwrapKeyNative(kek, w, new TextEncoder().encode('record|2|p')), EnvelopeError);
  assert.throws(() => unwrapKeyNative(new Uint8Array(randomBytes(32)), w, aad), EnvelopeError);
  const flipped = w[10] === 'A' ? 'B' : 'A';
  assert.throws(() => unwrapKeyNative(kek, w.slice(0, 10) + flipped + w.slice(11), aad), EnvelopeError);
});
