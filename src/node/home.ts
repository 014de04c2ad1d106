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
import type { EdgeOptions } from './edge.js';
import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, isAbsolute, join } from 'node:path';
import { fromBase64Url, toBase64Url } from '../protocol/bytes.js';
import type { Genesis } from '../protocol/genesis.js';
import { isSealedFile, sealedFileText, unsealFile, type SealConfig, type Sealer } from './sealer.js';

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
  /** API edge limits: rate limits, timeouts, largest blob (`EdgeOptions`, docs/threat-model.md). */
  edge?: EdgeOptions;
  /**
   * Webhooks (events): `allow` lists internal targets admitted anyway — `"ip"`, `"ip:port"`,
   * `"[v6]:port"` or a CIDR such as `"10.1.0.0/16"`. Nothing internal is reachable by default.
   */
  webhooks?: { allow?: string[] };
  /** Where the key-encryption key sealing this home's secrets is (ADR 0015; see `sealer.ts`). */
  seal?: SealConfig;
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

/**
 * A home file that exists but cannot be used: empty, truncated or not what it should be (a write
 * interrupted before this writer was durable, a disk error, a hand edit). The message names the file
 * and how to restore it; nothing is overwritten.
 */
export class HomeFileError extends Error {
  constructor(
    readonly path: string,
    problem: string,
  ) {
    super(
      `${path} ${problem}. The node home is damaged: restore ${basename(path)} from a backup of this ` +
        `home folder (keys cannot be re-created: a new key is another identity), or remove the home ` +
        `and run \`healthledger init\` again if it holds nothing you need.`,
    );
    this.name = 'HomeFileError';
  }
}

/** Creates `dir` (and missing parents), fsyncing each parent whose entries changed. */
function ensureDir(dir: string, mode?: number): void {
  if (existsSync(dir)) return;
  ensureDir(dirname(dir));
  mkdirSync(dir, mode === undefined ? {} : { mode });
  fsyncDir(dirname(dir));
}

/** Makes a folder's entries (a rename, a new file) durable. */
export function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Writes `content` to `path` so that a crash at any moment leaves either the old file or the whole
 * new one, never a prefix: a temporary file in the same folder, written and fsynced, renamed over
 * `path`, then the folder fsynced so the rename itself is durable. Every file of a home outside
 * SQLite goes through here.
 */
export function writeFileDurable(path: string, content: string | Uint8Array, mode = 0o644): void {
  ensureDir(dirname(path), mode === 0o600 ? 0o700 : undefined);
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  const fd = openSync(tmp, 'wx', mode);
  try {
    const bytes = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
    for (let off = 0; off < bytes.length;) off += writeSync(fd, bytes, off, bytes.length - off);
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw e;
  }
  closeSync(fd);
  try {
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
  fsyncDir(dirname(path));
}

/** Writes a file readable only by its owner (keys, identities), durably. */
export function writeSecret(path: string, content: string): void {
  writeFileDurable(path, content, 0o600);
}

/** Writes pretty-printed JSON, durably. */
export function writeJson(path: string, value: unknown): void {
  writeFileDurable(path, JSON.stringify(value, null, 2) + '\n');
}

/**
 * Reads a home file's text: missing → the `init` hint; empty → {@link HomeFileError}.
 * @example const pem = readHomeText(homePaths(dir).caCert('st-mary'))
 */
export function readHomeText(path: string): string {
  if (!existsSync(path)) throw new Error(`${path} not found (did you run \`healthledger init\`?)`);
  const text = readFileSync(path, 'utf8');
  if (text.trim() === '') throw new HomeFileError(path, 'is empty');
  return text;
}

/** Reads a home JSON file; an empty, truncated or non-object file is refused naming the file. */
export function readJson<T>(path: string): T {
  const text = readHomeText(path);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new HomeFileError(path, 'is truncated or not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new HomeFileError(path, 'does not hold a JSON object');
  return value as T;
}

/** Reads a PEM home file (certificate or key) and checks it holds one whole PEM block. */
export function readPem(path: string): string {
  const text = readHomeText(path);
  if (!/-----BEGIN [A-Z ]+-----[\s\S]+-----END [A-Z ]+-----/.test(text))
    throw new HomeFileError(path, 'is truncated or not a PEM file');
  return text;
}

/**
 * Reads a secret home file's content, sealed or not. A sealed file is unsealed with `sealer` (none:
 * refused naming the file and what is missing). A plaintext file found while a sealer is configured
 * is sealed in place (atomically: the plaintext file is replaced) — the migration of an old home.
 */
export function readSecretText(path: string, purpose: string, sealer: Sealer | null): string {
  const text = readHomeText(path);
  const value = readJson<object>(path);
  if (isSealedFile(value)) return unsealFile(path, value, purpose, sealer);
  if (sealer !== null) writeSecret(path, sealedFileText(sealer, purpose, text));
  return text;
}

/** Writes a secret home file: sealed under `sealer` when one is configured. */
export function writeSealedSecret(
  path: string,
  purpose: string,
  content: string,
  sealer: Sealer | null,
): void {
  writeSecret(path, sealer === null ? content : sealedFileText(sealer, purpose, content));
}

/** Reads a 32-byte seed written by {@link writeKey}, unsealing (or sealing, see {@link readSecretText}) it. */
export function readKey(path: string, sealer: Sealer | null = null, purpose = 'node-key'): Uint8Array {
  let k: { kty: string; seed: string };
  try {
    k = JSON.parse(readSecretText(path, purpose, sealer)) as { kty: string; seed: string };
  } catch (e) {
    if (e instanceof SyntaxError) throw new HomeFileError(path, 'is not an Ed25519 seed file');
    throw e;
  }
  let seed: Uint8Array = new Uint8Array(0);
  try {
    if (typeof k.seed === 'string') seed = fromBase64Url(k.seed);
  } catch {
    // falls through to the refusal below
  }
  if (k.kty !== 'ed25519-seed' || seed.length !== 32)
    throw new HomeFileError(path, 'is not an Ed25519 seed file');
  return seed;
}

export function writeKey(
  path: string,
  seed: Uint8Array,
  sealer: Sealer | null = null,
  purpose = 'node-key',
): void {
  const content = JSON.stringify({ kty: 'ed25519-seed', seed: toBase64Url(seed) }) + '\n';
  writeSealedSecret(path, purpose, content, sealer);
}

/**
 * Reads every file of a home outside `data/` (JSON, PEM, seed files) and throws a
 * {@link HomeFileError} naming the first that is empty, truncated or malformed, so a damaged home
 * is refused at start-up with the file to restore instead of failing later mid-operation.
 * @example checkHome('.data/demo') // throws "…/keys/node.key is empty. The node home is damaged: …"
 */
export function checkHome(dir: string): void {
  const walk = (d: string): string[] =>
    readdirSync(d, { withFileTypes: true })
      .filter((e) => !e.name.startsWith('.') && !(d === dir && e.name === 'data'))
      .flatMap((e) => (e.isDirectory() ? walk(join(d, e.name)) : e.isFile() ? [join(d, e.name)] : []))
      .sort();
  for (const file of walk(dir)) {
    if (file.endsWith('.json') || file === join(dir, 'keys', 'events-secret')) readJson(file);
    else if (file.endsWith('.pem')) readPem(file);
    // A sealed key is checked when it is unsealed (a damaged blob fails its GCM tag).
    else if (file.endsWith('.key') && !isSealedFile(readJson(file))) readKey(file);
  }
}

/**
 * Loads a home's genesis, node configuration and node key, after {@link checkHome}; the node key
 * is unsealed with `sealer` (a sealed key without one is refused naming what is missing).
 */
export function loadHome(
  dir: string,
  sealer: Sealer | null = null,
): { genesis: Genesis; config: NodeConfig; nodeKey: Uint8Array } {
  const p = homePaths(dir);
  if (existsSync(dir)) checkHome(dir);
  return {
    genesis: readJson<Genesis>(p.genesis),
    config: readJson<NodeConfig>(p.nodeConfig),
    nodeKey: readKey(p.nodeKey, sealer),
  };
}

/** A home's genesis and node configuration only (no secret is read). */
export function loadHomeConfig(dir: string): { genesis: Genesis; config: NodeConfig } {
  const p = homePaths(dir);
  if (existsSync(dir)) checkHome(dir);
  return { genesis: readJson<Genesis>(p.genesis), config: readJson<NodeConfig>(p.nodeConfig) };
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
