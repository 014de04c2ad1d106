/**
 * The genesis file: the consortium's founding document. It names the chain, each organization
 * with its CA certificate, its initial administrators and its nodes' keys, and the policies
 * every node enforces. Its hash is block 0's `prevHash`, so two nodes with different genesis
 * files can never agree on any block.
 * @module
 */
import { fromBase64Url, toHex } from './bytes.js';
import { PUBLIC_KEY_LENGTH } from './ed25519.js';
import { Domain, domainSeparated, sha256 } from './hash.js';
import { canonicalBytes } from './jcs.js';
import { ID_PATTERN } from './tx.js';
import {
  fromPem,
  parseCertificate,
  verifyIssuedBy,
  verifySelfSigned,
  type ParsedCertificate,
} from './x509.js';

/** A node of an organization: its signing key for blocks, checkpoints and attestations. */
export interface GenesisNode {
  id: string;
  /** Ed25519 public key, base64url. */
  publicKey: string;
  /** Where other nodes and clients reach it (informational). */
  endpoint?: string;
}

export interface GenesisOrg {
  id: string;
  name: string;
  /** The organization's self-signed Ed25519 CA certificate (PEM). */
  caCertificate: string;
  /** Certificates (PEM) of the initial org-admins, issued by the CA. */
  admins: string[];
  nodes: GenesisNode[];
}

/** Limits and windows every node enforces identically. */
export interface GenesisPolicies {
  /** Largest accepted transaction (canonical JSON bytes). */
  maxTxBytes: number;
  /** Most transactions in one block. */
  maxBlockTxs: number;
  /** The orderer cuts a non-full block this long after its first transaction. */
  blockTimeoutMs: number;
  /** A transaction's client timestamp must be within ± this of the block's time. */
  timestampWindowMs: number;
}

export interface Genesis {
  v: 1;
  chainId: string;
  createdAtMs: number;
  orgs: GenesisOrg[];
  policies: GenesisPolicies;
}

export const DEFAULT_POLICIES: GenesisPolicies = {
  maxTxBytes: 64 * 1024,
  maxBlockTxs: 2000,
  blockTimeoutMs: 10,
  timestampWindowMs: 10 * 60 * 1000,
};

/** A genesis whose certificates and keys have been checked. */
export interface ValidatedGenesis {
  genesis: Genesis;
  hash: string;
  orgs: Map<string, { org: GenesisOrg; ca: ParsedCertificate; admins: ParsedCertificate[] }>;
  /** Node id → public key, across all organizations. */
  nodeKeys: Map<string, { orgId: string; publicKey: Uint8Array }>;
}

/** Thrown for an invalid genesis file; `message` names the field at fault. */
export class GenesisError extends Error {
  override readonly name = 'GenesisError';
}

/** Hash of a genesis document (hex). */
export function genesisHash(genesis: Genesis): string {
  return toHex(sha256(domainSeparated(Domain.genesis, canonicalBytes(genesis))));
}

function positiveInt(v: unknown, name: string, max: number): void {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1 || v > max)
    throw new GenesisError(`${name} must be an integer in [1, ${max}]`);
}

/**
 * Validates a genesis document: ids, unique organizations and nodes, each CA self-signed and
 * valid at `createdAtMs`, each admin certificate issued by its org's CA with role org-admin.
 */
export function validateGenesis(input: unknown): ValidatedGenesis {
  const g = input as Genesis;
  if (typeof g !== 'object' || g === null) throw new GenesisError('genesis must be an object');
  if (g.v !== 1) throw new GenesisError('genesis.v must be 1');
  if (typeof g.chainId !== 'string' || !ID_PATTERN.test(g.chainId))
    throw new GenesisError('genesis.chainId is invalid');
  if (typeof g.createdAtMs !== 'number' || !Number.isSafeInteger(g.createdAtMs) || g.createdAtMs < 0)
    throw new GenesisError('genesis.createdAtMs must be a non-negative integer');
  const p = g.policies;
  if (typeof p !== 'object' || p === null) throw new GenesisError('genesis.policies is required');
  positiveInt(p.maxTxBytes, 'policies.maxTxBytes', 4 * 1024 * 1024);
  positiveInt(p.maxBlockTxs, 'policies.maxBlockTxs', 100_000);
  positiveInt(p.blockTimeoutMs, 'policies.blockTimeoutMs', 60_000);
  positiveInt(p.timestampWindowMs, 'policies.timestampWindowMs', 7 * 24 * 3600_000);
  if (!Array.isArray(g.orgs) || g.orgs.length === 0)
    throw new GenesisError('genesis.orgs must be a non-empty array');
  const orgs: ValidatedGenesis['orgs'] = new Map();
  const nodeKeys: ValidatedGenesis['nodeKeys'] = new Map();
  for (const org of g.orgs) {
    if (typeof org.id !== 'string' || !ID_PATTERN.test(org.id))
      throw new GenesisError(`org id ${String(org.id)} is invalid`);
    if (orgs.has(org.id)) throw new GenesisError(`org ${org.id} appears twice`);
    let ca: ParsedCertificate;
    try {
      ca = parseCertificate(fromPem(org.caCertificate));
      verifySelfSigned(ca, g.createdAtMs);
    } catch (e) {
      throw new GenesisError(`org ${org.id}: CA certificate: ${(e as Error).message}`);
    }
    if (ca.subject.organization !== org.id)
      throw new GenesisError(`org ${org.id}: CA certificate O= must be ${org.id}`);
    const admins: ParsedCertificate[] = [];
    if (!Array.isArray(org.admins) || org.admins.length === 0)
      throw new GenesisError(`org ${org.id}: at least one admin`);
    for (const pem of org.admins) {
      try {
        const cert = parseCertificate(fromPem(pem));
        verifyIssuedBy(cert, ca, g.createdAtMs);
        if (cert.role !== 'org-admin') throw new Error('admin certificate must have role org-admin');
        if (cert.subject.organization !== org.id) throw new Error(`admin certificate O= must be ${org.id}`);
        admins.push(cert);
      } catch (e) {
        throw new GenesisError(`org ${org.id}: admin certificate: ${(e as Error).message}`);
      }
    }
    if (!Array.isArray(org.nodes)) throw new GenesisError(`org ${org.id}: nodes must be an array`);
    for (const node of org.nodes) {
      if (typeof node.id !== 'string' || !ID_PATTERN.test(node.id))
        throw new GenesisError(`node id ${String(node.id)} is invalid`);
      if (nodeKeys.has(node.id)) throw new GenesisError(`node ${node.id} appears twice`);
      let key: Uint8Array;
      try {
        key = fromBase64Url(node.publicKey);
      } catch {
        throw new GenesisError(`node ${node.id}: publicKey is not base64url`);
      }
      if (key.length !== PUBLIC_KEY_LENGTH)
        throw new GenesisError(`node ${node.id}: publicKey must be 32 bytes`);
      nodeKeys.set(node.id, { orgId: org.id, publicKey: key });
    }
    orgs.set(org.id, { org, ca, admins });
  }
  return { genesis: g, hash: genesisHash(g), orgs, nodeKeys };
}
