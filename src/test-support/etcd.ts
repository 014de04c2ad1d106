/**
 * Real etcd clusters for tests (Debian's `etcd-server`, `/usr/bin/etcd`): N members on loopback
 * with their own data folders; members can be SIGKILLed and restarted on the same folder.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../bench/ledger-bench.js';
import { waitForEtcd } from '../node/ordering/etcd-client.js';

export const ETCD_BIN = process.env['HEALTHLEDGER_ETCD'] ?? '/usr/bin/etcd';

export interface EtcdMember {
  name: string;
  clientUrl: string;
  kill(): void;
  restart(): Promise<void>;
  readonly running: boolean;
}

export interface EtcdCluster {
  endpoints: string[];
  members: EtcdMember[];
  stop(): Promise<void>;
}

/** Starts an `n`-member cluster and waits until it serves. */
export async function startEtcdCluster(n: number): Promise<EtcdCluster> {
  const root = mkdtempSync(join(tmpdir(), 'hl-etcd-'));
  const ports = await Promise.all(Array.from({ length: 2 * n }, () => freePort()));
  const specs = Array.from({ length: n }, (_, i) => ({
    name: `m${i}`,
    client: `http://127.0.0.1:${ports[2 * i]}`,
    peer: `http://127.0.0.1:${ports[2 * i + 1]}`,
    dir: join(root, `m${i}`),
  }));
  const initialCluster = specs.map((s) => `${s.name}=${s.peer}`).join(',');
  const members: EtcdMember[] = specs.map((s) => {
    let proc: ChildProcess | null = null;
    const launch = () => {
      proc = spawn(
        ETCD_BIN,
        [
          '--name',
          s.name,
          '--data-dir',
          s.dir,
          '--listen-client-urls',
          s.client,
          '--advertise-client-urls',
          s.client,
          '--listen-peer-urls',
          s.peer,
          '--initial-advertise-peer-urls',
          s.peer,
          '--initial-cluster',
          initialCluster,
          '--initial-cluster-state',
          'new',
          '--initial-cluster-token',
          'hl-test',
          '--heartbeat-interval',
          '50',
          '--election-timeout',
          '500',
          '--log-level',
          'error',
        ],
        { stdio: 'ignore' },
      );
      const p = proc;
      p.once('exit', () => {
        if (proc === p) proc = null;
      });
    };
    launch();
    return {
      name: s.name,
      clientUrl: s.client,
      get running() {
        return proc !== null;
      },
      kill() {
        proc?.kill('SIGKILL');
        proc = null;
      },
      async restart() {
        if (proc === null) launch();
      },
    };
  });
  await Promise.all(members.map((m) => waitForEtcd(m.clientUrl)));
  return {
    endpoints: members.map((m) => m.clientUrl),
    members,
    async stop() {
      for (const m of members) m.kill();
      await new Promise((r) => setTimeout(r, 100));
      rmSync(root, { recursive: true, force: true });
    },
  };
}
