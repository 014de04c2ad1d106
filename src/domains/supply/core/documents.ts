/**
 * Builders for the EPCIS 2.0 events a pharmaceutical supply chain captures (CBV 2.0 business steps),
 * as JSON-LD that validates against the standard's schema. Identifiers are EPC URIs or GS1 Digital
 * Links; the builders do not interpret them (`supplyFactsOf` does).
 * @module
 */

/** The EPCIS 2.0 JSON-LD context. */
export const EPCIS_CONTEXT = ['https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld'];

type Event = Record<string, unknown>;
const base = (type: string, at: Date): Event => ({
  type,
  eventTime: at.toISOString(),
  eventTimeZoneOffset: '+00:00',
});

/**
 * An `EPCISDocument` holding `events`.
 *
 * @example
 * epcisDocument([shippingEvent({ at: new Date(), epcs: [sscc], location: sgln, from: pgln1, to: pgln2 })]);
 */
export function epcisDocument(events: Event[], createdAt = new Date()): Event {
  return {
    '@context': EPCIS_CONTEXT,
    type: 'EPCISDocument',
    schemaVersion: '2.0',
    creationDate: createdAt.toISOString(),
    epcisBody: { eventList: events },
  };
}

/** Commissioning (ObjectEvent ADD): new serials of one GTIN, with lot and expiry in the ILMD. */
export function commissioningEvent(e: {
  at: Date;
  epcs: string[];
  location: string;
  lot: string;
  /** `YYYY-MM-DD`. */
  expiry: string;
}): Event {
  return {
    ...base('ObjectEvent', e.at),
    action: 'ADD',
    bizStep: 'commissioning',
    disposition: 'active',
    epcList: e.epcs,
    bizLocation: { id: e.location },
    ilmd: { 'cbvmda:lotNumber': e.lot, 'cbvmda:itemExpirationDate': e.expiry },
  };
}

/** Packing (AggregationEvent ADD) or unpacking (DELETE; no children = everything inside). */
export function aggregationEvent(e: {
  at: Date;
  parent: string;
  children: string[];
  location: string;
  action: 'ADD' | 'DELETE';
}): Event {
  return {
    ...base('AggregationEvent', e.at),
    action: e.action,
    bizStep: e.action === 'ADD' ? 'packing' : 'unpacking',
    parentID: e.parent,
    childEPCs: e.children,
    bizLocation: { id: e.location },
  };
}

interface Transfer {
  at: Date;
  epcs: string[];
  location: string;
  /** Owning party GLN (pgln) the goods come from. */
  from: string;
  /** Owning party GLN (pgln) the goods go to. */
  to: string;
}

function transferEvent(bizStep: string, disposition: string, e: Transfer): Event {
  return {
    ...base('ObjectEvent', e.at),
    action: 'OBSERVE',
    bizStep,
    disposition,
    epcList: e.epcs,
    bizLocation: { id: e.location },
    sourceList: [{ type: 'owning_party', source: e.from }],
    destinationList: [{ type: 'owning_party', destination: e.to }],
  };
}

/** Shipping (ObjectEvent OBSERVE) from the owning party `from` to `to`. */
export const shippingEvent = (e: Transfer): Event => transferEvent('shipping', 'in_transit', e);

/** Receiving (ObjectEvent OBSERVE) at `location`, from the owning party `from`. */
export const receivingEvent = (e: Transfer): Event => transferEvent('receiving', 'in_progress', e);

/** Dispensing to a patient (ObjectEvent OBSERVE); nothing about the patient is recorded. */
export function dispensingEvent(e: { at: Date; epcs: string[]; location: string }): Event {
  return {
    ...base('ObjectEvent', e.at),
    action: 'OBSERVE',
    bizStep: 'dispensing',
    disposition: 'dispensed',
    epcList: e.epcs,
    bizLocation: { id: e.location },
  };
}

/** An inspection (ObjectEvent OBSERVE): serials seen at `location`. */
export function inspectingEvent(e: { at: Date; epcs: string[]; location: string }): Event {
  return {
    ...base('ObjectEvent', e.at),
    action: 'OBSERVE',
    bizStep: 'inspecting',
    epcList: e.epcs,
    bizLocation: { id: e.location },
  };
}
