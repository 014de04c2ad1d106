/**
 * RFC 8785 JSON Canonicalization Scheme (JCS). Every hashed or signed JSON structure is
 * serialized with {@link canonicalize}, so two honest parties always produce the same bytes,
 * and {@link parseCanonical} refuses any other encoding of the same value on the wire (a
 * transaction has exactly one valid serialization, hence exactly one hash).
 *
 * Own implementation, no dependency: JCS is small, and owning it lets us reject everything
 * RFC 8785 leaves undefined instead of silently coercing it the way `JSON.stringify` does.
 * Browser-safe: no Node APIs.
 * @module
 */
import { utf8 } from './bytes.js';

/**
 * Maximum nesting of arrays and objects (the top-level container counts as depth 1). Bounds
 * recursion so hostile input cannot exhaust the stack of a verifying node.
 */
export const MAX_DEPTH = 64;

// In a `u`-mode regex a surrogate range only matches surrogates that are NOT part of a valid
// pair, i.e. lone surrogates. RFC 8785 §3.1 requires I-JSON (RFC 7493 §2.1: no lone surrogates).
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value !== 'object') return typeof value;
  const ctor = (value as { constructor?: { name?: unknown } }).constructor;
  return typeof ctor?.name === 'string' && ctor.name !== '' ? ctor.name : 'object';
}

function fail(path: string, why: string): never {
  throw new TypeError(`JCS: cannot canonicalize ${path}: ${why}`);
}

/**
 * RFC 8785 §3.2.2.2 string serialization. For well-formed strings `JSON.stringify` emits exactly
 * the JCS escapes (\b \t \n \f \r \" \\, other C0 controls as lower-case \u00xx, everything else
 * verbatim), so only the I-JSON check is ours.
 */
function serializeString(s: string, path: string): string {
  if (LONE_SURROGATE.test(s)) fail(path, 'string contains a lone surrogate (not I-JSON, RFC 7493 §2.1)');
  return JSON.stringify(s);
}

function isPlainObject(value: object): boolean {
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function serialize(value: unknown, path: string, depth: number, ancestors: Set<object>): string {
  switch (typeof value) {
    case 'string':
      return serializeString(value, path);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      // §3.2.2.3: ECMAScript Number.prototype.toString, which JSON.stringify uses for finite
      // numbers (and -0 becomes "0"). NaN and ±Infinity have no JSON form.
      if (!Number.isFinite(value)) fail(path, `${String(value)} is not representable in JSON`);
      return JSON.stringify(value);
    case 'object':
      break;
    default:
      // undefined, function, symbol, bigint: JSON.stringify would drop or throw inconsistently.
      return fail(path, `${typeof value} is not a JSON value`);
  }
  if (value === null) return 'null';
  if (depth >= MAX_DEPTH) fail(path, `nesting deeper than ${MAX_DEPTH}`);
  if (ancestors.has(value)) fail(path, 'cyclic structure');
  ancestors.add(value);
  let out: string;
  if (Array.isArray(value)) {
    const parts: string[] = [];
    for (let i = 0; i < value.length; i++) {
      // Index access (not iteration) so holes in sparse arrays surface as undefined → rejected.
      parts.push(serialize(value[i] as unknown, `${path}[${i}]`, depth + 1, ancestors));
    }
    out = `[${parts.join(',')}]`;
  } else {
    if (!isPlainObject(value)) fail(path, `${describe(value)} is not a plain object`);
    if (Object.getOwnPropertySymbols(value).length > 0) fail(path, 'object has symbol keys');
    // §3.2.3: sort by UTF-16 code units, which is exactly the default Array.prototype.sort order.
    const keys = Object.keys(value).sort();
    const parts: string[] = [];
    for (const key of keys) {
      const childPath = `${path}.${key}`;
      const k = serializeString(key, `key of ${childPath}`);
      parts.push(
        `${k}:${serialize((value as Record<string, unknown>)[key], childPath, depth + 1, ancestors)}`,
      );
    }
    out = `{${parts.join(',')}}`;
  }
  ancestors.delete(value);
  return out;
}

/**
 * The RFC 8785 canonical JSON text of `value`: keys sorted by UTF-16 code units (§3.2.3),
 * ECMAScript number formatting (§3.2.2.3), minimal string escaping (§3.2.2.2), no whitespace.
 *
 * Throws `TypeError` for anything without an exact I-JSON form: NaN/±Infinity, `undefined`,
 * functions, symbols, BigInt, non-plain objects (Date, Map, Uint8Array, class instances), sparse
 * array holes, symbol keys, lone surrogates in strings or keys, cycles, nesting deeper than
 * {@link MAX_DEPTH}. (A value shared twice without a cycle is fine.)
 *
 * @example canonicalize({ b: [1e21, 0.1], a: 'é' }) // '{"a":"é","b":[1e+21,0.1]}'
 */
export function canonicalize(value: unknown): string {
  if (hasCanonicalShape(value, 0)) {
    const text = JSON.stringify(value);
    // JSON.stringify escapes a lone surrogate as \udXXX; let the full serializer reject it.
    if (!ESCAPED_SURROGATE.test(text)) return text;
  }
  return serialize(value, '$', 0, new Set());
}

/** What JSON.stringify writes for a lone surrogate (also matches a literal backslash + "ud8"…). */
const ESCAPED_SURROGATE = /\\u[dD][89a-fA-F]/;

/**
 * Fast path (the common case: transactions arrive with their keys already sorted): true if
 * `JSON.stringify(value)` is already its RFC 8785 form — every object plain with its keys in
 * strictly ascending UTF-16 order and no symbol keys, every array dense, every number finite,
 * nothing else but strings, booleans and null, within {@link MAX_DEPTH}. Anything else (and any
 * cycle, which exceeds the depth) goes to {@link serialize}, which canonicalizes or explains.
 */
function hasCanonicalShape(value: unknown, depth: number): boolean {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(value);
    case 'object':
      break;
    default:
      return false;
  }
  if (value === null) return true;
  if (depth >= MAX_DEPTH) return false;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      if (!(i in value) || !hasCanonicalShape(value[i] as unknown, depth + 1)) return false;
    }
    return true;
  }
  if (!isPlainObject(value) || Object.getOwnPropertySymbols(value).length > 0) return false;
  let previous: string | undefined;
  for (const key in value) {
    if (!Object.prototype.hasOwnProperty.call(value, key)) return false;
    if (previous !== undefined && !(previous < key)) return false;
    if (!hasCanonicalShape((value as Record<string, unknown>)[key], depth + 1)) return false;
    previous = key;
  }
  return true;
}

/** UTF-8 bytes of {@link canonicalize}: what gets hashed and signed (RFC 8785 §3.2.4). */
export function canonicalBytes(value: unknown): Uint8Array {
  return utf8(canonicalize(value));
}

/** Skips a JSON string starting at the opening quote of `text[i]`; returns the index after it. */
function skipString(text: string, i: number): number {
  for (let j = i + 1; j < text.length; j++) {
    const c = text.charCodeAt(j);
    if (c === 0x5c /* \ */) j++;
    else if (c === 0x22 /* " */) return j + 1;
  }
  return text.length;
}

/**
 * Finds the first duplicated member name in already-valid JSON text, or undefined. Names are
 * compared after unescaping, so `{"a":1,"\u0061":2}` counts as a duplicate (RFC 7493 §2.3).
 */
function findDuplicateKey(text: string): string | undefined {
  // One entry per open container: a key set for objects, null for arrays.
  const stack: (Set<string> | null)[] = [];
  let expectKey = false;
  for (let i = 0; i < text.length;) {
    const c = text[i];
    if (c === '"') {
      const end = skipString(text, i);
      const top = stack[stack.length - 1];
      if (expectKey && top) {
        const key = JSON.parse(text.slice(i, end)) as string;
        if (top.has(key)) return key;
        top.add(key);
        expectKey = false;
      }
      i = end;
      continue;
    }
    if (c === '{') {
      stack.push(new Set());
      expectKey = true;
    } else if (c === '[') {
      stack.push(null);
    } else if (c === '}' || c === ']') {
      stack.pop();
    } else if (c === ',') {
      expectKey = stack[stack.length - 1] instanceof Set;
    }
    i++;
  }
  return undefined;
}

/**
 * Parses JSON that must already be in RFC 8785 canonical form, and returns the value. Used on
 * the wire so that each value has exactly one accepted encoding: whitespace, unsorted keys,
 * `1.0` for `1`, needless escapes, duplicate member names (which `JSON.parse` would silently
 * resolve to the last one) are all rejected.
 *
 * Throws `SyntaxError` for invalid JSON, duplicate keys or non-canonical text, and `TypeError`
 * if the value is not I-JSON (e.g. a `"\ud800"` lone surrogate) or nests deeper than
 * {@link MAX_DEPTH}.
 *
 * @example parseCanonical('{"a":1,"b":[true]}') // { a: 1, b: [true] }
 * @example parseCanonical('{"b":1,"a":2}')      // throws SyntaxError (keys not sorted)
 */
export function parseCanonical(text: string): unknown {
  const value: unknown = JSON.parse(text);
  const canonical = canonicalize(value);
  if (canonical === text) return value;
  // A duplicate key always makes the texts differ (the canonical form has fewer members);
  // find it only to give a precise error.
  const dup = findDuplicateKey(text);
  if (dup !== undefined) throw new SyntaxError(`JCS: duplicate object key ${JSON.stringify(dup)}`);
  let at = 0;
  while (at < text.length && text[at] === canonical[at]) at++;
  throw new SyntaxError(
    `JCS: JSON text is not in RFC 8785 canonical form (first difference at offset ${at})`,
  );
}
