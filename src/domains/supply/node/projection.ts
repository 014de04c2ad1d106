/**
 * The supply domain's share of the event index: applied transactions that raise, resolve or
 * recall go to one alert feed, {@link SUPPLY_FEED}.
 * @module
 */
import { str, type EventDetail, type EventProjection } from '../../../node/events/projection.js';
import {
  SupplyKeys,
  readState as readJson,
  type AlertRecord,
  type EventRecord,
  type LotRecord,
} from '../contracts/model.js';

/**
 * The subject of the supply alert feed. Not a member id (it has no `/`), so it can never name a
 * patient's trail.
 */
export const SUPPLY_FEED = 'supply';

/** Supply event kinds, by transaction type: [when VALID, otherwise]. */
const SUPPLY_EVENT_KINDS = {
  'supply.event': ['supply.suspect', 'supply.event.refused'],
  'supply.clear': ['supply.cleared', 'supply.clear.refused'],
  'supply.recall': ['supply.recalled', 'supply.recall.refused'],
} as const;

/** Alerts raised or cleared and lots recalled, on the supply feed (refusals are not indexed). */
export const supplyProjection: EventProjection<typeof SUPPLY_EVENT_KINDS> = {
  kinds: SUPPLY_EVENT_KINDS,
  project(tx, getState) {
    if (tx.code !== 'VALID' || typeof tx.payload !== 'object' || tx.payload === null) return undefined;
    const detail = supplyDetail(tx.type, tx.txId, tx.payload, getState);
    return detail === undefined ? undefined : { subject: SUPPLY_FEED, detail };
  },
};

/** Facts of a supply alert, recall or clearance (no health data on the supply side at all). */
function supplyDetail(
  type: string,
  txId: string,
  payload: Record<string, unknown>,
  getState: (k: string) => string | undefined,
): EventDetail | undefined {
  const d: EventDetail = {};
  if (type === 'supply.recall') {
    d['gtin'] = str(payload['gtin'], 14) ?? '';
    d['lot'] = str(payload['lot'], 20) ?? '';
    d['reason'] = str(payload['reason'], 16) ?? '';
    const lot = readJson<LotRecord>(getState, SupplyKeys.lot(d['gtin'], d['lot']));
    if (lot) {
      d['owner'] = lot.owner;
      d['packages'] = lot.commissioned;
    }
    return d;
  }
  const ev = readJson<EventRecord>(getState, SupplyKeys.event(txId));
  if (ev === undefined || ev.alerts.length === 0) return undefined;
  const alerts = ev.alerts
    .slice(0, 64)
    .map((id) => readJson<AlertRecord>(getState, SupplyKeys.alert(id)))
    .filter((a): a is AlertRecord => a !== undefined);
  d['alerts'] = alerts.map((a) => a.id);
  d['epcs'] = alerts.map((a) => a.epc);
  d['reasons'] = [...new Set(alerts.flatMap((a) => a.reasons))];
  d['owners'] = [...new Set(alerts.map((a) => a.owner ?? ''))].filter((o) => o !== '');
  d['step'] = ev.step;
  if (type === 'supply.clear') d['resolution'] = alerts[0]?.resolution?.note ?? '';
  return d;
}
