/**
 * Attestations: a node's signed statement (height, block hash, log root, state root) about a block
 * it executed, published so that organizations can compare results. Browser-safe: the SDK and the
 * portal check them against the genesis node keys.
 * @module
 */
import { fromBase64Url, toBase64Url } from './bytes.js';
import type { Block } from './block.js';
import { verify, type Ed25519Verify } from './ed25519.js';
import { Domain, domainSeparated } from './hash.js';
import { canonicalBytes } from './jcs.js';
import type { ValidatedGenesis } from './genesis.js';

/** One node's signed statement about one block. */
export interface Attestation {
  v: 1;
  chainId: string;
  nodeId: string;
  height: number;
  blockHash: string;
  logRoot: string;
  stateRoot: string;
  /** Ed25519 over the domain-separated JCS of the other fields (base64url). */
  sig: string;
}

type Unsigned = Omit<Attestation, 'sig'>;
const signingBytes = (a: Unsigned): Uint8Array => domainSeparated(Domain.attestation, canonicalBytes(a));

/**
 * Signs an attestation for `block`.
 *
 * @example
 * const a = attest(block, 'healthledger-network', 'st-mary-node1', sign);
 */
export function attest(
  block: Pick<Block, 'header' | 'hash'>,
  chainId: string,
  nodeId: string,
  sign: (m: Uint8Array) => Uint8Array,
): Attestation {
  const a: Unsigned = {
    v: 1,
    chainId,
    nodeId,
    height: block.header.height,
    blockHash: block.hash,
    logRoot: block.header.logRoot,
    stateRoot: block.header.stateRoot,
  };
  return { ...a, sig: toBase64Url(sign(signingBytes(a))) };
}

/**
 * The organization of a genuine attestation's node, or null (unknown node, bad signature, wrong
 * chain). `verifySignature` defaults to the protocol's browser-safe verifier; a node passes its
 * native one (same rules, many times faster: it checks every peer's attestation of every block).
 */
export function attestationOrg(
  a: Attestation,
  genesis: ValidatedGenesis,
  verifySignature: Ed25519Verify = verify,
): string | null {
  const node = genesis.nodeKeys.get(a.nodeId);
  if (node === undefined || a.chainId !== genesis.genesis.chainId || a.v !== 1) return null;
  // Only the signed fields: a server may add its own (e.g. the organization it resolved).
  const { sig } = a;
  const rest: Unsigned = {
    v: a.v,
    chainId: a.chainId,
    nodeId: a.nodeId,
    height: a.height,
    blockHash: a.blockHash,
    logRoot: a.logRoot,
    stateRoot: a.stateRoot,
  };
  try {
    return verifySignature(fromBase64Url(sig), signingBytes(rest), node.publicKey) ? node.orgId : null;
  } catch {
    return null;
  }
}
