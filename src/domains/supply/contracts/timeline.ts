/**
 * A package's history as a timeline: every supply transaction that touched it — directly, or
 * through the containers it was packed in while it was packed — read from state alone (each
 * record lists the transactions that changed it). Each entry names its transaction, so a client
 * proves it with the transaction's receipt and inclusion proof.
 * @module
 */
import {
  MAX_NESTING,
  SupplyKeys,
  epcKey,
  parseEpc,
  readState,
  type AlertRecord,
  type ContainerRecord,
  type EventRecord,
  type LotRecord,
  type PackageRecord,
} from './model.js';

/** One entry of a timeline. */
export interface TimelineEntry {
  txId: string;
  height: number;
  step: EventRecord['step'] | 'recall';
  /** The organization that reported it. */
  org: string;
  /** CBV 2.0 event hash of the full EPCIS event (held by `org`); null for clearances and recalls. */
  eventHash: string | null;
  /** Alerts this transaction raised or resolved. */
  alerts: string[];
  /** The container through which it applied (`sscc:…`), or null if it named the package itself. */
  via: string | null;
}

/** A package or container with its timeline, current record, lot and open alert. */
export interface Timeline {
  epc: string;
  record: PackageRecord | ContainerRecord;
  lot: LotRecord | null;
  alert: AlertRecord | null;
  entries: TimelineEntry[];
}

type Getter = (key: string) => string | undefined;

/**
 * The timeline of `epc` (canonical `sgtin:…` or `sscc:…`), oldest first; undefined if unknown.
 *
 * @example
 * timeline(get, 'sgtin:00614141107346.2017')?.entries.map((e) => e.step);
 * // ['commission', 'pack', 'ship', 'receive', 'unpack', 'ship', 'receive', 'unpack', 'dispense']
 */
export function timeline(get: Getter, epc: string): Timeline | undefined {
  const parsed = parseEpc(epc);
  if (parsed === undefined) return undefined;
  const record = readState<PackageRecord | ContainerRecord>(get, epcKey(parsed));
  if (record === undefined) return undefined;
  const entries: TimelineEntry[] = [];
  collect(get, epc, record, 0, record.history.length, null, 0, entries);
  let lot: LotRecord | null = null;
  if (parsed.kind === 'sgtin') {
    lot = readState<LotRecord>(get, SupplyKeys.lot(parsed.gtin, (record as PackageRecord).lot)) ?? null;
    if (lot?.recall)
      entries.push({
        txId: lot.recall.txId,
        height: lot.recall.height,
        step: 'recall',
        org: lot.recall.by.split('/')[0]!,
        eventHash: null,
        alerts: [],
        via: null,
      });
  }
  // Stable: entries of one height keep their order of discovery.
  entries.sort((a, b) => a.height - b.height);
  const alert =
    record.quarantine === null
      ? null
      : (readState<AlertRecord>(get, SupplyKeys.alert(record.quarantine)) ?? null);
  return { epc, record, lot, alert, entries };
}

/** Adds `record.history[from..to)`; a pack into a container adds the container's history until the unpack. */
function collect(
  get: Getter,
  epc: string,
  record: PackageRecord | ContainerRecord,
  from: number,
  to: number,
  via: string | null,
  depth: number,
  out: TimelineEntry[],
): void {
  const h = record.history;
  const events = h.map((txId) => readState<EventRecord>(get, SupplyKeys.event(txId)));
  for (let i = from; i < to; i++) {
    const ev = events[i];
    if (ev === undefined) continue;
    // Inside a container's history, packing other children into it is not this package's story
    // (the container itself being packed into a pallet is, and is followed below).
    if (via !== null && (ev.step === 'pack' || ev.step === 'unpack') && ev.parent === via) continue;
    out.push({
      txId: h[i]!,
      height: ev.height,
      step: ev.step,
      org: ev.org,
      eventHash: ev.eventHash,
      alerts: ev.alerts,
      via,
    });
    if (ev.step !== 'pack' || ev.parent === null || !ev.epcs.includes(epc) || depth >= MAX_NESTING) continue;
    const parentEpc = parseEpc(ev.parent);
    const container = parentEpc && readState<ContainerRecord>(get, epcKey(parentEpc));
    if (container === undefined) continue;
    // The container's window: after this pack, until the unpack that released this package.
    let unpack = h.length;
    for (let j = i + 1; j < h.length; j++) {
      const later = events[j];
      if (later?.step === 'unpack' && later.parent === ev.parent) {
        unpack = j;
        break;
      }
    }
    const start = container.history.indexOf(h[i]!);
    const endTx = unpack < h.length ? h[unpack]! : undefined;
    const end = endTx === undefined ? container.history.length : container.history.indexOf(endTx);
    if (start >= 0)
      collect(
        get,
        ev.parent,
        container,
        start + 1,
        end < 0 ? container.history.length : end,
        ev.parent,
        depth + 1,
        out,
      );
  }
}
