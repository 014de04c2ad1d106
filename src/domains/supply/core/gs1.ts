/**
 * GS1 identification keys for supply-chain records: check digits, EPC URIs and GS1 Digital Link.
 *
 * One canonical form ({@link Gs1Id}) is produced from either syntax:
 * - EPC URIs (EPC Tag Data Standard (TDS) 2.x §6.3 pure identities, §6.4 class URIs, §8 pattern URIs),
 * - GS1 Digital Link URIs (GS1 Digital Link Standard: URI Syntax 1.2 §4).
 *
 * Browser-safe: no Node imports, no clock, never throws on bad input (errors are returned).
 */

/** Error codes returned in {@link Gs1Error.code}, each with a one-line description. */
export const Gs1ErrorCodes = {
  BAD_CHECK_DIGIT: 'the mod-10 check digit (GS1 General Specifications §7.9) does not match',
  BAD_LENGTH: 'a key, component or attribute has the wrong number of characters',
  BAD_CHARACTERS:
    'a numeric field holds non-digits, or a serial/lot/extension leaves GS1 AI character set 82',
  BAD_COMPANY_PREFIX: 'the GS1 Company Prefix is missing or not 6–12 digits (EPC TDS §6.3)',
  BAD_DATE: 'a YYMMDD date (GS1 General Specifications §7.12) is not a valid calendar date',
  MALFORMED: 'the text is not a well-formed EPC URI or GS1 Digital Link URI',
  UNSUPPORTED_SCHEME:
    'a well-formed GS1 identifier of a scheme this module does not handle (e.g. GIAI, GRAI)',
} as const;

/** A {@link Gs1ErrorCodes} key, e.g. `'BAD_CHECK_DIGIT'`. */
export type Gs1ErrorCode = keyof typeof Gs1ErrorCodes;

/**
 * A rejected GS1 identifier. Returned (never thrown) by the parsers in this module.
 *
 * @example
 * const r = parseEpcUri('urn:epc:id:giai:4012345.1');
 * if (r instanceof Gs1Error) console.log(r.code); // 'UNSUPPORTED_SCHEME'
 */
export class Gs1Error extends Error {
  /** Machine-readable reason, a key of {@link Gs1ErrorCodes}. */
  readonly code: Gs1ErrorCode;
  constructor(code: Gs1ErrorCode, detail: string) {
    super(`${code}: ${detail}`);
    this.name = 'Gs1Error';
    this.code = code;
  }
}

/**
 * A parsed GS1 identifier in canonical form. GTINs are always 14 digits (GTIN-8/12/13 left-padded
 * with zeros, GS1 General Specifications §3.3.2); GLNs 13; SSCCs 18; check digits included.
 * `companyPrefix` is known only when parsed from an EPC URI (a Digital Link does not carry it).
 *
 * @example
 * const id: Gs1Id = { kind: 'sgtin', gtin: '00614141107346', serial: '2017', companyPrefix: '0614141' };
 */
export type Gs1Id =
  | { kind: 'gtin'; gtin: string; companyPrefix?: string }
  | {
      kind: 'sgtin';
      gtin: string;
      serial: string;
      lot?: string;
      expiry?: string;
      companyPrefix?: string;
    }
  | { kind: 'lgtin'; gtin: string; lot: string; expiry?: string; companyPrefix?: string }
  | { kind: 'sscc'; sscc: string; companyPrefix?: string }
  | { kind: 'gln'; gln: string; extension?: string; companyPrefix?: string }
  | { kind: 'pgln'; gln: string; companyPrefix?: string };

/** A parsed identifier or the reason it was rejected. */
export type Gs1Result<T> = T | Gs1Error;

const DIGITS = /^[0-9]+$/;
// GS1 AI encodable character set 82 (GS1 General Specifications §7.11, Figure 7.11-1).
const CSET82 = /^[!"%&'()*+,\-./0-9:;<=>?A-Z_a-z]+$/;
// EPC TDS §5 (Table 5-1 / Annex A): characters of CSET 82 that must be %-escaped in EPC URIs.
const EPC_ESCAPE: Record<string, string> = {
  '"': '%22',
  '%': '%25',
  '&': '%26',
  '/': '%2F',
  '<': '%3C',
  '>': '%3E',
  '?': '%3F',
};

/**
 * The GS1 mod-10 check digit of `digits` (the key without its check digit), per GS1 General
 * Specifications §7.9.1: weights 3,1,3,… from the right, check = (10 − sum mod 10) mod 10.
 * Throws `Gs1Error('BAD_CHARACTERS')` if `digits` is empty or not all digits.
 *
 * @example
 * gs1CheckDigit('629104150021'); // 3  → GTIN-13 6291041500213
 */
export function gs1CheckDigit(digits: string): number {
  if (!DIGITS.test(digits)) throw new Gs1Error('BAD_CHARACTERS', `not digits: ${JSON.stringify(digits)}`);
  let sum = 0;
  for (let i = digits.length - 1, w = 3; i >= 0; i--, w = 4 - w) sum += (digits.charCodeAt(i) - 48) * w;
  return (10 - (sum % 10)) % 10;
}

function checkKey(key: string, lengths: readonly number[], what: string): Gs1Error | undefined {
  if (!DIGITS.test(key)) return new Gs1Error('BAD_CHARACTERS', `${what} must be digits: ${key}`);
  if (!lengths.includes(key.length))
    return new Gs1Error('BAD_LENGTH', `${what} must be ${lengths.join('/')} digits, got ${key.length}`);
  const want = gs1CheckDigit(key.slice(0, -1));
  if (Number(key.slice(-1)) !== want)
    return new Gs1Error('BAD_CHECK_DIGIT', `${what} ${key}: check digit should be ${want}`);
  return undefined;
}

/**
 * Whether `gtin` is a GTIN-8, -12, -13 or -14 with a correct check digit (GS1 General
 * Specifications §3.3.2, §7.9).
 *
 * @example
 * isValidGtin('06291041500213'); // true
 * isValidGtin('06291041500214'); // false
 */
export function isValidGtin(gtin: string): boolean {
  return checkKey(gtin, [8, 12, 13, 14], 'GTIN') === undefined;
}

/**
 * Whether `sscc` is an 18-digit SSCC with a correct check digit (GS1 General Specifications §2.2.1, §7.9).
 *
 * @example
 * isValidSscc('106141412345678908'); // true
 */
export function isValidSscc(sscc: string): boolean {
  return checkKey(sscc, [18], 'SSCC') === undefined;
}

/**
 * Whether `gln` is a 13-digit GLN with a correct check digit (GS1 General Specifications §2.4.4, §7.9).
 *
 * @example
 * isValidGln('0614141000012'); // true
 */
export function isValidGln(gln: string): boolean {
  return checkKey(gln, [13], 'GLN') === undefined;
}

/**
 * Whether `serial` is a GS1 serial number (AI 21): 1–20 characters of character set 82
 * (GS1 General Specifications §3.5.4, §7.11).
 *
 * @example
 * isValidSerial('2017'); // true
 * isValidSerial('a b'); // false (space is not in CSET 82)
 */
export function isValidSerial(serial: string): boolean {
  return checkAlnum(serial, 20, 'serial') === undefined;
}

/**
 * Whether `lot` is a GS1 batch/lot number (AI 10): 1–20 characters of character set 82.
 *
 * @example
 * isValidLot('LOT-2026-07'); // true
 */
export function isValidLot(lot: string): boolean {
  return checkAlnum(lot, 20, 'lot') === undefined;
}

/** Decodes `%XX` escapes; `undefined` if an escape is malformed. */
function percentDecode(s: string): string | undefined {
  if (/%(?![0-9A-Fa-f]{2})/.test(s)) return undefined;
  try {
    return decodeURIComponent(s);
  } catch {
    return undefined;
  }
}

/** Validates a serial / lot / extension: 1–`max` characters of CSET 82. */
function checkAlnum(value: string, max: number, what: string): Gs1Error | undefined {
  if (value.length === 0 || value.length > max)
    return new Gs1Error('BAD_LENGTH', `${what} must be 1–${max} characters, got ${value.length}`);
  if (!CSET82.test(value))
    return new Gs1Error('BAD_CHARACTERS', `${what} has characters outside GS1 AI character set 82`);
  return undefined;
}

function decodeAlnum(raw: string, max: number, what: string): Gs1Result<string> {
  const value = percentDecode(raw);
  if (value === undefined) return new Gs1Error('MALFORMED', `${what}: bad percent-encoding in ${raw}`);
  return checkAlnum(value, max, what) ?? value;
}

function epcEscape(value: string): string {
  return value.replace(/["%&/<>?]/g, (c) => EPC_ESCAPE[c] ?? c);
}

/** Checks the company prefix and the digits after it (EPC TDS §6.3: prefix 6–12 digits). */
function checkPrefixed(cp: string, ref: string, total: number, what: string): Gs1Error | undefined {
  if (!DIGITS.test(cp) || !DIGITS.test(ref))
    return new Gs1Error('BAD_CHARACTERS', `${what}: company prefix and reference must be digits`);
  if (cp.length < 6 || cp.length > 12)
    return new Gs1Error(
      'BAD_COMPANY_PREFIX',
      `${what}: company prefix must be 6–12 digits, got ${cp.length}`,
    );
  if (cp.length + ref.length !== total)
    return new Gs1Error('BAD_LENGTH', `${what}: company prefix + reference must be ${total} digits`);
  return undefined;
}

/** TDS §6.3.1: GTIN-14 = indicator + company prefix + item reference + check digit. */
function gtinFrom(cp: string, itemRef: string): string {
  const body = itemRef.slice(0, 1) + cp + itemRef.slice(1);
  return body + String(gs1CheckDigit(body));
}

const EPC_URI = /^urn:epc:(id|class|idpat):([A-Za-z0-9]+):(.*)$/;
const OTHER_EPC_SCHEMES = new Set([
  'giai',
  'grai',
  'gdti',
  'gsrn',
  'gsrnp',
  'sgcn',
  'cpi',
  'gid',
  'itip',
  'upui',
]);

/**
 * Parses an EPC URI (EPC Tag Data Standard 2.x): pure identities `urn:epc:id:sgtin:CP.ItemRef.Serial`,
 * `urn:epc:id:sscc:CP.SerialRef`, `urn:epc:id:sgln:CP.LocRef.Ext` (§6.3.1–6.3.3),
 * `urn:epc:id:pgln:CP.PartyRef` (§6.3.13), the class URI `urn:epc:class:lgtin:CP.ItemRef.Lot` (§6.4.1)
 * and the GTIN-level pattern `urn:epc:idpat:sgtin:CP.ItemRef.*` (§8). The check digit that the
 * URI omits is computed; serials, lots and extensions are percent-decoded and checked against
 * GS1 AI character set 82. An SGLN extension of `0` means "no extension" (§6.3.3).
 *
 * @example
 * parseEpcUri('urn:epc:id:sgtin:0614141.107346.2017');
 * // { kind: 'sgtin', gtin: '10614141073464', serial: '2017', companyPrefix: '0614141' }
 */
export function parseEpcUri(uri: string): Gs1Result<Gs1Id> {
  if (typeof uri !== 'string') return new Gs1Error('MALFORMED', 'not a string');
  const m = EPC_URI.exec(uri);
  if (!m) return new Gs1Error('MALFORMED', `not an EPC URI: ${uri}`);
  const [, space = '', scheme = '', body = ''] = m;
  const key = `${space}:${scheme}`;
  let parts: string[] = [];
  // Only the numeric parts are split on '.': a serial, lot or extension may itself contain '.' (TDS §5).
  const arity = (n: number): Gs1Error | undefined => {
    const all = body.split('.');
    parts = all.length > n ? [...all.slice(0, n - 1), all.slice(n - 1).join('.')] : all;
    return all.length === n || (n === 3 && all.length > n)
      ? undefined
      : new Gs1Error('MALFORMED', `${key} needs ${n} dot-separated parts`);
  };
  switch (key) {
    case 'id:sgtin':
    case 'class:lgtin':
    case 'idpat:sgtin': {
      const bad = arity(3);
      if (bad) return bad;
      const [cp = '', itemRef = '', last = ''] = parts;
      const err = checkPrefixed(cp, itemRef, 13, key);
      if (err) return err;
      const gtin = gtinFrom(cp, itemRef);
      if (key === 'idpat:sgtin') {
        if (last !== '*')
          return new Gs1Error('UNSUPPORTED_SCHEME', 'only GTIN-level sgtin patterns (…*) are supported');
        return { kind: 'gtin', gtin, companyPrefix: cp };
      }
      const value = decodeAlnum(last, 20, key === 'id:sgtin' ? 'serial (AI 21)' : 'lot (AI 10)');
      if (value instanceof Gs1Error) return value;
      return key === 'id:sgtin'
        ? { kind: 'sgtin', gtin, serial: value, companyPrefix: cp }
        : { kind: 'lgtin', gtin, lot: value, companyPrefix: cp };
    }
    case 'id:sscc': {
      const bad = arity(2);
      if (bad) return bad;
      const [cp = '', serialRef = ''] = parts;
      const err = checkPrefixed(cp, serialRef, 17, key);
      if (err) return err;
      const body17 = serialRef.slice(0, 1) + cp + serialRef.slice(1);
      return { kind: 'sscc', sscc: body17 + String(gs1CheckDigit(body17)), companyPrefix: cp };
    }
    case 'id:sgln':
    case 'id:pgln': {
      const bad = arity(key === 'id:sgln' ? 3 : 2);
      if (bad) return bad;
      const [cp = '', locRef = '', ext = ''] = parts;
      const err = checkPrefixed(cp, locRef, 12, key);
      if (err) return err;
      const gln = cp + locRef + String(gs1CheckDigit(cp + locRef));
      if (key === 'id:pgln') return { kind: 'pgln', gln, companyPrefix: cp };
      if (ext === '0') return { kind: 'gln', gln, companyPrefix: cp };
      const extension = decodeAlnum(ext, 20, 'GLN extension (AI 254)');
      if (extension instanceof Gs1Error) return extension;
      return { kind: 'gln', gln, extension, companyPrefix: cp };
    }
    default:
      return new Gs1Error(
        'UNSUPPORTED_SCHEME',
        `${OTHER_EPC_SCHEMES.has(scheme) ? 'EPC scheme' : 'unknown EPC scheme'} ${key} is not supported`,
      );
  }
}

// GS1 Digital Link 1.2 §4 / GS1 General Specifications §3.2: primary-key AIs.
const SUPPORTED_KEYS = new Set(['01', '00', '414', '417']);
const OTHER_KEYS = new Set([
  '253',
  '255',
  '401',
  '402',
  '8003',
  '8004',
  '8006',
  '8010',
  '8013',
  '8017',
  '8018',
]);
// Key qualifiers allowed after each primary key, in the order the standard requires.
const QUALIFIERS: Record<string, readonly string[]> = {
  '01': ['22', '10', '21'],
  '00': [],
  '414': ['254'],
  '417': [],
};

/** Validates a GS1 YYMMDD date (General Specifications §7.12; DD = 00 means end of month). */
function checkYymmdd(s: string): Gs1Error | undefined {
  if (!/^[0-9]{6}$/.test(s)) return new Gs1Error('BAD_DATE', `expiry must be YYMMDD, got ${s}`);
  const mm = Number(s.slice(2, 4));
  const dd = Number(s.slice(4, 6));
  const days = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][mm - 1];
  if (days === undefined || dd > days) return new Gs1Error('BAD_DATE', `not a calendar date: ${s}`);
  return undefined;
}

/**
 * Parses a GS1 Digital Link URI (GS1 Digital Link 1.2 §4) on any host, with an optional path
 * prefix: `/01/{gtin}[/10/{lot}][/21/{serial}]` (GTIN-8/12/13/14, normalised to 14 digits),
 * `/00/{sscc}`, `/414/{gln}[/254/{ext}]`, `/417/{gln}`, and the query attribute `17=YYMMDD`
 * (expiry, kept as written). `/01/` with a serial gives `sgtin`, with only a lot `lgtin`, alone `gtin`.
 *
 * @example
 * parseDigitalLink('https://id.gs1.org/01/09506000134352/21/12345?17=251231');
 * // { kind: 'sgtin', gtin: '09506000134352', serial: '12345', expiry: '251231' }
 */
export function parseDigitalLink(url: string): Gs1Result<Gs1Id> {
  if (typeof url !== 'string') return new Gs1Error('MALFORMED', 'not a string');
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return new Gs1Error('MALFORMED', `not a URL: ${url}`);
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:')
    return new Gs1Error('MALFORMED', `GS1 Digital Link URIs are http(s): ${url}`);
  const segs = u.pathname.split('/').slice(1);
  if (segs.length > 0 && segs[segs.length - 1] === '') segs.pop();
  // The primary key is the first AI from which the rest of the path is AI/value pairs.
  let start = -1;
  for (let i = 0; i < segs.length; i += 1) {
    const s = segs[i] ?? '';
    if ((SUPPORTED_KEYS.has(s) || OTHER_KEYS.has(s)) && (segs.length - i) % 2 === 0) {
      start = i;
      break;
    }
  }
  if (start < 0) return new Gs1Error('MALFORMED', `no GS1 primary key in path: ${u.pathname}`);
  const ai = segs[start] ?? '';
  if (!SUPPORTED_KEYS.has(ai))
    return new Gs1Error('UNSUPPORTED_SCHEME', `GS1 key AI (${ai}) is not supported`);
  const values = new Map<string, string>();
  const allowed = QUALIFIERS[ai] ?? [];
  let lastIndex = -1;
  for (let i = start + 2; i < segs.length; i += 2) {
    const q = segs[i] ?? '';
    const idx = allowed.indexOf(q);
    if (idx < 0 || idx <= lastIndex)
      return new Gs1Error('MALFORMED', `key qualifier (${q}) not allowed here after (${ai})`);
    lastIndex = idx;
    const v = decodeAlnum(segs[i + 1] ?? '', 20, `AI (${q})`);
    if (v instanceof Gs1Error) return v;
    values.set(q, v);
  }
  const keyRaw = percentDecode(segs[start + 1] ?? '');
  if (keyRaw === undefined) return new Gs1Error('MALFORMED', 'bad percent-encoding in key');
  let expiry: string | undefined;
  const q17 = u.searchParams.get('17');
  if (q17 !== null) {
    const bad = checkYymmdd(q17);
    if (bad) return bad;
    expiry = q17;
  }
  switch (ai) {
    case '01': {
      const err = checkKey(keyRaw, [8, 12, 13, 14], 'GTIN');
      if (err) return err;
      const gtin = keyRaw.padStart(14, '0');
      const serial = values.get('21');
      const lot = values.get('10');
      const extra = { ...(lot === undefined ? {} : { lot }), ...(expiry === undefined ? {} : { expiry }) };
      if (serial !== undefined) return { kind: 'sgtin', gtin, serial, ...extra };
      if (lot !== undefined) return { kind: 'lgtin', gtin, lot, ...(expiry === undefined ? {} : { expiry }) };
      return { kind: 'gtin', gtin };
    }
    case '00':
      return checkKey(keyRaw, [18], 'SSCC') ?? { kind: 'sscc', sscc: keyRaw };
    case '414': {
      const err = checkKey(keyRaw, [13], 'GLN');
      if (err) return err;
      const extension = values.get('254');
      return extension === undefined ? { kind: 'gln', gln: keyRaw } : { kind: 'gln', gln: keyRaw, extension };
    }
    default:
      return checkKey(keyRaw, [13], 'GLN') ?? { kind: 'pgln', gln: keyRaw };
  }
}

/**
 * Parses either an EPC URI or a GS1 Digital Link URI (chosen by the `urn:epc:` prefix).
 *
 * @example
 * parseGs1Identifier('https://example.com/00/106141412345678908'); // { kind: 'sscc', sscc: '106141412345678908' }
 */
export function parseGs1Identifier(text: string): Gs1Result<Gs1Id> {
  return typeof text === 'string' && text.startsWith('urn:epc:') ? parseEpcUri(text) : parseDigitalLink(text);
}

/**
 * Renders an identifier as an EPC URI (EPC TDS §6.3, §6.4.1, §8). The EPC URI needs the GS1
 * Company Prefix length: taken from `id.companyPrefix` or the `companyPrefixLength` argument
 * (6–12); otherwise `Gs1Error('BAD_COMPANY_PREFIX')`. Serials/lots are escaped per TDS §5.
 *
 * @example
 * toEpcUri({ kind: 'sscc', sscc: '106141412345678908' }, 7); // 'urn:epc:id:sscc:0614141.1234567890'
 */
export function toEpcUri(id: Gs1Id, companyPrefixLength?: number): Gs1Result<string> {
  const cpLen = companyPrefixLength ?? id.companyPrefix?.length;
  if (cpLen === undefined || !Number.isInteger(cpLen) || cpLen < 6 || cpLen > 12)
    return new Gs1Error('BAD_COMPANY_PREFIX', 'company prefix length (6–12) is needed for an EPC URI');
  switch (id.kind) {
    case 'gtin':
    case 'sgtin':
    case 'lgtin': {
      const err = checkKey(id.gtin, [14], 'GTIN');
      if (err) return err;
      const cp = id.gtin.slice(1, 1 + cpLen);
      const ref = id.gtin.slice(0, 1) + id.gtin.slice(1 + cpLen, 13);
      if (id.kind === 'gtin') return `urn:epc:idpat:sgtin:${cp}.${ref}.*`;
      if (id.kind === 'sgtin') return `urn:epc:id:sgtin:${cp}.${ref}.${epcEscape(id.serial)}`;
      return `urn:epc:class:lgtin:${cp}.${ref}.${epcEscape(id.lot)}`;
    }
    case 'sscc': {
      const err = checkKey(id.sscc, [18], 'SSCC');
      if (err) return err;
      const cp = id.sscc.slice(1, 1 + cpLen);
      return `urn:epc:id:sscc:${cp}.${id.sscc.slice(0, 1)}${id.sscc.slice(1 + cpLen, 17)}`;
    }
    case 'gln':
    case 'pgln': {
      const err = checkKey(id.gln, [13], 'GLN');
      if (err) return err;
      const cp = id.gln.slice(0, cpLen);
      const ref = id.gln.slice(cpLen, 12);
      if (id.kind === 'pgln') return `urn:epc:id:pgln:${cp}.${ref}`;
      return `urn:epc:id:sgln:${cp}.${ref}.${id.extension === undefined ? '0' : epcEscape(id.extension)}`;
    }
  }
}

/**
 * Renders an identifier as a GS1 Digital Link URI (GS1 Digital Link 1.2 §4), on `host`
 * (default `id.gs1.org`, the GS1 resolver). Expiry, when known, goes in the query as `17=YYMMDD`.
 *
 * @example
 * toDigitalLink({ kind: 'sgtin', gtin: '10614141073464', serial: '2017' });
 * // 'https://id.gs1.org/01/10614141073464/21/2017'
 */
export function toDigitalLink(id: Gs1Id, host = 'id.gs1.org'): string {
  const enc = (s: string): string => encodeURIComponent(s);
  const base = `https://${host}`;
  switch (id.kind) {
    case 'gtin':
      return `${base}/01/${id.gtin}`;
    case 'sgtin':
    case 'lgtin': {
      let path = `${base}/01/${id.gtin}`;
      if (id.lot !== undefined) path += `/10/${enc(id.lot)}`;
      if (id.kind === 'sgtin') path += `/21/${enc(id.serial)}`;
      return id.expiry === undefined ? path : `${path}?17=${id.expiry}`;
    }
    case 'sscc':
      return `${base}/00/${id.sscc}`;
    case 'gln':
      return id.extension === undefined
        ? `${base}/414/${id.gln}`
        : `${base}/414/${id.gln}/254/${enc(id.extension)}`;
    case 'pgln':
      return `${base}/417/${id.gln}`;
  }
}
