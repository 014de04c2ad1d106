/**
 * From a full EPCIS 2.0 event to the minimum public facts the ledger keeps (ADR 0007): the CBV
 * event hash, what happened (a custody step derived from bizStep and action), when, where (the
 * bizLocation GLN), which serialized packages and containers, the lot for commissioning, and the
 * counterparty for shipping and receiving. Everything else — quantities, sensor data, business
 * transactions, extensions — stays with the organization that captured the event.
 *
 * Browser-safe and pure: the SDK derives facts client-side, so the signer signs exactly what it saw.
 * @module
 */
import type { EpcisEvent } from './epcis.js';
import { epcisEventHash } from './event-hash.js';
import { Gs1Error, parseGs1Identifier, type Gs1Id } from './gs1.js';

/** Why an event yields no ledger facts (documented in docs/errors.md). */
export const SupplyFactErrorCodes = {
  NO_LOCATION:
    'The event has no bizLocation (or readPoint) that is a GLN: the ledger records where it happened.',
  NO_PARTY: 'A shipping event needs a destination party, a receiving event a source party (GLN).',
  NO_LOT: 'A commissioning event needs the lot number and expiry date in its ILMD (or Digital Link).',
  NOT_SERIALIZED:
    'A custody event names something other than serialized packages (SGTIN) and containers (SSCC).',
  BAD_IDENTIFIER: 'An identifier is not a valid GS1 key (see the GS1 identifier errors).',
  MIXED_GTINS: 'A commissioning event covers packages of more than one GTIN.',
  BAD_EVENT_TIME: 'The eventTime is not a valid date-time.',
} as const;
export type SupplyFactErrorCode = keyof typeof SupplyFactErrorCodes;

/** An event that cannot be reduced to ledger facts, with the reason. */
export class SupplyFactError extends Error {
  override readonly name = 'SupplyFactError';
  constructor(
    readonly code: SupplyFactErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** The payload of a `supply.event` transaction (see `contracts/supply/custody.ts`). */
export interface SupplyFacts {
  eventHash: string;
  step: 'commission' | 'pack' | 'unpack' | 'ship' | 'receive' | 'dispense' | 'decommission' | 'observe';
  eventTimeMs: number;
  location: string;
  epcs: string[];
  parent: string | null;
  lot: { lot: string; expiry: string } | null;
  party: string | null;
}

const CBV_BIZSTEP =
  /^(?:https:\/\/ref\.gs1\.org\/cbv\/BizStep-|urn:epcglobal:cbv:bizstep:|cbv:BizStep-)?(.+)$/;

/** The CBV business step's short name (`shipping`), whatever form the event used. */
function bizStepOf(e: EpcisEvent): string | null {
  const v = e['bizStep'];
  if (typeof v !== 'string') return null;
  return CBV_BIZSTEP.exec(v)![1]!;
}

function identifier(text: unknown): Gs1Id {
  if (typeof text !== 'string') throw new SupplyFactError('BAD_IDENTIFIER', 'identifier must be a string');
  const id = parseGs1Identifier(text);
  if (id instanceof Gs1Error)
    throw new SupplyFactError('BAD_IDENTIFIER', `${text}: ${id.code}: ${id.message}`);
  return id;
}

/** `sgtin:<GTIN-14>.<serial>` or `sscc:<SSCC>`; anything else is not a serialized custody unit. */
function canonicalEpc(text: unknown): string {
  const id = identifier(text);
  if (id.kind === 'sgtin') return `sgtin:${id.gtin}.${id.serial}`;
  if (id.kind === 'sscc') return `sscc:${id.sscc}`;
  throw new SupplyFactError('NOT_SERIALIZED', `${String(text)} is a ${id.kind}, not an SGTIN or SSCC`);
}

function glnOf(text: unknown): string | null {
  if (typeof text !== 'string') return null;
  const id = identifier(text);
  return id.kind === 'gln' || id.kind === 'pgln' ? id.gln : null;
}

function locationOf(e: EpcisEvent): string {
  for (const field of ['bizLocation', 'readPoint']) {
    const v = e[field] as { id?: unknown } | undefined;
    const gln = v && typeof v === 'object' ? glnOf(v.id) : null;
    if (gln !== null) return gln;
  }
  throw new SupplyFactError('NO_LOCATION', 'bizLocation.id must be an SGLN (EPC URI or Digital Link)');
}

/** The counterparty GLN: owning party first, then possessing party, then location (CBV §8.3). */
function partyOf(e: EpcisEvent, list: 'sourceList' | 'destinationList'): string {
  const entries = e[list];
  const key = list === 'sourceList' ? 'source' : 'destination';
  if (Array.isArray(entries)) {
    for (const type of ['owning_party', 'possessing_party', 'location']) {
      for (const entry of entries as Record<string, unknown>[]) {
        const t = typeof entry['type'] === 'string' ? entry['type'].replace(/^.*[-:/]/, '') : '';
        if (t !== type) continue;
        const gln = glnOf(entry[key]);
        if (gln !== null) return gln;
      }
    }
  }
  throw new SupplyFactError('NO_PARTY', `${list} must name the ${key} party by GLN`);
}

function ilmdValue(e: EpcisEvent, name: string): string | undefined {
  const ilmd = e['ilmd'];
  if (typeof ilmd !== 'object' || ilmd === null) return undefined;
  for (const [k, v] of Object.entries(ilmd)) {
    if ((k === name || k.endsWith(`:${name}`) || k.endsWith(`/${name}`)) && typeof v === 'string') return v;
  }
  return undefined;
}

const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/**
 * The ledger facts of one schema-valid EPCIS event. Throws {@link SupplyFactError} with a code when
 * the event cannot be recorded (no location, no party for a shipment, no lot for commissioning…).
 * Events that change no custody (other business steps, other event types) are recorded as
 * `observe`: their serialized identifiers are checked against custody, the hash anchors the rest.
 * Pass the enclosing document's `@context` so extension fields hash as the standard says.
 *
 * @example
 * const facts = supplyFactsOf(event);
 * // { eventHash: 'ni:///sha-256;…?ver=CBV2.0', step: 'ship', location: '0614141000012',
 * //   epcs: ['sscc:106141412345678908'], party: '0765432000019', parent: null, lot: null, … }
 */
export function supplyFactsOf(event: EpcisEvent, context?: unknown): SupplyFacts {
  const eventTimeMs = Date.parse(event.eventTime);
  if (!Number.isSafeInteger(eventTimeMs) || eventTimeMs < 0)
    throw new SupplyFactError('BAD_EVENT_TIME', `eventTime ${event.eventTime} is not a date-time`);
  const base = {
    // The document's @context defines the prefixes of any extension fields the hash includes.
    eventHash: epcisEventHash(event, context),
    eventTimeMs,
    location: locationOf(event),
    parent: null,
    lot: null,
    party: null,
  };
  const step = bizStepOf(event);
  const action = event['action'];
  if (event.type === 'AggregationEvent' && (action === 'ADD' || action === 'DELETE')) {
    const parentId = event['parentID'];
    if (parentId === undefined)
      throw new SupplyFactError('NOT_SERIALIZED', 'aggregation needs a parentID (SSCC)');
    const parent = canonicalEpc(parentId);
    if (!parent.startsWith('sscc:'))
      throw new SupplyFactError('NOT_SERIALIZED', 'an aggregation parent must be an SSCC');
    return {
      ...base,
      step: action === 'ADD' ? 'pack' : 'unpack',
      parent,
      epcs: list(event['childEPCs']).map(canonicalEpc),
    };
  }
  const serialized = (v: unknown) => list(v).map(canonicalEpc);
  if (event.type === 'ObjectEvent' || event.type === 'TransactionEvent') {
    const epcs = () => serialized(event['epcList']);
    if (event.type === 'ObjectEvent' && action === 'ADD' && step === 'commissioning') {
      const all = list(event['epcList']).map(identifier);
      let lot = ilmdValue(event, 'lotNumber');
      let expiry = ilmdValue(event, 'itemExpirationDate');
      for (const id of all) {
        if (id.kind !== 'sgtin') throw new SupplyFactError('NOT_SERIALIZED', 'commissioning lists SGTINs');
        lot ??= id.lot;
        expiry ??= id.expiry;
      }
      if (lot === undefined || expiry === undefined || !/^\d{4}-\d{2}-\d{2}$/.test(expiry))
        throw new SupplyFactError(
          'NO_LOT',
          'ilmd lotNumber and itemExpirationDate (YYYY-MM-DD) are required',
        );
      const list_ = epcs();
      if (new Set(list_.map((x) => x.slice(6, 20))).size > 1)
        throw new SupplyFactError('MIXED_GTINS', 'commission one GTIN per event');
      return { ...base, step: 'commission', epcs: list_, lot: { lot, expiry } };
    }
    if (step === 'shipping')
      return { ...base, step: 'ship', epcs: epcs(), party: partyOf(event, 'destinationList') };
    if (step === 'receiving')
      return { ...base, step: 'receive', epcs: epcs(), party: partyOf(event, 'sourceList') };
    if (step === 'dispensing') return { ...base, step: 'dispense', epcs: epcs() };
    if (event.type === 'ObjectEvent' && (step === 'decommissioning' || step === 'destroying'))
      return { ...base, step: 'decommission', epcs: epcs() };
  }
  // Anything else is an observation: serialized identifiers are checked, others only anchored.
  // A transformation's outputs are new identities (to be commissioned), so only inputs count.
  const seen = new Set<string>();
  for (const field of ['epcList', 'childEPCs', 'inputEPCList']) {
    for (const text of list(event[field])) {
      const id = identifier(text);
      if (id.kind === 'sgtin' || id.kind === 'sscc') seen.add(canonicalEpc(text));
    }
  }
  return { ...base, step: 'observe', epcs: [...seen] };
}
