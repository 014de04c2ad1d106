/** The erasure reaction: requests committed while the node was down are carried out when it starts. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HealthKeys } from '../contracts/model.js';
import { eraseOnRequest } from './erasure.js';
import type { RecordVault } from './vault.js';

test('at start, every patient the vault still holds whose erasure was requested is erased', async () => {
  const erased: string[] = [];
  const requested = new Set([HealthKeys.erasure('st-mary/p-gone')]);
  let subscribed = false;
  const stop = eraseOnRequest(
    {
      onBlock: () => {
        subscribed = true;
        return () => {};
      },
      getState: (k) => (requested.has(k) ? '{}' : undefined),
    },
    {
      vault: { patients: () => ['st-mary/p-gone', 'st-mary/p-kept'] } as unknown as RecordVault,
      erase: async (p) => {
        erased.push(p);
        return { records: 1, txId: 'x' };
      },
    },
    () => {},
  );
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(erased, ['st-mary/p-gone']);
  assert.ok(subscribed, 'and it goes on reacting to new requests');
  stop();
});
