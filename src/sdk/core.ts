/**
 * The SDK's small core, shared by every domain: signing, submission, receipts and consistency
 * proofs verified locally against node keys pinned from a trusted genesis, blocks, members,
 * attestations and node health. Domain actions (`domains/<d>/sdk/`) are plain functions of a
 * {@link LedgerCore}; {@link bindActions} turns a module of them into a namespace, as viem does, so
 * a browser bundle that imports the core and one domain's actions carries nothing else.
 * @module
 */
import { Routes, type RouteDef, type SubmitResultWire } from '../protocol/api.js';
import type { Block, BlockHeader, SignedCheckpoint } from '../protocol/block.js';
import { fromBase64Url, toBase64Url, utf8 } from '../protocol/bytes.js';
import { HealthLedgerError } from '../protocol/errors.js';
import { genesisHash, validateGenesis, type Genesis, type ValidatedGenesis } from '../protocol/genesis.js';
import { attestationOrg, type Attestation } from '../protocol/attestation.js';
import {
  trustedKeysFromGenesis,
  verifyCheckpoint,
  verifyCheckpointConsistency,
  verifyReceipt,
  type Receipt,
  type TrustedNodeKeys,
} from '../protocol/receipt.js';
import { createTxBody, signTx, txIdOf, type JsonObject, type SignedTx } from '../protocol/tx.js';
import { call, send, type RouteArgs, type Transport } from './transport.js';

/** The route definitions the core calls: the one place it names them. */
const CoreRoutes = {
  submitTx: Routes.submitTx,
  submitBatch: Routes.submitBatch,
  getReceipt: Routes.getReceipt,
  listBlocks: Routes.listBlocks,
  getBlock: Routes.getBlock,
  latestCheckpoint: Routes.latestCheckpoint,
  checkpointAt: Routes.checkpointAt,
  consistency: Routes.consistency,
  getMember: Routes.getMember,
  genesis: Routes.genesis,
  attestations: Routes.attestations,
  health: Routes.health,
} as const satisfies Record<string, RouteDef>;

/** A member's signing identity, held by its owner. */
export interface Identity {
  /** `<orgId>/<memberId>` */
  memberId: string;
  /** Ed25519 seed (32 bytes). */
  privateKey: Uint8Array;
}

/** Loads an identity from the CLI's identity file shape. */
export function identityFromFile(file: { memberId: string; privateKey: string }): Identity {
  return { memberId: file.memberId, privateKey: fromBase64Url(file.privateKey) };
}

/** How a client reaches a node and which chain it trusts. */
export interface ClientOptions {
  /** Node base URL, e.g. `http://127.0.0.1:7600`. */
  baseUrl: string;
  /** The genesis this client trusts (pinned out of band). Node keys for proofs come from it. */
  genesis: Genesis;
  /** The fetch to use (defaults to the global one). */
  fetch?: typeof fetch;
  /** Clock for transaction timestamps (ms). */
  now?: () => number;
}

/** Commitment info returned by a waited submission. */
export interface Committed {
  txId: string;
  height: number;
  index: number;
  seq: number;
  code: string;
}

/** The chain head a node reports in `/health`. */
export interface ChainHeadWire {
  height: number;
  hash: string;
  stateRoot: string;
  logSize: number;
  logRoot: string;
  timestampMs: number;
}

/** A node's signed statement about one block (see `protocol/attestation.ts`). */
export type AttestationWire = Attestation & { org?: string };

/** `GET /v1/attestations`: every node's attestation of a height, and this node's check. */
export interface AttestationsWire {
  height: number;
  attestations: AttestationWire[];
  status: { confirmedHeight: number; divergedAt: number | null; reason: string | null } | null;
}

/** The core of a client: transport, signing, submission and local verification. */
export class LedgerCore implements Transport {
  /** The chain id of the pinned genesis (every signed transaction names it). */
  readonly chainId: string;
  /** Hash of the pinned genesis. */
  readonly genesisHash: string;
  /** Node keys from the pinned genesis: proofs are checked against these, never the node's word. */
  readonly trusted: TrustedNodeKeys;
  /** Node base URL. */
  readonly baseUrl: string;
  /** The fetch every request goes through. */
  readonly fetchFn: typeof fetch;
  private readonly now: () => number;
  private readonly genesis: Genesis;
  private validatedGenesis: ValidatedGenesis | undefined;

  constructor(opts: ClientOptions) {
    this.chainId = opts.genesis.chainId;
    this.genesisHash = genesisHash(opts.genesis);
    this.trusted = trustedKeysFromGenesis(opts.genesis);
    this.baseUrl = opts.baseUrl;
    this.genesis = opts.genesis;
    this.fetchFn = opts.fetch ?? globalThis.fetch.bind(globalThis);
    this.now = opts.now ?? (() => Date.now());
  }

  /**
   * Fetches the node's genesis and checks it hashes to `expectedHash` (obtained out of band),
   * then returns a client (of the class this is called on) pinned to it.
   */
  static async connect<C>(
    this: new (opts: ClientOptions) => C,
    baseUrl: string,
    expectedHash: string,
    fetchFn?: typeof fetch,
  ): Promise<C> {
    const f = fetchFn ?? globalThis.fetch.bind(globalThis);
    const body: { genesis: Genesis } = await call({ baseUrl, fetchFn: f }, CoreRoutes.genesis, {});
    const actual = genesisHash(body.genesis);
    if (actual !== expectedHash)
      throw new Error(`node's genesis hash ${actual} is not the pinned ${expectedHash}`);
    return new this({ baseUrl, genesis: body.genesis, ...(fetchFn ? { fetch: fetchFn } : {}) });
  }

  /**
   * Sends one request to a route and returns its JSON answer; the request's parts are typed by the
   * route's schemas. Errors come back as {@link HealthLedgerError}.
   */
  call<R extends RouteDef, T = unknown>(def: R, args: RouteArgs<R>, init?: RequestInit): Promise<T> {
    return call(this, def, args, init);
  }

  /** As {@link call}, but returns the raw response (for streamed bodies). */
  send<R extends RouteDef>(def: R, args: RouteArgs<R>, init?: RequestInit): Promise<Response> {
    return send(this, def, args, init);
  }

  /**
   * Builds and signs a transaction for `identity`. The payload is canonicalised as JSON (so any
   * plain object of JSON values is accepted, interfaces included).
   */
  sign(identity: Identity, type: string, payload: object): SignedTx {
    return signTx(
      createTxBody({
        chainId: this.chainId,
        type,
        // createTxBody canonicalises it through JSON, which is what makes it a JsonObject.
        payload: payload as JsonObject,
        signer: identity.memberId,
        nowMs: this.now(),
      }),
      identity.privateKey,
    );
  }

  /** `Authorization` header value carrying a signed off-ledger request. */
  authorization(identity: Identity, type: string, payload: object): string {
    return `HealthLedger ${toBase64Url(utf8(JSON.stringify(this.sign(identity, type, payload))))}`;
  }

  /** Submits one transaction. With `wait`, resolves when committed (any validation code). */
  submit(tx: SignedTx, opts: { wait?: boolean; timeoutMs?: number } = {}): Promise<SubmitResultWire> {
    return this.call(CoreRoutes.submitTx, {
      query: { wait: opts.wait ?? false, timeoutMs: opts.timeoutMs },
      body: tx,
    });
  }

  /** Submits up to 5000 transactions in one request; each gets its own result. */
  async submitBatch(
    txs: readonly SignedTx[],
    opts: { wait?: boolean; timeoutMs?: number } = {},
  ): Promise<SubmitResultWire[]> {
    const r: { results: SubmitResultWire[] } = await this.call(CoreRoutes.submitBatch, {
      query: { wait: opts.wait ?? false, timeoutMs: opts.timeoutMs },
      body: { txs: [...txs] },
    });
    return r.results;
  }

  /**
   * Submits and waits for commit; if the node says the id was already accepted (a retry after a
   * lost response), fetches the existing receipt instead — so retries are safe.
   */
  async submitAndWait(tx: SignedTx, timeoutMs = 30_000): Promise<Committed> {
    try {
      const r = await this.submit(tx, { wait: true, timeoutMs });
      if (r.status === 'committed') return r;
      throw new HealthLedgerError('INTERNAL', `unexpected status ${r.status}`);
    } catch (e) {
      if (e instanceof HealthLedgerError && e.code === 'DUPLICATE_TX') {
        const receipt = await this.receipt(txIdOf(tx.body));
        return {
          txId: receipt.txId,
          height: receipt.height,
          index: receipt.index,
          seq: receipt.seq,
          code: receipt.code,
        };
      }
      throw e;
    }
  }

  /** Signs, submits, waits, fetches the receipt and verifies it locally. */
  async sendAndVerify(identity: Identity, type: string, payload: object): Promise<Receipt> {
    const tx = this.sign(identity, type, payload);
    const c = await this.submitAndWait(tx);
    return this.verifiedReceipt(c.txId);
  }

  /** The node's receipt for a transaction (unverified: prefer {@link verifiedReceipt}). */
  receipt(txId: string, treeSize?: number): Promise<Receipt> {
    return this.call(CoreRoutes.getReceipt, { params: { txId }, query: { treeSize } });
  }

  /** A receipt verified locally: checkpoint signature by a genesis node, tx id, inclusion proof. */
  async verifiedReceipt(txId: string, treeSize?: number): Promise<Receipt> {
    const r = await this.receipt(txId, treeSize);
    if (r.txId !== txId)
      throw new HealthLedgerError('INTERNAL', 'node returned a receipt for another transaction');
    return verifyReceipt(r, this.trusted, this.chainId);
  }

  /** The node's latest checkpoint, its signature verified against the genesis node keys. */
  async latestCheckpoint(): Promise<SignedCheckpoint> {
    const c: SignedCheckpoint = await this.call(CoreRoutes.latestCheckpoint, {});
    verifyCheckpoint(c, this.trusted, this.chainId);
    return c;
  }

  /** The checkpoint issued after block `height`, its signature verified against the genesis node keys. */
  async checkpoint(height: number): Promise<SignedCheckpoint> {
    const c: SignedCheckpoint = await this.call(CoreRoutes.checkpointAt, { params: { height } });
    verifyCheckpoint(c, this.trusted, this.chainId);
    return c;
  }

  /** Fetches and verifies a consistency proof between two checkpointed sizes. */
  async verifiedConsistency(
    from: number,
    to: number,
  ): Promise<{ from: SignedCheckpoint; to: SignedCheckpoint; proof: string[] }> {
    const r: { from: SignedCheckpoint; to: SignedCheckpoint; proof: string[] } = await this.call(
      CoreRoutes.consistency,
      { query: { from, to } },
    );
    if (r.from.checkpoint.logSize !== from || r.to.checkpoint.logSize !== to)
      throw new HealthLedgerError('INTERNAL', 'node answered for other sizes');
    verifyCheckpointConsistency(r.from, r.to, r.proof, this.trusted, this.chainId);
    return r;
  }

  /** A block with its transactions and validation codes (unverified). */
  block(height: number): Promise<Block> {
    return this.call(CoreRoutes.getBlock, { params: { height } });
  }

  /** Block headers from `from`, oldest first (unverified). */
  blocks(
    from = 1,
    limit = 50,
  ): Promise<{ head: unknown; blocks: { header: BlockHeader; hash: string; signature: string }[] }> {
    return this.call(CoreRoutes.listBlocks, { query: { from, limit } });
  }

  /** An enrolled member's record (`<org>/<member>`): role, attributes, certificate, revocation. */
  member(memberId: string): Promise<Record<string, unknown>> {
    const [org, member] = memberId.split('/');
    return this.call(CoreRoutes.getMember, { params: { org: org ?? '', member: member ?? '' } });
  }

  /**
   * The nodes' signed attestations for `height` and this node's cross-organization check. Each
   * attestation's signature is verified here against the genesis node keys; unsigned or forged ones
   * are dropped.
   */
  async attestations(height: number): Promise<AttestationsWire> {
    const r: AttestationsWire = await this.call(CoreRoutes.attestations, { query: { height } });
    this.validatedGenesis ??= validateGenesis(this.genesis);
    const g = this.validatedGenesis;
    return { ...r, attestations: r.attestations.filter((a) => attestationOrg(a, g) !== null) };
  }

  /**
   * The node's liveness and chain head (`GET /health`). Named so because `client.health` is the
   * health domain's namespace.
   */
  nodeHealth(): Promise<{ status: string; head: ChainHeadWire } & Record<string, unknown>> {
    return this.call(CoreRoutes.health, {});
  }
}

/** An action: a plain function of the core and its own arguments (tree-shakable on its own). */
export type Action = (core: LedgerCore, ...args: never[]) => unknown;

/** A module of actions as a client namespace: each bound to one core, its first argument dropped. */
export type BoundActions<A extends Record<string, Action>> = {
  [K in keyof A]: A[K] extends (core: LedgerCore, ...args: infer P) => infer R ? (...args: P) => R : never;
};

/** Binds every action of a module to `core`, giving the namespace a client exposes. */
export function bindActions<A extends Record<string, Action>>(core: LedgerCore, actions: A): BoundActions<A> {
  const bound: Record<string, (...args: unknown[]) => unknown> = {};
  for (const [name, action] of Object.entries(actions))
    bound[name] = (...args: unknown[]) =>
      (action as (c: LedgerCore, ...a: unknown[]) => unknown)(core, ...args);
  return bound as BoundActions<A>;
}
