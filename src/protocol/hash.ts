/**
 * SHA-256 and domain separation. Every signed or hashed structure gets its own tag, so a
 * signature or digest made for one purpose can never be replayed as another.
 * @module
 */
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';
import { concatBytes, utf8 } from './bytes.js';

/** A SHA-256 implementation: browser code uses the pure-JS one; the node injects a native one. */
export type Sha256 = (data: Uint8Array) => Uint8Array;

/** Pure-JS SHA-256 (FIPS 180-4), used in browsers. */
export const sha256Js: Sha256 = (data) => nobleSha256(data);

interface NodeCryptoHash {
  hash(algorithm: string, data: Uint8Array, output: 'buffer'): Uint8Array;
}

/**
 * On Node (≥ 20.16) the built-in OpenSSL one-shot hash, found at run time without importing
 * a Node module, so this file stays browser-safe. Outputs are identical (tests cross-check).
 */
function nativeSha256(): Sha256 | undefined {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  const mod = proc?.getBuiltinModule?.('node:crypto') as NodeCryptoHash | undefined;
  if (typeof mod?.hash !== 'function') return undefined;
  return (data) => mod.hash('sha256', data, 'buffer');
}

/** SHA-256 (FIPS 180-4): native on Node, pure JS elsewhere. @example toHex(sha256(utf8('abc'))) */
export const sha256: Sha256 = nativeSha256() ?? sha256Js;

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
  let tag = tagCache.get(domain);
  if (!tag) {
    tag = concatBytes(utf8(domain), new Uint8Array([0]));
    tagCache.set(domain, tag);
  }
  return concatBytes(tag, body);
}
