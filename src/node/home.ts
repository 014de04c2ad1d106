/**
 * A node's home folder, as created by `healthledger init DIR`:
 *
 *   DIR/genesis.json                  the consortium (shared by every node)
 *   DIR/node.json                     this node: id, organization, listen address
 *   DIR/keys/node.key                 the node's Ed25519 seed (0600)
 *   DIR/orgs/<org>/ca.pem, ca.key     the organization's CA (keep ca.key offline in production)
 *   DIR/identities/<org>/<id>.json    member identities: key + certificate (0600)
 *   DIR/data/ledger.sqlite            the ledger store
 * @module
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { fromBase64Url, toBase64Url } from '../protocol/bytes.js';
import type { Genesis } from '../protocol/genesis.js';

export interface NodeConfig {
  nodeId: string;
  orgId: string;
  host: string;
  port: number;
  /** Worker threads for signature verification (default: available cores). */
  verifyThreads?: number;
  /**
   * Processes serving product verification and the other supply reads from a read-only view of
   * the ledger on `verificationPort` (default 0: the node's own API serves them).
   */
  verificationServers?: number;
  /** Port shared by the verification servers (0 = any free port). */
  verificationPort?: number;
  /** etcd client URLs: order through the etcd cluster instead of the embedded orderer. */
  etcdEndpoints?: string[];
  /**
   * For `https:` etcd endpoints, PEM files (relative to the home folder, or absolute): `ca`, the
   * CA that issued the members' certificates (default: the system's roots); `cert` and `key`, this
   * node's client certificate, for members started with `--client-cert-auth`.
   */
  etcdTls?: { ca?: string; cert?: string; key?: string };
  /** etcd log compaction: how often (ms), and how many batches to keep below the lowest applied height. */
  compactEveryMs?: number;
  keepBatches?: number;
}

/** A member's identity file: private key and certificate. Never sent anywhere. */
export interface IdentityFile {
  memberId: string;
  /** Ed25519 seed, base64url. */
  privateKey: string;
  /** PEM certificate issued by the member's organization CA. */
  certificate: string;
}

export const homePaths = (dir: string) => ({
  genesis: join(dir, 'genesis.json'),
  nodeConfig: join(dir, 'node.json'),
  nodeKey: join(dir, 'keys', 'node.key'),
  caCert: (org: string) => join(dir, 'orgs', org, 'ca.pem'),
  caKey: (org: string) => join(dir, 'orgs', org, 'ca.key'),
  identity: (memberId: string) => join(dir, 'identities', `${memberId}.json`),
  data: join(dir, 'data'),
  store: join(dir, 'data', 'ledger.sqlite'),
});

/** Writes a file readable only by its owner (keys, identities). */
export function writeSecret(path: string, content: string): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  writeFileSync(path, content, { mode: 0o600 });
  chmodSync(path, 0o600);
}

export function writeJson(path: string, value: unknown): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, JSON.stringify(value, null, 2) + '\n');
}

export function readJson<T>(path: string): T {
  if (!existsSync(path)) throw new Error(`${path} not found (did you run \`healthledger init\`?)`);
  return JSON.parse(readFileSync(path, 'utf8')) as T;
}

/** Reads a 32-byte seed written by {@link writeKey}. */
export function readKey(path: string): Uint8Array {
  const k = readJson<{ kty: string; seed: string }>(path);
  const seed = fromBase64Url(k.seed);
  if (k.kty !== 'ed25519-seed' || seed.length !== 32) throw new Error(`${path} is not an Ed25519 seed file`);
  return seed;
}

export function writeKey(path: string, seed: Uint8Array): void {
  writeSecret(path, JSON.stringify({ kty: 'ed25519-seed', seed: toBase64Url(seed) }) + '\n');
}

export function loadHome(dir: string): { genesis: Genesis; config: NodeConfig; nodeKey: Uint8Array } {
  const p = homePaths(dir);
  return {
    genesis: readJson<Genesis>(p.genesis),
    config: readJson<NodeConfig>(p.nodeConfig),
    nodeKey: readKey(p.nodeKey),
  };
}

/**
 * Reads the PEM files a node's `etcdTls` names. Throws with the field and path when one cannot be
 * read, or when only one of `cert` and `key` is given.
 * @example const tls = readEtcdTls(home, config.etcdTls) // { ca, cert, key } as Buffers
 */
export function readEtcdTls(
  dir: string,
  files: NonNullable<NodeConfig['etcdTls']>,
): { ca?: Buffer; cert?: Buffer; key?: Buffer } {
  if ((files.cert === undefined) !== (files.key === undefined))
    throw new Error('node.json etcdTls: give both cert and key, or neither');
  const out: { ca?: Buffer; cert?: Buffer; key?: Buffer } = {};
  for (const field of ['ca', 'cert', 'key'] as const) {
    const file = files[field];
    if (file === undefined) continue;
    const path = isAbsolute(file) ? file : join(dir, file);
    try {
      out[field] = readFileSync(path);
    } catch (e) {
      throw new Error(`node.json etcdTls.${field}: cannot read ${path} (${(e as Error).message})`);
    }
  }
  return out;
}

export function readIdentity(dir: string, memberId: string): IdentityFile {
  return readJson<IdentityFile>(homePaths(dir).identity(memberId));
}
