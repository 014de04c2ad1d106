/**
 * The HealthLedger SDK: runs in Node and in browsers (fetch + pure-JS crypto). It signs
 * transactions with keys that never leave the caller, submits them, and verifies receipts and
 * consistency proofs locally against node keys pinned from a genesis the caller trusts — it
 * never takes the node's word for a commitment.
 *
 * The client is the {@link LedgerCore} with each domain's actions bound as a namespace
 * (`client.health`, `client.supply`). A bundle that needs only one domain can import
 * `LedgerCore` and that domain's actions instead, and carry nothing else.
 *
 * @example
 * const client = new HealthLedgerClient({ baseUrl: 'http://127.0.0.1:7600', genesis });
 * const receipt = await client.sendAndVerify(identity, 'anchor.put', { key: 'doc-1', commitment });
 * const v = await client.supply.verifyProduct({ gtin, serial, lot, expiry });
 * @module
 */
import { healthActions } from '../domains/health/sdk/index.js';
import { supplyActions } from '../domains/supply/sdk/index.js';
import { bindActions, LedgerCore, type BoundActions } from './core.js';

export * from './core.js';
export { openReleased, type ReleaseResponseWire } from '../domains/health/sdk/index.js';
export type {
  ProductQuery,
  SupplyCaptureResult,
  SupplyEventWire,
  SupplyFactsResultWire,
  SupplyTimelineWire,
  VerifyResponseWire,
} from '../domains/supply/sdk/index.js';

/** A client of one node: the core, plus every domain's actions as a namespace. */
export class HealthLedgerClient extends LedgerCore {
  /** Health records, blobs, consents and the patient trail. */
  readonly health: BoundActions<typeof healthActions> = bindActions(this, healthActions);
  /** EPCIS capture, product verification, package histories and the supply alert feed. */
  readonly supply: BoundActions<typeof supplyActions> = bindActions(this, supplyActions);
}

/** Every domain namespace a {@link HealthLedgerClient} binds, by name (the SDK's action table). */
export const domainActions = { health: healthActions, supply: supplyActions } as const;
