/**
 * etcd over TLS with client certificates, as docs/deployment.md sets the members up
 * (`--cert-file`, `--key-file`, `--trusted-ca-file`, `--client-cert-auth`): a node with the
 * consortium's CA and its own client certificate orders through etcd; without the certificate, with
 * one from another CA, or without the CA the members' certificates chain to, every call fails
 * with ORDERING_UNAVAILABLE. And `node.json`'s `etcdTls` files are read relative to the home.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EtcdClient, prefixEnd } from './etcd-client.js';
import { EtcdOrderer } from './etcd.js';
import type { OrderedBatch } from './orderer.js';
import {
  makeEtcdTls,
  startEtcdCluster,
  type EtcdCluster,
  type EtcdTlsFiles,
} from '../../test-support/etcd.js';
import { HealthLedgerError } from '../../protocol/errors.js';
import { readEtcdTls } from '../home.js';

describe('etcd over TLS with client certificates', () => {
  let dir: string;
  let tls: EtcdTlsFiles;
  let other: EtcdTlsFiles;
  let etcd: EtcdCluster;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hl-etcd-tls-'));
    tls = makeEtcdTls(dir, 'consortium');
    other = makeEtcdTls(dir, 'stranger');
    etcd = await startEtcdCluster(1, tls);
  });
  after(async () => {
    await etcd.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function refused(client: EtcdClient): Promise<void> {
    try {
      await assert.rejects(
        client.put('/tls/probe', 'x'),
        (e: unknown) => e instanceof HealthLedgerError && e.code === 'ORDERING_UNAVAILABLE',
      );
    } finally {
      client.close();
    }
  }

  test('the consortium CA and a client certificate: reads, writes and a watch work', async () => {
    const client = new EtcdClient(etcd.endpoints, { tls: tls.client });
    const stop = new AbortController();
    try {
      assert.ok(etcd.endpoints[0]!.startsWith('https://'));
      let woken = 0;
      void client.watch('/tls/', () => woken++, stop.signal);
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(await client.createIfAbsent('/tls/a', 'one'), true);
      assert.equal(await client.createIfAbsent('/tls/a', 'two'), false, 'compare-and-swap on creation');
      const kvs = await client.range('/tls/', prefixEnd('/tls/'));
      assert.deepEqual(
        kvs.map((kv) => [kv.key, kv.value]),
        [['/tls/a', 'one']],
      );
      const deadline = Date.now() + 5000;
      while (woken === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      assert.ok(woken > 0, 'the watch stream over TLS delivered the write');
    } finally {
      stop.abort();
      client.close();
    }
  });

  test('an orderer with the certificate orders batches', async () => {
    const delivered: OrderedBatch[] = [];
    const o = new EtcdOrderer({
      endpoints: etcd.endpoints,
      tls: tls.client,
      chainId: 'tls-chain',
      genesisHash: 'cd'.repeat(32),
      nodeId: 'n1',
      maxBlockTxs: 10,
      blockTimeoutMs: 5,
      clock: { now: () => Date.now() },
      pollMs: 20,
    });
    o.start(1, 0, async (b) => {
      delivered.push(b);
    });
    try {
      await o.broadcast(['{"t":1}', '{"t":2}']);
      const deadline = Date.now() + 10_000;
      while (delivered.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      assert.deepEqual(
        delivered.map((b) => [b.seq, b.txs]),
        [[1, ['{"t":1}', '{"t":2}']]],
      );
      assert.equal(o.failure, null);
    } finally {
      await o.stop();
    }
  });

  test('no client certificate: refused', () =>
    refused(new EtcdClient(etcd.endpoints, { tls: { ca: tls.client.ca! } })));

  test('a client certificate from another CA: refused', () =>
    refused(
      new EtcdClient(etcd.endpoints, {
        tls: { ca: tls.client.ca!, cert: other.client.cert!, key: other.client.key! },
      }),
    ));

  test('a server certificate the client does not trust: refused', () =>
    refused(new EtcdClient(etcd.endpoints, { tls: { cert: tls.client.cert!, key: tls.client.key! } })));

  test('plaintext to a TLS member: refused', () =>
    refused(new EtcdClient(etcd.endpoints.map((e) => e.replace('https://', 'http://')))));

  test("node.json's etcdTls: paths relative to the home folder; unreadable or half-given material is named", () => {
    const home = join(dir, 'home');
    writeFileSync(join(dir, 'ca-copy.pem'), tls.client.ca!);
    const read = readEtcdTls(dir, { ca: 'ca-copy.pem', cert: tls.certFile, key: tls.keyFile });
    assert.deepEqual(read.ca, tls.client.ca);
    assert.ok(read.cert!.toString().includes('BEGIN CERTIFICATE'));
    assert.throws(() => readEtcdTls(home, { ca: 'missing.pem' }), /etcdTls\.ca: cannot read .*missing\.pem/);
    assert.throws(() => readEtcdTls(home, { cert: tls.certFile }), /both cert and key/);
  });
});
