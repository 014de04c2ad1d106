/** The ledger store's connection settings: what durability and write volume rely on. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LedgerStore, STATE_KEY_SCAN_CHUNK, WAL_CHECKPOINT_PAGES } from './ledger-store.js';

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

test('the state-key filter: built in chunks without blocking, complete before it answers, never hides a key written meanwhile', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'hl-store-'));
  try {
    const store = LedgerStore.open(join(dir, 'ledger.sqlite'));
    const insert = store.db.prepare('INSERT INTO state (key, value) VALUES (?, ?)');
    const n = STATE_KEY_SCAN_CHUNK * 3 + 7;
    store.db.transaction(() => {
      for (let i = 0; i < n; i++) insert.run(`k/${String(i).padStart(6, '0')}`, `v${i}`);
    })();
    store.trackStateKeys();
    assert.equal(store.stateKeyFilterComplete, false, 'one chunk at once, the rest later');
    // Reads before completion go to SQLite.
    assert.equal(store.getState(`k/${String(n - 1).padStart(6, '0')}`), `v${n - 1}`);
    // Written while the scan runs (as the writer thread would, after the node noted the keys):
    // one behind the scan's position, one ahead of it.
    for (const key of ['a/behind', 'z/ahead']) {
      store.noteStateWrites([[key, 'x']]);
      insert.run(key, 'x');
    }
    while (!store.stateKeyFilterComplete) await new Promise((r) => setImmediate(r));
    for (let i = 0; i < n; i += 997) assert.equal(store.getState(`k/${String(i).padStart(6, '0')}`), `v${i}`);
    assert.equal(store.getState('a/behind'), 'x');
    assert.equal(store.getState('z/ahead'), 'x');
    assert.equal(store.getState('k/absent'), undefined);
    store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
