/**
 * Custody of serialized medicines, enforced on every node (ADR 0007).
 *
 * Two kinds of outcome, deliberately different:
 * - **Refused** (a contract code, nothing changes): an action the signer has no standing to take —
 *   commissioning another company's GTIN, shipping what it never held, receiving a shipment
 *   addressed to someone else, dispensing a recalled package, moving a quarantined one.
 * - **Flagged** (VALID, an alert is committed and the package quarantined): a *report* that
 *   contradicts the ledger — dispensed twice, received from a party that never held it, moving
 *   after it was dispensed, seen where custody says it is not, an expired lot moving, an unknown
 *   serial. Such a report is evidence of counterfeiting or diversion, so it is recorded, not
 *   dropped; the package stays quarantined until its owner or a regulator clears it.
 * @module
 */
import type { ValidationCode } from '../../../protocol/validation.js';
import { ID_PATTERN, type JsonObject } from '../../../protocol/tx.js';
import type { Contract, ContractContext } from '../../../contracts/contract.js';
import {
  closedObject,
  compilePayload,
  distinct,
  integer,
  list,
  matching,
  oneOf,
} from '../../../contracts/payload.js';
import { Type as T } from '@sinclair/typebox';
import { Keys } from '../../../contracts/state.js';
import {
  CLEAR_RESOLUTIONS,
  MAX_CONTAINER_CHILDREN,
  MAX_EVENT_EPCS,
  MAX_NESTING,
  RECALL_REASONS,
  SUPPLY_STEPS,
  SupplyKeys,
  epcKey,
  expiryEndMs,
  glnOwner,
  gtinOwner,
  isGln,
  isIsoDate,
  isLot,
  parseEpc,
  readState,
  resolveCustody,
  type AlertRecord,
  type ClearResolution,
  type ContainerRecord,
  type Epc,
  type EventRecord,
  type LotRecord,
  type PackageRecord,
  type PartyRecord,
  type RecallReason,
  type SupplyStep,
  type SuspectReason,
} from './model.js';

const EVENT_HASH = /^ni:\/\/\/sha-256;([0-9a-f]{64})\?ver=CBV2\.0$/;
/** The shape of a GLN; its check digit is checked by hand (`isGln`). */
const GlnShape = matching(/^[0-9]{13}$/, { description: 'GLN (13 digits, with its check digit)' });
/** The shape of a canonical identifier; check digits and serial characters are checked by hand (`parseEpc`). */
const EpcShape = matching(/^(sgtin:[0-9]{14}\.|sscc:[0-9]{18}$)/, {
  description: '`sgtin:<GTIN-14>.<serial>` or `sscc:<SSCC-18>`, with check digits',
});
/** A lot number (AI 10): 1–20 characters of GS1 CSET 82 (the character set is checked by hand: `isLot`). */
const LotShape = T.String({ minLength: 1, maxLength: 20, description: 'lot (AI 10), GS1 CSET 82' });

// ---------------------------------------------------------------------------------------------
// supply.register-party
// ---------------------------------------------------------------------------------------------

interface RegisterPartyPayload {
  org: string;
  companyPrefixes: string[];
  glns: string[];
}

const PARTY = compilePayload(
  closedObject({
    org: matching(ID_PATTERN),
    companyPrefixes: list(matching(/^[0-9]{6,12}$/), 64, {
      description: 'distinct GS1 company prefixes (6–12 digits)',
    }),
    glns: list(GlnShape, 256, { description: 'distinct GLNs; at least one prefix or GLN in all' }),
  }),
);

/**
 * `supply.register-party`: a regulator attests which GS1 company prefixes (licensed by GS1) and
 * GLNs belong to an organization. Commissioning rights and locations follow from it.
 */
export const registerParty: Contract<RegisterPartyPayload> = {
  type: 'supply.register-party',
  roles: ['regulator'],
  description: "Bind GS1 company prefixes and GLNs to an organization (a regulator's attestation).",
  payload: PARTY.schema,
  parse(p) {
    if (!PARTY.check(p)) return PARTY.invalid(p);
    const { org, companyPrefixes, glns } = p;
    if (!distinct(companyPrefixes)) return { invalid: 'companyPrefixes: duplicate' };
    if (!glns.every(isGln)) return { invalid: 'glns: a GLN with a wrong check digit' };
    if (!distinct(glns)) return { invalid: 'glns: duplicate' };
    if (companyPrefixes.length + glns.length === 0) return { invalid: 'at least one company prefix or GLN' };
    return { org, companyPrefixes, glns };
  },
  execute(ctx, p) {
    if (ctx.get(Keys.org(p.org)) === undefined) return 'UNKNOWN_ORGANIZATION';
    for (const cp of p.companyPrefixes) {
      // Prefixes may not nest across organizations, or a GTIN would have two owners: check every
      // shorter prefix of this one, and the marker left under it by any longer one.
      for (let len = 6; len <= cp.length; len++) {
        const holder = ctx.get(SupplyKeys.prefix(cp.slice(0, len)));
        if (holder !== undefined && holder !== p.org) return 'PARTY_CONFLICT';
      }
      const under = ctx.get(SupplyKeys.prefixUnder(cp));
      if (under !== undefined && under !== p.org) return 'PARTY_CONFLICT';
    }
    for (const gln of p.glns) {
      const holder = ctx.get(SupplyKeys.gln(gln));
      if (holder !== undefined && holder !== p.org) return 'PARTY_CONFLICT';
    }
    for (const cp of p.companyPrefixes) {
      ctx.put(SupplyKeys.prefix(cp), p.org);
      for (let len = 6; len < cp.length; len++) ctx.put(SupplyKeys.prefixUnder(cp.slice(0, len)), p.org);
    }
    for (const gln of p.glns) ctx.put(SupplyKeys.gln(gln), p.org);
    const record: PartyRecord = { ...p, registeredBy: ctx.signer.id, txId: ctx.txId };
    ctx.put(SupplyKeys.party(ctx.txId), JSON.stringify(record));
    return 'VALID';
  },
};

// ---------------------------------------------------------------------------------------------
// supply.event
// ---------------------------------------------------------------------------------------------

/** The public facts of one EPCIS event (built from the EPCIS document by `supply/facts.ts`). */
export interface SupplyEventPayload {
  /** CBV 2.0 §8.9 event hash `ni:///sha-256;<hex>?ver=CBV2.0` of the full event, kept off-chain. */
  eventHash: string;
  step: SupplyStep;
  /** The EPCIS eventTime (ms since the epoch). */
  eventTimeMs: number;
  /** The bizLocation GLN: where it happened (registered to the signer's organization). */
  location: string;
  /** Canonical identifiers (`sgtin:…`, `sscc:…`); for commissioning, packages of one GTIN. */
  epcs: string[];
  /** The container (`sscc:…`) for pack and unpack. */
  parent: string | null;
  /** Commissioning: lot (AI 10) and expiry date (AI 17, `YYYY-MM-DD`). */
  lot: { lot: string; expiry: string } | null;
  /** Ship: the destination party GLN. Receive: the source party GLN. */
  party: string | null;
}

const EVENT = compilePayload(
  closedObject({
    eventHash: matching(EVENT_HASH, { description: 'CBV 2.0 event hash' }),
    step: oneOf(SUPPLY_STEPS),
    eventTimeMs: integer(0, undefined, 'EPCIS eventTime, ms since the epoch'),
    location: GlnShape,
    epcs: list(EpcShape, MAX_EVENT_EPCS, { description: 'distinct canonical identifiers' }),
    parent: T.Optional(
      T.Union([matching(/^sscc:[0-9]{18}$/), T.Null()], { description: 'pack, unpack: an SSCC' }),
    ),
    lot: T.Optional(
      T.Union(
        [
          closedObject({
            lot: LotShape,
            expiry: matching(/^[0-9]{4}-[0-9]{2}-[0-9]{2}$/, {
              description: 'YYYY-MM-DD, a date that exists',
            }),
          }),
          T.Null(),
        ],
        { description: 'commission: lot and expiry' },
      ),
    ),
    party: T.Optional(T.Union([GlnShape, T.Null()], { description: 'ship: destination; receive: source' })),
  }),
);
const SUPPLY_ROLES = ['manufacturer', 'distributor', 'dispenser', 'regulator'] as const;
const HANDLER_ROLES = ['manufacturer', 'distributor', 'dispenser'];

function parseEvent(p: JsonObject): SupplyEventPayload | { invalid: string } {
  if (!EVENT.check(p)) return EVENT.invalid(p);
  const { eventHash, step: s, eventTimeMs, location, epcs: list } = p;
  if (!isGln(location)) return { invalid: 'location: a GLN with its check digit' };
  for (const e of list)
    if (parseEpc(e) === undefined)
      return { invalid: `epcs: ${e.slice(0, 60)} is not a GS1 key with a correct check digit` };
  if (!distinct(list)) return { invalid: 'epcs: duplicate' };
  // A missing field is null.
  const parent = p.parent ?? null;
  const lot = p.lot ?? null;
  const party = p.party ?? null;
  if (parent !== null && parseEpc(parent)?.kind !== 'sscc') return { invalid: 'parent: an SSCC' };
  if (party !== null && !isGln(party)) return { invalid: 'party: a GLN with its check digit' };
  let lotInfo: SupplyEventPayload['lot'] = null;
  if (lot !== null) {
    if (!isLot(lot.lot)) return { invalid: 'lot.lot: 1–20 characters of GS1 CSET 82' };
    if (!isIsoDate(lot.expiry)) return { invalid: 'lot.expiry: YYYY-MM-DD' };
    lotInfo = { lot: lot.lot, expiry: lot.expiry };
  }
  const needs = (cond: boolean, what: string): string | null => (cond ? null : what);
  const problem =
    s === 'commission'
      ? (needs(
          lotInfo !== null && parent === null && party === null,
          'commission: lot, no parent or party',
        ) ??
        needs(list.length > 0, 'commission: at least one epc') ??
        needs(
          list.every((e) => e.startsWith('sgtin:') && e.slice(6, 20) === list[0]!.slice(6, 20)),
          'commission: packages (sgtin) of one GTIN',
        ))
      : s === 'pack' || s === 'unpack'
        ? (needs(parent !== null && lotInfo === null && party === null, `${s}: parent, no lot or party`) ??
          needs(s === 'unpack' || list.length > 0, 'pack: at least one epc'))
        : s === 'ship' || s === 'receive'
          ? needs(
              party !== null && parent === null && lotInfo === null && list.length > 0,
              `${s}: party and epcs, no parent or lot`,
            )
          : (needs(
              parent === null && lotInfo === null && party === null && (list.length > 0 || s === 'observe'),
              `${s}: epcs only (an observation may name none: it then only anchors the event hash)`,
            ) ??
            needs(s !== 'dispense' || list.every((e) => e.startsWith('sgtin:')), 'dispense: packages only'));
  if (problem !== null) return { invalid: problem };
  return {
    eventHash,
    step: s,
    eventTimeMs,
    location,
    epcs: list,
    parent,
    lot: lotInfo,
    party,
  };
}

/**
 * `supply.event`: one EPCIS event's public facts. Custody rules refuse what the signer has no
 * standing to do; contradictions of the ledger are committed as alerts (see the module comment).
 */
export const supplyEvent: Contract<SupplyEventPayload> = {
  type: 'supply.event',
  roles: SUPPLY_ROLES,
  description:
    'Record an EPCIS event (commission, pack, unpack, ship, receive, dispense, decommission, observe) by its hash and public facts.',
  payload: EVENT.schema,
  parse: parseEvent,
  execute(ctx, p) {
    const org = ctx.signer.org;
    const role = ctx.signer.role;
    if (p.step === 'commission' && role !== 'manufacturer') return 'UNAUTHORIZED_ROLE';
    if (p.step === 'dispense' && role !== 'dispenser') return 'UNAUTHORIZED_ROLE';
    if (p.step !== 'observe' && !HANDLER_ROLES.includes(role)) return 'UNAUTHORIZED_ROLE';
    const locationOrg = glnOwner(ctx.get, p.location);
    if (locationOrg === undefined) return 'UNKNOWN_PARTY';
    // A party reports events at its own premises; a regulator may inspect anywhere.
    if (locationOrg !== org && role !== 'regulator') return 'NOT_LOCATION_OWNER';
    const hashHex = EVENT_HASH.exec(p.eventHash)![1]!;
    if (ctx.get(SupplyKeys.eventHash(hashHex)) !== undefined) return 'EVENT_EXISTS';

    const run = new EventRun(ctx, p, org, locationOrg);
    const code = STEPS[p.step](run);
    if (code !== 'VALID') return code;
    run.flush();
    ctx.put(SupplyKeys.eventHash(hashHex), ctx.txId);
    const record: EventRecord = {
      eventHash: p.eventHash,
      step: p.step,
      org,
      epcs: p.epcs,
      parent: p.parent,
      alerts: run.alerts,
      height: ctx.height,
    };
    ctx.put(SupplyKeys.event(ctx.txId), JSON.stringify(record));
    return 'VALID';
  },
};

type SgtinEpc = Extract<Epc, { kind: 'sgtin' }>;
type SsccEpc = Extract<Epc, { kind: 'sscc' }>;
type Loaded =
  | { epc: SgtinEpc; text: string; kind: 'sgtin'; record: PackageRecord }
  | { epc: SsccEpc; text: string; kind: 'sscc'; record: ContainerRecord };

/** One event's working set: records read once, written once at the end, alerts collected. */
class EventRun {
  readonly alerts: string[] = [];
  private readonly dirty = new Map<string, PackageRecord | ContainerRecord>();
  private readonly lots = new Map<string, LotRecord | undefined>();

  constructor(
    readonly ctx: ContractContext,
    readonly p: SupplyEventPayload,
    readonly org: string,
    readonly locationOrg: string,
  ) {}

  get = (key: string): string | undefined => {
    const d = this.dirty.get(key);
    return d !== undefined ? JSON.stringify(d) : this.ctx.get(key);
  };

  load(text: string): Loaded | undefined {
    const epc = parseEpc(text)!;
    const key = epcKey(epc);
    const cached = this.dirty.get(key);
    const record = cached ?? readState<PackageRecord | ContainerRecord>(this.ctx.get, key);
    if (record === undefined) return undefined;
    return epc.kind === 'sgtin'
      ? { epc, text, kind: 'sgtin', record: record as PackageRecord }
      : { epc, text, kind: 'sscc', record: record as ContainerRecord };
  }

  lot(gtin: string, lot: string): LotRecord | undefined {
    const key = SupplyKeys.lot(gtin, lot);
    if (!this.lots.has(key)) this.lots.set(key, readState<LotRecord>(this.ctx.get, key));
    return this.lots.get(key);
  }

  putLot(l: LotRecord): void {
    this.lots.set(SupplyKeys.lot(l.gtin, l.lot), l);
    this.ctx.put(SupplyKeys.lot(l.gtin, l.lot), JSON.stringify(l));
  }

  save(item: Loaded | { epc: Epc; record: PackageRecord | ContainerRecord }): void {
    const h = item.record.history;
    if (h[h.length - 1] !== this.ctx.txId) h.push(this.ctx.txId);
    this.dirty.set(epcKey(item.epc), item.record);
  }

  /** True if the package's lot (or anything in the container) is past its expiry at block time. */
  expired(item: Loaded): boolean {
    const expiry =
      item.kind === 'sgtin' ? this.lot(item.epc.gtin, item.record.lot)?.expiry : item.record.minExpiry;
    return expiry !== undefined && expiry !== null && this.ctx.timestampMs > expiryEndMs(expiry);
  }

  ownerOf(item: Loaded | undefined, epc: Epc): string | null {
    if (item === undefined) return epc.kind === 'sgtin' ? (gtinOwner(this.ctx.get, epc.gtin) ?? null) : null;
    return item.kind === 'sgtin'
      ? (this.lot(item.epc.gtin, item.record.lot)?.owner ?? null)
      : item.record.owner;
  }

  /** Commits a suspect report: a new alert, or joins the package's open one; quarantines it. */
  flag(text: string, item: Loaded | undefined, reasons: SuspectReason[]): void {
    const epc = parseEpc(text)!;
    const report = {
      org: this.org,
      step: this.p.step,
      eventHash: this.p.eventHash,
      txId: this.ctx.txId,
      height: this.ctx.height,
      reasons,
    };
    const open = item?.record.quarantine ?? null;
    const existing = open === null ? undefined : readState<AlertRecord>(this.ctx.get, SupplyKeys.alert(open));
    let alert: AlertRecord;
    if (existing !== undefined && existing.status === 'open') {
      alert = existing;
      alert.reports.push(report);
      for (const r of reasons) if (!alert.reasons.includes(r)) alert.reasons.push(r);
    } else {
      alert = {
        id: `${this.ctx.txId.slice(0, 32)}.${this.p.epcs.indexOf(text)}`,
        epc: text,
        reasons,
        owner: this.ownerOf(item, epc),
        reports: [report],
        height: this.ctx.height,
        atMs: this.ctx.timestampMs,
        status: 'open',
        resolution: null,
      };
    }
    this.ctx.put(SupplyKeys.alert(alert.id), JSON.stringify(alert));
    this.alerts.push(alert.id);
    if (item !== undefined) {
      item.record.quarantine = alert.id;
      this.save(item);
    }
  }

  flush(): void {
    for (const [key, record] of this.dirty) this.ctx.put(key, JSON.stringify(record));
  }
}

const STEPS: Record<SupplyStep, (run: EventRun) => ValidationCode> = {
  commission(run) {
    const { ctx, p, org } = run;
    const gtin = p.epcs[0]!.slice(6, 20);
    if (gtinOwner(ctx.get, gtin) !== org) return 'NOT_PREFIX_OWNER';
    const { lot, expiry } = p.lot!;
    const existing = run.lot(gtin, lot);
    if (existing !== undefined && existing.expiry !== expiry) return 'LOT_EXPIRY_CONFLICT';
    if (existing?.recall) return 'PACKAGE_RECALLED';
    for (const text of p.epcs) {
      const epc = parseEpc(text) as SgtinEpc;
      if (ctx.get(epcKey(epc)) !== undefined) return 'SERIAL_EXISTS';
      const record: PackageRecord = {
        gtin,
        serial: epc.serial,
        lot,
        status: 'active',
        endedAtMs: null,
        custodian: org,
        location: p.location,
        transit: null,
        parent: null,
        holders: [org],
        quarantine: null,
        history: [ctx.txId],
      };
      run.save({ epc, record });
    }
    run.putLot({
      gtin,
      lot,
      expiry,
      owner: org,
      commissioned: (existing?.commissioned ?? 0) + p.epcs.length,
      recall: null,
    });
    return 'VALID';
  },

  pack(run) {
    const { ctx, p, org } = run;
    const parentEpc = parseEpc(p.parent)!;
    let container = run.load(p.parent!);
    if (container !== undefined && container.kind !== 'sscc') return 'AGGREGATION_INVALID';
    if (container === undefined) {
      const record: ContainerRecord = {
        sscc: (parentEpc as { sscc: string }).sscc,
        owner: org,
        children: [],
        minExpiry: null,
        depth: 0,
        status: 'active',
        custodian: org,
        location: p.location,
        transit: null,
        parent: null,
        holders: [org],
        quarantine: null,
        history: [ctx.txId],
      };
      container = { epc: parentEpc as SsccEpc, text: p.parent!, kind: 'sscc', record };
    }
    const c = container.record as ContainerRecord;
    if (c.status !== 'active') return 'PACKAGE_ENDED';
    const at = resolveCustody(run.get, c);
    if (at.custodian !== org) return 'NOT_IN_CUSTODY';
    if (at.transit !== null) return 'IN_TRANSIT';
    if (at.quarantine !== null) return 'PACKAGE_QUARANTINED';
    if (c.children.length + p.epcs.length > MAX_CONTAINER_CHILDREN) return 'AGGREGATION_INVALID';
    for (const text of p.epcs) {
      if (text === p.parent || at.ancestors.includes(text)) return 'AGGREGATION_INVALID';
      const child = run.load(text);
      if (child === undefined) return 'UNKNOWN_EPC';
      const r = child.record;
      if (r.parent !== null) return 'PACKED_IN_CONTAINER';
      if (r.status !== 'active') return 'PACKAGE_ENDED';
      if (r.custodian !== org) return 'NOT_IN_CUSTODY';
      if (r.transit !== null) return 'IN_TRANSIT';
      if (r.quarantine !== null) return 'PACKAGE_QUARANTINED';
      let expiry: string | null;
      if (child.kind === 'sscc') {
        c.depth = Math.max(c.depth, child.record.depth + 1);
        expiry = child.record.minExpiry;
      } else {
        expiry = run.lot(child.epc.gtin, child.record.lot)?.expiry ?? null;
      }
      if (at.ancestors.length + c.depth + 1 > MAX_NESTING) return 'AGGREGATION_INVALID';
      if (expiry !== null && (c.minExpiry === null || expiry < c.minExpiry)) c.minExpiry = expiry;
      r.parent = p.parent;
      r.location = p.location;
      c.children.push(text);
      run.save(child);
    }
    c.location = at.ancestors.length === 0 ? p.location : c.location;
    run.save(container);
    return 'VALID';
  },

  unpack(run) {
    const { p, org } = run;
    const container = run.load(p.parent!);
    if (container === undefined || container.kind !== 'sscc') return 'UNKNOWN_EPC';
    const c = container.record;
    const at = resolveCustody(run.get, c);
    if (at.custodian !== org) return 'NOT_IN_CUSTODY';
    if (at.transit !== null) return 'IN_TRANSIT';
    if (at.quarantine !== null) return 'PACKAGE_QUARANTINED';
    const targets = p.epcs.length === 0 ? [...c.children] : p.epcs;
    for (const text of targets) {
      if (!c.children.includes(text)) return 'NOT_IN_CONTAINER';
      const child = run.load(text);
      if (child === undefined) return 'UNKNOWN_EPC';
      const r = child.record;
      // Custody held through the container becomes the child's own.
      r.parent = null;
      r.custodian = org;
      r.location = p.location;
      r.transit = null;
      for (const h of at.holders) if (!r.holders.includes(h)) r.holders.push(h);
      run.save(child);
    }
    const removed = new Set(targets);
    c.children = c.children.filter((x) => !removed.has(x));
    c.minExpiry = null;
    for (const text of c.children) {
      const child = run.load(text);
      const expiry =
        child === undefined
          ? null
          : child.kind === 'sscc'
            ? child.record.minExpiry
            : (run.lot(child.epc.gtin, child.record.lot)?.expiry ?? null);
      if (expiry !== null && (c.minExpiry === null || expiry < c.minExpiry)) c.minExpiry = expiry;
    }
    run.save(container);
    return 'VALID';
  },

  ship(run) {
    const { ctx, p, org } = run;
    const toOrg = glnOwner(ctx.get, p.party!);
    if (toOrg === undefined) return 'UNKNOWN_PARTY';
    for (const text of p.epcs) {
      const item = run.load(text);
      if (item === undefined) return 'UNKNOWN_EPC';
      const r = item.record;
      if (r.parent !== null) return 'PACKED_IN_CONTAINER';
      if (r.status !== 'active') {
        // The holder that dispensed it ships it again: diversion of a dispensed package.
        if (!r.holders.includes(org)) return 'NOT_IN_CUSTODY';
        run.flag(text, item, ['SHIPPED_AFTER_DISPENSE']);
        continue;
      }
      if (r.custodian !== org) {
        // A former holder claims to ship what another party holds now.
        if (!r.holders.includes(org)) return 'NOT_IN_CUSTODY';
        run.flag(text, item, ['TWO_PLACES']);
        continue;
      }
      if (r.transit !== null) return 'IN_TRANSIT';
      if (r.quarantine !== null) return 'PACKAGE_QUARANTINED';
      if (run.expired(item)) {
        run.flag(text, item, ['EXPIRED_LOT']);
        continue;
      }
      r.transit = { from: org, to: toOrg, toGln: p.party!, txId: ctx.txId };
      r.location = p.location;
      run.save(item);
    }
    return 'VALID';
  },

  receive(run) {
    const { ctx, p, org } = run;
    const fromOrg = glnOwner(ctx.get, p.party!);
    if (fromOrg === undefined) return 'UNKNOWN_PARTY';
    for (const text of p.epcs) {
      const item = run.load(text);
      if (item === undefined) {
        run.flag(text, undefined, ['UNKNOWN_SERIAL']);
        continue;
      }
      const r = item.record;
      if (r.parent !== null) return 'PACKED_IN_CONTAINER';
      if (r.status !== 'active') {
        run.flag(text, item, ['SHIPPED_AFTER_DISPENSE']);
        continue;
      }
      const at = resolveCustody(run.get, r);
      if (r.transit !== null && r.transit.to !== org) return 'NOT_CONSIGNEE';
      if (!at.holders.includes(fromOrg)) {
        run.flag(text, item, ['SOURCE_NEVER_HELD']);
        continue;
      }
      if (r.transit === null || r.transit.from !== fromOrg) {
        if (r.transit === null && r.custodian === org) return 'NOT_SHIPPED';
        // Never shipped here, yet it arrived from a former holder: it is in two places.
        run.flag(text, item, ['TWO_PLACES']);
        continue;
      }
      r.custodian = org;
      r.location = p.location;
      r.transit = null;
      if (!r.holders.includes(org)) r.holders.push(org);
      run.save(item);
      // The goods are here either way; an expired lot is received into quarantine.
      if (run.expired(item)) run.flag(text, item, ['EXPIRED_LOT']);
    }
    return 'VALID';
  },

  dispense(run) {
    const { ctx, p, org } = run;
    for (const text of p.epcs) {
      const item = run.load(text);
      if (item === undefined) {
        run.flag(text, undefined, ['UNKNOWN_SERIAL']);
        continue;
      }
      if (item.kind !== 'sgtin') return 'INVALID_PAYLOAD';
      const r = item.record;
      if (r.status === 'dispensed') {
        run.flag(text, item, ['DISPENSED_TWICE']);
        continue;
      }
      if (r.status !== 'active') {
        run.flag(text, item, ['SHIPPED_AFTER_DISPENSE']);
        continue;
      }
      if (run.lot(item.epc.gtin, r.lot)?.recall) return 'PACKAGE_RECALLED';
      const at = resolveCustody(run.get, r);
      if (at.transit !== null && at.transit.to === org) return 'IN_TRANSIT';
      if (at.custodian !== org || at.transit !== null) {
        run.flag(text, item, ['TWO_PLACES']);
        continue;
      }
      if (at.quarantine !== null) return 'PACKAGE_QUARANTINED';
      if (r.parent !== null) return 'PACKED_IN_CONTAINER';
      r.status = 'dispensed';
      r.endedAtMs = ctx.timestampMs;
      r.custodian = null;
      r.location = p.location;
      run.save(item);
      if (run.expired(item)) run.flag(text, item, ['EXPIRED_LOT']);
    }
    return 'VALID';
  },

  decommission(run) {
    const { ctx, p, org } = run;
    for (const text of p.epcs) {
      const item = run.load(text);
      if (item === undefined) return 'UNKNOWN_EPC';
      const r = item.record;
      if (r.parent !== null) return 'PACKED_IN_CONTAINER';
      if (r.status !== 'active') return 'PACKAGE_ENDED';
      if (r.custodian !== org) return 'NOT_IN_CUSTODY';
      if (r.transit !== null) return 'IN_TRANSIT';
      if (item.kind === 'sscc' && item.record.children.length > 0) return 'CONTAINER_NOT_EMPTY';
      r.status = 'decommissioned';
      if (item.kind === 'sgtin') item.record.endedAtMs = ctx.timestampMs;
      r.location = p.location;
      run.save(item);
    }
    return 'VALID';
  },

  observe(run) {
    const { p, org, locationOrg } = run;
    for (const text of p.epcs) {
      const item = run.load(text);
      if (item === undefined) {
        run.flag(text, undefined, ['UNKNOWN_SERIAL']);
        continue;
      }
      if (item.record.status !== 'active') {
        run.flag(text, item, ['SHIPPED_AFTER_DISPENSE']);
        continue;
      }
      const at = resolveCustody(run.get, item.record);
      // Where it was seen must be its custodian's premises (or its destination, on arrival).
      const seenAt = locationOrg;
      const expected = at.custodian === seenAt || (at.transit !== null && at.transit.to === seenAt);
      if (!expected) {
        run.flag(text, item, ['TWO_PLACES']);
        continue;
      }
      if (at.custodian === org && item.record.parent === null && at.transit === null) {
        item.record.location = p.location;
        run.save(item);
      }
    }
    return 'VALID';
  },
};

// ---------------------------------------------------------------------------------------------
// supply.recall and supply.clear
// ---------------------------------------------------------------------------------------------

interface RecallPayload {
  gtin: string;
  lot: string;
  reason: RecallReason;
}

const RECALL = compilePayload(
  closedObject({
    // Only the 14 leading digits are a pattern: the hand check reads `sgtin:<gtin>.0`, so a GTIN
    // followed by `.<serial characters>` passes today, and validity may not change (vectors).
    gtin: matching(/^[0-9]{14}/, { description: 'GTIN-14 with its check digit' }),
    lot: LotShape,
    reason: oneOf(RECALL_REASONS),
  }),
);

/** `supply.recall`: the product's owner or a regulator recalls a lot: every package of it. */
export const recallLot: Contract<RecallPayload> = {
  type: 'supply.recall',
  roles: ['manufacturer', 'regulator'],
  description: 'Recall a lot: every package of it fails verification and may not be dispensed.',
  payload: RECALL.schema,
  parse(p) {
    if (!RECALL.check(p)) return RECALL.invalid(p);
    const { gtin, lot, reason } = p;
    if (parseEpc(`sgtin:${gtin}.0`) === undefined) return { invalid: 'gtin: a GTIN-14 with its check digit' };
    if (!isLot(lot)) return { invalid: 'lot: 1–20 characters of GS1 CSET 82' };
    return { gtin, lot, reason };
  },
  execute(ctx, p) {
    const lot = readState<LotRecord>(ctx.get, SupplyKeys.lot(p.gtin, p.lot));
    if (lot === undefined) return 'LOT_NOT_FOUND';
    if (ctx.signer.role !== 'regulator' && lot.owner !== ctx.signer.org) return 'NOT_PREFIX_OWNER';
    if (lot.recall !== null) return 'LOT_ALREADY_RECALLED';
    lot.recall = {
      txId: ctx.txId,
      height: ctx.height,
      atMs: ctx.timestampMs,
      reason: p.reason,
      by: ctx.signer.id,
    };
    ctx.put(SupplyKeys.lot(p.gtin, p.lot), JSON.stringify(lot));
    return 'VALID';
  },
};

interface ClearPayload {
  alert: string;
  resolution: ClearResolution;
}

const CLEAR = compilePayload(
  closedObject({
    alert: matching(/^[0-9a-f]{32}\.[0-9]{1,4}$/, { description: 'alert id' }),
    resolution: oneOf(CLEAR_RESOLUTIONS),
  }),
);

/**
 * `supply.clear`: the product's owner or a regulator resolves an alert — `cleared` lifts the
 * quarantine; `confirmed-*` decommissions the package for good.
 */
export const clearAlert: Contract<ClearPayload> = {
  type: 'supply.clear',
  roles: ['manufacturer', 'regulator'],
  description: 'Resolve a suspect alert: clear the quarantine, or confirm counterfeit or diversion.',
  payload: CLEAR.schema,
  parse(p) {
    if (!CLEAR.check(p)) return CLEAR.invalid(p);
    return { alert: p.alert, resolution: p.resolution };
  },
  execute(ctx, p) {
    const alert = readState<AlertRecord>(ctx.get, SupplyKeys.alert(p.alert));
    if (alert === undefined) return 'ALERT_NOT_FOUND';
    if (alert.status !== 'open') return 'ALERT_ALREADY_RESOLVED';
    if (ctx.signer.role !== 'regulator' && alert.owner !== ctx.signer.org) return 'NOT_PREFIX_OWNER';
    alert.status = p.resolution === 'cleared' ? 'cleared' : 'confirmed';
    alert.resolution = { by: ctx.signer.id, txId: ctx.txId, height: ctx.height, note: p.resolution };
    ctx.put(SupplyKeys.alert(alert.id), JSON.stringify(alert));
    const epc = parseEpc(alert.epc)!;
    const key = epcKey(epc);
    const record = readState<PackageRecord | ContainerRecord>(ctx.get, key);
    if (record !== undefined && record.quarantine === alert.id) {
      record.quarantine = null;
      record.history.push(ctx.txId);
      if (p.resolution !== 'cleared' && record.status === 'active') {
        record.status = 'decommissioned';
        if (epc.kind === 'sgtin') (record as PackageRecord).endedAtMs = ctx.timestampMs;
      }
      ctx.put(key, JSON.stringify(record));
    }
    const event: EventRecord = {
      eventHash: null,
      step: 'clear',
      org: ctx.signer.org,
      epcs: [alert.epc],
      parent: null,
      alerts: [alert.id],
      height: ctx.height,
    };
    ctx.put(SupplyKeys.event(ctx.txId), JSON.stringify(event));
    return 'VALID';
  },
};
