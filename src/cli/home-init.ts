/**
 * `healthledger init`: creates a node home with a genesis for one or more organizations, each
 * with its own CA and admin identity, and this node's key. The first organization runs the node.
 * @module
 */
import { existsSync } from 'node:fs';
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
import { homePaths, writeJson, writeKey, writeSecret, type NodeConfig } from '../node/home.js';
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

/** Creates `dir` as a node home. Refuses to overwrite an existing one. */
export function initHome(dir: string, opts: InitOptions): InitResult {
  const p = homePaths(dir);
  if (existsSync(p.genesis)) throw new Error(`${dir} already holds a genesis.json; refusing to overwrite`);
  const orgs = opts.orgs.map((spec) => {
    const [id, ...name] = spec.split(':');
    return { id: id!, name: name.join(':') || id! };
  });
  if (orgs.length === 0) throw new Error('at least one --org');
  // X.509 times have one-second precision.
  const nowS = Math.floor(opts.nowMs / 1000) * 1000;
  const notBeforeMs = nowS - 3600_000;
  const nodeId = `${orgs[0]!.id}-node1`;
  const nodeKey = generateKeyPair();
  const genesisOrgs: Genesis['orgs'] = [];
  const admins: string[] = [];
  for (const [i, org] of orgs.entries()) {
    const ca = generateKeyPair();
    const caDer = createCaCertificate({
      orgId: org.id,
      privateKey: ca.privateKey,
      serial: randomBytes(16),
      notBeforeMs,
      notAfterMs: nowS + 10 * YEAR_MS,
    });
    writeKey(p.caKey(org.id), ca.privateKey);
    writeSecret(p.caCert(org.id), toPem(caDer));
    const admin = createIdentity(dir, {
      orgId: org.id,
      memberId: 'admin',
      role: 'org-admin',
      attributes: {},
      nowMs: opts.nowMs,
      validityMs: 2 * YEAR_MS,
    });
    admins.push(admin.memberId);
    genesisOrgs.push({
      id: org.id,
      name: org.name,
      caCertificate: toPem(caDer),
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
