/**
 * SHA-256 and domain separation. Every signed or hashed structure gets its own tag, so a
 * signature or digest made for one purpose can never be replayed as another.
 * @module
 */
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';
import { concatBytes, toHex, utf8 } from './bytes.js';

/** A SHA-256 implementation: browser code uses the pure-JS one; the node injects a native one. */
export type Sha256 = (data: Uint8Array) => Uint8Array;

/** Pure-JS SHA-256 (FIPS 180-4), used in browsers. */
export const sha256Js: Sha256 = (data) => nobleSha256(data);

interface NodeCryptoHash {
  hash(algorithm: string, data: Uint8Array, output: 'buffer'): Uint8Array;
  hash(algorithm: string, data: Uint8Array, output: 'hex'): string;
  hash(algorithm: string, data: string, output: 'buffer'): Uint8Array;
}

function nodeCrypto(): NodeCryptoHash | undefined {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  const mod = proc?.getBuiltinModule?.('node:crypto') as NodeCryptoHash | undefined;
  return typeof mod?.hash === 'function' ? mod : undefined;
}

/**
 * On Node (≥ 20.16) the built-in OpenSSL one-shot hash, found at run time without importing
 * a Node module, so this file stays browser-safe. Outputs are identical (tests cross-check).
 */
function nativeSha256(): Sha256 | undefined {
  const mod = nodeCrypto();
  return mod === undefined ? undefined : (data) => mod.hash('sha256', data, 'buffer');
}

/** SHA-256 (FIPS 180-4): native on Node, pure JS elsewhere. @example toHex(sha256(utf8('abc'))) */
export const sha256: Sha256 = nativeSha256() ?? sha256Js;

function nativeSha256Hex(): ((data: Uint8Array) => string) | undefined {
  const mod = nodeCrypto();
  return mod === undefined ? undefined : (data) => mod.hash('sha256', data, 'hex');
}

function nativeSha256Text(): ((text: string) => Uint8Array) | undefined {
  const mod = nodeCrypto();
  return mod === undefined ? undefined : (text) => mod.hash('sha256', text, 'buffer');
}

/**
 * SHA-256 of the UTF-8 of `text`, the same as `sha256(utf8(text))`; on Node the text goes to
 * OpenSSL without an intermediate buffer.
 */
export const sha256Text: (text: string) => Uint8Array =
  nativeSha256Text() ?? ((text) => sha256Js(utf8(text)));

/**
 * Lower-case hex SHA-256, the same as `toHex(sha256(data))`; on Node the digest comes out as
 * text directly, with no intermediate buffer (transaction ids are computed per transaction).
 * @example sha256Hex(utf8('abc')) // 'ba7816bf…15ad'
 */
export const sha256Hex: (data: Uint8Array) => string = nativeSha256Hex() ?? ((data) => toHex(sha256Js(data)));

/** Domain-separation tags, one per hashed/signed structure. Never reuse a tag. */
export const Domain = {
  transaction: 'healthledger/v1/transaction',
  blockHeader: 'healthledger/v1/block-header',
  checkpoint: 'healthledger/v1/checkpoint',
  logLeaf: 'healthledger/v1/log-leaf',
  stateRoot: 'healthledger/v1/state-root',
  genesis: 'healthledger/v1/genesis',
  batch: 'healthledger/v1/batch',
  attestation: 'healthledger/v1/attestation',
  peer: 'healthledger/v1/peer',
} as const;
export type Domain = (typeof Domain)[keyof typeof Domain];

const tagCache = new Map<string, Uint8Array>();

/**
 * The bytes that get hashed or signed for a structure: `tag || 0x00 || body`. The NUL cannot
 * occur in a tag, so (tag, body) pairs never collide.
 */
export function domainSeparated(domain: Domain, body: Uint8Array): Uint8Array {
  return concatBytes(tagBytes(domain), body);
}

/** `utf8(domain) || 0x00`, made once per domain. */
function tagBytes(domain: Domain): Uint8Array {
  let tag = tagCache.get(domain);
  if (!tag) {
    tag = concatBytes(utf8(domain), new Uint8Array([0]));
    tagCache.set(domain, tag);
  }
  return tag;
}

const textEncoder = new TextEncoder();
/** Reused encoding space for {@link domainSeparatedText}; grows to the largest text seen. */
let scratch = new Uint8Array(4096);

/**
 * `domainSeparated(domain, utf8(text))` with one allocation of the exact size (the hot path:
 * every transaction's signing bytes): the text is encoded natively into reused space first.
 */
export function domainSeparatedText(domain: Domain, text: string): Uint8Array {
  const tag = tagBytes(domain);
  // UTF-8 needs at most 3 bytes per UTF-16 code unit.
  const need = tag.length + 3 * text.length;
  if (scratch.length < need) scratch = new Uint8Array(Math.max(need, 2 * scratch.length));
  scratch.set(tag);
  const { written } = textEncoder.encodeInto(text, scratch.subarray(tag.length));
  return scratch.slice(0, tag.length + written);
}
