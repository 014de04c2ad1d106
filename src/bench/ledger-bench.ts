/**
 * End-to-end throughput of the embedded node: the real CLI (`healthledger start`) in a child
 * process, pre-signed `anchor.put` transactions from many enrolled signers submitted over HTTP
 * in batches with wait=true. Reports committed transactions per second and per-transaction
 * submit-to-commit latency.
 * @module
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createServer } from 'node:net';
import { toBase64Url } from '../protocol/bytes.js';
import { createTxBody, txSigningBytes, type SignedTx } from '../protocol/tx.js';
import { HealthLedgerClient, identityFromFile } from '../sdk/client.js';
import { createIdentity, initHome } from '../cli/home-init.js';
import { homePaths, loadHome, readIdentity, type NodeConfig } from '../node/home.js';
import { nativeSigner } from '../node/crypto/native.js';
import { repoRoot } from '../test-support/paths.js';
import { LoadClient } from './load-client.js';

export interface LedgerBenchResult {
  tps: number;
  p50_ms: number;
  p99_ms: number;
  committed: number;
  seconds: number;
  batch: number;
  concurrency: number;
  signers: number;
  blocks: number;
  /** CPU the node process (all threads) used during the load phase, in cores. */
  node_cpu_cores: number;
  /** CPU the load generator (this process) used during the load phase, in cores. */
  client_cpu_cores: number;
  /** Single-transaction submit-to-commit latency at light load (one request per transaction). */
  single_p50_ms: number;
  single_p99_ms: number;
  single_tps: number;
}

/** A free port for a process started later (from {@link freePortBlock}, for the same reason). */
export function freePort(): Promise<number> {
  return freePortBlock(1);
}

/** True if nothing listens on `port` (127.0.0.1) right now. */
function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/**
 * The first port of `span` consecutive free ports, below Linux's ephemeral range (32768 up): a port
 * the kernel hands out (`listen(0)`) is in that range and can be taken by an outgoing connection's
 * source port before the process meant to use it binds it — which then exits while starting.
 */
export async function freePortBlock(span: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * (32_768 - 20_000 - span));
    let free = true;
    for (let p = base; p < base + span && free; p++) free = await portFree(p);
    if (free) return base;
  }
  throw new Error(`no ${span} consecutive free ports between 20000 and 32767`);
}

export async function startNodeProcess(
  dir: string,
  opts: { verificationServers?: boolean } = {},
): Promise<{ child: ChildProcess; url: string; verificationUrl: string | null }> {
  // HL_NODE_ARGS passes extra node flags to the node process (e.g. --cpu-prof for profiling).
  const extra = (process.env['HL_NODE_ARGS'] ?? '').split(' ').filter(Boolean);
  const child = spawn(process.execPath, [...extra, join(repoRoot, 'dist', 'cli', 'main.js'), 'start', dir], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const [url, verificationUrl] = await new Promise<[string, string | null]>((resolve, reject) => {
    let buf = '';
    const onData = (d: Buffer): void => {
      buf += d.toString();
      const m = /"event":"api.listening","url":"([^"]+)"/.exec(buf);
      const v = /"event":"verification.listening","url":"([^"]+)"/.exec(buf);
      if (m && (!opts.verificationServers || v)) {
        child.stdout!.off('data', onData);
        resolve([m[1]!, v?.[1] ?? null]);
      }
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`node exited with ${code}`)));
  });
  child.stdout!.resume();
  return { child, url, verificationUrl };
}

/** CPU seconds (user + system, all threads) a process has used, from /proc (Linux); NaN elsewhere. */
function cpuSeconds(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
  } catch {
    return NaN;
  }
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export async function benchLedger(opts: {
  txs: number;
  batch: number;
  concurrency: number;
  signers: number;
  verifyThreads: number;
  singleTxs: number;
  singleConcurrency: number;
  maxBlockTxs: number;
  blockTimeoutMs: number;
}): Promise<LedgerBenchResult> {
  const dir = mkdtempSync(join(tmpdir(), 'hl-bench-'));
  const port = await freePort();
  initHome(dir, {
    chainId: 'hl-bench',
    orgs: ['st-mary'],
    host: '127.0.0.1',
    port,
    nowMs: Date.now(),
    policies: { maxBlockTxs: opts.maxBlockTxs, blockTimeoutMs: opts.blockTimeoutMs },
  });
  const cfgPath = homePaths(dir).nodeConfig;
  const cfg = JSON.parse(readFileSync(cfgPath, 'utf8')) as NodeConfig;
  writeFileSync(cfgPath, JSON.stringify({ ...cfg, verifyThreads: opts.verifyThreads }));
  const { genesis } = loadHome(dir);
  const { child, url } = await startNodeProcess(dir);
  const load = new LoadClient();
  try {
    const client = new HealthLedgerClient({ baseUrl: url, genesis });
    const admin = identityFromFile(readIdentity(dir, 'st-mary/admin'));
    const signers: { memberId: string; sign: (m: Uint8Array) => Uint8Array }[] = [];
    const enrolls = [];
    for (let i = 0; i < opts.signers; i++) {
      const f = createIdentity(dir, {
        orgId: 'st-mary',
        memberId: `clinician-${i}`,
        role: 'practitioner',
        attributes: {},
        nowMs: Date.now(),
      });
      enrolls.push(client.sign(admin, 'member.enroll', { certificate: f.certificate }));
      const id = identityFromFile(f);
      signers.push({ memberId: id.memberId, sign: nativeSigner(id.privateKey) });
    }
    const enrolled = await client.submitBatch(enrolls, { wait: true });
    if (enrolled.some((r) => r.status !== 'committed')) throw new Error('bench: enrollment failed');

    // Pre-sign everything (native Ed25519) and pre-serialize the batches: the client should cost little.
    const now = Date.now();
    const bodies: string[] = [];
    for (let b = 0; b < opts.txs; b += opts.batch) {
      const txs: SignedTx[] = [];
      for (let i = b; i < Math.min(b + opts.batch, opts.txs); i++) {
        const s = signers[i % signers.length]!;
        const commitment = (i.toString(16).padStart(8, '0') + 'c0ffee')
          .repeat(5)
          .slice(0, 64)
          .padEnd(64, '0');
        const body = createTxBody({
          chainId: genesis.chainId,
          type: 'anchor.put',
          payload: { key: `doc-${i}`, commitment },
          signer: s.memberId,
          nowMs: now,
        });
        txs.push({ body, sig: toBase64Url(s.sign(txSigningBytes(body))) });
      }
      bodies.push(JSON.stringify({ txs }));
    }
    const heightBefore = (await client.nodeHealth()).head.height;
    const latencies: number[] = [];
    let committed = 0;
    let next = 0;
    const cpu0 = cpuSeconds(child.pid!);
    const client0 = process.cpuUsage();
    const t0 = performance.now();
    const worker = async (): Promise<void> => {
      while (next < bodies.length) {
        const body = bodies[next++]!;
        const s = performance.now();
        const json = await load.postJson<{ results: { status: string; code?: string }[] }>(
          `${url}/v1/transactions/batch?wait=true&timeoutMs=60000`,
          body,
        );
        const ms = performance.now() - s;
        for (const r of json.results) {
          if (r.status !== 'committed' || r.code !== 'VALID')
            throw new Error(`bench: transaction not committed VALID: ${JSON.stringify(r)}`);
          committed++;
          latencies.push(ms);
        }
      }
    };
    await Promise.all(Array.from({ length: opts.concurrency }, worker));
    const seconds = (performance.now() - t0) / 1000;
    const nodeCores = (cpuSeconds(child.pid!) - cpu0) / seconds;
    const clientUsage = process.cpuUsage(client0);
    const clientCores = (clientUsage.user + clientUsage.system) / 1e6 / seconds;
    const heightAfter = (await client.nodeHealth()).head.height;
    latencies.sort((a, b) => a - b);

    // Light load: single transactions, one HTTP request each, a few in flight.
    const singles: string[] = [];
    for (let i = 0; i < opts.singleTxs; i++) {
      const s = signers[i % signers.length]!;
      const body = createTxBody({
        chainId: genesis.chainId,
        type: 'anchor.put',
        payload: { key: `single-${i}`, commitment: 'ee'.repeat(32) },
        signer: s.memberId,
        nowMs: Date.now(),
      });
      singles.push(JSON.stringify({ body, sig: toBase64Url(s.sign(txSigningBytes(body))) }));
    }
    const single: number[] = [];
    let nextSingle = 0;
    const ts = performance.now();
    const singleWorker = async (): Promise<void> => {
      while (nextSingle < singles.length) {
        const body = singles[nextSingle++]!;
        const s = performance.now();
        const r = await load.postJson<{ status: string; code?: string }>(
          `${url}/v1/transactions?wait=true`,
          body,
        );
        if (r.status !== 'committed' || r.code !== 'VALID')
          throw new Error(`bench: single not committed: ${JSON.stringify(r)}`);
        single.push(performance.now() - s);
      }
    };
    await Promise.all(Array.from({ length: opts.singleConcurrency }, singleWorker));
    const singleSeconds = (performance.now() - ts) / 1000;
    single.sort((a, b) => a - b);
    return {
      tps: Math.round(committed / seconds),
      p50_ms: Math.round(percentile(latencies, 50) * 10) / 10,
      p99_ms: Math.round(percentile(latencies, 99) * 10) / 10,
      committed,
      seconds: Math.round(seconds * 100) / 100,
      batch: opts.batch,
      concurrency: opts.concurrency,
      signers: opts.signers,
      blocks: heightAfter - heightBefore,
      node_cpu_cores: Math.round(nodeCores * 100) / 100,
      client_cpu_cores: Math.round(clientCores * 100) / 100,
      single_p50_ms: Math.round(percentile(single, 50) * 10) / 10,
      single_p99_ms: Math.round(percentile(single, 99) * 10) / 10,
      single_tps: Math.round(single.length / singleSeconds),
    };
  } finally {
    load.close();
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    rmSync(dir, { recursive: true, force: true });
  }
}
