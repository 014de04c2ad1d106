/**
 * Snapshot sync: a node that is new, lost its store, or is behind the compacted etcd log copies the
 * ledger from another organization's node and trusts it only if a quorum of organizations attested
 * the snapshot's head (same log root and state root at that height). The copy is a consistent SQLite
 * backup (blocks, transactions, Merkle nodes, state); the node then replays the rest from etcd.
 * @module
 */
import { existsSync, renameSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { fsyncDir, writeFileDurable } from './home.js';
import { HealthLedgerError } from '../protocol/errors.js';
import { Routes } from '../protocol/api.js';
import type { ValidatedGenesis } from '../protocol/genesis.js';
import { genesisHash } from '../protocol/genesis.js';
import { attestationsAt } from './attestations.js';
import { layoutOf, organizationQuorum } from './ordering/etcd-keys.js';
import { EtcdClient, prefixEnd, type EtcdTls } from './ordering/etcd-client.js';
import {
  signPeerRequest,
  verifyPeerResponse,
  NODE_AUTH_HEADER,
  NODE_RESPONSE_HEADER,
} from './auth/peer-auth.js';
import { LedgerStore } from './store/ledger-store.js';

/** The peer route serving a snapshot to other organizations' nodes. */
export const PEER_SNAPSHOT_PATH = Routes.peerSnapshot.url;

/** A consistent copy of `store` (SQLite online backup) as bytes. */
export async function createSnapshot(store: LedgerStore, tmpPath: string): Promise<Uint8Array> {
  rmSync(tmpPath, { force: true });
  await store.db.backup(tmpPath);
  try {
    return new Uint8Array(await (await import('node:fs/promises')).readFile(tmpPath));
  } finally {
    rmSync(tmpPath, { force: true });
  }
}

/** True if this store must sync a snapshot: etcd no longer holds the batch after its height. */
export async function needsSnapshot(
  storePath: string,
  genesis: ValidatedGenesis,
  endpoints: readonly string[],
  tls?: EtcdTls,
): Promise<number | null> {
  let height = 0;
  if (existsSync(storePath)) {
    const s = LedgerStore.open(storePath, { readonly: true });
    try {
      height = s.lastBlock()?.height ?? 0;
    } finally {
      s.close();
    }
  }
  const keys = layoutOf(genesis);
  const client = new EtcdClient(endpoints, { tls });
  let first: { key: string } | undefined;
  try {
    [first] = await client.range(keys.batchPrefix, prefixEnd(keys.batchPrefix), { limit: 1 });
  } finally {
    client.close();
  }
  if (first === undefined) return null;
  const firstSeq = keys.seqOfBatchKey(first.key);
  return firstSeq > height + 1 ? firstSeq : null;
}

/**
 * Fetches a snapshot from another organization's node, checks it against a quorum of attestations
 * and installs it at `storePath`. Returns the snapshot's height.
 */
export async function syncSnapshot(opts: {
  storePath: string;
  genesis: ValidatedGenesis;
  ownOrg: string;
  nodeId: string;
  sign: (m: Uint8Array) => Uint8Array;
  endpoints: readonly string[];
  tls?: EtcdTls | undefined;
  log?: (event: string, fields: Record<string, unknown>) => void;
}): Promise<number> {
  const log = opts.log ?? (() => {});
  const etcd = new EtcdClient(opts.endpoints, { tls: opts.tls });
  try {
    return await fetchAttestedSnapshot(opts, etcd, log);
  } finally {
    etcd.close();
  }
}

async function fetchAttestedSnapshot(
  opts: Parameters<typeof syncSnapshot>[0],
  etcd: EtcdClient,
  log: NonNullable<Parameters<typeof syncSnapshot>[0]['log']>,
): Promise<number> {
  const quorum = organizationQuorum(opts.genesis);
  const peers = opts.genesis.genesis.orgs
    .filter((o) => o.id !== opts.ownOrg)
    .flatMap((o) => o.nodes.filter((n) => n.endpoint).map((n) => ({ org: o.id, endpoint: n.endpoint! })));
  const reasons: string[] = [];
  for (const peer of peers) {
    const tmp = `${opts.storePath}.snapshot`;
    try {
      const auth = signPeerRequest(opts.nodeId, opts.sign, 'GET', PEER_SNAPSHOT_PATH, '', Date.now());
      const res = await fetch(new URL(PEER_SNAPSHOT_PATH, peer.endpoint), {
        headers: { [NODE_AUTH_HEADER]: auth },
        signal: AbortSignal.timeout(120_000),
      });
      const bytes = new Uint8Array(await res.arrayBuffer());
      if (
        !verifyPeerResponse(
          res.headers.get(NODE_RESPONSE_HEADER),
          opts.genesis,
          peer.org,
          res.status,
          bytes,
          auth,
        )
      )
        throw new Error('the snapshot is not signed by that organization’s node');
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      writeFileDurable(tmp, bytes);
      const s = LedgerStore.open(tmp, { readonly: true });
      let head: { height: number; logRoot: string; stateRoot: string };
      try {
        const g = s.genesis();
        if (g === undefined || genesisHash(g) !== opts.genesis.hash)
          throw new Error('the snapshot is of another chain');
        const b = s.lastBlock();
        if (b === undefined) throw new Error('the snapshot is empty');
        head = { height: b.height, logRoot: b.header.logRoot, stateRoot: b.header.stateRoot };
      } finally {
        s.close();
      }
      // Trust it only if a quorum of organizations attested these roots at that height.
      let agreeing = 0;
      for (let attempt = 0; attempt < 50 && agreeing < quorum; attempt++) {
        const orgs = new Set(
          (await attestationsAt(etcd, opts.genesis, head.height))
            .filter((a) => a.logRoot === head.logRoot && a.stateRoot === head.stateRoot)
            .map((a) => a.org),
        );
        agreeing = orgs.size;
        if (agreeing < quorum) await new Promise((r) => setTimeout(r, 200));
      }
      if (agreeing < quorum)
        throw new Error(
          `only ${agreeing} organizations attested the snapshot's head ${head.height} (quorum ${quorum})`,
        );
      for (const suffix of ['', '-wal', '-shm']) rmSync(`${opts.storePath}${suffix}`, { force: true });
      renameSync(tmp, opts.storePath);
      fsyncDir(dirname(opts.storePath));
      log('snapshot.installed', { from: peer.org, height: head.height, attestedBy: agreeing });
      return head.height;
    } catch (e) {
      rmSync(tmp, { force: true });
      reasons.push(`${peer.org}: ${(e as Error).message}`);
    }
  }
  throw new HealthLedgerError('ORDERING_UNAVAILABLE', `no usable snapshot: ${reasons.join('; ')}`);
}
