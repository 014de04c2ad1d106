/**
 * What every route plugin of the node's API receives: the node and the app's options. Shared
 * plugins live beside this file; each domain's plugin is `domains/<domain>/api/plugin.ts`.
 * @module
 */
import type { FastifyPluginAsync } from 'fastify';
import type { LedgerNode } from '../../node/ledger-node.js';
import type { EventsService } from '../../node/events/events-service.js';
import type { AttestationService } from '../../node/attestations.js';
import type { ValidatedGenesis } from '../../protocol/genesis.js';
import type { RecordService } from '../../domains/health/node/record-service.js';
import type { SupplyService } from '../../domains/supply/node/supply-service.js';
import type { EdgeOptions } from '../base.js';

export interface AppOptions {
  /** The custodian's records service; the record routes exist only with it. */
  records?: RecordService;
  /** The patient events service; the events, audit, stream and subscription routes exist only with it. */
  events?: EventsService;
  /** This node's identity for the cross-organization data plane (several organizations with nodes). */
  peer?: {
    genesis: ValidatedGenesis;
    ownOrg: string;
    nodeId: string;
    sign: (message: Uint8Array) => Uint8Array;
    /** A consistent copy of this node's ledger, for a peer syncing a snapshot. */
    snapshot?: () => Promise<Uint8Array>;
  };
  /** Cross-organization attestations (etcd ordering). */
  attestations?: AttestationService | null;
  /** The supply-chain read side (verification, timelines, alerts, EPCIS intake). */
  supply?: SupplyService;
  /** Largest request body accepted (bytes) on routes whose definition declares none. */
  bodyLimit?: number;
  /** Edge limits: rate limits, timeouts, the largest blob (docs/threat-model.md, Edge). */
  edge?: EdgeOptions;
  /** Default and maximum wait for `wait=true` submissions. */
  defaultWaitMs?: number;
  logger?: boolean;
}

/** The options every route plugin is registered with. */
export interface AppContext {
  node: LedgerNode;
  options: AppOptions;
}

/** A route plugin of the node's API (shared or a domain's). */
export type RoutePlugin = FastifyPluginAsync<AppContext>;
