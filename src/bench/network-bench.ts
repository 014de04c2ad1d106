/**
 * The three-organization network on one machine (`network up`: three etcd members, three nodes
 * with their own stores, every node executing every block): pre-signed `anchor.put` transactions
 * submitted over HTTP in batches to all three nodes at once, each batch waiting for its node to
 * commit — on a fixed schedule (open loop) or with a number of requests in flight (closed loop),
 * after a warm-up at the same load. Reports committed transactions per second and per-transaction
 * submit-to-commit latency.
 * @module
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
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
import { freePortBlock } from './ledger-bench.js';

export interface NetworkBenchResult {
  orgs: number;
  tps: number;
  p50_ms: number;
  p99_ms: number;
  committed: number;
  seconds: number;
  batch: number;
  concurrency_per_node: number;
  /** Open-loop mode: the offered rate (tx/s over all nodes), or null for closed-loop. */
  offered_tps: number | null;
  /** Transactions sent before the measured ones at the same load, not counted. */
  warmup_txs: number;
  /** Every node at the same height and state root after the run. */
  agreed: boolean;
  /** Batches appended to etcd (all nodes), and compare-and-swaps lost per appended batch. */
  batches_appended: number;
  races_lost_per_batch: number;
  /**
   * CPU time (user + system, all threads) per committed transaction over the measured window, in
   * microseconds: the nodes' processes together and the etcd members together. Null where `/proc`
   * is not available. Steadier than latency on a shared machine: the figure to compare changes by.
   */
  cpu_us_per_tx: { nodes: number; etcd: number } | null;
}

/** CPU seconds (user + system) a process has used, from `/proc/<pid>/stat`; null if unreadable. */
function processCpuSeconds(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start at the state, field 3.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime are fields 14 and 15, in USER_HZ (100 on Linux for /proc's ABI).
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return null;
  }
}

/** CPU seconds used so far by the network's node and etcd processes (null off Linux). */
function networkCpuSeconds(root: string): { nodes: number; etcd: number } | null {
  const pids = JSON.parse(readFileSync(join(root, 'network.pids'), 'utf8')) as {
    etcd: (number | null)[];
    nodes: (number | null)[];
  };
  const sum = (list: (number | null)[]): number | null => {
    let total = 0;
    for (const pid of list) {
      const s = pid === null ? null : processCpuSeconds(pid);
      if (s === null) return null;
      total += s;
    }
    return total;
  };
  const nodes = sum(pids.nodes);
  const etcd = sum(pids.etcd);
  return nodes === null || etcd === null ? null : { nodes, etcd };
}

/** Sums a metric over the nodes' `/metrics` pages. */
async function sumMetric(urls: readonly string[], name: string): Promise<number> {
  let total = 0;
  for (const url of urls) {
    const text = await (await fetch(`${url}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith(`${name} `));
    total += line === undefined ? 0 : Number(line.slice(name.length + 1));
  }
  return total;
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
  /**
   * Open loop: send each node's batches on a fixed schedule so that all nodes together are offered
   * `rate` tx/s, whatever is still in flight (latency then includes no wait for a free request
   * slot, only the system's own queueing). Omitted: `concurrency` requests in flight per node.
   */
  rate?: number;
  /**
   * Transactions sent first, the same way, and not counted: the nodes' JIT compilers and caches
   * start cold, and a network that runs for months is measured in its steady state.
   */
  warmup?: number;
}): Promise<NetworkBenchResult> {
  const root = mkdtempSync(join(tmpdir(), 'hl-bench-net-'));
  // APIs from base, etcd members from base + 100 (two ports each).
  const base = await freePortBlock(100 + 2 * opts.orgs);
  const net = await networkUp(root, { orgs: opts.orgs, basePort: base });
  try {
    const genesis = loadHome(net.layout.nodes[0]!.home).genesis;
    const clients = net.layout.nodes.map((n) => new HealthLedgerClient({ baseUrl: n.url, genesis }));
    const admins = net.layout.nodes.map((n) => identityFromFile(readIdentity(n.home, `${n.org}/admin`)));
    const signers = admins.map((a) => ({ memberId: a.memberId, sign: nativeSigner(a.privateKey) }));
    // Pre-sign and pre-serialize: node i gets its own organization's admin's transactions; the
    // warm-up's batches come first in every node's queue.
    const warmup = Math.ceil((opts.warmup ?? 0) / (opts.batch * opts.orgs)) * opts.orgs;
    const total = warmup * opts.batch + opts.txs;
    const now = Date.now();
    const perNode: string[][] = net.layout.nodes.map(() => []);
    for (let b = 0; b < total; b += opts.batch) {
      const node = (b / opts.batch) % opts.orgs;
      const s = signers[node]!;
      const txs: SignedTx[] = [];
      for (let k = b; k < Math.min(b + opts.batch, total); k++) {
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
    /** Batches per node before the measured ones. */
    const warmupPerNode = warmup / opts.orgs;
    const latencies: number[] = [];
    let committed = 0;
    /** CPU used before the first measured batch was sent. */
    let cpuAtStart: ReturnType<typeof networkCpuSeconds> | undefined;
    const load = new LoadClient();
    const send = async (url: string, body: string, counted: boolean): Promise<void> => {
      if (counted && cpuAtStart === undefined) cpuAtStart = networkCpuSeconds(root);
      const s = performance.now();
      const r = await load.postJson<{ results: { status: string; code?: string }[] }>(
        `${url}/v1/transactions/batch?wait=true&timeoutMs=60000`,
        body,
      );
      const ms = performance.now() - s;
      if (!counted) return;
      for (const x of r.results)
        if (x.status === 'committed' && x.code === 'VALID') {
          committed++;
          latencies.push(ms);
        }
    };
    const rate = opts.rate;
    const start = performance.now();
    // When the first measured batch is due (open loop) or sent (closed loop).
    let t0 = rate === undefined ? Infinity : start + warmupPerNode * ((opts.batch * opts.orgs * 1000) / rate);
    await Promise.all(
      net.layout.nodes.flatMap((n, i) => {
        const queue = perNode[i]!;
        if (rate !== undefined) {
          // Batch k of this node leaves at start + k · interval, staggered across nodes.
          const interval = (opts.batch * opts.orgs * 1000) / rate;
          return [
            (async () => {
              const sent: Promise<void>[] = [];
              for (let k = 0; k < queue.length; k++) {
                const due = start + (k + i / opts.orgs) * interval - performance.now();
                if (due > 0) await new Promise((r) => setTimeout(r, due));
                sent.push(send(n.url, queue[k]!, k >= warmupPerNode));
              }
              await Promise.all(sent);
            })(),
          ];
        }
        let next = 0;
        return Array.from({ length: opts.concurrency }, async () => {
          while (next < queue.length) {
            const k = next++;
            if (k === warmupPerNode) t0 = Math.min(t0, performance.now());
            await send(n.url, queue[k]!, k >= warmupPerNode);
          }
        });
      }),
    );
    const seconds = (performance.now() - t0) / 1000;
    const cpuAtEnd = networkCpuSeconds(root);
    load.close();
    let agreed = false;
    for (let i = 0; i < 100 && !agreed; i++) {
      const heads = await Promise.all(clients.map((c) => c.nodeHealth()));
      agreed = heads.every(
        (h) => h.head.height === heads[0]!.head.height && h.head.stateRoot === heads[0]!.head.stateRoot,
      );
      if (!agreed) await new Promise((r) => setTimeout(r, 100));
    }
    const urls = net.layout.nodes.map((n) => n.url);
    const appended = await sumMetric(urls, 'healthledger_ordering_batches_appended');
    const lost = await sumMetric(urls, 'healthledger_ordering_append_races_lost');
    return {
      orgs: opts.orgs,
      tps: Math.round(committed / seconds),
      p50_ms: pct(latencies, 50),
      p99_ms: pct(latencies, 99),
      committed,
      seconds: Math.round(seconds * 100) / 100,
      batch: opts.batch,
      concurrency_per_node: opts.concurrency,
      offered_tps: opts.rate ?? null,
      warmup_txs: warmup * opts.batch,
      agreed,
      batches_appended: appended,
      races_lost_per_batch: appended === 0 ? 0 : Math.round((lost / appended) * 100) / 100,
      cpu_us_per_tx:
        cpuAtStart == null || cpuAtEnd === null || committed === 0
          ? null
          : {
              nodes: Math.round(((cpuAtEnd.nodes - cpuAtStart.nodes) * 1e6) / committed),
              etcd: Math.round(((cpuAtEnd.etcd - cpuAtStart.etcd) * 1e6) / committed),
            },
    };
  } finally {
    await net.stop();
    rmSync(root, { recursive: true, force: true });
  }
}
