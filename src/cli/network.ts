/**
 * `healthledger network up|down`: a local multi-organization network on loopback — one etcd
 * member and one node per organization, each node with its own data folder, all ordering through
 * the etcd cluster. For a deployment across machines see docs/deployment.md.
 * @module
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitForEtcd } from '../node/ordering/etcd-client.js';
import { initNetwork } from './home-init.js';
import { writeJson, type NodeConfig } from '../node/home.js';

const ETCD = process.env['HEALTHLEDGER_ETCD'] ?? 'etcd';
const MAIN = fileURLToPath(new URL('./main.js', import.meta.url));
const DEFAULT_ORGS = [
  'st-mary:St Mary Hospital',
  'city-clinic:City Clinic',
  'corner-pharmacy:Corner Pharmacy',
  'acme-payer:Acme Health Plan',
  'novapharm:NovaPharm',
];

/** What `network.json` in the network folder records. */
export interface NetworkLayout {
  orgs: string[];
  etcd: { name: string; client: string; peer: string; dir: string }[];
  nodes: { org: string; home: string; url: string }[];
}

export interface RunningNetwork {
  layout: NetworkLayout;
  /** SIGKILLs etcd member `i` (a fault). */
  killEtcd(i: number): void;
  startEtcd(i: number): Promise<void>;
  /** SIGKILLs node `i` (a fault). */
  killNode(i: number): void;
  startNode(i: number): Promise<void>;
  stop(): Promise<void>;
}

/** Creates the layout (homes, genesis, ports) in `root` unless it exists. */
export function ensureNetwork(
  root: string,
  opts: {
    orgs: number;
    basePort: number;
    host?: string;
    chainId?: string;
    policies?: Record<string, number>;
    nodeConfig?: Partial<NodeConfig>;
  },
): NetworkLayout {
  const file = join(root, 'network.json');
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as NetworkLayout;
  const host = opts.host ?? '127.0.0.1';
  const orgs = Array.from(
    { length: opts.orgs },
    (_, i) => DEFAULT_ORGS[i] ?? `org${i + 1}:Organization ${i + 1}`,
  );
  const etcd = orgs.map((_, i) => ({
    name: `etcd${i}`,
    client: `http://${host}:${opts.basePort + 100 + 2 * i}`,
    peer: `http://${host}:${opts.basePort + 101 + 2 * i}`,
    dir: join(root, 'etcd', `etcd${i}`),
  }));
  mkdirSync(root, { recursive: true });
  initNetwork(root, {
    chainId: opts.chainId ?? 'healthledger-network',
    orgs,
    host,
    basePort: opts.basePort,
    etcdEndpoints: etcd.map((e) => e.client),
    nowMs: Date.now(),
    ...(opts.policies ? { policies: opts.policies } : {}),
    ...(opts.nodeConfig ? { nodeConfig: opts.nodeConfig } : {}),
  });
  const layout: NetworkLayout = {
    orgs: orgs.map((o) => o.split(':')[0]!),
    etcd,
    nodes: orgs.map((o, i) => ({
      org: o.split(':')[0]!,
      home: join(root, o.split(':')[0]!),
      url: `http://${host}:${opts.basePort + i}`,
    })),
  };
  writeJson(file, layout);
  return layout;
}

function spawnEtcd(layout: NetworkLayout, i: number, detached: boolean): ChildProcess {
  const e = layout.etcd[i]!;
  mkdirSync(e.dir, { recursive: true });
  const state = existsSync(join(e.dir, 'member')) ? 'existing' : 'new';
  return spawn(
    ETCD,
    [
      '--name',
      e.name,
      '--data-dir',
      e.dir,
      '--listen-client-urls',
      e.client,
      '--advertise-client-urls',
      e.client,
      '--listen-peer-urls',
      e.peer,
      '--initial-advertise-peer-urls',
      e.peer,
      '--initial-cluster',
      layout.etcd.map((m) => `${m.name}=${m.peer}`).join(','),
      '--initial-cluster-state',
      state,
      '--initial-cluster-token',
      'healthledger',
      '--heartbeat-interval',
      '50',
      '--election-timeout',
      '500',
      '--log-level',
      'error',
    ],
    { stdio: 'ignore', detached },
  );
}

/** Resolves once the member serves; rejects at once if it exits first (its ports taken, say). */
function etcdReady(child: ChildProcess, name: string, client: string, signal?: AbortSignal): Promise<void> {
  let onExit: (code: number | null) => void = () => {};
  const exited = new Promise<never>((_, reject) => {
    onExit = (code) =>
      reject(new Error(`etcd member ${name} exited (${code}) while starting: are its ports free?`));
    child.once('exit', onExit);
  });
  return Promise.race([waitForEtcd(client, 30_000, undefined, signal), exited]).finally(() =>
    child.off('exit', onExit),
  );
}

function spawnNode(home: string, detached: boolean, log: (line: string) => void): Promise<ChildProcess> {
  // HL_NODE_ARGS passes extra node flags to each node process (e.g. --cpu-prof for profiling).
  const extra = (process.env['HL_NODE_ARGS'] ?? '').split(' ').filter(Boolean);
  // The nodes share this machine's cores with each other and with etcd: V8's parallel garbage
  // collection would have each process's helper threads compete for cores the others are using
  // (measured: 3–7 % more CPU for the same load). One machine per node needs no such flag.
  const child = spawn(process.execPath, ['--single-threaded-gc', ...extra, MAIN, 'start', home], {
    stdio: ['ignore', 'pipe', 'pipe'],
    detached,
  });
  return new Promise((resolve, reject) => {
    let buf = '';
    const onData = (d: Buffer) => {
      buf += d.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        log(line);
        if (line.includes('"event":"api.listening"')) resolve(child);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (d: Buffer) => log(d.toString().trimEnd()));
    child.once('exit', (code) => reject(new Error(`node ${home} exited with ${code}`)));
  });
}

/**
 * Starts every etcd member and node of the network in `root` (creating it first). With
 * `detached`, the processes outlive this one (`network down` stops them).
 */
export async function networkUp(
  root: string,
  opts: {
    orgs: number;
    basePort: number;
    detached?: boolean;
    policies?: Record<string, number>;
    nodeConfig?: Partial<NodeConfig>;
    log?: (org: string, line: string) => void;
  },
): Promise<RunningNetwork> {
  const layout = ensureNetwork(root, opts);
  const detached = opts.detached ?? false;
  const log = opts.log ?? (() => {});
  const etcd: (ChildProcess | null)[] = [];
  const nodes: (ChildProcess | null)[] = [];
  const starting = new AbortController();
  try {
    for (let i = 0; i < layout.etcd.length; i++) etcd.push(spawnEtcd(layout, i, detached));
    await Promise.all(layout.etcd.map((e, i) => etcdReady(etcd[i]!, e.name, e.client, starting.signal)));
    // One at a time: each enrolls its custodian through the ordered log on first start.
    for (const n of layout.nodes) nodes.push(await spawnNode(n.home, detached, (l) => log(n.org, l)));
  } catch (e) {
    // Leave nothing running behind a failed start (detached processes would outlive this one).
    starting.abort();
    for (const p of [...nodes, ...etcd]) p?.kill('SIGKILL');
    throw e;
  }
  const pids = () => ({
    etcd: etcd.map((p) => p?.pid ?? null),
    nodes: nodes.map((p) => p?.pid ?? null),
  });
  writeJson(join(root, 'network.pids'), pids());
  if (detached) for (const p of [...etcd, ...nodes]) p?.unref();
  const stopProc = (p: ChildProcess | null, signal: NodeJS.Signals) =>
    new Promise<void>((resolve) => {
      if (p === null || p.exitCode !== null || p.signalCode !== null) return resolve();
      p.once('exit', () => resolve());
      p.kill(signal);
    });
  return {
    layout,
    killEtcd(i) {
      etcd[i]?.kill('SIGKILL');
      etcd[i] = null;
    },
    async startEtcd(i) {
      etcd[i] = spawnEtcd(layout, i, detached);
      await etcdReady(etcd[i]!, layout.etcd[i]!.name, layout.etcd[i]!.client);
    },
    killNode(i) {
      nodes[i]?.kill('SIGKILL');
      nodes[i] = null;
    },
    async startNode(i) {
      const n = layout.nodes[i]!;
      nodes[i] = await spawnNode(n.home, detached, (l) => log(n.org, l));
    },
    async stop() {
      await Promise.all(nodes.map((p) => stopProc(p, 'SIGTERM')));
      await Promise.all(etcd.map((p) => stopProc(p, 'SIGTERM')));
      rmSync(join(root, 'network.pids'), { force: true });
    },
  };
}

/** Stops a detached network started in `root` (nodes first, then etcd). */
export async function networkDown(root: string): Promise<number> {
  const file = join(root, 'network.pids');
  if (!existsSync(file)) return 0;
  const pids = JSON.parse(readFileSync(file, 'utf8')) as {
    etcd: (number | null)[];
    nodes: (number | null)[];
  };
  const alive = (pid: number): boolean => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  let stopped = 0;
  for (const group of [pids.nodes, pids.etcd]) {
    const live = group.filter((p): p is number => p !== null && alive(p));
    for (const pid of live) process.kill(pid, 'SIGTERM');
    stopped += live.length;
    // Give each a few seconds to stop cleanly, then make sure.
    for (let i = 0; i < 50 && live.some(alive); i++) await new Promise((r) => setTimeout(r, 100));
    for (const pid of live.filter(alive)) process.kill(pid, 'SIGKILL');
  }
  rmSync(file, { force: true });
  return stopped;
}
