/**
 * GS1 "EPCIS Event Hash ID" (CBV 2.0 standard §8.9): a syntax-independent fingerprint of one EPCIS
 * event, `ni:///sha-256;<hex>?ver=CBV2.0` (RFC 6920 `ni` URI). The event is flattened into a
 * canonical pre-hash string — fields in the canonical property order, values normalised (UTC
 * timestamps at millisecond precision, EPC URIs and GS1 Digital Link URIs as constrained canonical
 * Digital Links, CBV terms as `https://ref.gs1.org/cbv/…` web URIs, numbers without trailing zeros),
 * lists sorted — and hashed with SHA-256.
 *
 * The rules follow the reference implementation RalphTro/epcis-event-hash-generator at commit
 * d8d87463 (its "CBV2.0" profile); `vectors/epcis-event-hash/` holds its expected outputs and the
 * README there lists the known deviations. JSON/JSON-LD input only (EPCIS 2.0 §9). "Rule N" below
 * refers to the numbered rules of that repository's algorithm description, which restates §8.9.
 *
 * Browser-safe and pure: no Node imports, no clock (timestamps are parsed, never read), no I/O.
 */
import { toHex, utf8 } from '../../../protocol/bytes.js';
import { sha256 } from '../../../protocol/hash.js';
import type { EpcisEvent } from './epcis.js';
import { gs1CheckDigit, toDigitalLink } from './gs1.js';

/**
 * The algorithm version written after `?ver=` (CBV 2.0 §8.9: "CBV" + major.minor of the CBV
 * release whose hash rules were applied).
 *
 * @example
 * epcisEventHash(event).endsWith(`?ver=${EPCIS_EVENT_HASH_VERSION}`); // true
 */
export const EPCIS_EVENT_HASH_VERSION = 'CBV2.0';

/** One element of the flattened event: key, text value and child elements (the XML data model). */
interface Node {
  name: string;
  value: string;
  children: Node[];
  /** A (type, id) pair of bizTransactionList / sourceList / destinationList: kept in that order. */
  pair?: true;
}

// ---------------------------------------------------------------------------------------------
// Canonical property order (CBV 2.0 §8.9, "canonical property order" table, rows 1–23).

/** A field of the canonical order, with the order of its own sub-fields when it has any. */
interface Field {
  name: string;
  sub?: readonly Field[] | 'pairs';
}
const leaf = (name: string): Field => ({ name });
const EPC_LIST: readonly Field[] = [leaf('epc')];
const QUANTITY: readonly Field[] = [
  { name: 'quantityElement', sub: [leaf('epcClass'), leaf('quantity'), leaf('uom')] },
];
const SENSOR_METADATA =
  'time startTime endTime deviceID deviceMetadata rawData dataProcessingMethod bizRules';
const SENSOR_REPORT =
  'type exception deviceID deviceMetadata rawData dataProcessingMethod time microorganism chemicalSubstance ' +
  'value component stringValue booleanValue hexBinaryValue uriValue minValue maxValue meanValue sDev ' +
  'percRank percValue uom coordinateReferenceSystem';
const leaves = (names: string): Field[] => names.split(' ').map(leaf);

const PROPERTY_ORDER: readonly Field[] = [
  leaf('eventTime'),
  leaf('eventTimeZoneOffset'),
  { name: 'epcList', sub: EPC_LIST },
  leaf('parentID'),
  { name: 'inputEPCList', sub: EPC_LIST },
  { name: 'childEPCs', sub: EPC_LIST },
  { name: 'quantityList', sub: QUANTITY },
  { name: 'childQuantityList', sub: QUANTITY },
  { name: 'inputQuantityList', sub: QUANTITY },
  { name: 'outputEPCList', sub: EPC_LIST },
  { name: 'outputQuantityList', sub: QUANTITY },
  leaf('action'),
  leaf('transformationID'),
  leaf('bizStep'),
  leaf('disposition'),
  { name: 'persistentDisposition', sub: [leaf('set'), leaf('unset')] },
  { name: 'readPoint', sub: [leaf('id')] },
  { name: 'bizLocation', sub: [leaf('id')] },
  { name: 'bizTransactionList', sub: 'pairs' },
  { name: 'sourceList', sub: 'pairs' },
  { name: 'destinationList', sub: 'pairs' },
  {
    name: 'sensorElementList',
    sub: [
      {
        name: 'sensorElement',
        sub: [
          { name: 'sensorMetadata', sub: leaves(SENSOR_METADATA) },
          { name: 'sensorReport', sub: leaves(SENSOR_REPORT) },
        ],
      },
    ],
  },
];
const PAIR_LISTS = new Set(['bizTransactionList', 'sourceList', 'destinationList']);
/**
 * Event fields outside the hash: set by the capturing system (recordTime, eventID), the event type
 * (already the first element), and errorDeclaration/certificationInfo, which are not in the CBV 2.0
 * property order — so an error declaration added later does not change the event's hash ID.
 */
const NOT_HASHED = new Set(['recordTime', 'eventID', 'type', 'errorDeclaration', 'certificationInfo']);
/** JSON keys that carry no event data: comments (EPCIS 2.0 §9 allows rdfs:comment) and JSON-LD context. */
const SKIPPED_KEYS = new Set(['#text', 'comment', 'rdfs:comment', '@context']);

// ---------------------------------------------------------------------------------------------
// Strings: UTF-8/code-point order (CBV 2.0 §8.9 rule 10), numbers, timestamps.

/** Code-point order: UTF-16 order except that astral characters sort above U+E000–U+FFFF. */
function codePointCompare(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    x = x >= 0xd800 && x <= 0xdfff ? x + 0x2000 : x >= 0xe000 ? x - 0x800 : x;
    y = y >= 0xd800 && y <= 0xdfff ? y + 0x2000 : y >= 0xe000 ? y - 0x800 : y;
    return x - y;
  }
  return a.length - b.length;
}

const sortStrings = (parts: string[]): string[] => parts.sort(codePointCompare);

/** Sibling order of the reference (a sort on name, then value, then children). */
function compareNodes(a: Node, b: Node): number {
  const c = codePointCompare(a.name, b.name) || codePointCompare(a.value, b.value);
  if (c !== 0) return c;
  const n = Math.min(a.children.length, b.children.length);
  for (let i = 0; i < n; i++) {
    const d = compareNodes(a.children[i]!, b.children[i]!);
    if (d !== 0) return d;
  }
  return a.children.length - b.children.length;
}

/**
 * A JSON number as the reference sees it (Python `str`): integers as digits, other numbers in
 * shortest round-trip form with Python's exponent thresholds. `formatNumber` then canonicalises.
 */
function jsonNumberText(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  if (Number.isInteger(n) && Math.abs(n) < 2 ** 53) return n === 0 ? '0' : n.toFixed(0);
  const [mantissa = '', e = '0'] = n.toExponential().split('e');
  const sign = mantissa.startsWith('-') ? '-' : '';
  const digits = mantissa.replace('-', '').replace('.', '');
  const exp = Number(e);
  if (exp >= -4 && exp < 16) {
    if (exp < 0) return `${sign}0.${'0'.repeat(-exp - 1)}${digits}`;
    const whole = digits.slice(0, exp + 1).padEnd(exp + 1, '0');
    return `${sign}${whole}.${digits.slice(exp + 1) || '0'}`;
  }
  const frac = digits.length > 1 ? `.${digits.slice(1)}` : '';
  return `${sign}${digits[0] ?? '0'}${frac}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
}

const DECIMAL = /^([+-]?)(?:(\d+)(?:\.(\d*))?|\.(\d+))(?:[eE]([+-]?\d+))?$/;

/**
 * CBV 2.0 §8.9 rules 6–7: a numeric value without trailing zeros ("1.0" → "1", "0.3430" → "0.343").
 * Follows Python `Decimal` as the reference does: underscores ignored, whole numbers written as
 * integers (or `1E+3` when the exponent is positive), fractions in plain notation. Non-numbers
 * are returned unchanged.
 */
function formatNumber(text: string): string {
  const m = DECIMAL.exec(text.replace(/_/g, ''));
  if (!m) return text;
  const sign = m[1] === '-' ? '-' : '';
  const frac = m[3] ?? m[4] ?? '';
  let coefficient = `${m[2] ?? ''}${frac}`.replace(/^0+/, '') || '0';
  let exp = Number(m[5] ?? '0') - frac.length;
  if (exp > 0) {
    const adjusted = exp + coefficient.length - 1;
    const rest = coefficient.length > 1 ? `.${coefficient.slice(1)}` : '';
    return `${sign}${coefficient[0] ?? '0'}${rest}E${adjusted < 0 ? '-' : '+'}${Math.abs(adjusted)}`;
  }
  if (exp === 0) return sign + coefficient;
  const padded = coefficient.padStart(-exp + 1, '0');
  if (/^0*$/.test(padded.slice(exp))) return sign + (padded.slice(0, exp).replace(/^0+/, '') || '0');
  while (coefficient.endsWith('0')) {
    coefficient = coefficient.slice(0, -1);
    exp += 1;
  }
  const digits = coefficient.padStart(-exp + 1, '0');
  return `${sign}${digits.slice(0, digits.length + exp)}.${digits.slice(digits.length + exp)}`;
}

const TIMESTAMP =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?\s*(Z|z|[+-]\d{2}(?::?\d{2})?)?$/;

/**
 * CBV 2.0 §8.9 rules 8–9: a timestamp in UTC with millisecond precision and `Z`
 * (`2020-03-04T11:00:30+01:00` → `2020-03-04T10:00:30.000Z`). Extra fractional digits are
 * rounded half-up to milliseconds (from the first six, as the reference's parser keeps
 * microseconds). A timestamp without offset is taken as UTC. Unparseable text is returned as is.
 */
function normaliseTimestamp(text: string): string {
  const m = TIMESTAMP.exec(text);
  if (!m) return text;
  const num = (i: number): number => Number(m[i] ?? '0');
  const [year, month, day, hour, minute, second] = [num(1), num(2), num(3), num(4), num(5), num(6)];
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1] ?? 0;
  if (day < 1 || day > days || hour > 23 || minute > 59 || second > 59) return text;
  const micros = Number((m[7] ?? '').padEnd(6, '0').slice(0, 6));
  const millis = Math.floor(micros / 1000) + (micros % 1000 >= 500 ? 1 : 0);
  const zone = m[8] ?? 'Z';
  const offset = zone.toUpperCase() === 'Z' ? '00' : zone.slice(1).replace(':', '');
  const offsetMinutes =
    (zone[0] === '-' ? -1 : 1) * (Number(offset.slice(0, 2)) * 60 + Number(offset.slice(2) || '0'));
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute - offsetMinutes, second, millis);
  const iso = date.toISOString();
  return /^\d{4}-/.test(iso) ? iso : text;
}

// ---------------------------------------------------------------------------------------------
// GS1 identifiers → constrained canonical GS1 Digital Link (CBV 2.0 §8.9 rules 17–18).

const CANONICAL_HOST = 'id.gs1.org';
const DL_BASE = `https://${CANONICAL_HOST}`;
/** One character of an EPC URI serial/lot/extension (EPC TDS §5), `%XX` counted as one. */
const EPC_CHAR =
  /%(?:2[125-9A-Fa-f]|3[0-9A-Fa-f]|4[1-9A-Fa-f]|5[0-9AaFf]|6[1-9A-Fa-f]|7[0-9Aa])|[!')(*+,.0-9:;=A-Za-z_-]/g;
/** One character of a CPI component/part reference (EPC TDS §6.3, CPI). */
const CPI_CHAR = /%(?:2[3dfDF]|3[0-9]|4[1-9A-Fa-f]|5[0-9Aa])|[0-9A-Z-]/g;

/** Whether `raw` is `min`–`max` characters of the given EPC character class. */
function epcText(raw: string, chars: RegExp, min: number, max: number): boolean {
  const tokens = raw.match(chars) ?? [];
  return tokens.join('') === raw && tokens.length >= min && tokens.length <= max;
}

/** Company prefix (6–12 digits) plus a numeric reference filling `total` digits (TDS §6.3). */
function prefixed(cp: string | undefined, ref: string | undefined, total: number): boolean {
  return (
    cp !== undefined &&
    ref !== undefined &&
    /^\d{6,12}$/.test(cp) &&
    /^\d*$/.test(ref) &&
    cp.length + ref.length === total
  );
}

const withCheckDigit = (digits: string): string => digits + String(gs1CheckDigit(digits));
/** TDS §6.3.1: the GTIN-14 of company prefix + item reference (indicator digit first). */
const gtinOf = (cp: string, itemRef: string): string =>
  withCheckDigit(itemRef.slice(0, 1) + cp + itemRef.slice(1));
const gtinLink = (cp: string, itemRef: string): string =>
  toDigitalLink({ kind: 'gtin', gtin: gtinOf(cp, itemRef) });

/**
 * An EPC URI (pure identity, EPC class or EPC pattern, EPC TDS 2.x §6–§8) as a canonical GS1
 * Digital Link on id.gs1.org, keeping only the finest identification level. Serials, lots and other
 * alphanumeric components are copied exactly as written in the URI (EPC URI escapes such as `%2F`
 * included), as the reference implementation does.
 */
function epcToDigitalLink(uri: string): string | undefined {
  const m = /^urn:epc:(id|class|idpat):([a-z]+):(.+)$/.exec(uri);
  if (!m) return undefined;
  const kind = `${m[1]}:${m[2]}`;
  const body = m[3] ?? '';
  const parts = body.split('.');
  const [cp = '', a = '', b = '', c = '', d = ''] = parts;
  /** The free-text component after the first `n` dot-separated fields (it may contain dots). */
  const after = (n: number): string => parts.slice(n).join('.');
  switch (kind) {
    case 'id:sgtin':
      return prefixed(cp, a, 13) && epcText(after(2), EPC_CHAR, 1, 20)
        ? `${gtinLink(cp, a)}/21/${after(2)}`
        : undefined;
    case 'id:sscc':
      return parts.length === 2 && prefixed(cp, a, 17)
        ? toDigitalLink({ kind: 'sscc', sscc: withCheckDigit(a.slice(0, 1) + cp + a.slice(1)) })
        : undefined;
    case 'id:sgln': {
      if (!prefixed(cp, a, 12) || !epcText(after(2), EPC_CHAR, 1, 20)) return undefined;
      const gln = toDigitalLink({ kind: 'gln', gln: withCheckDigit(cp + a) });
      return after(2) === '0' ? gln : `${gln}/254/${after(2)}`; // TDS §6.3.3: extension 0 = none
    }
    case 'id:pgln':
      return parts.length === 2 && prefixed(cp, a, 12)
        ? toDigitalLink({ kind: 'pgln', gln: withCheckDigit(cp + a) })
        : undefined;
    case 'id:grai':
      return prefixed(cp, a, 12) && epcText(after(2), EPC_CHAR, 1, 16)
        ? `${DL_BASE}/8003/${withCheckDigit(`0${cp}${a}`)}${after(2)}`
        : undefined;
    case 'id:giai':
    case 'id:ginc': {
      const ok = /^\d{6,12}$/.test(cp) && epcText(after(1), EPC_CHAR, 1, 30 - cp.length);
      return ok ? `${DL_BASE}/${kind === 'id:giai' ? '8004' : '401'}/${cp}${after(1)}` : undefined;
    }
    case 'id:gsrn':
    case 'id:gsrnp':
      return parts.length === 2 && prefixed(cp, a, 17)
        ? `${DL_BASE}/${kind === 'id:gsrn' ? '8018' : '8017'}/${withCheckDigit(cp + a)}`
        : undefined;
    case 'id:gdti': {
      // The reference accepts an empty serial except with a 12-digit prefix (empty document type).
      const short = cp.length === 12 ? 1 : 0;
      return prefixed(cp, a, 12) && epcText(after(2), EPC_CHAR, short, 19 + short)
        ? `${DL_BASE}/253/${withCheckDigit(cp + a)}${after(2)}`
        : undefined;
    }
    case 'id:cpi':
      return parts.length === 3 &&
        /^\d{6,12}$/.test(cp) &&
        epcText(a, CPI_CHAR, 1, 30 - cp.length) &&
        /^\d{1,12}$/.test(b)
        ? `${DL_BASE}/8010/${cp}${a}/8011/${b}`
        : undefined;
    case 'id:sgcn':
      return parts.length === 3 && prefixed(cp, a, 12) && /^\d{1,12}$/.test(b)
        ? `${DL_BASE}/255/${withCheckDigit(cp + a)}${b}`
        : undefined;
    case 'id:gsin':
      return parts.length === 2 && prefixed(cp, a, 16)
        ? `${DL_BASE}/402/${withCheckDigit(cp + a)}`
        : undefined;
    case 'id:itip':
      return prefixed(cp, a, 13) &&
        /^\d{2}$/.test(b) &&
        /^\d{2}$/.test(c) &&
        epcText(after(4), EPC_CHAR, 1, 20)
        ? `${DL_BASE}/8006/${gtinOf(cp, a)}${b}${c}/21/${after(4)}`
        : undefined;
    case 'id:upui':
      return prefixed(cp, a, 13) && epcText(after(2), EPC_CHAR, 1, 28)
        ? `${gtinLink(cp, a)}/235/${after(2)}`
        : undefined;
    case 'class:lgtin':
      return prefixed(cp, a, 13) && epcText(after(2), EPC_CHAR, 1, 20)
        ? `${gtinLink(cp, a)}/10/${after(2)}`
        : undefined;
    case 'idpat:sgtin':
    case 'idpat:upui':
      return parts.length === 3 && b === '*' && prefixed(cp, a, 13) ? gtinLink(cp, a) : undefined;
    case 'idpat:grai':
      return parts.length === 3 && b === '*' && prefixed(cp, a, 12)
        ? `${DL_BASE}/8003/${withCheckDigit(`0${cp}${a}`)}`
        : undefined;
    case 'idpat:gdti':
    case 'idpat:sgcn':
      return parts.length === 3 && b === '*' && prefixed(cp, a, 12)
        ? `${DL_BASE}/${kind === 'idpat:gdti' ? '253' : '255'}/${withCheckDigit(cp + a)}`
        : undefined;
    case 'idpat:cpi':
      return parts.length === 3 &&
        b === '*' &&
        /^\d{6,12}$/.test(cp) &&
        epcText(a, CPI_CHAR, 1, 30 - cp.length)
        ? `${DL_BASE}/8010/${cp}${a}`
        : undefined;
    case 'idpat:itip':
      return parts.length === 5 && d === '*' && prefixed(cp, a, 13) && /^\d{2}$/.test(b) && /^\d{2}$/.test(c)
        ? `${DL_BASE}/8006/${gtinOf(cp, a)}${b}${c}`
        : undefined;
    default:
      return undefined;
  }
}

const DL_KEYS =
  '01|gtin|8006|itip|8010|cpid|414|gln|417|party|8017|gsrnp|8018|gsrn|255|gcn|00|sscc|253|gdti|401|ginc|402|gsin|8003|grai|8004|giai';
/** A GS1 Digital Link: an http(s) URI whose path holds `/{key AI or short name}/{value}` (DL 1.2 §4). */
const DIGITAL_LINK = new RegExp(`^https?:(?://[^/?#]*)?[^?#]*/(?:${DL_KEYS})/\\d{4}[^/]`);
/** GS1 Digital Link 1.2 (URI syntax): the legacy short names of AIs. */
const SHORT_NAMES: readonly [string, string][] = [
  ['gtin', '01'],
  ['itip', '8006'],
  ['cpid', '8010'],
  ['gln', '414'],
  ['party', '417'],
  ['gsrnp', '8017'],
  ['gsrn', '8018'],
  ['gcn', '255'],
  ['sscc', '00'],
  ['gdti', '253'],
  ['ginc', '401'],
  ['gsin', '402'],
  ['grai', '8003'],
  ['giai', '8004'],
  ['cpv', '22'],
  ['lot', '10'],
  ['ser', '21'],
];
/** Where the identifier starts when a custom domain is replaced (the reference's search order). */
const PRIMARY_KEYS = [
  '00',
  '01',
  '253',
  '255',
  '401',
  '402',
  '414',
  '417',
  '8003',
  '8004',
  '8006',
  '8010',
  '8017',
  '8018',
];
const CANONICAL_START = new RegExp(
  `^https://id\\.gs1\\.org/(?:01|8006|8010|414|417|8017|8018|255|00|253|401|402|8003|8004)/\\d{4}[^/]`,
);
/** Characters allowed in a value of the constrained canonical form (no percent-encoding). */
const X = `[\\x22\\x27\\x2D\\x2E\\x30-\\x39\\x3B-\\x3F\\x41-\\x5A\\x5F\\x61-\\x7A]`;
const GTIN_OR_ITIP = `(?:01/\\d{14}|8006/\\d{18})`;
const CPV_ONLY = new RegExp(`^https://id\\.gs1\\.org/${GTIN_OR_ITIP}/22/${X}{0,20}$`);
const CPV_THEN_MORE = new RegExp(`^https://id\\.gs1\\.org/${GTIN_OR_ITIP}/22/(?:${X}|/){0,20}$`);
const LOT_AND_SERIAL = new RegExp(`^https://id\\.gs1\\.org/${GTIN_OR_ITIP}/10/${X}{0,20}/21/${X}{0,20}$`);
/** CBV 2.0 §8.9 rule 18 (III): the key / key-qualifier combinations a hashed Digital Link may have. */
const CONSTRAINED_CANONICAL = new RegExp(
  `^https://id\\.gs1\\.org/(?:${[
    '00/\\d{18}',
    `01/\\d{14}(?:/21/${X}{0,20}|/10/${X}{0,20}|/235/${X}{0,28})?`,
    `253/\\d{13}${X}{0,17}`,
    '255/\\d{13}\\d{0,12}',
    `401/${X}{0,30}`,
    '402/\\d{17}',
    `414/\\d{13}(?:/254/${X}{0,20})?`,
    '417/\\d{13}',
    `8003/\\d{14}${X}{0,16}`,
    `8004/${X}{0,30}`,
    `8006/\\d{18}(?:/21/${X}{0,20}|/10/${X}{0,20})?`,
    '8010/[#\\-/0-9A-Z]{0,30}(?:/8011/\\d{0,12})?',
    '8017/\\d{18}',
    '8018/\\d{18}',
  ].join('|')})$`,
);

/**
 * CBV 2.0 §8.9 rule 18: a GS1 Digital Link as a constrained canonical one — custom domain replaced
 * by id.gs1.org, query string dropped, short names replaced by AIs, GTINs padded to 14 digits, CPV
 * dropped and a lot dropped when a serial is present. Returns `undefined` when the result is not
 * one of the permitted forms (the value is then hashed as written).
 */
function canonicalDigitalLink(text: string): string | undefined {
  if (!DIGITAL_LINK.test(text)) return undefined;
  let uri = text.includes('?') ? text.slice(0, text.indexOf('?')) : text;
  for (const [short, ai] of SHORT_NAMES) uri = uri.replaceAll(`/${short}/`, `/${ai}/`);
  if (!CANONICAL_START.test(uri)) {
    const key = PRIMARY_KEYS.find((k) => uri.includes(`/${k}/`));
    if (key !== undefined) uri = DL_BASE + uri.slice(uri.indexOf(`/${key}/`));
  }
  const gtin = uri.startsWith(`${DL_BASE}/01/`)
    ? (/^\d*/.exec(uri.slice(DL_BASE.length + 4))?.[0] ?? '')
    : '';
  if (gtin.length >= 8 && gtin.length < 14)
    uri = uri.replaceAll('/01/', `/01/${'0'.repeat(gtin.length >= 12 ? 14 - gtin.length : 6)}`);
  const cpv = uri.indexOf('/22/');
  if (CPV_ONLY.test(uri)) uri = uri.slice(0, cpv);
  else if (CPV_THEN_MORE.test(uri)) {
    const rest = uri.slice(cpv + 4);
    uri = uri.slice(0, cpv) + (rest.includes('/') ? rest.slice(rest.indexOf('/')) : '');
  }
  if (LOT_AND_SERIAL.test(uri)) {
    const lot = uri.indexOf('/10/');
    const rest = uri.slice(lot + 4);
    uri = uri.slice(0, lot) + rest.slice(rest.indexOf('/'));
  }
  return CONSTRAINED_CANONICAL.test(uri) ? uri : undefined;
}

/** CBV 2.0 §8.9 rule 14: URN-form CBV values as web URIs. */
const CBV_URNS: readonly [string, string][] = [
  ['urn:epcglobal:cbv:bizstep:', 'https://ref.gs1.org/cbv/BizStep-'],
  ['urn:epcglobal:cbv:disp:', 'https://ref.gs1.org/cbv/Disp-'],
  ['urn:epcglobal:cbv:btt:', 'https://ref.gs1.org/cbv/BTT-'],
  ['urn:epcglobal:cbv:sdt:', 'https://ref.gs1.org/cbv/SDT-'],
  ['urn:epcglobal:cbv:er:', 'https://ref.gs1.org/cbv/ER-'],
];

/** A value as hashed: CBV URNs as web URIs, numbers without trailing zeros, GS1 keys as Digital Links. */
function canonicalValue(text: string): string {
  let value = text;
  for (const [urn, web] of CBV_URNS) value = value.replaceAll(urn, web);
  value = formatNumber(value);
  if (!value.includes('.')) return value; // as the reference: a GS1 URI always has a dot (EPC or host)
  if (value.startsWith('urn:epc:')) return epcToDigitalLink(value) ?? value;
  return canonicalDigitalLink(value) ?? value;
}

// ---------------------------------------------------------------------------------------------
// JSON-LD → element tree: namespaces, CURIEs and bare CBV terms (CBV 2.0 §8.9 rules 15, 16, 19, 20).

type Namespaces = Map<string, string>;

/** Prefixes of the EPCIS 2.0 JSON-LD context; `gs1` is always the GS1 Web Vocabulary (EPCIS 2.1 change). */
function namespacesOf(contexts: readonly unknown[]): Namespaces {
  const ns: Namespaces = new Map([
    ['gs1', 'https://ref.gs1.org/voc/'],
    ['cbv', 'https://ref.gs1.org/cbv/'],
    ['epcis', 'https://ref.gs1.org/epcis/'],
    ['cbvmda', 'urn:epcglobal:cbv:mda'],
  ]);
  const add = (c: unknown): void => {
    if (Array.isArray(c)) c.forEach(add);
    else if (isObject(c)) for (const [k, v] of Object.entries(c)) if (typeof v === 'string') ns.set(k, v);
  };
  contexts.forEach(add);
  ns.set('gs1', 'https://ref.gs1.org/voc/');
  return ns;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** A compact key `prefix:local` as `{namespace}local` (the XML form, CBV 2.0 §8.9 rule 19). */
function expandKey(key: string, ns: Namespaces): string {
  const i = key.indexOf(':');
  const uri = i < 0 ? undefined : ns.get(key.slice(0, i));
  return uri === undefined ? key : `{${uri}}${key.slice(i + 1)}`;
}

/** CBV 2.0 §8.9 rule 15: a CURIE value expanded — for GS1 vocabularies only (`gs1:`, `cbv:`, …). */
function expandCurie(value: string, ns: Namespaces): string {
  const i = value.indexOf(':');
  const uri = i < 0 ? undefined : ns.get(value.slice(0, i))?.replace(/[{}]/g, '');
  const gs1 =
    uri !== undefined && (uri.startsWith('https://ref.gs1.org') || uri.startsWith('https://gs1.org'));
  return gs1 ? uri + value.slice(i + 1) : value;
}

/** A bare-string vocabulary of the EPCIS 2.0 JSON-LD context: its terms and their web-URI prefix. */
interface Vocabulary {
  prefix: string;
  terms: ReadonlySet<string>;
}
const vocabulary = (prefix: string, terms: string): Vocabulary => ({
  prefix,
  terms: new Set(terms.split(' ')),
});
const DISPOSITIONS = vocabulary(
  'https://ref.gs1.org/cbv/Disp-',
  'active available completeness_verified completeness_inferred conformant container_closed container_open ' +
    'damaged destroyed dispensed disposed encoded expired in_progress in_transit inactive mismatch_instance ' +
    'mismatch_class mismatch_quantity needs_replacement no_pedigree_match non_conformant non_sellable_other ' +
    'partially_dispensed recalled reserved retail_sold returned sellable_accessible sellable_not_accessible ' +
    'stolen unavailable unknown',
);
const SOURCE_DESTINATION = vocabulary(
  'https://ref.gs1.org/cbv/SDT-',
  'owning_party possessing_party location',
);
/** CBV 2.0 §8.9 rule 16, keyed by the JSON path of the field (array levels omitted). */
const VOCABULARIES: ReadonlyMap<string, Vocabulary> = new Map([
  [
    'bizStep',
    vocabulary(
      'https://ref.gs1.org/cbv/BizStep-',
      'accepting arriving assembling collecting commissioning consigning creating_class_instance cycle_counting ' +
        'decommissioning departing destroying disassembling dispensing encoding entering_exiting holding ' +
        'inspecting installing killing loading other packing picking receiving removing repackaging repairing ' +
        'replacing reserving retail_selling sampling sensor_reporting shipping staging_outbound stock_taking ' +
        'stocking storing transporting unloading unpacking void_shipping',
    ),
  ],
  ['disposition', DISPOSITIONS],
  ['persistentDisposition/set', DISPOSITIONS],
  ['persistentDisposition/unset', DISPOSITIONS],
  [
    'bizTransactionList/type',
    vocabulary(
      'https://ref.gs1.org/cbv/BTT-',
      'bol cert desadv inv pedigree po poc prodorder recadv rma testprd testres upevt',
    ),
  ],
  ['sourceList/type', SOURCE_DESTINATION],
  ['destinationList/type', SOURCE_DESTINATION],
  ['errorDeclaration/reason', vocabulary('https://ref.gs1.org/cbv/ER-', 'did_not_occur incorrect_data')],
  [
    'sensorElementList/sensorReport/type',
    vocabulary(
      'https://ref.gs1.org/voc/',
      'AbsoluteHumidity AbsorbedDose AbsorbedDoseRate Acceleration Radioactivity Altitude AmountOfSubstance ' +
        'AmountOfSubstancePerUnitVolume Angle AngularAcceleration AngularMomentum AngularVelocity Area ' +
        'Capacitance Conductance Conductivity Count Density Dimensionless DoseEquivalent DoseEquivalentRate ' +
        'DynamicViscosity ElectricCharge ElectricCurrent ElectricCurrentDensity ElectricFieldStrength Energy ' +
        'Exposure Force Frequency Illuminance Inductance Irradiance KinematicViscosity Length LinearMomentum ' +
        'Luminance LuminousFlux LuminousIntensity MagneticFlux MagneticFluxDensity MagneticVectorPotential Mass ' +
        'MassConcentration MassFlowRate MassPerAreaTime MemoryCapacity MolalityOfSolute MolarEnergy MolarMass ' +
        'MolarVolume Power Pressure RadiantFlux RadiantIntensity RelativeHumidity Resistance Resistivity ' +
        'SolidAngle SpecificVolume Speed SurfaceDensity SurfaceTension Temperature Time Torque Voltage Volume ' +
        'VolumeFlowRate VolumeFraction VolumetricFlux Wavenumber',
    ),
  ],
  [
    'sensorElementList/sensorReport/exception',
    vocabulary('https://ref.gs1.org/voc/', 'ALARM_CONDITION ERROR_CONDITION'),
  ],
  [
    'sensorElementList/sensorReport/component',
    vocabulary(
      'https://ref.gs1.org/cbv/Comp-',
      'x y z axial_distance azimuth height spherical_radius polar_angle elevation_angle easting northing ' +
        'latitude longitude altitude',
    ),
  ],
]);

/** A JSON value as an element: text value and child elements (JSON arrays become repeated children). */
function toElement(json: unknown, path: string, ns: Namespaces): { value: string; children: Node[] } {
  if (Array.isArray(json)) {
    const children = json.map((item) => ({ name: '', ...toElement(item, path, ns) }));
    return { value: '', children: children.sort(compareNodes) };
  }
  if (isObject(json)) {
    const children: Node[] = [];
    for (const [key, v] of Object.entries(json)) {
      if (SKIPPED_KEYS.has(key) || key.startsWith('@xmlns')) continue;
      const name = expandKey(key, ns);
      const el = toElement(v, path ? `${path}/${key}` : key, ns);
      if (Array.isArray(v)) for (const item of el.children) children.push({ ...item, name });
      else children.push({ name, ...el });
    }
    const text = json['#text'];
    return { value: text === undefined ? '' : String(text), children: children.sort(compareNodes) };
  }
  if (typeof json === 'string') {
    const vocab = VOCABULARIES.get(path);
    const value = vocab?.terms.has(json) ? vocab.prefix + json : json;
    return { value: expandCurie(value, ns), children: [] };
  }
  if (typeof json === 'boolean') return { value: json ? 'true' : 'false', children: [] };
  if (typeof json === 'number') return { value: jsonNumberText(json), children: [] };
  return { value: '', children: [] }; // null: an element without a value
}

/**
 * Aligns the JSON structure with the XML data model the algorithm is defined on (EPCIS 2.0 §9):
 * `xList: [a, b]` becomes `xList` with children `x`; `childEPCs`/`inputEPC…` items become `epc`;
 * quantity list items become `quantityElement`; bizTransaction/source/destination items become
 * (type, id) pairs.
 */
function toXmlModel(node: Node): void {
  const kept: Node[] = [];
  const lists = new Map<string, Node[]>();
  for (const child of node.children) {
    if (child.pair || !child.name.endsWith('List')) kept.push(child);
    else {
      const items = lists.get(child.name) ?? [];
      items.push({ ...child, name: child.name.slice(0, -4) });
      lists.set(child.name, items);
    }
  }
  for (const [name, items] of lists) {
    kept.push({ name, value: '', children: PAIR_LISTS.has(name) ? items.map(toPair) : items });
  }
  const epcs = kept.filter((c) => c.name === 'childEPCs');
  const children = kept.filter((c) => c.name !== 'childEPCs');
  if (epcs.length > 0) {
    children.push({
      name: 'childEPCs',
      value: '',
      children: epcs.map((e) => ({ name: 'epc', value: e.value, children: [] })),
    });
  }
  for (const child of children) if (!PAIR_LISTS.has(child.name)) toXmlModel(child);
  node.children = children;
  if (node.name === 'inputEPC' || node.name === 'outputEPC') node.name = 'epc';
  const quantity = ['inputQuantity', 'outputQuantity', 'childQuantity'].includes(node.name);
  if (quantity || (node.name === 'quantity' && node.children.length > 0)) node.name = 'quantityElement';
}

/** CBV 2.0 §8.9 rule 13: a typed list item as `type=…` then `<id>=…`. */
function toPair(item: Node): Node {
  const type = item.children.find((c) => c.name === 'type');
  const id = item.children.find((c) => c.name === item.name) ?? {
    name: item.name,
    value: item.value,
    children: [],
  };
  return { name: '', value: '', children: type ? [type, id] : [id], pair: true };
}

// ---------------------------------------------------------------------------------------------
// Pre-hash string.

const label = (name: string): string => (name === 'sensorElementList' ? '' : name); // CBV 2.0 row 23
const isTimestamp = (name: string): boolean => /time/i.test(name) && !/offset/i.test(name);
const isUserExtension = (n: Node): boolean => !n.pair && n.name.includes('{') && n.name.includes('/}');

/** Elements outside the canonical order (ILMD, extensions): `name=value` strings, sorted (rules 19–20). */
function generic(nodes: readonly Node[]): string {
  const parts = nodes.map((n) => (n.pair ? n.children.map(entry).join('') : entry(n)));
  return sortStrings(parts).join('');
}

function entry(n: Node): string {
  const v = n.value.trim();
  return n.name + (v ? `=${canonicalValue(v)}` : '') + generic(n.children);
}

/**
 * The fields of `order` found in `nodes`, in that order, each group sorted (rules 1–12). Every
 * element used is removed, so what remains afterwards are the extensions.
 */
function ordered(nodes: Node[], order: readonly Field[]): string {
  let out = '';
  for (const field of order) {
    const values: string[] = [];
    for (const n of nodes.filter((c) => c.name === field.name)) {
      const s = fieldText(n, field);
      if (s) values.push(s);
      if (n.children.length === 0) nodes.splice(nodes.indexOf(n), 1);
    }
    out += sortStrings(values).join('');
  }
  return out;
}

function fieldText(n: Node, field: Field): string {
  let sub = '';
  if (field.sub === 'pairs') {
    sub = generic(n.children);
    n.children.length = 0;
  } else if (field.sub) sub = ordered(n.children, field.sub);
  let text = '';
  const raw = n.value.trim();
  if (raw) text = isTimestamp(n.name) ? normaliseTimestamp(raw) : canonicalValue(raw);
  if (!text && !sub) return '';
  return label(n.name) + (text ? `=${text}` : '') + sub;
}

/**
 * CBV 2.0 §8.9 rule 21 as the reference's CBV2.0 profile applies it: user extensions inside
 * standard fields (readPoint, sensorMetadata, sensorReport, …), each prefixed by its field path.
 */
function fieldExtensions(nodes: readonly Node[], order: readonly Field[]): string {
  let out = '';
  for (const field of order) {
    if (!field.sub || field.sub === 'pairs') continue;
    for (const n of nodes.filter((c) => c.name === field.name)) {
      const inner = fieldExtensions(n.children, field.sub);
      if (inner) out += label(field.name) + inner;
    }
  }
  const direct = nodes.filter(isUserExtension);
  return direct.length > 0 ? out + generic(direct) : out;
}

function contextsOf(event: Record<string, unknown>, context: unknown): unknown[] {
  return [context, event['@context']].filter((c) => c !== undefined);
}

/**
 * The canonical pre-hash string of one EPCIS event (CBV 2.0 §8.9): `eventType=…`, the standard
 * fields in canonical property order, then ILMD, user extensions inside standard fields and
 * event-level user extensions. `context` is the enclosing document's JSON-LD `@context` (its
 * prefixes name the extension namespaces); an `@context` on the event itself is used as well.
 * Never throws for a JSON object; odd values are hashed as written.
 *
 * @example
 * epcisPreHashString({
 *   type: 'ObjectEvent', eventTime: '2020-03-04T11:00:30+01:00', eventTimeZoneOffset: '+01:00',
 *   epcList: ['urn:epc:id:sscc:4012345.0000000111'], action: 'OBSERVE', bizStep: 'departing',
 * });
 * // 'eventType=ObjectEventeventTime=2020-03-04T10:00:30.000ZeventTimeZoneOffset=+01:00'
 * // + 'epcListepc=https://id.gs1.org/00/040123450000001112action=OBSERVE'
 * // + 'bizStep=https://ref.gs1.org/cbv/BizStep-departing'
 */
export function epcisPreHashString(event: EpcisEvent, context?: unknown): string {
  if (!isObject(event)) throw new TypeError('an EPCIS event must be a JSON object');
  const ns = namespacesOf(contextsOf(event, context));
  const root: Node = { name: typeof event.type === 'string' ? event.type : '', ...toElement(event, '', ns) };
  toXmlModel(root);
  const nodes = root.children;
  const standard = ordered(nodes, PROPERTY_ORDER);
  const ilmd = nodes.filter((n) => n.name === 'ilmd');
  const rest = nodes.filter((n) => n.name !== 'ilmd');
  // Extensions left inside standard fields, by field; event-level ones come last, sorted together.
  let inFields = '';
  for (const field of PROPERTY_ORDER) {
    if (!field.sub || field.sub === 'pairs') continue;
    for (const n of rest.filter((c) => c.name === field.name)) {
      const inner = fieldExtensions(n.children, field.sub);
      if (!inner) continue;
      inFields += label(field.name) + inner;
      rest.splice(rest.indexOf(n), 1);
    }
  }
  const eventLevel = generic(rest.filter((n) => !NOT_HASHED.has(n.name)));
  return `eventType=${root.name}${standard}${generic(ilmd)}${inFields}${eventLevel}`;
}

/**
 * The EPCIS Event Hash ID of one event (CBV 2.0 §8.9): SHA-256 of the UTF-8 pre-hash string
 * ({@link epcisPreHashString}) as an RFC 6920 `ni` URI with the algorithm version.
 *
 * @example
 * epcisEventHash(event, doc['@context']);
 * // 'ni:///sha-256;6ae96341e0acc6d7a261364751f60e68278a81cdf51da0abb6b4e617014e39d7?ver=CBV2.0'
 */
export function epcisEventHash(event: EpcisEvent, context?: unknown): string {
  return hashId(epcisPreHashString(event, context));
}

/** RFC 6920 §3 `ni` URI of the SHA-256 digest, with the algorithm version as the query (CBV 2.0 §8.9). */
const hashId = (preHash: string): string =>
  `ni:///sha-256;${toHex(sha256(utf8(preHash)))}?ver=${EPCIS_EVENT_HASH_VERSION}`;

/**
 * The pre-hash string and hash ID of one event of a document.
 *
 * @example
 * const [first]: EpcisEventHashResult[] = hashEpcisDocument(doc);
 * first.hash === epcisEventHash(doc.epcisBody.eventList[0], doc['@context']); // true
 */
export interface EpcisEventHashResult {
  preHash: string;
  hash: string;
}

/**
 * The hash ID of every event of an `EPCISDocument` or `EPCISQueryDocument` (EPCIS 2.0 §9), in
 * document order, using the document's `@context`. Throws `TypeError` if `doc` has no event list.
 *
 * @example
 * hashEpcisDocument(JSON.parse(text)).map((r) => r.hash);
 * // ['ni:///sha-256;…?ver=CBV2.0', …]
 */
export function hashEpcisDocument(doc: unknown): EpcisEventHashResult[] {
  const body = isObject(doc) ? doc['epcisBody'] : undefined;
  if (!isObject(body)) throw new TypeError('not an EPCIS document: epcisBody missing');
  const results = isObject(body['queryResults']) ? body['queryResults']['resultsBody'] : undefined;
  const events = Array.isArray(body['eventList'])
    ? body['eventList']
    : isObject(results) && Array.isArray(results['eventList'])
      ? results['eventList']
      : isObject(body['event'])
        ? [body['event']]
        : undefined;
  if (!events) throw new TypeError('not an EPCIS document: no event list');
  const context = isObject(doc) ? doc['@context'] : undefined;
  return events.map((e) => {
    const preHash = epcisPreHashString(e as EpcisEvent, context);
    return { preHash, hash: hashId(preHash) };
  });
}
