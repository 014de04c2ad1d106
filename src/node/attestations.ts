/**
 * Attestations: after each block, every node signs (height, block hash, log root, state root) and
 * publishes it to etcd beside the ordered batches. Block hashes name their executing node, so nodes
 * compare what every honest node computes identically — the log root (every transaction with its
 * validation code) and the state root. A node whose result differs from a quorum of organizations
 * (a majority of the organizations that run nodes) stops accepting writes, raises the alarm (log,
 * metric, `/health`, `/v1/attestations`) and names the first divergent block. A node whose store was
 * altered computes different roots from then on, and is caught the same way.
 * @module
 */
import type { Block } from '../protocol/block.js';
import type { Ed25519Verify } from '../protocol/ed25519.js';
import type { ValidatedGenesis } from '../protocol/genesis.js';
import { attest, attestationOrg, type Attestation } from '../protocol/attestation.js';

export { attest, attestationOrg, type Attestation };
import { EtcdClient, prefixEnd, type EtcdTls } from './ordering/etcd-client.js';
import { verifySodium } from './crypto/ed25519-native.js';
import { verifyPrecomputed } from './crypto/ed25519-precomputed.js';

/** Peers' attestation signatures: the node's native verifier (libsodium rules). */
const verifyAttestationSignature: Ed25519Verify = verifyPrecomputed ?? verifySodium;
import { layoutOf, organizationQuorum, type EtcdLayout } from './ordering/etcd-keys.js';

/** What the node's attestation check has established. */
export interface AttestationStatus {
  /** Highest height whose result a quorum of organizations confirmed. */
  confirmedHeight: number;
  /** The first block where this node's result differs from a quorum, if any. */
  divergedAt: number | null;
  reason: string | null;
}

export interface AttestationServiceOptions {
  endpoints: readonly string[];
  genesis: ValidatedGenesis;
  nodeId: string;
  sign: (message: Uint8Array) => Uint8Array;
  node: {
    onBlock(listener: (block: Block) => void): () => void;
    /** The header and hash of a committed block (no transactions: all an attestation covers). */
    getBlockHeader(height: number): Pick<Block, 'header' | 'hash'> | undefined;
    chainHead(): { height: number };
    halt(reason: string): void;
  };
  /**
   * How often this node compares its results with the others' attestations (ms; default
   * {@link CHECK_INTERVAL_MS}).
   */
  intervalMs?: number;
  /**
   * How long a committed block's attestation may wait for later ones to share its etcd
   * transaction (ms; default {@link PUBLISH_DELAY_MS}). Every etcd write is a Raft round with an
   * fsync on each member — a couple of milliseconds of etcd's CPU however small — and blocks
   * commit every ~80 ms per node under load.
   */
  publishDelayMs?: number;
  /** TLS material for `https:` etcd endpoints. */
  tls?: EtcdTls | undefined;
  /**
   * Compaction: batches (and attestations) more than `keepBatches` below the lowest height every
   * organization's node has applied are deleted from etcd, every `compactEveryMs`. Off when 0.
   */
  compactEveryMs?: number;
  keepBatches?: number;
  log?: (event: string, fields: Record<string, unknown>) => void;
}

export class AttestationService {
  private readonly client: EtcdClient;
  private readonly quorum: number;
  private readonly status: AttestationStatus = { confirmedHeight: 0, divergedAt: null, reason: null };
  private readonly unsubscribe: () => void;
  private timer: ReturnType<typeof setInterval> | null = null;
  private checking = false;
  private readonly log: NonNullable<AttestationServiceOptions['log']>;

  private compactTimer: ReturnType<typeof setInterval> | null = null;
  private readonly keys: EtcdLayout;
  /** The lowest height every organization's node has applied, as last seen (for compaction). */
  lowestApplied = 0;
  private appliedHeight = 0;
  private reporting = false;
  /** Attestations of committed blocks not yet sent, oldest first; and their heights. */
  private readonly unpublished: Attestation[] = [];
  private readonly queued = new Set<number>();
  private publishing: Promise<void> | null = null;

  constructor(private readonly opts: AttestationServiceOptions) {
    this.client = new EtcdClient(opts.endpoints, { tls: opts.tls });
    this.keys = layoutOf(opts.genesis);
    if ((opts.compactEveryMs ?? 0) > 0)
      this.compactTimer = setInterval(() => void this.compact(), opts.compactEveryMs);
    this.quorum = organizationQuorum(opts.genesis);
    this.log = opts.log ?? (() => {});
    this.unsubscribe = opts.node.onBlock((b) => void this.publish(b));
    this.timer = setInterval(() => void this.check(), opts.intervalMs ?? CHECK_INTERVAL_MS);
  }

  /**
   * Queues this node's attestation of `block` for publishing. Attestations of blocks committed
   * within {@link AttestationServiceOptions.publishDelayMs} go to etcd in one transaction (one Raft
   * entry instead of one per block), with this node's applied height; each is still its own key,
   * written once.
   */
  private publish(block: Pick<Block, 'header' | 'hash'>): Promise<void> {
    // A check that finds this node's attestation missing may ask again while it waits here.
    if (!this.queued.has(block.header.height)) {
      this.queued.add(block.header.height);
      this.unpublished.push(
        attest(block, this.opts.genesis.genesis.chainId, this.opts.nodeId, this.opts.sign),
      );
    }
    this.publishing ??= this.publishQueued();
    return this.publishing;
  }

  /** Publishes queued attestations, up to {@link PUBLISH_BATCH} per transaction, until none are left. */
  private async publishQueued(): Promise<void> {
    // Let the blocks committing meanwhile join this transaction.
    await new Promise((r) => setTimeout(r, this.opts.publishDelayMs ?? PUBLISH_DELAY_MS));
    try {
      while (this.unpublished.length > 0) {
        const batch = this.unpublished.splice(0, PUBLISH_BATCH);
        const pairs = batch.map((a) => [this.keys.attestKey(a.height, a.nodeId), JSON.stringify(a)] as const);
        // Durably applied up to here (the block was committed before onBlock fired).
        const applied = Math.max(this.appliedHeight, ...batch.map((a) => a.height));
        try {
          // One key already there (a retry, a restart) fails the whole transaction: then one by one.
          if (
            await this.client.createAllIfAbsent(pairs, [
              [this.keys.appliedKey(this.opts.nodeId), String(applied)],
            ])
          )
            this.appliedHeight = applied;
          else {
            for (const [key, value] of pairs) await this.client.createIfAbsent(key, value);
            this.appliedHeight = applied;
            this.reportApplied();
          }
        } catch (e) {
          this.log('attestation.publish.failed', { height: batch[0]!.height, error: (e as Error).message });
        } finally {
          // Published, or to be published again by a later check.
          for (const a of batch) this.queued.delete(a.height);
        }
      }
    } finally {
      // In the same step as the queue is found empty (no await between): a later attestation
      // starts a new run instead of joining one that has already finished.
      this.publishing = null;
    }
  }

  /**
   * Reports the applied height on its own (when attestations could not carry it), at most twice a
   * second: compaction only needs a lower bound.
   */
  private reportApplied(): void {
    if (this.reporting) return;
    this.reporting = true;
    setTimeout(() => {
      this.reporting = false;
      void this.client
        .put(this.keys.appliedKey(this.opts.nodeId), String(this.appliedHeight))
        .catch((e: unknown) => this.log('attestation.applied.failed', { error: (e as Error).message }));
    }, 500);
  }

  /** The attestations published for `height` (verified; forged ones are dropped). */
  forHeight(height: number): Promise<(Attestation & { org: string })[]> {
    return attestationsAt(this.client, this.opts.genesis, height);
  }

  /** Compares this node's results with the other organizations' attestations, height by height. */
  async check(): Promise<void> {
    if (this.checking || this.status.divergedAt !== null) return;
    this.checking = true;
    try {
      const head = this.opts.node.chainHead().height;
      // One read for the whole window, not one per height. Serializable (no Raft round): a stale
      // answer lacks attestations, which only postpones confirming a height.
      const windowEnd = (from: number): number => Math.min(head, from - 1 + CHECK_WINDOW);
      const read = (from: number) =>
        attestationsBetween(this.client, this.opts.genesis, from, windowEnd(from), { serializable: true });
      let from = this.status.confirmedHeight + 1;
      let window = await read(from);
      if (from <= head && !window.has(from)) {
        // None yet at the first height, or compacted away: attestations may start further on, and
        // heights below the compacted part of the log have none left to compare (start after them).
        const { attestPrefix } = this.keys;
        const [first] = await this.client.range(attestPrefix, prefixEnd(attestPrefix), {
          limit: 1,
          serializable: true,
        });
        const firstAttested = first === undefined ? 1 : this.keys.heightOfAttestKey(first.key);
        if (from < firstAttested) {
          this.status.confirmedHeight = firstAttested - 1;
          from = firstAttested;
          window = await read(from);
        }
      }
      const to = windowEnd(from);
      for (let h = from; h <= to; h++) {
        const mine = this.opts.node.getBlockHeader(h);
        if (mine === undefined) return;
        const ours = `${mine.header.logRoot}/${mine.header.stateRoot}`;
        const byOrg = new Map<string, string>();
        const published = window.get(h) ?? [];
        // Attest what was committed before a restart or while etcd was unreachable.
        if (!published.some((a) => a.nodeId === this.opts.nodeId)) await this.publish(mine);
        for (const a of published)
          if (a.nodeId !== this.opts.nodeId) byOrg.set(a.org, `${a.logRoot}/${a.stateRoot}`);
        const votes = new Map<string, number>();
        for (const v of byOrg.values()) votes.set(v, (votes.get(v) ?? 0) + 1);
        const agreeing = (votes.get(ours) ?? 0) + 1; // and this node
        const [other, otherVotes] = [...votes].filter(([v]) => v !== ours).sort((x, y) => y[1] - x[1])[0] ?? [
          null,
          0,
        ];
        if (other !== null && otherVotes >= this.quorum) {
          const reason = `diverged at block ${h}: a quorum of organizations (${otherVotes}) computed log/state roots ${other.slice(0, 16)}…, this node ${ours.slice(0, 16)}…`;
          this.status.divergedAt = h;
          this.status.reason = reason;
          this.log('attestation.divergence', { height: h, reason });
          this.opts.node.halt(reason);
          return;
        }
        if (agreeing < this.quorum) return; // not enough attestations yet
        this.status.confirmedHeight = h;
      }
    } catch (e) {
      this.log('attestation.check.failed', { error: (e as Error).message });
    } finally {
      this.checking = false;
    }
  }

  /**
   * Deletes batches and attestations well below the lowest height every organization's node has
   * applied. A node that never reported (or is behind) holds compaction back: nothing it still needs
   * is ever deleted; a node that lost its store syncs a snapshot instead.
   */
  async compact(): Promise<number> {
    try {
      const { appliedPrefix } = this.keys;
      const applied = new Map<string, number>();
      for (const kv of await this.client.range(appliedPrefix, prefixEnd(appliedPrefix)))
        applied.set(kv.key.slice(appliedPrefix.length), Number(kv.value));
      const nodes = [...this.opts.genesis.nodeKeys.keys()];
      const lowest = Math.min(...nodes.map((n) => applied.get(n) ?? 0));
      this.lowestApplied = lowest;
      const below = lowest - (this.opts.keepBatches ?? 10_000);
      if (below < 1) return 0;
      const batches = await this.client.deleteRange(this.keys.batchKey(1), this.keys.batchKey(below));
      const attests = await this.client.deleteRange(
        this.keys.attestHeightPrefix(1),
        this.keys.attestHeightPrefix(below),
      );
      // Deleted keys keep their values in etcd's history (as do the head record's and applied
      // heights' overwritten ones) until that history is compacted: without this, etcd's backend
      // grew by every batch ever written, ~2 MB/s at 5,000 tx/s, until its space quota stopped all
      // writes. Nothing here reads or watches old revisions, so all of it can go.
      if (batches.deleted > 0 || attests.deleted > 0) await this.client.compact(attests.revision);
      if (batches.deleted > 0)
        this.log('ordering.compacted', {
          below,
          batches: batches.deleted,
          lowestApplied: lowest,
          revision: attests.revision,
        });
      return batches.deleted;
    } catch (e) {
      this.log('ordering.compaction.failed', { error: (e as Error).message });
      return 0;
    }
  }

  get state(): AttestationStatus {
    return { ...this.status };
  }

  close(): void {
    this.unsubscribe();
    if (this.timer) clearInterval(this.timer);
    if (this.compactTimer) clearInterval(this.compactTimer);
    this.timer = null;
    this.compactTimer = null;
    this.client.close();
  }
}

/**
 * Defaults for publishing and checking: a divergent block is found within about a second of its
 * commit. Shorter costs etcd writes and reads for nothing else: at 5,000 tx/s, 1,000 ms for both
 * took 6 % less CPU than 200 / 250 ms (etcd's share 15 % less); 500 ms keeps most of that.
 */
export const PUBLISH_DELAY_MS = 500;
export const CHECK_INTERVAL_MS = 500;

/** Attestations sent to etcd in one transaction, at most. */
const PUBLISH_BATCH = 64;
/** Heights compared per check. */
const CHECK_WINDOW = 64;

/**
 * The genuine attestations published for heights `from..to`, by height (signatures checked;
 * forged ones, and ones whose key and content disagree on the height, dropped).
 */
export async function attestationsBetween(
  client: EtcdClient,
  genesis: ValidatedGenesis,
  from: number,
  to: number,
  opts: { serializable?: boolean } = {},
): Promise<Map<number, (Attestation & { org: string })[]>> {
  const out = new Map<number, (Attestation & { org: string })[]>();
  if (from > to) return out;
  const keys = layoutOf(genesis);
  const kvs = await client.range(keys.attestHeightPrefix(from), keys.attestHeightPrefix(to + 1), opts);
  for (const kv of kvs) {
    const height = keys.heightOfAttestKey(kv.key);
    const a = genuineAttestation(kv.value, genesis, height);
    if (a === null) continue;
    const list = out.get(height);
    if (list) list.push(a);
    else out.set(height, [a]);
  }
  return out;
}

/** The attestation in `value` if it is genuine and for `height`, else null. */
function genuineAttestation(
  value: string,
  genesis: ValidatedGenesis,
  height: number,
): (Attestation & { org: string }) | null {
  try {
    const a = JSON.parse(value) as Attestation;
    const org = attestationOrg(a, genesis, verifyAttestationSignature);
    return org !== null && a.height === height ? { ...a, org } : null;
  } catch {
    return null;
  }
}

/** The genuine attestations published for `height` (signatures checked; forged ones dropped). */
export async function attestationsAt(
  client: EtcdClient,
  genesis: ValidatedGenesis,
  height: number,
): Promise<(Attestation & { org: string })[]> {
  const from = layoutOf(genesis).attestHeightPrefix(height);
  const kvs = await client.range(from, prefixEnd(from));
  return kvs.flatMap((kv) => {
    const a = genuineAttestation(kv.value, genesis, height);
    return a === null ? [] : [a];
  });
}
