/**
 * `healthledger init`: creates a node home with a genesis for one or more organizations, each
 * with its own CA and admin identity, and this node's key. The first organization runs the node.
 * @module
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { toBase64Url } from '../protocol/bytes.js';
import { generateKeyPair } from '../protocol/ed25519.js';
import {
  DEFAULT_POLICIES,
  validateGenesis,
  type Genesis,
  type GenesisPolicies,
} from '../protocol/genesis.js';
import { createCaCertificate, toPem } from '../protocol/x509.js';
import {
  homePaths,
  writeJson,
  writeKey,
  writeSecret,
  type IdentityFile,
  type NodeConfig,
} from '../node/home.js';
import { createIdentity } from '../node/identities.js';

export { createIdentity };

const YEAR_MS = 365 * 24 * 3600_000;

export interface InitOptions {
  chainId: string;
  /** Organizations: `id` or `id:Display Name`; the first one runs this node. */
  orgs: string[];
  host: string;
  port: number;
  nowMs: number;
  policies?: Partial<GenesisPolicies>;
}

export interface InitResult {
  dir: string;
  chainId: string;
  genesisHash: string;
  nodeId: string;
  admins: string[];
}

/** Creates an organization's CA (key and self-signed certificate) and first org-admin in `dir`. */
function createOrganization(
  dir: string,
  orgId: string,
  nowMs: number,
): { caPem: string; admin: IdentityFile } {
  const p = homePaths(dir);
  // X.509 times have one-second precision.
  const nowS = Math.floor(nowMs / 1000) * 1000;
  const ca = generateKeyPair();
  const caDer = createCaCertificate({
    orgId,
    privateKey: ca.privateKey,
    serial: randomBytes(16),
    notBeforeMs: nowS - 3600_000,
    notAfterMs: nowS + 10 * YEAR_MS,
  });
  writeKey(p.caKey(orgId), ca.privateKey);
  writeSecret(p.caCert(orgId), toPem(caDer));
  const admin = createIdentity(dir, {
    orgId,
    memberId: 'admin',
    role: 'org-admin',
    attributes: {},
    nowMs,
    validityMs: 2 * YEAR_MS,
  });
  return { caPem: toPem(caDer), admin };
}

/** Creates `dir` as a node home. Refuses to overwrite an existing one. */
export function initHome(dir: string, opts: InitOptions): InitResult {
  const p = homePaths(dir);
  if (existsSync(p.genesis)) throw new Error(`${dir} already holds a genesis.json; refusing to overwrite`);
  const orgs = opts.orgs.map((spec) => {
    const [id, ...name] = spec.split(':');
    return { id: id!, name: name.join(':') || id! };
  });
  if (orgs.length === 0) throw new Error('at least one --org');
  const nodeId = `${orgs[0]!.id}-node1`;
  const nodeKey = generateKeyPair();
  const genesisOrgs: Genesis['orgs'] = [];
  const admins: string[] = [];
  for (const [i, org] of orgs.entries()) {
    const { caPem, admin } = createOrganization(dir, org.id, opts.nowMs);
    admins.push(admin.memberId);
    genesisOrgs.push({
      id: org.id,
      name: org.name,
      caCertificate: caPem,
      admins: [admin.certificate],
      nodes:
        i === 0
          ? [
              {
                id: nodeId,
                publicKey: toBase64Url(nodeKey.publicKey),
                endpoint: `http://${opts.host}:${opts.port}`,
              },
            ]
          : [],
    });
  }
  const genesis: Genesis = {
    v: 1,
    chainId: opts.chainId,
    createdAtMs: opts.nowMs,
    orgs: genesisOrgs,
    policies: { ...DEFAULT_POLICIES, ...opts.policies },
  };
  const validated = validateGenesis(genesis);
  writeJson(p.genesis, genesis);
  writeKey(p.nodeKey, nodeKey.privateKey);
  const config: NodeConfig = { nodeId, orgId: orgs[0]!.id, host: opts.host, port: opts.port };
  writeJson(p.nodeConfig, config);
  return { dir, chainId: opts.chainId, genesisHash: validated.hash, nodeId, admins };
}

export interface NetworkInitOptions {
  chainId: string;
  /** Organizations (`id` or `id:Display Name`); each runs one node. */
  orgs: string[];
  host: string;
  /** Port of the first organization's API; the others follow. */
  basePort: number;
  /** The etcd cluster every node orders through. */
  etcdEndpoints: string[];
  nowMs: number;
  policies?: Partial<GenesisPolicies>;
  /** Extra node.json settings for every node (e.g. compaction). */
  nodeConfig?: Partial<NodeConfig>;
}

/**
 * Creates one node home per organization under `root/<org>`, sharing one genesis in which every
 * organization has a CA, an admin and a node. Each home holds only its own organization's secrets
 * (CA key, admin identity, node key), as it would on that organization's machine.
 */
export function initNetwork(
  root: string,
  opts: NetworkInitOptions,
): { genesisHash: string; homes: string[] } {
  const orgs = opts.orgs.map((spec) => {
    const [id, ...name] = spec.split(':');
    return { id: id!, name: name.join(':') || id! };
  });
  if (orgs.length === 0) throw new Error('at least one organization');
  const genesisOrgs: Genesis['orgs'] = [];
  const homes = orgs.map((o) => join(root, o.id));
  for (const [i, org] of orgs.entries()) {
    const dir = homes[i]!;
    const p = homePaths(dir);
    if (existsSync(p.genesis)) throw new Error(`${dir} already holds a genesis.json; refusing to overwrite`);
    const { caPem, admin } = createOrganization(dir, org.id, opts.nowMs);
    const nodeKey = generateKeyPair();
    writeKey(p.nodeKey, nodeKey.privateKey);
    const port = opts.basePort + i;
    const nodeId = `${org.id}-node1`;
    genesisOrgs.push({
      id: org.id,
      name: org.name,
      caCertificate: caPem,
      admins: [admin.certificate],
      nodes: [
        { id: nodeId, publicKey: toBase64Url(nodeKey.publicKey), endpoint: `http://${opts.host}:${port}` },
      ],
    });
    const config: NodeConfig = {
      nodeId,
      orgId: org.id,
      host: opts.host,
      port,
      // Its own organization's member first (as when each site runs both), the rest for failover.
      etcdEndpoints:
        opts.etcdEndpoints.length === homes.length ? rotate(opts.etcdEndpoints, i) : opts.etcdEndpoints,
      ...opts.nodeConfig,
    };
    writeJson(p.nodeConfig, config);
  }
  const genesis: Genesis = {
    v: 1,
    chainId: opts.chainId,
    createdAtMs: opts.nowMs,
    orgs: genesisOrgs,
    policies: { ...DEFAULT_POLICIES, ...opts.policies },
  };
  const validated = validateGenesis(genesis);
  for (const dir of homes) writeJson(homePaths(dir).genesis, genesis);
  return { genesisHash: validated.hash, homes };
}

/** `xs` starting at index `i`, wrapping around. */
const rotate = <T>(xs: readonly T[], i: number): T[] => [...xs.slice(i), ...xs.slice(0, i)];
