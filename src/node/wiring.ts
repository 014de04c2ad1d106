/**
 * The one place where the node's adapters are chosen and connected: SQLite store, embedded
 * orderer, worker-thread signature verifier, system clock. Other backends (the etcd orderer)
 * are wired here too, and nowhere else.
 * @module
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Genesis } from '../protocol/genesis.js';
import { nativeSigner } from './crypto/native.js';
import { VerifyPool } from './crypto/verify-pool.js';
import { ed25519Backend } from './crypto/ed25519-precomputed.js';
import { LedgerNode } from './ledger-node.js';
import { EmbeddedOrderer } from './ordering/embedded.js';
import { EtcdOrderer } from './ordering/etcd.js';
import type { EtcdTls } from './ordering/etcd-client.js';
import { AttestationService } from './attestations.js';
import { genesisHash, validateGenesis } from '../protocol/genesis.js';
import { needsSnapshot, syncSnapshot } from './snapshot.js';
import { systemClock, type Clock, type Orderer } from './ordering/orderer.js';
import { LedgerStore } from './store/ledger-store.js';
import { WorkerBlockWriter, type BlockWriter } from './store/block-writer.js';

export interface EmbeddedNodeOptions {
  storePath: string;
  genesis: Genesis;
  nodeId: string;
  nodeKey: Uint8Array;
  clock?: Clock;
  verifyThreads?: number;
  orderer?: Orderer;
  /** Order through an etcd cluster at these client URLs instead of the embedded orderer. */
  etcdEndpoints?: readonly string[];
  /** TLS material for `https:` etcd endpoints (PEM: a private CA, this node's client certificate and key). */
  etcdTls?: EtcdTls;
  /** etcd log compaction (see {@link AttestationService}). */
  compactEveryMs?: number;
  keepBatches?: number;
  log?: (event: string, fields: Record<string, unknown>) => void;
}

/** A running node and how to shut it down (stop ordering, then close the store). */
export interface RunningNode {
  node: LedgerNode;
  store: LedgerStore;
  /** Attestations of results across organizations (etcd ordering only). */
  attestations: AttestationService | null;
  close(): Promise<void>;
}

/** Opens the store and starts an embedded (single-organization) node. */
export async function startEmbeddedNode(opts: EmbeddedNodeOptions): Promise<RunningNode> {
  mkdirSync(dirname(opts.storePath), { recursive: true });
  const clock = opts.clock ?? systemClock;
  if (opts.etcdEndpoints && opts.etcdEndpoints.length > 0 && !opts.orderer) {
    // Behind the compacted log (new node, lost store): copy a quorum-attested snapshot first.
    const validated = validateGenesis(opts.genesis);
    if ((await needsSnapshot(opts.storePath, validated, opts.etcdEndpoints, opts.etcdTls)) !== null)
      await syncSnapshot({
        storePath: opts.storePath,
        genesis: validated,
        ownOrg: validated.nodeKeys.get(opts.nodeId)?.orgId ?? '',
        nodeId: opts.nodeId,
        sign: nativeSigner(opts.nodeKey),
        endpoints: opts.etcdEndpoints,
        tls: opts.etcdTls,
        ...(opts.log ? { log: opts.log } : {}),
      });
  }
  const store = LedgerStore.open(opts.storePath);
  const verifier = await VerifyPool.create(
    opts.verifyThreads !== undefined ? { threads: opts.verifyThreads } : {},
  );
  // Which Ed25519 verifier the pool's workers load (ADR 0010): the same answers either way.
  opts.log?.('node.ed25519', { backend: ed25519Backend, threads: verifier.threads });
  let node: LedgerNode;
  const orderer =
    opts.orderer ??
    (opts.etcdEndpoints && opts.etcdEndpoints.length > 0
      ? new EtcdOrderer({
          endpoints: opts.etcdEndpoints,
          tls: opts.etcdTls,
          chainId: opts.genesis.chainId,
          genesisHash: genesisHash(opts.genesis),
          nodeId: opts.nodeId,
          maxBlockTxs: opts.genesis.policies.maxBlockTxs,
          blockTimeoutMs: opts.genesis.policies.blockTimeoutMs,
          clock,
          ...(opts.log ? { log: opts.log } : {}),
          // A tampered batch or a gap: stop accepting writes and say why (health, log, metric).
          onFailure: (reason) => node.halt(`ordering: ${reason}`),
        })
      : new EmbeddedOrderer({
          maxBlockTxs: opts.genesis.policies.maxBlockTxs,
          blockTimeoutMs: opts.genesis.policies.blockTimeoutMs,
          clock,
        }));
  let writer: BlockWriter | undefined;
  try {
    // The node writes genesis state (first start) through its own connection before the writer opens.
    LedgerNode.prepareStore(store, opts.genesis);
    writer = await WorkerBlockWriter.open(opts.storePath, opts.log ? { log: opts.log } : {});
    node = LedgerNode.start({
      writer,
      store,
      genesis: opts.genesis,
      nodeId: opts.nodeId,
      sign: nativeSigner(opts.nodeKey),
      orderer,
      verifier,
      clock,
      ...(opts.log ? { log: opts.log } : {}),
    });
  } catch (e) {
    await writer?.close();
    await verifier.close();
    store.close();
    throw e;
  }
  if (orderer instanceof EmbeddedOrderer)
    node.metrics.gauge('healthledger_orderer_pending', () => orderer.pending);
  // With several organizations, each node attests its results and checks the others'.
  const attestations =
    orderer instanceof EtcdOrderer && opts.etcdEndpoints
      ? new AttestationService({
          endpoints: opts.etcdEndpoints,
          tls: opts.etcdTls,
          genesis: node.genesis,
          nodeId: opts.nodeId,
          sign: nativeSigner(opts.nodeKey),
          node,
          compactEveryMs: opts.compactEveryMs ?? 30_000,
          ...(opts.keepBatches !== undefined ? { keepBatches: opts.keepBatches } : {}),
          ...(opts.log ? { log: opts.log } : {}),
        })
      : null;
  if (orderer instanceof EtcdOrderer) {
    node.metrics.gauge('healthledger_orderer_pending', () => orderer.pending);
    node.metrics.gauge('healthledger_ordering_batches_appended', () => orderer.appendStats.appended);
    node.metrics.gauge('healthledger_ordering_append_races_lost', () => orderer.appendStats.racesLost);
  }
  if (attestations) {
    node.metrics.gauge('healthledger_attestation_confirmed_height', () => attestations.state.confirmedHeight);
    node.metrics.gauge('healthledger_divergence', () => (attestations.state.divergedAt === null ? 0 : 1));
  }
  return {
    node,
    store,
    attestations,
    async close() {
      attestations?.close();
      await node.stop();
      store.close();
    },
  };
}
