/**
 * Blocks without patient events cost the event index no write: its stored height advances only
 * every IDLE_PERSIST_BLOCKS such blocks, or on close. After a crash it re-reads the blocks it had
 * not recorded and reaches the head again.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { Block } from '../../protocol/block.js';
import { EventIndex, type LedgerSource } from './event-index.js';

/** A ledger of `height` blocks with no transactions, growing on demand. */
function emptyLedger(): LedgerSource & { grow(n: number): void; reads: number } {
  const listeners = new Set<(b: Block) => void>();
  let height = 0;
  const block = (h: number): Block => ({
    header: {
      v: 1,
      chainId: 'test',
      height: h,
      prevHash: '0'.repeat(64),
      timestampMs: h,
      txCount: 0,
      logSize: 0,
      logRoot: '0'.repeat(64),
      stateRoot: '0'.repeat(64),
      proposer: 'n1',
    },
    hash: h.toString(16).padStart(64, '0'),
    signature: '',
    txs: [],
    codes: [],
  });
  const source = {
    genesis: { hash: 'g'.repeat(64) },
    reads: 0,
    chainHead: () => ({ height }),
    getBlock: (h: number) => {
      source.reads++;
      return h >= 1 && h <= height ? block(h) : undefined;
    },
    onBlock: (l: (b: Block) => void) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    getState: () => undefined,
    grow(n: number) {
      for (let i = 0; i < n; i++) {
        height++;
        for (const l of listeners) l(block(height));
      }
    },
  };
  return source;
}

const storedHeight = (path: string): number => {
  const db = new Database(path, { readonly: true });
  try {
    const row = db.prepare("SELECT value FROM meta WHERE key = 'height'").get() as
      { value: string } | undefined;
    return Number(row?.value ?? 0);
  } finally {
    db.close();
  }
};

test('event-less blocks: no write per block, a bounded re-read after a crash, the height stored on close', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'hl-events-'));
  const path = join(dir, 'events.sqlite');
  try {
    const ledger = emptyLedger();
    const crashed = await EventIndex.open(path, ledger);
    ledger.grow(100);
    await crashed.waitForHeight(100);
    assert.equal(crashed.indexedHeight, 100);
    assert.equal(storedHeight(path), 0, 'no write for 100 event-less blocks');
    ledger.grow(200);
    await crashed.waitForHeight(300);
    const stored = storedHeight(path);
    assert.ok(stored >= 256 && stored <= 300, `stored height ${stored} after 300 blocks`);
    // "Crash": a second index opens the same file without the first being closed.
    const reads = ledger.reads;
    const reopened = await EventIndex.open(path, ledger);
    assert.equal(reopened.indexedHeight, 300);
    assert.equal(ledger.reads - reads, 300 - stored, 'only the unrecorded blocks are read again');
    reopened.close();
    assert.equal(storedHeight(path), 300, 'close stores the height');
    crashed.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
