/**
 * Supply chain actions: EPCIS capture, product verification (DSCSA VRS shape), package histories
 * verified against the ledger, and the alert feed. Plain functions of a {@link LedgerCore}; the
 * client binds them as `client.supply`.
 * @module
 */
import type { EventsPageWire } from '../../../protocol/api.js';
import { HealthLedgerError, type ApiErrorCode } from '../../../protocol/errors.js';
import type { Receipt } from '../../../protocol/receipt.js';
import type { Identity, LedgerCore } from '../../../sdk/core.js';
import { routeUrl } from '../../../sdk/transport.js';
import type { SupplyFacts } from '../core/facts.js';
import { SupplyRoutes } from './routes.js';

/** One event recorded by {@link captureEpcis}. */
export interface SupplyCaptureResult {
  eventHash: string;
  txId: string;
  /** The validation code (`VALID`, or why custody rules refused it). */
  code: string;
  /** Alerts the event raised (suspect packages, now quarantined). */
  alerts: string[];
}

/** One event's outcome at the node's EPCIS intake. */
export type SupplyFactsResultWire =
  | { index: number; ok: true; facts: SupplyFacts }
  | { index: number; ok: false; code: string; message: string };

/** What an applied supply transaction recorded. */
export interface SupplyEventWire {
  eventHash: string | null;
  step: string;
  org: string;
  epcs: string[];
  parent: string | null;
  alerts: string[];
  height: number;
}

/** A VRS-shaped verification response. */
export interface VerifyResponseWire {
  corrUUID?: string;
  verificationTimestamp: string;
  data: { verified: boolean; additionalInfo?: string };
  detail: {
    verified: boolean;
    reason: string | null;
    status?: string;
    alert?: string;
    lastTx?: string;
    height: number;
  };
}

/** A package's timeline as the node serves it. */
export interface SupplyTimelineWire {
  epc: string;
  record: Record<string, unknown>;
  lot: Record<string, unknown> | null;
  alert: Record<string, unknown> | null;
  height: number;
  entries: {
    txId: string;
    height: number;
    step: string;
    org: string;
    eventHash: string | null;
    alerts: string[];
    via: string | null;
  }[];
}

/** A product identifier to verify; `expiry` is `YYYY-MM-DD`. */
export interface ProductQuery {
  gtin: string;
  serial: string;
  lot: string;
  expiry: string;
  corrUUID?: string;
}

/**
 * Records EPCIS events on the ledger: each event's CBV hash and public facts, signed by
 * `identity` (the full events stay with the caller). Facts come from the node's EPCIS intake,
 * which validates the document against the EPCIS 2.0 JSON Schema; or pass `facts` derived
 * locally with `supplyFactsOf`. Resolves per event with the validation code and any alerts.
 *
 * @example
 * const [r] = await client.supply.captureEpcis(distributor, epcisDocument);
 * // { eventHash: 'ni:///sha-256;…?ver=CBV2.0', txId: '…', code: 'VALID', alerts: [] }
 */
export async function captureEpcis(
  core: LedgerCore,
  identity: Identity,
  doc: object,
  opts: { facts?: SupplyFacts[]; timeoutMs?: number } = {},
): Promise<SupplyCaptureResult[]> {
  let facts = opts.facts;
  if (facts === undefined) {
    const r = await supplyFacts(core, doc);
    const bad = r.results.find((x) => !x.ok);
    if (bad && !bad.ok)
      throw new HealthLedgerError('EPCIS_NOT_RECORDABLE', `event ${bad.index}: ${bad.code}: ${bad.message}`, {
        index: bad.index,
        code: bad.code,
      });
    facts = r.results.map((x) => (x as { facts: SupplyFacts }).facts);
  }
  const txs = facts.map((f) => core.sign(identity, 'supply.event', f));
  const results = await core.submitBatch(txs, { wait: true, timeoutMs: opts.timeoutMs ?? 30_000 });
  const out: SupplyCaptureResult[] = [];
  for (let i = 0; i < results.length; i++) {
    const r = results[i]!;
    const eventHash = facts[i]!.eventHash;
    if (r.status === 'rejected') throw new HealthLedgerError(r.error.code as ApiErrorCode, r.error.message);
    if (r.status !== 'committed')
      throw new HealthLedgerError('COMMIT_TIMEOUT', `event ${i} not yet committed`);
    const alerts = r.code === 'VALID' ? (await supplyEvent(core, r.txId)).alerts : [];
    out.push({ eventHash, txId: r.txId, code: r.code, alerts });
  }
  return out;
}

/** The node's EPCIS intake: schema validation, then each event's hash and facts (nothing stored). */
export function supplyFacts(core: LedgerCore, doc: object): Promise<{ results: SupplyFactsResultWire[] }> {
  return core.call(SupplyRoutes.supplyFacts, { body: doc });
}

/** What an applied supply transaction recorded (event hash, step, identifiers, alerts). */
export function supplyEvent(core: LedgerCore, txId: string): Promise<SupplyEventWire> {
  return core.call(SupplyRoutes.supplyEvent, { params: { txId } });
}

/**
 * Verifies a product identifier at this node (DSCSA VRS shape).
 *
 * @example
 * const r = await client.supply.verifyProduct({ gtin: '00614141107346', serial: '2017', lot: 'L1', expiry: '2030-01-31' });
 * if (!r.data.verified) console.log(r.data.additionalInfo); // e.g. 'RECALLED'
 */
export function verifyProduct(core: LedgerCore, q: ProductQuery): Promise<VerifyResponseWire> {
  return core.call(SupplyRoutes.supplyVerify, {
    params: { gtin: q.gtin, lot: q.lot, serial: q.serial },
    query: { expiry: q.expiry, corrUUID: q.corrUUID },
  });
}

/**
 * A package's timeline with proofs: unless `verify: false`, every entry's transaction receipt is
 * fetched and verified locally (inclusion proof against a checkpoint signed by a genesis node),
 * and the proven transaction must be an applied supply transaction carrying the entry's event
 * hash — or this throws SUPPLY_TIMELINE_MISMATCH.
 */
export async function supplyHistory(
  core: LedgerCore,
  id: string,
  opts: { verify?: boolean } = {},
): Promise<{ timeline: SupplyTimelineWire; receipts: Receipt[] }> {
  const timeline: SupplyTimelineWire = await core.call(SupplyRoutes.supplyHistory, { query: { id } });
  const receipts: Receipt[] = [];
  if (opts.verify === false) return { timeline, receipts };
  for (const e of timeline.entries) {
    const r = await core.verifiedReceipt(e.txId);
    const body = r.tx.body;
    const mismatch = (what: string): never => {
      throw new HealthLedgerError('SUPPLY_TIMELINE_MISMATCH', `entry ${e.txId}: ${what}`);
    };
    if (r.code !== 'VALID') mismatch(`the transaction was not applied (${r.code})`);
    if (!body.type.startsWith('supply.')) mismatch('not a supply transaction');
    if (r.height !== e.height) mismatch('height differs');
    const payloadHash = (body.payload as Record<string, unknown>)['eventHash'] ?? null;
    if (body.type === 'supply.event' && payloadHash !== e.eventHash) mismatch('event hash differs');
    if (body.signer.split('/')[0] !== e.org) mismatch('organization differs');
    receipts.push(r);
  }
  return { timeline, receipts };
}

/** One supply alert: package, reasons, every report, owner, status and resolution. */
export function supplyAlert(core: LedgerCore, id: string): Promise<Record<string, unknown>> {
  return core.call(SupplyRoutes.supplyAlert, { params: { id } });
}

/** A bearer token (15 min) for the supply alert feed (manufacturers, distributors, dispensers, regulators). */
export function supplyAlertsToken(
  core: LedgerCore,
  identity: Identity,
): Promise<{ token: string; expiresAtMs: number }> {
  return core.call(SupplyRoutes.eventsToken, {
    body: core.sign(identity, 'events.token', { feed: 'supply' }),
  });
}

/**
 * Subscribes a webhook to the supply alert feed (same signers as {@link supplyAlertsToken});
 * deliveries are signed as for patient events. The secret is returned once.
 */
export function createSupplySubscription(
  core: LedgerCore,
  identity: Identity,
  url: string,
): Promise<{ id: string; secret: string }> {
  const req = core.sign(identity, 'subscription.create', { feed: 'supply', url });
  return core.call(SupplyRoutes.createSubscription, { body: req });
}

/** A page of the supply alert feed after `after`; pass `next` back as `after`. */
export function supplyAlerts(
  core: LedgerCore,
  token: string,
  after?: number,
  limit?: number,
): Promise<EventsPageWire> {
  return core.call(
    SupplyRoutes.supplyAlerts,
    { query: { after, limit } },
    { headers: { authorization: `Bearer ${token}` } },
  );
}

/** The URL of the live supply alert stream (Server-Sent Events) from `after`, for an `EventSource`. */
export function supplyAlertStreamUrl(core: LedgerCore, token: string, after?: number): string {
  return routeUrl(core.baseUrl, SupplyRoutes.supplyAlertStream, { query: { token, after } }).toString();
}
