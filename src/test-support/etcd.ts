/**
 * Real etcd clusters for tests (Debian's `etcd-server`, `/usr/bin/etcd`): N members on loopback
 * with their own data folders; members can be SIGKILLed and restarted on the same folder.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../bench/ledger-bench.js';
import { waitForEtcd, type EtcdTls } from '../node/ordering/etcd-client.js';

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

/**
 * PEM files for a member serving clients over TLS and requiring client certificates issued by
 * `caFile` (etcd's `--cert-file`, `--key-file`, `--trusted-ca-file`, `--client-cert-auth`), with
 * the material a client needs to connect (`client`).
 */
export interface EtcdTlsFiles {
  certFile: string;
  keyFile: string;
  caFile: string;
  client: EtcdTls;
}

/** Starts an `n`-member cluster and waits until it serves (clients over TLS with `tls`). */
export async function startEtcdCluster(n: number, tls?: EtcdTlsFiles): Promise<EtcdCluster> {
  const root = mkdtempSync(join(tmpdir(), 'hl-etcd-'));
  const ports = await Promise.all(Array.from({ length: 2 * n }, () => freePort()));
  const specs = Array.from({ length: n }, (_, i) => ({
    name: `m${i}`,
    client: `${tls ? 'https' : 'http'}://127.0.0.1:${ports[2 * i]}`,
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
          ...(tls
            ? [
                '--cert-file',
                tls.certFile,
                '--key-file',
                tls.keyFile,
                '--trusted-ca-file',
                tls.caFile,
                '--client-cert-auth',
              ]
            : []),
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
  await Promise.all(members.map((m) => waitForEtcd(m.clientUrl, 15_000, tls?.client)));
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

/**
 * A throwaway CA (EC P-256, one day) in `dir` with a server certificate for 127.0.0.1 and a client
 * certificate, made with the `openssl` command line (etcd's own TLS setup is what is under test,
 * and the repository's X.509 code issues only organization and member certificates).
 */
export function makeEtcdTls(dir: string, name = 'ca'): EtcdTlsFiles {
  mkdirSync(dir, { recursive: true });
  const f = (file: string) => join(dir, `${name}-${file}`);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl(
    'req',
    '-x509',
    ...ec,
    '-keyout',
    f('ca.key'),
    '-out',
    f('ca.pem'),
    '-days',
    '1',
    '-subj',
    `/CN=${name}`,
  );
  const issue = (who: string, ext: string) => {
    writeFileSync(f(`${who}.ext`), ext);
    openssl('req', ...ec, '-keyout', f(`${who}.key`), '-out', f(`${who}.csr`), '-subj', `/CN=${who}`);
    openssl(
      'x509',
      '-req',
      '-in',
      f(`${who}.csr`),
      '-CA',
      f('ca.pem'),
      '-CAkey',
      f('ca.key'),
      '-CAcreateserial',
      '-out',
      f(`${who}.pem`),
      '-days',
      '1',
      '-extfile',
      f(`${who}.ext`),
    );
  };
  issue('server', 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  issue('client', 'extendedKeyUsage=clientAuth\n');
  return {
    certFile: f('server.pem'),
    keyFile: f('server.key'),
    caFile: f('ca.pem'),
    client: {
      ca: readFileSync(f('ca.pem')),
      cert: readFileSync(f('client.pem')),
      key: readFileSync(f('client.key')),
    },
  };
}
