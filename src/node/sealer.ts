/**
 * Keys at rest (ADR 0015): every secret a node keeps in its home or data folder is sealed under a
 * key-encryption key (KEK) that is kept elsewhere: a non-extractable AES-256 key in a PKCS#11 token
 * ({@link Pkcs11Sealer}), or a 32-byte key in a file outside the home or in `HEALTHLEDGER_KEK`
 * ({@link KeyFileSealer}). A sealed value is AES-256-GCM with its purpose as additional data, so a
 * blob sealed for one purpose (the node key) cannot be swapped in for another (the custodian key).
 *
 * Sealed bytes: `0x01 ‖ iv (12) ‖ ciphertext ‖ tag (16)`. A sealed home file is JSON:
 * `{ "kty": "sealed", "purpose", "sealedBy", "data": base64url(sealed bytes) }`.
 * @module
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { isAbsolute, join } from 'node:path';
import type * as Pkcs11Js from 'pkcs11js';
import { fromBase64Url, toBase64Url } from '../protocol/bytes.js';

/** Where a node's KEK is: `node.json` `seal`. */
export interface SealConfig {
  /** A file holding the KEK (32 bytes, base64url), outside the home folder. Relative: to the home. */
  keyFile?: string;
  /** A PKCS#11 token holding the KEK as a non-extractable AES-256 key. */
  pkcs11?: {
    /** The PKCS#11 module, e.g. /usr/lib/softhsm/libsofthsm2.so. */
    library: string;
    /** The token: by slot id, or by label. */
    slot?: number;
    tokenLabel?: string;
    /** The environment variable holding the user PIN (the PIN is never written in the home). */
    pinEnv: string;
    /** The AES key's CKA_LABEL (created in the token, non-extractable, if the token has none). */
    keyLabel: string;
  };
}

/** Seals and unseals bytes under the node's KEK; `purpose` is bound as additional data. */
export interface Sealer {
  /** What seals: `pkcs11:<keyLabel>`, `key-file` or `env`. Recorded in sealed files. */
  readonly kind: string;
  seal(purpose: string, plaintext: Uint8Array): Uint8Array;
  /** Throws {@link SealError} `SEAL_UNSEAL_FAILED` on a wrong key, purpose or damaged blob. */
  unseal(purpose: string, sealed: Uint8Array): Uint8Array;
  close(): void;
}

export type SealErrorCode =
  'SEAL_KEK_MISSING' | 'SEAL_KEK_UNAVAILABLE' | 'SEAL_UNSEAL_FAILED' | 'SEAL_CONFIG_INVALID';

/** A sealed home that cannot be opened: names what is missing and where it is expected. */
export class SealError extends Error {
  constructor(
    readonly code: SealErrorCode,
    message: string,
  ) {
    super(`${code}: ${message}`);
    this.name = 'SealError';
  }
}

/** The environment variable that may hold the KEK (base64url, 32 bytes). */
export const KEK_ENV = 'HEALTHLEDGER_KEK';

const VERSION = 0x01;
const aad = (purpose: string): Buffer => Buffer.from(`healthledger/v1/sealed|${purpose}`, 'utf8');

/** Splits sealed bytes into iv, ciphertext and tag; throws on a short or foreign blob. */
function parts(purpose: string, sealed: Uint8Array): { iv: Buffer; ct: Buffer; tag: Buffer } {
  const b = Buffer.from(sealed);
  if (b.length < 1 + 12 + 16 || b[0] !== VERSION)
    throw new SealError('SEAL_UNSEAL_FAILED', `the sealed ${purpose} is damaged or not sealed`);
  return { iv: b.subarray(1, 13), ct: b.subarray(13, b.length - 16), tag: b.subarray(b.length - 16) };
}

/** AES-256-GCM under a KEK held in this process's memory (read from a key file or the environment). */
export class KeyFileSealer implements Sealer {
  private readonly key: Buffer;

  constructor(
    key: Uint8Array,
    readonly kind = 'key-file',
  ) {
    if (key.length !== 32) throw new SealError('SEAL_CONFIG_INVALID', 'the KEK must be 32 bytes');
    this.key = Buffer.from(key);
  }

  seal(purpose: string, plaintext: Uint8Array): Uint8Array {
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', this.key, iv).setAAD(aad(purpose));
    const ct = Buffer.concat([c.update(plaintext), c.final()]);
    return Buffer.concat([Buffer.of(VERSION), iv, ct, c.getAuthTag()]);
  }

  unseal(purpose: string, sealed: Uint8Array): Uint8Array {
    const { iv, ct, tag } = parts(purpose, sealed);
    try {
      const d = createDecipheriv('aes-256-gcm', this.key, iv).setAAD(aad(purpose)).setAuthTag(tag);
      return new Uint8Array(Buffer.concat([d.update(ct), d.final()]));
    } catch {
      throw new SealError(
        'SEAL_UNSEAL_FAILED',
        `the ${purpose} does not unseal with this KEK (${this.kind}): another node's key, or a blob sealed for another purpose`,
      );
    }
  }

  close(): void {
    this.key.fill(0);
  }
}

/** Reads a KEK: base64url of 32 bytes (surrounding whitespace ignored). */
export function parseKek(text: string, where: string): Uint8Array {
  let key: Uint8Array = new Uint8Array(0);
  try {
    key = fromBase64Url(text.trim());
  } catch {
    // refused below
  }
  if (key.length !== 32)
    throw new SealError('SEAL_CONFIG_INVALID', `${where} does not hold a base64url 32-byte key`);
  return key;
}

/** Creates a fresh KEK as base64url text (for `seal.keyFile` and `HEALTHLEDGER_KEK`). */
export const newKek = (): string => toBase64Url(randomBytes(32)) + '\n';

// pkcs11js is loaded only when a node is configured for a token.
type Pkcs11Module = typeof Pkcs11Js;
type Pkcs11 = InstanceType<Pkcs11Module['PKCS11']>;

/**
 * AES-256-GCM inside a PKCS#11 token: the KEK never leaves the token (CKA_EXTRACTABLE false,
 * CKA_SENSITIVE true); the node holds a logged-in session for its lifetime.
 */
export class Pkcs11Sealer implements Sealer {
  readonly kind: string;
  private readonly p11: Pkcs11;
  private readonly mod: Pkcs11Module;
  private readonly session: Buffer;
  private readonly key: Buffer;

  constructor(cfg: NonNullable<SealConfig['pkcs11']>, env: NodeJS.ProcessEnv = process.env) {
    this.kind = `pkcs11:${cfg.keyLabel}`;
    const pin = env[cfg.pinEnv];
    if (pin === undefined || pin === '')
      throw new SealError(
        'SEAL_KEK_MISSING',
        `node.json seal.pkcs11: the token PIN is read from the environment variable ${cfg.pinEnv}, which is not set`,
      );
    this.mod = createRequire(import.meta.url)('pkcs11js') as Pkcs11Module;
    const m = this.mod;
    this.p11 = new m.PKCS11();
    try {
      this.p11.load(cfg.library);
    } catch (e) {
      throw new SealError(
        'SEAL_KEK_UNAVAILABLE',
        `node.json seal.pkcs11.library: cannot load ${cfg.library} (${(e as Error).message})`,
      );
    }
    try {
      this.p11.C_Initialize();
    } catch (e) {
      if (!/CKR_CRYPTOKI_ALREADY_INITIALIZED/.test((e as Error).message)) throw e;
    }
    try {
      const slots = this.p11.C_GetSlotList(true);
      const slot = slots.find((s) =>
        cfg.tokenLabel !== undefined
          ? this.p11.C_GetTokenInfo(s).label.trim() === cfg.tokenLabel
          : cfg.slot !== undefined && s.readUIntLE(0, Math.min(s.length, 6)) === cfg.slot,
      );
      if (slot === undefined)
        throw new SealError(
          'SEAL_KEK_UNAVAILABLE',
          `node.json seal.pkcs11: no token ${cfg.tokenLabel !== undefined ? `labelled "${cfg.tokenLabel}"` : `in slot ${cfg.slot}`} in ${cfg.library}`,
        );
      this.session = this.p11.C_OpenSession(slot, m.CKF_SERIAL_SESSION | m.CKF_RW_SESSION);
      try {
        this.p11.C_Login(this.session, m.CKU_USER, pin);
      } catch (e) {
        throw new SealError(
          'SEAL_KEK_UNAVAILABLE',
          `node.json seal.pkcs11: login to the token failed with the PIN in ${cfg.pinEnv} (${(e as Error).message})`,
        );
      }
      this.key = this.findOrCreateKey(cfg.keyLabel);
    } catch (e) {
      this.p11.C_Finalize();
      throw e;
    }
  }

  private findOrCreateKey(label: string): Buffer {
    const m = this.mod;
    this.p11.C_FindObjectsInit(this.session, [
      { type: m.CKA_CLASS, value: m.CKO_SECRET_KEY },
      { type: m.CKA_LABEL, value: label },
    ]);
    const [found] = this.p11.C_FindObjects(this.session, 1);
    this.p11.C_FindObjectsFinal(this.session);
    if (found) return found;
    return this.p11.C_GenerateKey(this.session, { mechanism: m.CKM_AES_KEY_GEN }, [
      { type: m.CKA_CLASS, value: m.CKO_SECRET_KEY },
      { type: m.CKA_KEY_TYPE, value: m.CKK_AES },
      { type: m.CKA_VALUE_LEN, value: 32 },
      { type: m.CKA_LABEL, value: label },
      { type: m.CKA_TOKEN, value: true },
      { type: m.CKA_PRIVATE, value: true },
      { type: m.CKA_SENSITIVE, value: true },
      { type: m.CKA_EXTRACTABLE, value: false },
      { type: m.CKA_ENCRYPT, value: true },
      { type: m.CKA_DECRYPT, value: true },
    ]);
  }

  private mechanism(purpose: string, iv: Buffer) {
    return {
      mechanism: this.mod.CKM_AES_GCM,
      parameter: { type: this.mod.CK_PARAMS_GCM, iv, ivBits: 96, aad: aad(purpose), tagBits: 128 },
    };
  }

  seal(purpose: string, plaintext: Uint8Array): Uint8Array {
    const iv = randomBytes(12);
    this.p11.C_EncryptInit(this.session, this.mechanism(purpose, iv), this.key);
    const out = this.p11.C_Encrypt(this.session, Buffer.from(plaintext), Buffer.alloc(plaintext.length + 16));
    return Buffer.concat([Buffer.of(VERSION), iv, out]);
  }

  unseal(purpose: string, sealed: Uint8Array): Uint8Array {
    const { iv, ct, tag } = parts(purpose, sealed);
    try {
      this.p11.C_DecryptInit(this.session, this.mechanism(purpose, iv), this.key);
      return new Uint8Array(
        this.p11.C_Decrypt(this.session, Buffer.concat([ct, tag]), Buffer.alloc(ct.length + 16)),
      );
    } catch {
      throw new SealError(
        'SEAL_UNSEAL_FAILED',
        `the ${purpose} does not unseal with the token key (${this.kind}): another key, or a blob sealed for another purpose`,
      );
    }
  }

  close(): void {
    try {
      this.p11.C_Logout(this.session);
      this.p11.C_CloseSession(this.session);
    } finally {
      this.p11.C_Finalize();
    }
  }
}

/**
 * The node's sealer from `node.json` `seal` (or `HEALTHLEDGER_KEK`); null when no KEK is configured
 * (an unsealed home: secrets stay as written until a KEK is configured).
 */
export function openSealer(
  home: string,
  seal: SealConfig | undefined,
  env: NodeJS.ProcessEnv = process.env,
): Sealer | null {
  if (seal?.pkcs11 && seal.keyFile !== undefined)
    throw new SealError('SEAL_CONFIG_INVALID', 'node.json seal: give pkcs11 or keyFile, not both');
  if (seal?.pkcs11) return new Pkcs11Sealer(seal.pkcs11, env);
  if (seal?.keyFile !== undefined) {
    const path = isAbsolute(seal.keyFile) ? seal.keyFile : join(home, seal.keyFile);
    if (!existsSync(path))
      throw new SealError(
        'SEAL_KEK_MISSING',
        `node.json seal.keyFile: the key-encryption key ${path} is missing. It is kept outside the ` +
          `home on purpose: restore it from where the operator keeps it (without it the sealed keys are lost)`,
      );
    return new KeyFileSealer(parseKek(readFileSync(path, 'utf8'), `seal.keyFile ${path}`));
  }
  const fromEnv = env[KEK_ENV];
  if (fromEnv !== undefined && fromEnv !== '') return new KeyFileSealer(parseKek(fromEnv, KEK_ENV), 'env');
  return null;
}

/** A sealed home file. */
export interface SealedFile {
  kty: 'sealed';
  purpose: string;
  sealedBy: string;
  data: string;
}

export const isSealedFile = (v: unknown): v is SealedFile =>
  typeof v === 'object' &&
  v !== null &&
  (v as SealedFile).kty === 'sealed' &&
  typeof (v as SealedFile).purpose === 'string' &&
  typeof (v as SealedFile).data === 'string';

/** The text of a sealed file for `content`. */
export function sealedFileText(sealer: Sealer, purpose: string, content: string): string {
  const data = toBase64Url(sealer.seal(purpose, Buffer.from(content, 'utf8')));
  const file: SealedFile = { kty: 'sealed', purpose, sealedBy: sealer.kind, data };
  return JSON.stringify(file) + '\n';
}

/** Unseals a sealed file's content; without a sealer, refuses naming the file and what is missing. */
export function unsealFile(path: string, file: SealedFile, purpose: string, sealer: Sealer | null): string {
  if (file.purpose !== purpose)
    throw new SealError('SEAL_UNSEAL_FAILED', `${path} is sealed as ${file.purpose}, not ${purpose}`);
  if (sealer === null)
    throw new SealError(
      'SEAL_KEK_MISSING',
      `${path} is sealed (by ${file.sealedBy}) but no key-encryption key is configured: set ` +
        `"seal" in node.json (pkcs11 or keyFile) or ${KEK_ENV} to the KEK this home was sealed with`,
    );
  return Buffer.from(sealer.unseal(purpose, fromBase64Url(file.data))).toString('utf8');
}
