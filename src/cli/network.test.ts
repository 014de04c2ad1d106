/**
 * Three organizations, three nodes, one etcd cluster on loopback (`network up`), under faults:
 * - steady load across all nodes while one etcd member and one node are SIGKILLed: writes go on,
 *   the node restarts and catches up, every node ends with the same state root, and every
 *   acknowledged transaction is in every node's whole history exactly once;
 * - a majority of etcd members stopped: no write is acknowledged and nothing forks; when quorum
 *   returns, writes resume and the nodes agree again.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePortBlock } from '../bench/ledger-bench.js';
import { HealthLedgerClient, identityFromFile, type Identity } from '../sdk/client.js';
import { loadHome, readIdentity } from '../node/home.js';
import type { SubmitResultWire } from '../protocol/api.js';
import { networkUp, type RunningNetwork } from './network.js';
import Database from 'better-sqlite3';
import { toBase64Url } from '../protocol/bytes.js';
import { generateKeyPair } from '../protocol/ed25519.js';
import { txIdOf } from '../protocol/tx.js';
import { compareStores } from '../node/verify-chain.js';

async function until(cond: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('a three-organization network ordered by etcd, under faults', () => {
  let root: string;
  let net: RunningNetwork;
  let clients: HealthLedgerClient[];
  let admins: Identity[];
  const acked = new Set<string>();

  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'hl-network-'));
    // Ports: three APIs from base, etcd from base + 100; pick a free base.
    const base = await freePortBlock(110);
    net = await networkUp(root, {
      orgs: 3,
      basePort: base,
      policies: { blockTimeoutMs: 5 },
      // Compact eagerly so the snapshot path is exercised: keep 5 batches below the lowest applied.
      nodeConfig: { compactEveryMs: 300, keepBatches: 5 },
    });
    const genesis = loadHome(net.layout.nodes[0]!.home).genesis;
    clients = net.layout.nodes.map((n) => new HealthLedgerClient({ baseUrl: n.url, genesis }));
    admins = net.layout.nodes.map((n) => identityFromFile(readIdentity(n.home, `${n.org}/admin`)));
  });
  after(async () => {
    await net?.stop();
    rmSync(root, { recursive: true, force: true });
  });

  /** Resolves once every node is at the same height and state root. */
  const allAgree = (what: string) =>
    until(
      async () => {
        const heads = await Promise.all(clients.map((c) => c.nodeHealth()));
        return heads.every(
          (h) => h.head.height === heads[0]!.head.height && h.head.stateRoot === heads[0]!.head.stateRoot,
        );
      },
      30_000,
      what,
    );

  let counter = 0;
  /** Submits one anchor through node `i` and waits; records it if acknowledged as committed. */
  /** The id of the last transaction `write` sent (acknowledged or not). */
  let lastTxId = '';
  async function write(i: number, timeoutMs = 10_000): Promise<SubmitResultWire | null> {
    const tx = clients[i]!.sign(admins[i]!, 'anchor.put', {
      key: `k-${i}-${++counter}`,
      commitment: counter.toString(16).padStart(64, '0'),
    });
    lastTxId = txIdOf(tx.body);
    try {
      const r = await clients[i]!.submit(tx, { wait: true, timeoutMs });
      if (r.status === 'committed' && r.code === 'VALID') acked.add(r.txId);
      return r;
    } catch {
      return null;
    }
  }

  /** Every node's whole history: tx ids per node, and state roots per height. */
  async function histories(): Promise<{ txIds: string[][]; roots: string[][] }> {
    const txIds: string[][] = [];
    const roots: string[][] = [];
    for (const c of clients) {
      const head = (await c.nodeHealth()).head.height;
      const ids: string[] = [];
      const rs: string[] = [];
      for (let from = 1; from <= head; from += 500) {
        const { blocks } = await c.blocks(from, 500);
        for (const b of blocks) rs.push(b.header.stateRoot);
      }
      for (let h = 1; h <= head; h++) {
        const blk = await c.block(h);
        blk.txs.forEach((t, i) => {
          if (blk.codes[i] === 'VALID') ids.push(JSON.stringify(t.body));
        });
      }
      txIds.push(ids);
      roots.push(rs);
    }
    return { txIds, roots };
  }

  test('kill -9 an etcd member and a node under load: writes go on, the node catches up, all agree', async () => {
    let load = true;
    const loaders = [0, 1, 2].map(async (i) => {
      while (load) if ((await write(i, 5000)) === null) await new Promise((r) => setTimeout(r, 50));
    });
    await until(async () => acked.size >= 30, 30_000, 'initial load');
    net.killEtcd(2);
    net.killNode(2);
    const before = acked.size;
    await until(async () => acked.size >= before + 30, 30_000, 'writes on the surviving nodes');
    await net.startEtcd(2);
    await net.startNode(2);
    await until(async () => acked.size >= before + 60, 30_000, 'writes with everyone back');
    load = false;
    await Promise.all(loaders);
    // Everyone reaches the same head.
    await allAgree('all nodes at the same head');
    const { txIds, roots } = await histories();
    for (let n = 1; n < 3; n++)
      assert.deepEqual(roots[n], roots[0], `node ${n}: same state root at every height`);
    const ackedBodies = new Set<string>();
    for (const ids of txIds) assert.equal(new Set(ids).size, ids.length, 'no transaction applied twice');
    // Every acknowledged transaction is present on every node.
    for (const c of clients)
      for (const txId of acked) {
        const r = await c.receipt(txId);
        assert.equal(r.code, 'VALID');
        ackedBodies.add(txId);
      }
    assert.ok(ackedBodies.size >= 90, `${ackedBodies.size} acknowledged`);
  });

  test('attestations: every node attests every block, and a quorum confirms the results', async () => {
    const head = (await clients[0]!.nodeHealth()).head.height;
    await until(
      async () => {
        const r = (await (
          await fetch(`${net.layout.nodes[0]!.url}/v1/attestations?height=${head}`)
        ).json()) as {
          attestations: { nodeId: string; stateRoot: string }[];
          status: { confirmedHeight: number; divergedAt: number | null };
        };
        return (
          r.attestations.length === 3 && r.status.confirmedHeight >= head && r.status.divergedAt === null
        );
      },
      30_000,
      'three attestations and a confirmed head',
    );
    // The SDK checks each attestation's signature against the genesis node keys.
    const head2 = (await clients[1]!.nodeHealth()).head.height;
    await until(
      async () => (await clients[1]!.attestations(head2)).attestations.length === 3,
      10_000,
      'SDK attestations',
    );
  });

  test('cross-organization data plane: a practitioner’s own node fetches the custodian’s records under a committed grant', async () => {
    const { createIdentity } = await import('./home-init.js');
    const { generateEncryptionKeyPair } = await import('../protocol/envelope.js');
    const { openReleased } = await import('../sdk/client.js');
    const stMary = net.layout.nodes[0]!;
    const cityClinic = net.layout.nodes[1]!;
    const enroll = async (
      i: number,
      home: string,
      org: string,
      id: string,
      role: 'patient' | 'practitioner',
    ) => {
      const f = createIdentity(home, { orgId: org, memberId: id, role, attributes: {}, nowMs: Date.now() });
      const r = await clients[i]!.sendAndVerify(admins[i]!, 'member.enroll', { certificate: f.certificate });
      assert.equal(r.code, 'VALID');
      const who = identityFromFile(f);
      const kp = await generateEncryptionKeyPair();
      await clients[i]!.sendAndVerify(who, 'member.set-encryption-key', {
        publicKey: toBase64Url(kp.publicKey),
      });
      return { who, kp };
    };
    const dana = await enroll(0, stMary.home, 'st-mary', 'p-dana', 'patient');
    const alice = await enroll(0, stMary.home, 'st-mary', 'dr-alice', 'practitioner');
    const erin = await enroll(1, cityClinic.home, 'city-clinic', 'dr-erin', 'practitioner');
    // St Mary's custodian holds Dana's record; nothing about it is at City Clinic.
    await clients[0]!.health.writeRecord(alice.who, dana.who.memberId, {
      resourceType: 'AllergyIntolerance',
      clinicalStatus: {
        coding: [
          { system: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical', code: 'active' },
        ],
      },
      patient: { reference: 'Patient/dana' },
      code: { text: 'Penicillin' },
    });
    const now = Date.now();
    const grant = await clients[0]!.sendAndVerify(dana.who, 'consent.grant', {
      id: 'erin',
      patient: dana.who.memberId,
      actor: { kind: 'member', id: erin.who.memberId },
      categories: ['*'],
      purposes: ['treatment'],
      validFromMs: now - 60_000,
      validUntilMs: now + 3600_000,
    });
    assert.equal(grant.code, 'VALID');
    // Erin talks only to her own organization's node.
    const access = await clients[1]!.sendAndVerify(erin.who, 'access.request', {
      patient: dana.who.memberId,
      purpose: 'treatment',
    });
    assert.equal(access.code, 'VALID');
    const rel = await clients[1]!.health.releaseRecords(erin.who, access.txId);
    assert.equal(rel.release.records.length, 0, 'City Clinic holds none of it');
    const fromStMary = rel.others?.find((o) => o.org === 'st-mary');
    assert.ok(fromStMary, JSON.stringify(rel.unavailable));
    const resources = await openReleased(fromStMary.release, erin.who.memberId, erin.kp.privateKey);
    assert.deepEqual(
      resources.map((r) => r['resourceType']),
      ['AllergyIntolerance'],
    );
    // A node cannot create a grant: without a committed access entry the custodian refuses.
    const noGrant = await clients[1]!.health.releaseRecords(erin.who, 'ab'.repeat(32)).catch((e: Error) => e);
    assert.ok(noGrant instanceof Error);
    // Another organization's node is authenticated by its genesis key; anyone else is turned away.
    const forged = await fetch(`${net.layout.nodes[0]!.url}/v1/peer/records/release`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-healthledger-node': `city-clinic-node1;${Date.now()};${'A'.repeat(86)}`,
      },
      body: JSON.stringify(clients[1]!.sign(erin.who, 'record.release', { accessTxId: access.txId })),
    });
    assert.equal(forged.status, 401);
    assert.equal(((await forged.json()) as { error: { code: string } }).error.code, 'NODE_AUTH_FAILED');
  });

  test('compaction below the lowest applied height; a node that lost its store syncs an attested snapshot', async (t) => {
    const genesis = loadHome(net.layout.nodes[0]!.home).genesis;
    const { genesisHash } = await import('../protocol/genesis.js');
    const { EtcdClient, prefixEnd } = await import('../node/ordering/etcd-client.js');
    const prefix = `/healthledger/${genesis.chainId}/${genesisHash(genesis).slice(0, 16)}/batch/`;
    const etcd = new EtcdClient(net.layout.etcd.map((e) => e.client));
    t.after(() => etcd.close());
    const firstBatch = async () =>
      Number((await etcd.range(prefix, prefixEnd(prefix), { limit: 1 }))[0]?.key.slice(prefix.length) ?? 0);
    for (let i = 0; i < 10; i++) await write(i % 3);
    await until(async () => (await firstBatch()) > 1, 20_000, 'early batches compacted');
    // And etcd's history of them is gone too (its backend would otherwise keep every batch ever written).
    await until(
      async () =>
        await etcd.range(prefix, prefixEnd(prefix), { limit: 1, revision: 2 }).then(
          () => false,
          (e: Error) => /compacted/.test(e.message),
        ),
      10_000,
      'etcd history compacted',
    );
    // Node 3 loses its disk; on restart it cannot replay from batch 1 and syncs a snapshot instead.
    net.killNode(2);
    for (const suffix of ['', '-wal', '-shm'])
      rmSync(join(net.layout.nodes[2]!.home, 'data', `ledger.sqlite${suffix}`), { force: true });
    for (let i = 0; i < 6; i++) await write(i % 2);
    await net.startNode(2);
    await allAgree('the restored node catches up');
    assert.equal((await write(2))?.status, 'committed', 'and takes writes again');
    // Compaction never passes what a node still needs: the first batch kept is at most the lowest head.
    const heads = await Promise.all(clients.map((c) => c.nodeHealth()));
    assert.ok((await firstBatch()) <= Math.min(...heads.map((h) => h.head.height)));
  });

  test('a majority of etcd members down: nothing is acknowledged, nothing forks; quorum back, writes resume', async () => {
    const head = (await clients[0]!.nodeHealth()).head;
    net.killEtcd(0);
    net.killEtcd(1);
    const r = await write(0, 2000);
    const unacknowledged = lastTxId;
    assert.ok(
      r === null || r.status !== 'committed',
      `no acknowledgement without quorum (${JSON.stringify(r)})`,
    );
    const during = await Promise.all(clients.map((c) => c.nodeHealth()));
    for (const h of during) assert.equal(h.head.height, head.height, 'no block without quorum');
    await net.startEtcd(0);
    await net.startEtcd(1);
    await until(async () => (await write(1, 5000))?.status === 'committed', 60_000, 'writes resume');
    // The write that got no acknowledgement was still queued at its node: it lands once quorum is
    // back (and before the next test, whose divergence check must not see it arrive late).
    await until(
      async () =>
        await clients[0]!.receipt(unacknowledged).then(
          () => true,
          () => false,
        ),
      60_000,
      'the unacknowledged write lands',
    );
    await allAgree('nodes agree again');
  });
  test('a node whose store was altered is caught by the attestations, and verify --compare names the block', async () => {
    // Alter node 3's store while it is down: st-mary's admin gets another public key there.
    net.killNode(2);
    const store = join(net.layout.nodes[2]!.home, 'data', 'ledger.sqlite');
    const db = new Database(store);
    const key = 'member/st-mary/admin';
    const member = JSON.parse(
      db.prepare('SELECT value FROM state WHERE key = ?').pluck().get(key) as string,
    ) as {
      publicKey: string;
    };
    member.publicKey = toBase64Url(generateKeyPair().publicKey);
    db.prepare('UPDATE state SET value = ? WHERE key = ?').run(JSON.stringify(member), key);
    db.close();
    await net.startNode(2);
    // St Mary's admin writes through node 1: valid everywhere but on the altered node.
    const r = await write(0);
    assert.equal(r?.status, 'committed');
    const height = (r as { height: number }).height;
    await until(
      async () => (await fetch(`${net.layout.nodes[2]!.url}/health`)).status === 503,
      30_000,
      'the altered node halts',
    );
    const health = (await (await fetch(`${net.layout.nodes[2]!.url}/health`)).json()) as { reason: string };
    assert.match(health.reason, new RegExp(`diverged at block ${height}`));
    const writes = await write(2, 2000);
    assert.ok(writes === null || writes.status !== 'committed', 'the altered node accepts no writes');
    // The healthy nodes go on.
    assert.equal((await write(1))?.status, 'committed');
    const cmp = compareStores(join(net.layout.nodes[0]!.home, 'data', 'ledger.sqlite'), store);
    assert.equal(cmp.firstDivergent, height);
  });
});

describe('network up when a port is taken', () => {
  test('fails at once naming the member, and leaves nothing running', async () => {
    const root = mkdtempSync(join(tmpdir(), 'hl-network-busy-'));
    const base = await freePortBlock(110);
    // Something else already listens on the second etcd member's client port.
    const squatter = createServer((socket) => socket.destroy());
    await new Promise<void>((r) => squatter.listen(base + 102, '127.0.0.1', r));
    try {
      const started = Date.now();
      await assert.rejects(networkUp(root, { orgs: 3, basePort: base }), /etcd member etcd1 exited/);
      assert.ok(Date.now() - started < 20_000, 'failed fast, not after the readiness timeout');
      await new Promise((r) => setTimeout(r, 300));
      const left = execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' })
        .split('\n')
        .filter((l) => l.includes(root));
      assert.deepEqual(left, [], 'no etcd member or node of the failed network still runs');
    } finally {
      squatter.close();
      rmSync(root, { recursive: true, force: true });
    }
  });
});
