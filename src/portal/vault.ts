/**
 * The key vault: a person's signing key (Ed25519) and record key (X25519) live only in this
 * browser, encrypted under a passphrase (PBKDF2-SHA-256, 600,000 iterations → AES-256-GCM, via
 * WebCrypto). The encrypted vault is what is stored (localStorage) and what a backup file holds;
 * keys are never sent anywhere — requests carry signatures, not keys.
 * @module
 */
import { fromBase64Url, toBase64Url } from '../protocol/bytes.js';
import { generateKeyPair, publicKeyOf } from '../protocol/ed25519.js';
import { generateEncryptionKeyPair } from '../protocol/envelope.js';
import type { Identity } from '../sdk/client.js';

/** What the vault protects. */
export interface VaultContents {
  memberId: string;
  /** Ed25519 seed, base64url. */
  privateKey: string;
  /** PEM certificate issued by the member's organization (absent until enrolled). */
  certificate?: string;
  /** X25519 key pair for opening released records, base64url. */
  encryption?: { privateKey: string; publicKey: string };
}

/** The encrypted form: safe to store and to back up. */
export interface SealedVault {
  v: 1;
  memberId: string;
  kdf: { name: 'PBKDF2-SHA-256'; iterations: number; salt: string };
  iv: string;
  ciphertext: string;
}

const ITERATIONS = 600_000;
const STORAGE_KEY = 'healthledger.vaults';

async function deriveKey(passphrase: string, salt: Uint8Array, iterations: number): Promise<CryptoKey> {
  const base = await crypto.subtle.importKey('raw', new TextEncoder().encode(passphrase), 'PBKDF2', false, [
    'deriveKey',
  ]);
  return crypto.subtle.deriveKey(
    { name: 'PBKDF2', hash: 'SHA-256', salt: salt as BufferSource, iterations },
    base,
    { name: 'AES-GCM', length: 256 },
    false,
    ['encrypt', 'decrypt'],
  );
}

/** Encrypts `contents` under `passphrase` (at least 8 characters). */
export async function sealVault(contents: VaultContents, passphrase: string): Promise<SealedVault> {
  if (passphrase.length < 8) throw new Error('Choose a passphrase of at least 8 characters.');
  const salt = crypto.getRandomValues(new Uint8Array(16));
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const key = await deriveKey(passphrase, salt, ITERATIONS);
  const plaintext = new TextEncoder().encode(JSON.stringify(contents));
  const ct = new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-GCM', iv }, key, plaintext));
  return {
    v: 1,
    memberId: contents.memberId,
    kdf: { name: 'PBKDF2-SHA-256', iterations: ITERATIONS, salt: toBase64Url(salt) },
    iv: toBase64Url(iv),
    ciphertext: toBase64Url(ct),
  };
}

/** Decrypts a vault; throws "Wrong passphrase" if it does not open. */
export async function openVault(sealed: SealedVault, passphrase: string): Promise<VaultContents> {
  const key = await deriveKey(passphrase, fromBase64Url(sealed.kdf.salt), sealed.kdf.iterations);
  try {
    const pt = await crypto.subtle.decrypt(
      { name: 'AES-GCM', iv: fromBase64Url(sealed.iv) as BufferSource },
      key,
      fromBase64Url(sealed.ciphertext) as BufferSource,
    );
    return JSON.parse(new TextDecoder().decode(pt)) as VaultContents;
  } catch {
    throw new Error('Wrong passphrase (or a damaged backup).');
  }
}

/** Vaults saved in this browser, by member id. */
export function storedVaults(): SealedVault[] {
  try {
    return JSON.parse(localStorage.getItem(STORAGE_KEY) ?? '[]') as SealedVault[];
  } catch {
    return [];
  }
}

/** Saves (or replaces) a sealed vault in this browser. */
export function storeVault(v: SealedVault): void {
  const rest = storedVaults().filter((x) => x.memberId !== v.memberId);
  localStorage.setItem(STORAGE_KEY, JSON.stringify([...rest, v]));
}

/** Forgets a vault in this browser (keep a backup first). */
export function forgetVault(memberId: string): void {
  localStorage.setItem(STORAGE_KEY, JSON.stringify(storedVaults().filter((x) => x.memberId !== memberId)));
}

/** A new key pair for `memberId`: the public key goes to the organization for a certificate. */
export async function createKeys(memberId: string): Promise<VaultContents> {
  const signing = generateKeyPair();
  const enc = await generateEncryptionKeyPair();
  return {
    memberId,
    privateKey: toBase64Url(signing.privateKey),
    encryption: { privateKey: toBase64Url(enc.privateKey), publicKey: toBase64Url(enc.publicKey) },
  };
}

/** The signing public key to enroll (base64url). */
export function signingPublicKey(v: VaultContents): string {
  return toBase64Url(publicKeyOf(fromBase64Url(v.privateKey)));
}

/** The SDK identity of an opened vault. */
export function identityOf(v: VaultContents): Identity {
  return { memberId: v.memberId, privateKey: fromBase64Url(v.privateKey) };
}

/** Reads an identity file from the CLI (`identities/<org>/<id>.json`), optionally with its `.enc.json`. */
export function fromIdentityFiles(identityJson: string, encryptionJson?: string): VaultContents {
  const f = JSON.parse(identityJson) as Partial<VaultContents>;
  if (typeof f.memberId !== 'string' || typeof f.privateKey !== 'string')
    throw new Error('Not a HealthLedger identity file (memberId and privateKey expected).');
  const v: VaultContents = { memberId: f.memberId, privateKey: f.privateKey };
  if (typeof f.certificate === 'string') v.certificate = f.certificate;
  if (encryptionJson) {
    const e = JSON.parse(encryptionJson) as { privateKey?: unknown; publicKey?: unknown };
    if (typeof e.privateKey !== 'string' || typeof e.publicKey !== 'string')
      throw new Error('Not an encryption key file (privateKey and publicKey expected).');
    v.encryption = { privateKey: e.privateKey, publicKey: e.publicKey };
  }
  return v;
}
