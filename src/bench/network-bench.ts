/**
 * The three-organization network on one machine (`network up`: three etcd members, three nodes
 * with their own stores, every node executing every block): pre-signed `anchor.put` transactions
 * submitted over HTTP in batches to all three nodes at once, each batch waiting for its node to
 * commit. Reports committed transactions per second and per-transaction submit-to-commit latency.
 * @module
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { toBase64Url } from '../protocol/bytes.js';
import { createTxBody, txSigningBytes, type SignedTx } from '../protocol/tx.js';
import { HealthLedgerClient, identityFromFile } from '../sdk/client.js';
import { loadHome, readIdentity } from '../node/home.js';
import { nativeSigner } from '../node/crypto/native.js';
import { networkUp } from '../cli/network.js';
import { LoadClient } from './load-client.js';
import { freePort } from './ledger-bench.js';

export interface NetworkBenchResult {
  orgs: number;
  tps: number;
  p50_ms: number;
  p99_ms: number;
  committed: number;
  seconds: number;
  batch: number;
  concurrency_per_node: number;
  /** Every node at the same height and state root after the run. */
  agreed: boolean;
}

const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return Math.round((s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? 0) * 10) / 10;
};

export async function benchNetwork(opts: {
  orgs: number;
  txs: number;
  batch: number;
  concurrency: number;
}): Promise<NetworkBenchResult> {
  const root = mkdtempSync(join(tmpdir(), 'hl-bench-net-'));
  const base = ((await freePort()) % 20_000) + 20_000;
  const net = await networkUp(root, { orgs: opts.orgs, basePort: base });
  try {
    const genesis = loadHome(net.layout.nodes[0]!.home).genesis;
    const clients = net.layout.nodes.map((n) => new HealthLedgerClient({ baseUrl: n.url, genesis }));
    const admins = net.layout.nodes.map((n) => identityFromFile(readIdentity(n.home, `${n.org}/admin`)));
    const signers = admins.map((a) => ({ memberId: a.memberId, sign: nativeSigner(a.privateKey) }));
    // Pre-sign and pre-serialize: node i gets its own organization's admin's transactions.
    const now = Date.now();
    const perNode: string[][] = net.layout.nodes.map(() => []);
    for (let b = 0, i = 0; b < opts.txs; b += opts.batch) {
      const node = (b / opts.batch) % opts.orgs;
      const s = signers[node]!;
      const txs: SignedTx[] = [];
      for (let k = b; k < Math.min(b + opts.batch, opts.txs); k++, i++) {
        const body = createTxBody({
          chainId: genesis.chainId,
          type: 'anchor.put',
          payload: { key: `doc-${k}`, commitment: k.toString(16).padStart(64, '0') },
          signer: s.memberId,
          nowMs: now,
        });
        txs.push({ body, sig: toBase64Url(s.sign(txSigningBytes(body))) });
      }
      perNode[node]!.push(JSON.stringify({ txs }));
    }
    const latencies: number[] = [];
    let committed = 0;
    const load = new LoadClient();
    const t0 = performance.now();
    await Promise.all(
      net.layout.nodes.flatMap((n, i) => {
        let next = 0;
        const queue = perNode[i]!;
        return Array.from({ length: opts.concurrency }, async () => {
          while (next < queue.length) {
            const body = queue[next++]!;
            const s = performance.now();
            const r = await load.postJson<{ results: { status: string; code?: string }[] }>(
              `${n.url}/v1/transactions/batch?wait=true&timeoutMs=60000`,
              body,
            );
            const ms = performance.now() - s;
            for (const x of r.results)
              if (x.status === 'committed' && x.code === 'VALID') {
                committed++;
                latencies.push(ms);
              }
          }
        });
      }),
    );
    const seconds = (performance.now() - t0) / 1000;
    load.close();
    let agreed = false;
    for (let i = 0; i < 100 && !agreed; i++) {
      const heads = await Promise.all(clients.map((c) => c.health()));
      agreed = heads.every(
        (h) => h.head.height === heads[0]!.head.height && h.head.stateRoot === heads[0]!.head.stateRoot,
      );
      if (!agreed) await new Promise((r) => setTimeout(r, 100));
    }
    return {
      orgs: opts.orgs,
      tps: Math.round(committed / seconds),
      p50_ms: pct(latencies, 50),
      p99_ms: pct(latencies, 99),
      committed,
      seconds: Math.round(seconds * 100) / 100,
      batch: opts.batch,
      concurrency_per_node: opts.concurrency,
      agreed,
    };
  } finally {
    await net.stop();
    rmSync(root, { recursive: true, force: true });
  }
}
