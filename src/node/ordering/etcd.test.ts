/**
 * The etcd ordering backend against real etcd clusters: batches appended by compare-and-swap on the
 * next sequence key from several nodes at once arrive at every node in one identical order, each
 * transaction exactly once; a tampered or inserted batch stops delivery with the reason; losing one
 * member of three changes nothing; losing the majority orders nothing until quorum returns; and a
 * real node orders through etcd, restarts and carries on.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { EtcdOrderer, batchHash, type StoredBatch } from './etcd.js';
import { EtcdClient, prefixEnd } from './etcd-client.js';
import type { OrderedBatch } from './orderer.js';
import { startEtcdCluster, type EtcdCluster } from '../../test-support/etcd.js';
import { startTestNetwork } from '../../test-support/harness.js';
import { homePaths, loadHome, writeJson } from '../home.js';
import { AttestationService, attestationsBetween, attest } from '../attestations.js';
import { layoutOf } from './etcd-keys.js';
import { consortium } from '../../test-support/ledger-fixture.js';
import { generateKeyPair } from '../../protocol/ed25519.js';
import { toBase64Url } from '../../protocol/bytes.js';
import { validateGenesis } from '../../protocol/genesis.js';
import type { Block, BlockHeader } from '../../protocol/block.js';
import { nativeSigner } from '../crypto/native.js';

const GENESIS = 'ab'.repeat(32);
const clock = { now: () => Date.now() };

/** Clients opened by tests, closed with their cluster. */
const clients: EtcdClient[] = [];
function etcdClient(endpoints: string[]): EtcdClient {
  const c = new EtcdClient(endpoints);
  clients.push(c);
  return c;
}
function closeClients(): void {
  for (const c of clients.splice(0)) c.close();
}

/** An `n`-member cluster for the enclosing suite, stopped after it with the clients its tests opened. */
function suiteCluster(n: number): EtcdCluster {
  let cluster: EtcdCluster | undefined;
  before(async () => {
    cluster = await startEtcdCluster(n);
  });
  after(async () => {
    closeClients();
    await cluster?.stop();
  });
  return {
    get endpoints() {
      return cluster!.endpoints;
    },
    get members() {
      return cluster!.members;
    },
    stop: () => cluster!.stop(),
  };
}

function orderer(endpoints: string[], nodeId: string, chainId = 'chain-a') {
  const delivered: OrderedBatch[] = [];
  let failed: string | null = null;
  const o = new EtcdOrderer({
    endpoints,
    chainId,
    genesisHash: GENESIS,
    nodeId,
    maxBlockTxs: 50,
    blockTimeoutMs: 5,
    clock,
    pollMs: 20,
    onFailure: (r) => (failed = r),
  });
  o.start(1, 0, async (b) => {
    delivered.push(b);
  });
  return {
    o,
    delivered,
    get failed() {
      return failed;
    },
  };
}

/** The stored text of batch `seq` as another node would append it, with one transaction `tx`. */
function foreignBatch(seq: number, prevHash: string, tx: string): string {
  return JSON.stringify({
    v: 1,
    seq,
    timestampMs: 1000 + seq,
    prevHash,
    appender: 'other',
    txs: [tx],
  } satisfies StoredBatch);
}

async function until(cond: () => boolean, ms = 15_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('etcd ordering (one member)', () => {
  const etcd = suiteCluster(1);

  test('three nodes append concurrently; every node delivers the same batches, each tx exactly once', async () => {
    const nodes = ['n1', 'n2', 'n3'].map((id) => orderer(etcd.endpoints, id));
    const sent = new Set<string>();
    for (let round = 0; round < 20; round++)
      await Promise.all(
        nodes.map((n, i) => {
          const txs = Array.from({ length: 7 }, (_, k) => `tx-${i}-${round}-${k}`);
          txs.forEach((t) => sent.add(t));
          return n.o.broadcast(txs);
        }),
      );
    const total = () => nodes.map((n) => n.delivered.reduce((s, b) => s + b.txs.length, 0));
    await until(() => total().every((t) => t === sent.size), 20_000, 'all txs delivered');
    const reference = JSON.stringify(nodes[0]!.delivered);
    for (const n of nodes)
      assert.equal(JSON.stringify(n.delivered), reference, 'identical order on every node');
    const seen = nodes[0]!.delivered.flatMap((b) => b.txs);
    assert.equal(new Set(seen).size, seen.length, 'no transaction twice');
    assert.deepEqual(new Set(seen), sent);
    assert.deepEqual(
      nodes[0]!.delivered.map((b) => b.seq),
      nodes[0]!.delivered.map((_, i) => i + 1),
      'sequence without gaps',
    );
    for (let i = 1; i < nodes[0]!.delivered.length; i++)
      assert.ok(nodes[0]!.delivered[i]!.timestampMs >= nodes[0]!.delivered[i - 1]!.timestampMs);
    await Promise.all(nodes.map((n) => n.o.stop()));
  });

  test('the head record is written with every batch; a garbled one costs appenders only retries', async () => {
    const client = etcdClient(etcd.endpoints);
    const root = `/healthledger/chain-h/${GENESIS.slice(0, 16)}/`;
    await client.put(`${root}head`, 'not json');
    const nodes = ['n1', 'n2'].map((id) => orderer(etcd.endpoints, id, 'chain-h'));
    const sent = new Set<string>();
    for (let round = 0; round < 10; round++)
      await Promise.all(
        nodes.map((n, i) => {
          const txs = [`h-${i}-${round}`];
          sent.add(txs[0]!);
          return n.o.broadcast(txs);
        }),
      );
    const count = (n: (typeof nodes)[number]) => n.delivered.reduce((s, b) => s + b.txs.length, 0);
    await until(() => nodes.every((n) => count(n) === sent.size), 20_000, 'all delivered');
    assert.equal(JSON.stringify(nodes[0]!.delivered), JSON.stringify(nodes[1]!.delivered));
    assert.ok(nodes.every((n) => n.failed === null));
    const batches = await client.range(`${root}batch/`, prefixEnd(`${root}batch/`));
    const last = batches.at(-1)!;
    const [head] = await client.range(`${root}head`, `${root}head\0`);
    assert.deepEqual(JSON.parse(head!.value), {
      seq: batches.length,
      hash: batchHash(last.value),
      timestampMs: (JSON.parse(last.value) as StoredBatch).timestampMs,
    });
    await Promise.all(nodes.map((n) => n.o.stop()));
  });

  test('a head record that ran ahead of the batches costs a retry, never a gap', async () => {
    const client = etcdClient(etcd.endpoints);
    const root = `/healthledger/chain-g/${GENESIS.slice(0, 16)}/`;
    const a = orderer(etcd.endpoints, 'n1', 'chain-g');
    await a.o.broadcast(['g1']);
    await until(() => a.delivered.length === 1);
    await a.o.stop();
    await client.put(`${root}head`, JSON.stringify({ seq: 1000, hash: 'ee'.repeat(32), timestampMs: 0 }));
    // A node that already applied batch 1 (it starts at 2, so it knows no tail yet) appends.
    const delivered: OrderedBatch[] = [];
    let failed: string | null = null;
    const b = new EtcdOrderer({
      endpoints: etcd.endpoints,
      chainId: 'chain-g',
      genesisHash: GENESIS,
      nodeId: 'n2',
      maxBlockTxs: 50,
      blockTimeoutMs: 5,
      clock,
      pollMs: 20,
      onFailure: (r) => (failed = r),
    });
    b.start(2, a.delivered[0]!.timestampMs, async (batch) => {
      delivered.push(batch);
    });
    try {
      await b.broadcast(['g2']);
      await until(() => delivered.length === 1 || failed !== null, 15_000, 'the second batch');
      assert.equal(failed, null);
      assert.deepEqual(delivered[0]?.txs, ['g2']);
      const batches = await client.range(`${root}batch/`, prefixEnd(`${root}batch/`));
      assert.deepEqual(
        batches.map((kv) => (JSON.parse(kv.value) as StoredBatch).seq),
        [1, 2],
        'appended as batch 2, not 1001',
      );
    } finally {
      await b.stop(); // also when an assertion failed: its watch would keep the process alive
    }
  });

  test('a tampered batch, or a batch that does not chain, stops delivery and says which', async () => {
    const client = etcdClient(etcd.endpoints);
    const a = orderer(etcd.endpoints, 'n1', 'chain-t');
    await a.o.broadcast(['t1', 't2']);
    await until(() => a.delivered.length === 1);
    await a.o.broadcast(['t3']);
    await until(() => a.delivered.length === 2);
    await a.o.stop();
    const prefix = `/healthledger/chain-t/${GENESIS.slice(0, 16)}/batch/`;
    const kvs = await client.range(prefix, prefixEnd(prefix));
    assert.equal(kvs.length, 2);
    // Insert batch 3 whose previous hash is wrong (a forged batch).
    const forged: StoredBatch = {
      v: 1,
      seq: 3,
      timestampMs: Date.now(),
      prevHash: batchHash(kvs[0]!.value),
      appender: 'mallory',
      txs: ['evil'],
    };
    assert.ok(await client.createIfAbsent(`${prefix}${'3'.padStart(16, '0')}`, JSON.stringify(forged)));
    const b = orderer(etcd.endpoints, 'n2', 'chain-t');
    await until(() => b.failed !== null);
    assert.equal(b.delivered.length, 2, 'the good batches are delivered, the forged one is not');
    assert.match(b.failed!, /batch 3 does not chain to batch 2/);
    await b.o.stop();
  });

  test('a forged batch that arrives on the watch while a node runs is refused the same way', async () => {
    const client = etcdClient(etcd.endpoints);
    const b = orderer(etcd.endpoints, 'n1', 'chain-w');
    await b.o.broadcast(['w1']);
    await until(() => b.delivered.length === 1);
    const prefix = `/healthledger/chain-w/${GENESIS.slice(0, 16)}/batch/`;
    const forged: StoredBatch = {
      v: 1,
      seq: 2,
      timestampMs: Date.now(),
      prevHash: 'cd'.repeat(32),
      appender: 'mallory',
      txs: ['evil'],
    };
    assert.ok(await client.createIfAbsent(`${prefix}${'2'.padStart(16, '0')}`, JSON.stringify(forged)));
    await until(() => b.failed !== null);
    assert.match(b.failed!, /batch 2 does not chain to batch 1/);
    assert.equal(b.delivered.length, 1);
    await b.o.stop();
  });

  test('a node that falls far behind (past what it holds from the watch) still delivers every batch in order', async () => {
    const client = etcdClient(etcd.endpoints);
    const prefix = `/healthledger/chain-lag/${GENESIS.slice(0, 16)}/batch/`;
    const delivered: OrderedBatch[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const o = new EtcdOrderer({
      endpoints: etcd.endpoints,
      chainId: 'chain-lag',
      genesisHash: GENESIS,
      nodeId: 'slow',
      maxBlockTxs: 50,
      blockTimeoutMs: 5,
      clock,
      pollMs: 20,
    });
    o.start(1, 0, async (b) => {
      await gate; // execution stalls on the first batch while the log grows
      delivered.push(b);
    });
    try {
      // 600 batches written by "other nodes" while this one is stuck: more than it holds ahead.
      let prevHash = GENESIS;
      const total = 600;
      for (let first = 1; first <= total; first += 100) {
        const pairs: [string, string][] = [];
        for (let seq = first; seq < first + 100; seq++) {
          const text = foreignBatch(seq, prevHash, `lag-${seq}`);
          pairs.push([`${prefix}${String(seq).padStart(16, '0')}`, text]);
          prevHash = batchHash(text);
        }
        assert.ok(await client.createAllIfAbsent(pairs));
      }
      release();
      await until(() => delivered.length === total, 20_000, 'every batch delivered');
      assert.deepEqual(
        delivered.map((b) => b.seq),
        delivered.map((_, i) => i + 1),
      );
      assert.deepEqual(
        delivered.map((b) => b.txs[0]),
        delivered.map((_, i) => `lag-${i + 1}`),
      );
      assert.equal(o.failure, null);
    } finally {
      release();
      await o.stop();
    }
  });

  test('with every watch event lost, a node still delivers every batch (it reads when a poll passes without a wake-up)', async () => {
    const client = etcdClient(etcd.endpoints);
    const prefix = `/healthledger/chain-deaf/${GENESIS.slice(0, 16)}/batch/`;
    const delivered: OrderedBatch[] = [];
    const o = new EtcdOrderer({
      endpoints: etcd.endpoints,
      chainId: 'chain-deaf',
      genesisHash: GENESIS,
      nodeId: 'deaf',
      maxBlockTxs: 50,
      blockTimeoutMs: 5,
      clock,
      pollMs: 20,
    });
    // A watch that never reports anything: not even that it started.
    (o as unknown as { client: EtcdClient }).client.watch = () => new Promise<void>(() => {});
    o.start(1, 0, async (b) => {
      delivered.push(b);
    });
    try {
      let prevHash = GENESIS;
      for (let seq = 1; seq <= 30; seq++) {
        const text = foreignBatch(seq, prevHash, `deaf-${seq}`);
        assert.ok(await client.createIfAbsent(`${prefix}${String(seq).padStart(16, '0')}`, text));
        prevHash = batchHash(text);
        // Arrivals spaced out, so delivery catches up and waits between them.
        if (seq % 10 === 0) await until(() => delivered.length === seq, 5_000, `batch ${seq} delivered`);
      }
      assert.deepEqual(
        delivered.map((b) => b.txs[0]),
        delivered.map((_, i) => `deaf-${i + 1}`),
      );
      assert.equal(o.failure, null);
    } finally {
      await o.stop();
    }
  });
  test('a real node orders through etcd, and after a restart carries on from where it stopped', async () => {
    const net = await startTestNetwork({ etcdEndpoints: etcd.endpoints });
    try {
      const alice = await net.enroll('st-mary', 'dr-alice', 'practitioner');
      const r = await net.client.sendAndVerify(alice, 'anchor.put', {
        key: 'k1',
        commitment: 'ab'.repeat(32),
      });
      assert.equal(r.code, 'VALID');
      const h1 = (await net.client.nodeHealth()).head.height;
      await net.stop();
      await net.restart();
      const r2 = await net.client.sendAndVerify(alice, 'anchor.put', {
        key: 'k2',
        commitment: 'cd'.repeat(32),
      });
      assert.equal(r2.code, 'VALID');
      assert.equal(r2.height, h1 + 1, 'no height skipped or repeated across the restart');
      // Every block came from etcd: one batch per height, the last one holding that transaction.
      const genesisHash = (await (await fetch(`${net.url}/v1/genesis`)).json()) as { hash: string };
      const prefix = `/healthledger/hl-test/${genesisHash.hash.slice(0, 16)}/batch/`;
      const kvs = await etcdClient(etcd.endpoints).range(prefix, prefixEnd(prefix));
      assert.equal(kvs.length, r2.height);
      assert.equal((JSON.parse(kvs.at(-1)!.value) as StoredBatch).txs.length, 1);
    } finally {
      await net.destroy();
    }
  });

  test('a node whose ledger is ahead of the etcd log refuses to order (not the same history)', async () => {
    const net = await startTestNetwork();
    try {
      await net.client.sendAndVerify(net.id('st-mary/admin'), 'anchor.put', {
        key: 'k',
        commitment: 'ab'.repeat(32),
      });
      await net.stop();
      const cfg = loadHome(net.dir).config;
      writeJson(homePaths(net.dir).nodeConfig, { ...cfg, etcdEndpoints: etcd.endpoints });
      await net.restart();
      await until(() => net.running.node.haltReason !== null, 10_000, 'the node halts');
      assert.match(net.running.node.haltReason!, /etcd holds 0 batches but the node is at height \d+/);
      assert.equal((await fetch(`${net.url}/health`)).status, 503, 'health reports the halt');
    } finally {
      await net.destroy();
    }
  });
});

describe('etcd ordering (three members)', () => {
  const etcd = suiteCluster(3);

  test('kill -9 one member: ordering goes on; stop the majority: nothing is ordered until quorum returns', async () => {
    const n = orderer(etcd.endpoints, 'n1', 'chain-q');
    await n.o.broadcast(['a1']);
    await until(() => n.delivered.length === 1);
    etcd.members[0]!.kill();
    await n.o.broadcast(['a2']);
    await until(() => n.delivered.length === 2, 15_000, 'ordering with one member down');
    etcd.members[1]!.kill();
    await n.o.broadcast(['a3']);
    await new Promise((r) => setTimeout(r, 2000));
    assert.equal(n.delivered.length, 2, 'no quorum: nothing ordered');
    await etcd.members[1]!.restart();
    await until(() => n.delivered.length === 3, 20_000, 'ordering after quorum returns');
    assert.deepEqual(
      n.delivered.map((b) => b.txs),
      [['a1'], ['a2'], ['a3']],
    );
    await etcd.members[0]!.restart();
    await n.o.stop();
  });
});

describe('attestations through etcd', () => {
  const etcd = suiteCluster(1);

  test('blocks committed together are attested in one transaction, each under its own key; a check reads a window at once and ignores forgeries', async () => {
    const c = consortium(['org1', 'org2', 'org3']);
    const keys = c.genesis.orgs.map((o) => {
      const k = generateKeyPair();
      o.nodes[0]!.publicKey = toBase64Url(k.publicKey);
      return k;
    });
    const genesis = validateGenesis(c.genesis);
    const blocks = Array.from({ length: 100 }, (_, i) => ({
      header: { height: i + 1, logRoot: 'aa'.repeat(32), stateRoot: `${i}`.padStart(64, '0') } as BlockHeader,
      hash: `${i + 1}`.padStart(64, 'f'),
    }));
    const services = [0, 1].map((i) => {
      const listeners = new Set<(b: Block) => void>();
      const service = new AttestationService({
        endpoints: etcd.endpoints,
        genesis,
        nodeId: `org${i + 1}-n1`,
        sign: nativeSigner(keys[i]!.privateKey),
        intervalMs: 30,
        node: {
          onBlock: (l) => {
            listeners.add(l);
            return () => listeners.delete(l);
          },
          getBlockHeader: (h) => blocks[h - 1],
          chainHead: () => ({ height: blocks.length }),
          halt: (reason) => assert.fail(`halted: ${reason}`),
        },
      });
      return { service, commit: (b: (typeof blocks)[number]) => listeners.forEach((l) => l(b as Block)) };
    });
    const client = etcdClient(etcd.endpoints);
    const layout = layoutOf(genesis);
    // A forgery for org3 at height 7 (signed by org1's node key): must not count as a vote.
    const forged = attest(blocks[6]!, genesis.genesis.chainId, 'org3-n1', nativeSigner(keys[0]!.privateKey));
    await client.put(
      layout.attestKey(7, 'org3-n1'),
      JSON.stringify({ ...forged, stateRoot: 'bb'.repeat(32) }),
    );
    try {
      for (const { commit } of services) for (const b of blocks) commit(b);
      await until(
        () => services.every((s) => s.service.state.confirmedHeight === 100),
        15_000,
        'confirmation',
      );
      const mine = (await client.range(layout.attestPrefix, prefixEnd(layout.attestPrefix))).filter((kv) =>
        kv.key.endsWith('/org1-n1'),
      );
      assert.deepEqual(
        mine.map((kv) => layout.heightOfAttestKey(kv.key)),
        blocks.map((b) => b.header.height),
      );
      const transactions = new Set(mine.map((kv) => kv.modRevision)).size;
      assert.ok(transactions <= 4, `100 attestations took ${transactions} etcd transactions`);
      // The node's applied height (compaction's lower bound) travels in the same transactions.
      const appliedKey = layout.appliedKey('org1-n1');
      const [applied] = await client.range(appliedKey, `${appliedKey}\0`);
      assert.equal(applied?.value, '100');
      assert.ok(
        mine.some((kv) => kv.modRevision === applied.modRevision),
        'applied height written with the last attestations',
      );
      const window = await attestationsBetween(client, genesis, 1, 100);
      assert.equal(window.size, 100);
      for (const [h, list] of window)
        assert.deepEqual(list.map((a) => a.org).sort(), ['org1', 'org2'], `height ${h}`);
      assert.equal(services[0]!.service.state.divergedAt, null);
    } finally {
      for (const { service } of services) service.close();
      client.close();
    }
  });
});

describe('etcd client reconnection', () => {
  test('a member back after a 10 s outage serves the client again within seconds', async () => {
    const etcd = await startEtcdCluster(1);
    const client = new EtcdClient(etcd.endpoints, { timeoutMs: 1000 });
    try {
      await client.put('/reconnect/a', '1');
      etcd.members[0]!.kill();
      // Calls fail through the outage (the client's reconnection backoff grows meanwhile).
      const outageEnds = Date.now() + 10_000;
      while (Date.now() < outageEnds) {
        await assert.rejects(client.range('/reconnect/', prefixEnd('/reconnect/')));
        await new Promise((r) => setTimeout(r, 200));
      }
      await etcd.members[0]!.restart();
      const back = Date.now();
      for (;;) {
        try {
          const kvs = await client.range('/reconnect/', prefixEnd('/reconnect/'));
          assert.deepEqual(
            kvs.map((kv) => kv.value),
            ['1'],
          );
          break;
        } catch {
          assert.ok(Date.now() - back < 5000, 'served again within 5 s of the member being back');
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    } finally {
      client.close();
      await etcd.stop();
    }
  });
});
