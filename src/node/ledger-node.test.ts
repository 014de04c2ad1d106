import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { toBase64Url } from '../protocol/bytes.js';
import { generateKeyPair } from '../protocol/ed25519.js';
import { HealthLedgerError } from '../protocol/errors.js';
import { consortium, T0, tx, type TestMember } from '../test-support/ledger-fixture.js';
import { nativeSigner } from './crypto/native.js';
import { VerifyPool } from './crypto/verify-pool.js';
import { LedgerNode, type SubmitResult } from './ledger-node.js';
import { EmbeddedOrderer } from './ordering/embedded.js';
import type { BatchHandler, Orderer } from './ordering/orderer.js';
import { LedgerStore } from './store/ledger-store.js';
import { WorkerBlockWriter } from './store/block-writer.js';
import type { SignedTx } from '../protocol/tx.js';

/** An orderer under the test's control: holds what it is given until `release()`, or refuses it. */
class HeldOrderer implements Orderer {
  private held: string[] = [];
  private onBatch: BatchHandler | null = null;
  private seq = 0;
  private lastTimestampMs = 0;
  refuse: HealthLedgerError | null = null;
  async broadcast(txs: readonly string[]): Promise<void> {
    if (this.refuse) throw this.refuse;
    this.held.push(...txs);
  }
  start(nextSeq: number, lastTimestampMs: number, onBatch: BatchHandler): void {
    this.seq = nextSeq;
    this.lastTimestampMs = lastTimestampMs;
    this.onBatch = onBatch;
  }
  async release(): Promise<void> {
    const txs = this.held;
    this.held = [];
    this.lastTimestampMs = Math.max(this.lastTimestampMs, T0 + 1000);
    await this.onBatch!({ seq: this.seq++, timestampMs: this.lastTimestampMs, txs });
  }
  async stop(): Promise<void> {}
}

/** Real time from T0 + 1 s: the embedded orderer cuts blocks by the injected clock. */
function movingClock(): { now: () => number } {
  const started = Date.now();
  return { now: () => T0 + 1000 + (Date.now() - started) };
}

/** A one-organization consortium whose node key the test holds. */
function oneOrg(): { c: ReturnType<typeof consortium>; nodeKey: ReturnType<typeof generateKeyPair> } {
  const c = consortium(['org1']);
  const nodeKey = generateKeyPair();
  c.genesis.orgs[0]!.nodes[0]!.publicKey = toBase64Url(nodeKey.publicKey);
  return { c, nodeKey };
}

/** Starts org1's node on `store` (the node closes `verifier` and `writer` when it stops). */
function startNode(
  { c, nodeKey }: ReturnType<typeof oneOrg>,
  parts: { store: LedgerStore; orderer: Orderer; verifier: VerifyPool; writer?: WorkerBlockWriter },
): LedgerNode {
  return LedgerNode.start({
    store: parts.store,
    genesis: c.genesis,
    nodeId: 'org1-n1',
    sign: nativeSigner(nodeKey.privateKey),
    orderer: parts.orderer,
    verifier: parts.verifier,
    clock: movingClock(),
    ...(parts.writer === undefined ? {} : { writer: parts.writer }),
  });
}

async function withNode(
  orderer: Orderer,
  run: (node: LedgerNode, admin: TestMember) => Promise<void>,
): Promise<void> {
  const org = oneOrg();
  const dir = mkdtempSync(join(tmpdir(), 'hl-node-'));
  const store = LedgerStore.open(join(dir, 'ledger.sqlite'));
  const node = startNode(org, { store, orderer, verifier: await VerifyPool.create({ threads: 1 }) });
  try {
    await run(node, org.c.admin('org1'));
  } finally {
    await node.stop(); // closes the verifier
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const anchors = (admin: TestMember, from: number, n: number) =>
  Array.from({ length: n }, (_, i) =>
    tx(admin, 'anchor.put', { key: `doc-${from + i}`, commitment: 'ab'.repeat(32) }),
  );

const codes = (results: SubmitResult[]) =>
  results.map((r) => (r.status === 'rejected' ? r.error.code : r.status));

test('submit with wait: every transaction of a batch is answered committed, with its own position', async () => {
  await withNode(
    new EmbeddedOrderer({ maxBlockTxs: 100, blockTimeoutMs: 5, clock: movingClock() }),
    async (node, admin) => {
      const txs = anchors(admin, 0, 250);
      const results = await node.submit([...txs, txs[0]], { wait: true, timeoutMs: 10_000 });
      assert.deepEqual(codes(results), [...Array(250).fill('committed'), 'DUPLICATE_TX']);
      const seqs = results.slice(0, 250).map((r) => (r.status === 'committed' ? r.commitment.seq : -1));
      assert.equal(new Set(seqs).size, 250, 'each transaction has its own log position');
      for (const r of results.slice(0, 250))
        assert.equal(r.status === 'committed' && r.commitment.code, 'VALID');
    },
  );
});

test('submit with wait: transactions not committed in time are answered COMMIT_TIMEOUT, and a later commit changes nothing already returned', async () => {
  const orderer = new HeldOrderer();
  await withNode(orderer, async (node, admin) => {
    const started = Date.now();
    const txs = anchors(admin, 0, 20);
    const results = await node.submit(txs, { wait: true, timeoutMs: 100 });
    assert.ok(Date.now() - started >= 90, 'waited for the timeout');
    assert.deepEqual(codes(results), Array(20).fill('COMMIT_TIMEOUT'));
    const snapshot = JSON.stringify(codes(results));
    await orderer.release(); // the transactions do commit afterwards
    assert.equal(JSON.stringify(codes(results)), snapshot, 'results returned are final');
    assert.equal(node.chainHead().height, 1);
    // Their ids are spent: a resubmission is a replay.
    await new Promise((r) => setTimeout(r, 20)); // durable (the writer answers asynchronously)
    assert.deepEqual(node.getBlock(1)?.codes, Array(20).fill('VALID'));
    const again = await node.submit([txs[0]], { wait: false, timeoutMs: 100 });
    assert.deepEqual(codes(again), ['DUPLICATE_TX']);
  });
});

test('submit with wait: a part committed in time, the rest timed out — each answered for itself', async () => {
  const orderer = new HeldOrderer();
  await withNode(orderer, async (node, admin) => {
    const first = node.submit(anchors(admin, 0, 5), { wait: true, timeoutMs: 5_000 });
    await new Promise((r) => setTimeout(r, 20));
    await orderer.release();
    assert.deepEqual(codes(await first), Array(5).fill('committed'));
    const second = await node.submit(anchors(admin, 5, 3), { wait: true, timeoutMs: 50 });
    assert.deepEqual(codes(second), Array(3).fill('COMMIT_TIMEOUT'));
  });
});

test('orderer refusal: every accepted transaction is answered with its reason, with or without wait, and can be resubmitted', async () => {
  const orderer = new HeldOrderer();
  await withNode(orderer, async (node, admin) => {
    orderer.refuse = new HealthLedgerError('OVERLOADED');
    const txs = anchors(admin, 0, 4);
    for (const wait of [true, false]) {
      const results = await node.submit(txs, { wait, timeoutMs: 5_000 });
      assert.deepEqual(codes(results), Array(4).fill('OVERLOADED'), `wait=${wait}`);
    }
    orderer.refuse = null;
    const accepted = await node.submit(txs, { wait: false, timeoutMs: 5_000 });
    assert.deepEqual(codes(accepted), Array(4).fill('accepted'), 'nothing was left pending');
  });
});

test('state written by blocks committed on the writer thread is read by later blocks and after a restart (the state-key filter never hides a key)', async () => {
  const org = oneOrg();
  const admin = org.c.admin('org1');
  const dir = mkdtempSync(join(tmpdir(), 'hl-node-'));
  const path = join(dir, 'ledger.sqlite');
  // Each update names the version it expects: a read that missed the previous write fails it.
  const put = (version: number): SignedTx =>
    tx(admin, 'anchor.put', { key: 'doc-x', commitment: 'ab'.repeat(32), expectedVersion: version });
  const run = async (versions: number[]): Promise<void> => {
    const store = LedgerStore.open(path);
    LedgerNode.prepareStore(store, org.c.genesis);
    const node = startNode(org, {
      store,
      orderer: new EmbeddedOrderer({ maxBlockTxs: 10, blockTimeoutMs: 1, clock: movingClock() }),
      verifier: await VerifyPool.create({ threads: 1 }),
      writer: await WorkerBlockWriter.open(path),
    });
    try {
      for (const v of versions) {
        const [r] = await node.submit([put(v)], { wait: true, timeoutMs: 5_000 });
        assert.equal(
          r?.status === 'committed' && r.commitment.code,
          'VALID',
          `update expecting version ${v}`,
        );
      }
      // Two updates in the same block: the second reads the first from the block's own writes.
      const results = await node.submit([put(versions.at(-1)! + 1), put(versions.at(-1)! + 2)], {
        wait: true,
        timeoutMs: 5_000,
      });
      assert.deepEqual(
        results.map((r) => r.status === 'committed' && r.commitment.code),
        ['VALID', 'VALID'],
      );
    } finally {
      await node.stop(); // closes the writer and the verifier
      store.close();
    }
  };
  try {
    await run([0, 1, 2]);
    await run([5, 6]); // reopened: the filter is rebuilt from the table
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('committed blocks reach the database file through the checkpointer thread while the node runs (no commit stops to copy the WAL)', async () => {
  const org = oneOrg();
  const admin = org.c.admin('org1');
  const dir = mkdtempSync(join(tmpdir(), 'hl-node-'));
  const path = join(dir, 'ledger.sqlite');
  const store = LedgerStore.open(path);
  LedgerNode.prepareStore(store, org.c.genesis);
  store.db.pragma('wal_checkpoint(TRUNCATE)'); // the file holds genesis; the WAL is empty
  const before = statSync(path).size;
  const node = startNode(org, {
    store,
    orderer: new EmbeddedOrderer({ maxBlockTxs: 50, blockTimeoutMs: 1, clock: movingClock() }),
    verifier: await VerifyPool.create({ threads: 1 }),
    writer: await WorkerBlockWriter.open(path, { checkpointIntervalMs: 20 }),
  });
  try {
    const results = await node.submit(anchors(admin, 0, 400), { wait: true, timeoutMs: 10_000 });
    assert.ok(results.every((r) => r.status === 'committed' && r.commitment.code === 'VALID'));
    // The writer's own automatic checkpoint would wait for 32,768 WAL pages: only the
    // checkpointer thread copies these few hundred into the file before the node stops.
    const deadline = Date.now() + 5_000;
    while (statSync(path).size <= before && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    assert.ok(statSync(path).size > before, 'the database file grew while the node ran');
  } finally {
    await node.stop();
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
