/**
 * The drug supply-chain model on the ledger (ADR 0007): per serialized package only the public
 * facts a downstream party needs to verify it — lot, status, custodian, location, container,
 * who has held it — plus the EPCIS event hash of every event that changed it. The EPCIS
 * documents themselves stay with the organizations that captured them.
 *
 * Identifiers are canonical GS1 keys with check digits: `sgtin:<GTIN-14>.<serial>` for a
 * package, `sscc:<SSCC-18>` for a case or pallet, a 13-digit GLN for a party or location.
 * @module
 */
import { isValidGln, isValidGtin, isValidLot, isValidSerial, isValidSscc } from '../core/gs1.js';

/** What a supply event did (derived from the EPCIS bizStep and action; see `supply/facts.ts`). */
export const SUPPLY_STEPS = [
  'commission',
  'pack',
  'unpack',
  'ship',
  'receive',
  'dispense',
  'decommission',
  'observe',
] as const;
export type SupplyStep = (typeof SUPPLY_STEPS)[number];

/** Why a package was flagged suspect and quarantined. */
export const SUSPECT_REASONS = {
  DISPENSED_TWICE: 'A package already dispensed was reported dispensed again.',
  SOURCE_NEVER_HELD: 'A package was received from a party that never held it.',
  SHIPPED_AFTER_DISPENSE:
    'A package was shipped, received, dispensed or seen after it was dispensed or decommissioned.',
  TWO_PLACES: 'A package was reported at a place other than where its custody says it is.',
  EXPIRED_LOT: "A package of an expired lot moved or was dispensed after its lot's expiry.",
  UNKNOWN_SERIAL: 'A package whose serial was never commissioned appeared in the supply chain.',
} as const;
export type SuspectReason = keyof typeof SUSPECT_REASONS;

/** Most identifiers one event may name (keeps a transaction well under `maxTxBytes`). */
export const MAX_EVENT_EPCS = 2000;
/** Most direct children of one container. */
export const MAX_CONTAINER_CHILDREN = 10_000;
/** Deepest nesting of containers (pallet → case → package). */
export const MAX_NESTING = 4;

/** A parsed identifier. */
export type Epc = { kind: 'sgtin'; gtin: string; serial: string } | { kind: 'sscc'; sscc: string };

/**
 * Parses a canonical identifier; `undefined` if malformed or its check digit is wrong.
 *
 * @example
 * parseEpc('sgtin:00614141107346.2017'); // { kind: 'sgtin', gtin: '00614141107346', serial: '2017' }
 */
export function parseEpc(text: unknown): Epc | undefined {
  if (typeof text !== 'string') return undefined;
  if (text.startsWith('sgtin:')) {
    const gtin = text.slice(6, 20);
    const serial = text.slice(21);
    if (text[20] !== '.' || !/^[0-9]{14}$/.test(gtin) || !isValidGtin(gtin) || !isValidSerial(serial))
      return undefined;
    return { kind: 'sgtin', gtin, serial };
  }
  if (text.startsWith('sscc:')) {
    const sscc = text.slice(5);
    return /^[0-9]{18}$/.test(sscc) && isValidSscc(sscc) ? { kind: 'sscc', sscc } : undefined;
  }
  return undefined;
}

/** The canonical text of an identifier. @example epcText({ kind: 'sscc', sscc: '106141412345678908' }) // 'sscc:106141412345678908' */
export function epcText(epc: Epc): string {
  return epc.kind === 'sgtin' ? `sgtin:${epc.gtin}.${epc.serial}` : `sscc:${epc.sscc}`;
}

/** True for a 13-digit GLN with a correct check digit. */
export function isGln(v: unknown): v is string {
  return typeof v === 'string' && /^[0-9]{13}$/.test(v) && isValidGln(v);
}

/** True for a lot number (AI 10). */
export function isLot(v: unknown): v is string {
  return typeof v === 'string' && isValidLot(v);
}

/** True for an ISO calendar date `YYYY-MM-DD` that exists. */
export function isIsoDate(v: unknown): v is string {
  if (typeof v !== 'string' || !/^[0-9]{4}-[0-9]{2}-[0-9]{2}$/.test(v)) return false;
  const [y, m, d] = v.split('-').map(Number) as [number, number, number];
  if (m < 1 || m > 12 || d < 1) return false;
  const days = [
    31,
    y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0) ? 29 : 28,
    31,
    30,
    31,
    30,
    31,
    31,
    30,
    31,
    30,
    31,
  ];
  return d <= days[m - 1]!;
}

/**
 * The last instant (ms since the epoch, UTC) at which a lot expiring on `expiry` is still good:
 * GS1 expiry dates (AI 17) mean "use by the end of that day".
 */
export function expiryEndMs(expiry: string): number {
  const [y, m, d] = expiry.split('-').map(Number) as [number, number, number];
  return daysFromCivil(y, m, d) * 86_400_000 + 86_400_000 - 1;
}

/** Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm; no clock needed). */
function daysFromCivil(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146_097 + doe - 719_468;
}

/** A party's registration: GS1 company prefixes and GLNs that belong to an organization. */
export interface PartyRecord {
  org: string;
  companyPrefixes: string[];
  glns: string[];
  registeredBy: string;
  txId: string;
}

/** A lot (LGTIN): expiry, owner, how many packages were commissioned, and any recall. */
export interface LotRecord {
  gtin: string;
  lot: string;
  /** `YYYY-MM-DD` (AI 17). */
  expiry: string;
  /** The manufacturer organization that owns the GTIN's company prefix. */
  owner: string;
  commissioned: number;
  recall: { txId: string; height: number; atMs: number; reason: RecallReason; by: string } | null;
}

export const RECALL_REASONS = ['safety', 'quality', 'counterfeit', 'regulatory', 'other'] as const;
export type RecallReason = (typeof RECALL_REASONS)[number];

/** Where a package or container is in transit: shipped by `from` to `to` (organizations). */
export interface Transit {
  from: string;
  to: string;
  /** The destination party's GLN named in the shipping event. */
  toGln: string;
  txId: string;
}

/** Custody state shared by packages and containers. */
export interface CustodyState {
  /** The organization holding it, or null once dispensed. */
  custodian: string | null;
  /** The GLN where it was last reported by its custodian. */
  location: string | null;
  transit: Transit | null;
  /** The container it is packed in (`sscc:…`), or null. */
  parent: string | null;
  /** Every organization that has held it (in order, without repeats). */
  holders: string[];
  /** The open alert while quarantined (one per package: later reports join it). */
  quarantine: string | null;
  /**
   * Every transaction that changed it, oldest first (the last is the latest). A container's
   * history covers its contents while they are packed in it, so a timeline needs no index.
   */
  history: string[];
}

/** A serialized package. */
export interface PackageRecord extends CustodyState {
  gtin: string;
  serial: string;
  lot: string;
  status: 'active' | 'dispensed' | 'decommissioned';
  /** Block time of the end of life (dispensed or decommissioned), if any. */
  endedAtMs: number | null;
}

/** A case or pallet (SSCC). */
export interface ContainerRecord extends CustodyState {
  sscc: string;
  /** Organization that first packed it. */
  owner: string;
  children: string[];
  /** Earliest expiry among everything inside (for the expired-lot check on a whole case). */
  minExpiry: string | null;
  /** Levels of containers inside (0 = packages only); never decreases, so limits stay conservative. */
  depth: number;
  status: 'active' | 'decommissioned';
}

/** A suspect finding: the package is quarantined until the owner or a regulator clears it. */
export interface AlertRecord {
  id: string;
  epc: string;
  reasons: SuspectReason[];
  /** Owner of the product (manufacturer), notified with regulators; null for an unknown serial. */
  owner: string | null;
  /** Every report that raised or joined it. */
  reports: AlertReport[];
  height: number;
  atMs: number;
  status: 'open' | 'cleared' | 'confirmed';
  resolution: { by: string; txId: string; height: number; note: ClearResolution } | null;
}

/** One suspect report: who, which event, why. */
export interface AlertReport {
  org: string;
  step: SupplyStep;
  eventHash: string;
  txId: string;
  height: number;
  reasons: SuspectReason[];
}

export const CLEAR_RESOLUTIONS = ['cleared', 'confirmed-counterfeit', 'confirmed-diverted'] as const;
export type ClearResolution = (typeof CLEAR_RESOLUTIONS)[number];

/** What a committed supply transaction did: an EPCIS event (applied or flagged), or a clearance. */
export interface EventRecord {
  /** The EPCIS event hash; null for a clearance (no EPCIS event). */
  eventHash: string | null;
  step: SupplyStep | 'clear';
  org: string;
  epcs: string[];
  parent: string | null;
  alerts: string[];
  height: number;
}

/** State key layout for the supply chain, in one place. */
export const SupplyKeys = {
  prefix: (companyPrefix: string) => `supply/prefix/${companyPrefix}`,
  /** Marks a prefix that a longer registered prefix starts with (so prefixes never nest). */
  prefixUnder: (prefix: string) => `supply/prefix-under/${prefix}`,
  gln: (gln: string) => `supply/gln/${gln}`,
  party: (txId: string) => `supply/party/${txId}`,
  lot: (gtin: string, lot: string) => `supply/lot/${gtin}/${lot}`,
  package: (gtin: string, serial: string) => `supply/sgtin/${gtin}/${serial}`,
  container: (sscc: string) => `supply/sscc/${sscc}`,
  alert: (id: string) => `supply/alert/${id}`,
  event: (txId: string) => `supply/event/${txId}`,
  /** Event hashes are unique on the ledger: the same EPCIS event cannot be recorded twice. */
  eventHash: (hex: string) => `supply/event-hash/${hex}`,
} as const;

/** The state key of a package or container. */
export function epcKey(epc: Epc): string {
  return epc.kind === 'sgtin' ? SupplyKeys.package(epc.gtin, epc.serial) : SupplyKeys.container(epc.sscc);
}

/**
 * The organization owning a GTIN's company prefix, trying every prefix length (GS1: 6–12 digits
 * after the GTIN-14's indicator digit).
 */
export function gtinOwner(get: (k: string) => string | undefined, gtin: string): string | undefined {
  const body = gtin.slice(1);
  for (let len = 6; len <= 12; len++) {
    const org = get(SupplyKeys.prefix(body.slice(0, len)));
    if (org !== undefined) return org;
  }
  return undefined;
}

/** The organization a GLN belongs to. */
export function glnOwner(get: (k: string) => string | undefined, gln: string): string | undefined {
  return get(SupplyKeys.gln(gln));
}

type Getter = (k: string) => string | undefined;

/** Reads a JSON state value. */
export function readState<T>(get: Getter, key: string): T | undefined {
  const raw = get(key);
  return raw === undefined ? undefined : (JSON.parse(raw) as T);
}

/** A package or container with its effective custody (from its outermost container). */
export interface Resolved<T extends CustodyState = PackageRecord | ContainerRecord> {
  record: T;
  /** The outermost container's custody (the record's own if not packed). */
  custodian: string | null;
  location: string | null;
  transit: Transit | null;
  /** Holders along the whole container chain. */
  holders: string[];
  /** An open alert on it or on any container around it. */
  quarantine: string | null;
  /** The containers around it, innermost first. */
  ancestors: string[];
}

/** Resolves effective custody by walking up the container chain. */
export function resolveCustody<T extends CustodyState>(get: Getter, record: T): Resolved<T> {
  let top: CustodyState = record;
  const holders = [...record.holders];
  let quarantine = record.quarantine;
  const ancestors: string[] = [];
  while (top.parent !== null && ancestors.length < MAX_NESTING) {
    const parentEpc = parseEpc(top.parent);
    const parent = parentEpc && readState<ContainerRecord>(get, epcKey(parentEpc));
    if (parent === undefined) break;
    ancestors.push(top.parent);
    for (const h of parent.holders) if (!holders.includes(h)) holders.push(h);
    quarantine ??= parent.quarantine;
    top = parent;
  }
  return {
    record,
    custodian: top.custodian,
    location: top.location,
    transit: top.transit,
    holders,
    quarantine,
    ancestors,
  };
}
