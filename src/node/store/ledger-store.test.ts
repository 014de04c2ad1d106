/** The ledger store's connection settings: what durability and write volume rely on. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LedgerStore, WAL_CHECKPOINT_PAGES } from './ledger-store.js';

test('every open sets WAL, synchronous=FULL and the ledger checkpoint interval (read-only opens leave checkpoints alone)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hl-store-'));
  try {
    const path = join(dir, 'ledger.sqlite');
    for (let i = 0; i < 2; i++) {
      const store = LedgerStore.open(path);
      assert.equal(store.db.pragma('journal_mode', { simple: true }), 'wal');
      assert.equal(store.db.pragma('synchronous', { simple: true }), 2, 'FULL');
      assert.equal(store.db.pragma('wal_autocheckpoint', { simple: true }), WAL_CHECKPOINT_PAGES);
      store.close();
    }
    const reader = LedgerStore.open(path, { readonly: true });
    assert.equal(reader.db.pragma('synchronous', { simple: true }), 2, 'FULL');
    reader.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
