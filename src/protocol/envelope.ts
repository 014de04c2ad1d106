/**
 * Per-record envelope encryption for off-chain FHIR records. Browser-safe: WebCrypto
 * (`globalThis.crypto.subtle`) and `@hpke/core` only, no Node APIs.
 *
 * Construction (one envelope per record version):
 * - **Content.** A fresh random 256-bit data key per record encrypts the plaintext once with
 *   AES-256-GCM (NIST SP 800-38D; `AEAD_AES_256_GCM`, RFC 5116 §5.2) under a random 96-bit nonce
 *   (SP 800-38D §8.2.2) and a 128-bit tag. The caller's `aad` (e.g. record id, version and patient
 *   pseudonym) is authenticated, so a ciphertext cannot be moved to another record. A data key
 *   encrypts exactly one message, so a random nonce can never repeat under it.
 * - **Key wrapping.** The data key is wrapped for each recipient with HPKE base mode
 *   (RFC 9180 §5.1.1, single-shot API §6.1): DHKEM(X25519, HKDF-SHA256) (§4.1, §7.1; KEM 0x0020),
 *   HKDF-SHA256 (RFC 5869; KDF 0x0001), AES-256-GCM (AEAD 0x0002). HPKE `info` is
 *   `"healthledger/v1/record-key" || 0x00 || utf8(recipientId)` (§8.1: binds the key to who it is
 *   for) and the HPKE AAD is the record `aad`, so a wrapped key copied from another record or
 *   relabelled for another recipient fails to open.
 * - **Recipient keys** are X25519 (RFC 7748 §5), 32 bytes each. An all-zero shared secret (a
 *   low-order public key or `enc`) is rejected as RFC 7748 §6.1 and RFC 9180 §7.1.4 require.
 *
 * Every decryption failure is reported as one code, `DECRYPT_FAILED`, whichever part failed (wrong
 * key, wrong aad, altered nonce, ciphertext, tag, `enc` or wrapped key), so errors are not an
 * oracle.
 *
 * **Crypto-shredding.** The ciphertext is only as recoverable as its data key. Once every wrapped
 * copy of the data key (every envelope, backup and replica that holds a `keys` entry, see
 * {@link forgetRecipient}) and the custodian's X25519 private key are destroyed, the ciphertext is
 * unrecoverable, even though it may survive in backups; this is how erasure is done for records
 * whose hashes stay on the immutable ledger.
 *
 * Not provided: sender authentication (base mode: anyone with the recipients' public keys can
 * seal an envelope; authenticity comes from the signed ledger transaction that anchors it) and key
 * commitment (AES-GCM is not key-committing, so a malicious sealer could make different
 * recipients decrypt different plaintexts; anchor a plaintext hash on-chain where that matters).
 * @module
 */
import { Aes256Gcm, CipherSuite, DhkemX25519HkdfSha256, HkdfSha256 } from '@hpke/core';
import { concatBytes, fromBase64Url, fromUtf8, toBase64Url, utf8 } from './bytes.js';

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

/**
 * Every {@link EnvelopeErrorCode} with its one-line meaning (for docs/errors.md).
 * @example EnvelopeErrorCodes.DECRYPT_FAILED // 'The record could not be decrypted ...'
 */
export const EnvelopeErrorCodes = {
  NO_KEY_FOR_RECIPIENT: 'The envelope holds no wrapped data key for this recipient id.',
  DECRYPT_FAILED:
    'The record could not be decrypted (wrong key, wrong aad, or an altered envelope); which part failed is not revealed.',
  MALFORMED_ENVELOPE:
    'The sealed record is not well-formed (version, algorithm, fields, base64url, lengths or duplicate recipients).',
  BAD_KEY:
    'An X25519 key is not 32 bytes or is unusable (a low-order public key gives an all-zero shared secret).',
  BAD_RECIPIENT:
    'The recipient list is empty or has a duplicate, empty, over-long (> 256 bytes) or ill-formed id.',
} as const satisfies Record<string, string>;

/** A machine-readable envelope error code. @example const c: EnvelopeErrorCode = 'BAD_KEY' */
export type EnvelopeErrorCode = keyof typeof EnvelopeErrorCodes;

/**
 * The one error thrown by this module; switch on `code`, not on the message.
 * @example
 * try { await openRecord(sealed, 'org1/alice', sk, aad) } catch (e) {
 *   if (e instanceof EnvelopeError && e.code === 'DECRYPT_FAILED') { ... }
 * }
 */
export class EnvelopeError extends Error {
  override readonly name = 'EnvelopeError';
  /** Machine-readable reason, see {@link EnvelopeErrorCodes}. */
  readonly code: EnvelopeErrorCode;

  /** @param code why it failed; @param message optional detail (never secret material). */
  constructor(code: EnvelopeErrorCode, message?: string) {
    super(message === undefined ? `${code}: ${EnvelopeErrorCodes[code]}` : `${code}: ${message}`);
    this.code = code;
  }
}

// ---------------------------------------------------------------------------------------------
// Types and constants
// ---------------------------------------------------------------------------------------------

/** Length of X25519 private and public keys (RFC 7748 §5). @example X25519_KEY_LENGTH // 32 */
export const X25519_KEY_LENGTH = 32;

/** Domain tag prefixed to the HPKE `info` of every wrapped record key. @example RECORD_KEY_DOMAIN */
export const RECORD_KEY_DOMAIN = 'healthledger/v1/record-key';

/** Longest recipient id accepted, in UTF-8 bytes. @example MAX_RECIPIENT_ID_BYTES // 256 */
export const MAX_RECIPIENT_ID_BYTES = 256;

/** An X25519 key pair (raw 32-byte encodings). @example const kp: EncryptionKeyPair = await generateEncryptionKeyPair() */
export interface EncryptionKeyPair {
  /** 32-byte X25519 scalar (RFC 7748 §5); never leaves its owner unwrapped. */
  privateKey: Uint8Array;
  /** 32-byte X25519 u-coordinate. */
  publicKey: Uint8Array;
}

/** A recipient of a record: a member id and its X25519 public key. @example { id: 'org1/alice', publicKey } */
export interface Recipient {
  id: string;
  publicKey: Uint8Array;
}

/**
 * The data key wrapped for one recipient: HPKE `enc` (the ephemeral X25519 public key, 32 bytes)
 * and the AES-256-GCM-sealed data key (32 + 16 bytes), both base64url.
 * @example { recipient: 'org1/alice', enc: 'N_2jVn...', wrapped: 'q0x...' }
 */
export interface WrappedKey {
  recipient: string;
  enc: string;
  wrapped: string;
}

/**
 * A sealed record, JSON-friendly (unpadded base64url, RFC 4648 §5). `ciphertext` is the
 * AES-256-GCM ciphertext followed by its 16-byte tag.
 * @example JSON.stringify(await sealRecord(pt, [{ id, publicKey }], aad))
 */
export interface SealedRecord {
  v: 1;
  alg: 'A256GCM';
  nonce: string;
  ciphertext: string;
  keys: WrappedKey[];
}

const DATA_KEY_LENGTH = 32;
const NONCE_LENGTH = 12;
const TAG_LENGTH = 16;
const WRAPPED_LENGTH = DATA_KEY_LENGTH + TAG_LENGTH;

// RFC 9180 §7: KEM 0x0020, KDF 0x0001, AEAD 0x0002.
const suite = new CipherSuite({
  kem: new DhkemX25519HkdfSha256(),
  kdf: new HkdfSha256(),
  aead: new Aes256Gcm(),
});

const RECORD_KEY_TAG = concatBytes(utf8(RECORD_KEY_DOMAIN), new Uint8Array([0]));

function subtle(): SubtleCrypto {
  const s = globalThis.crypto?.subtle;
  if (!s) throw new Error('WebCrypto (globalThis.crypto.subtle) is not available');
  return s;
}

/** A copy backed by a plain ArrayBuffer, as WebCrypto's `BufferSource` requires. */
function ab(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return new Uint8Array(bytes);
}

function randomBytes(n: number): Uint8Array<ArrayBuffer> {
  return globalThis.crypto.getRandomValues(new Uint8Array(n));
}

function checkBytes(value: unknown, name: string): asserts value is Uint8Array {
  if (!(value instanceof Uint8Array)) throw new TypeError(`${name} must be a Uint8Array`);
}

function checkRecipientId(id: unknown): asserts id is string {
  if (typeof id !== 'string' || id.length === 0)
    throw new EnvelopeError('BAD_RECIPIENT', 'recipient id must be a non-empty string');
  const bytes = utf8(id);
  let wellFormed = bytes.length <= MAX_RECIPIENT_ID_BYTES;
  if (wellFormed) {
    try {
      wellFormed = fromUtf8(bytes) === id; // lone surrogates do not round-trip
    } catch {
      wellFormed = false;
    }
  }
  if (!wellFormed)
    throw new EnvelopeError('BAD_RECIPIENT', 'recipient id is over-long or not well-formed UTF-16');
}

function checkKey(key: unknown, what: string): asserts key is Uint8Array {
  if (!(key instanceof Uint8Array) || key.length !== X25519_KEY_LENGTH)
    throw new EnvelopeError('BAD_KEY', `${what} must be a ${X25519_KEY_LENGTH}-byte Uint8Array`);
}

/** HPKE `info` (RFC 9180 §5.1): domain tag, NUL, recipient id. The tag has no NUL: unambiguous. */
function recordKeyInfo(recipientId: string): Uint8Array<ArrayBuffer> {
  return ab(concatBytes(RECORD_KEY_TAG, utf8(recipientId)));
}

function decodeField(s: unknown, name: string, length?: number, minLength = 0): Uint8Array {
  if (typeof s !== 'string') throw new EnvelopeError('MALFORMED_ENVELOPE', `${name} must be a string`);
  let bytes: Uint8Array;
  try {
    bytes = fromBase64Url(s);
  } catch {
    throw new EnvelopeError('MALFORMED_ENVELOPE', `${name} is not canonical base64url`);
  }
  if ((length !== undefined && bytes.length !== length) || bytes.length < minLength)
    throw new EnvelopeError('MALFORMED_ENVELOPE', `${name} has the wrong length`);
  return bytes;
}

function hasExactKeys(o: object, keys: readonly string[]): boolean {
  const own = Object.keys(o);
  return own.length === keys.length && keys.every((k) => Object.hasOwn(o, k));
}

/**
 * Checks that `value` is a well-formed {@link SealedRecord} (exact fields, v 1, A256GCM, canonical
 * base64url, a 12-byte nonce, a ciphertext of at least one tag, 32-byte `enc`, 48-byte `wrapped`,
 * distinct recipient ids) and returns a deep copy; throws `MALFORMED_ENVELOPE` otherwise. Every
 * function here calls it on its input, so envelopes straight from `JSON.parse` are safe to pass.
 * @example const sealed = parseSealedRecord(JSON.parse(text))
 */
export function parseSealedRecord(value: unknown): SealedRecord {
  const bad = (why: string): never => {
    throw new EnvelopeError('MALFORMED_ENVELOPE', why);
  };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) bad('not an object');
  const o = value as Record<string, unknown>;
  if (!hasExactKeys(o, ['v', 'alg', 'nonce', 'ciphertext', 'keys'])) bad('unexpected or missing fields');
  if (o['v'] !== 1) bad('unsupported version');
  if (o['alg'] !== 'A256GCM') bad('unsupported algorithm');
  decodeField(o['nonce'], 'nonce', NONCE_LENGTH);
  decodeField(o['ciphertext'], 'ciphertext', undefined, TAG_LENGTH);
  const keys = o['keys'];
  if (!Array.isArray(keys)) return bad('keys must be an array');
  const seen = new Set<string>();
  const outKeys: WrappedKey[] = [];
  for (const k of keys as unknown[]) {
    if (typeof k !== 'object' || k === null || Array.isArray(k)) bad('key entry is not an object');
    const e = k as Record<string, unknown>;
    if (!hasExactKeys(e, ['recipient', 'enc', 'wrapped'])) bad('key entry has unexpected or missing fields');
    const recipient = e['recipient'];
    try {
      checkRecipientId(recipient);
    } catch {
      bad('key entry has an invalid recipient id');
    }
    const id = recipient as string;
    if (seen.has(id)) bad('duplicate recipient');
    seen.add(id);
    decodeField(e['enc'], 'enc', X25519_KEY_LENGTH);
    decodeField(e['wrapped'], 'wrapped', WRAPPED_LENGTH);
    outKeys.push({ recipient: id, enc: e['enc'] as string, wrapped: e['wrapped'] as string });
  }
  return {
    v: 1,
    alg: 'A256GCM',
    nonce: o['nonce'] as string,
    ciphertext: o['ciphertext'] as string,
    keys: outKeys,
  };
}

// ---------------------------------------------------------------------------------------------
// Key pairs and key wrapping (RFC 9180)
// ---------------------------------------------------------------------------------------------

/**
 * A fresh X25519 key pair (RFC 7748 §5) from the platform CSPRNG, as raw 32-byte strings.
 * @example const { privateKey, publicKey } = await generateEncryptionKeyPair()
 */
export async function generateEncryptionKeyPair(): Promise<EncryptionKeyPair> {
  const pair = await suite.kem.generateKeyPair();
  const privateKey = new Uint8Array(await suite.kem.serializePrivateKey(pair.privateKey));
  const publicKey = new Uint8Array(await suite.kem.serializePublicKey(pair.publicKey));
  if (privateKey.length !== X25519_KEY_LENGTH || publicKey.length !== X25519_KEY_LENGTH)
    throw new Error('unexpected X25519 key encoding');
  return { privateKey, publicKey };
}

/** HPKE base-mode single-shot seal (RFC 9180 §6.1) of the data key to one recipient. */
async function wrapFor(dataKey: Uint8Array, to: Recipient, aad: Uint8Array): Promise<WrappedKey> {
  let recipientPublicKey: CryptoKey;
  try {
    recipientPublicKey = await suite.kem.deserializePublicKey(ab(to.publicKey));
  } catch {
    throw new EnvelopeError('BAD_KEY', `public key of ${JSON.stringify(to.id)} is not usable`);
  }
  try {
    const { enc, ct } = await suite.seal(
      { recipientPublicKey, info: recordKeyInfo(to.id) },
      ab(dataKey),
      ab(aad),
    );
    return {
      recipient: to.id,
      enc: toBase64Url(new Uint8Array(enc)),
      wrapped: toBase64Url(new Uint8Array(ct)),
    };
  } catch {
    // DH with a low-order point gives an all-zero secret, rejected (RFC 9180 §7.1.4).
    throw new EnvelopeError('BAD_KEY', `public key of ${JSON.stringify(to.id)} is not usable`);
  }
}

/**
 * Unwraps the 32-byte data key of `sealed` for `recipientId` (HPKE base-mode open, RFC 9180 §6.1)
 * without decrypting the content: use it to decrypt content elsewhere (e.g. a blob) and zero it
 * afterwards. It does not prove the key matches the content; {@link openRecord} does.
 * Throws `NO_KEY_FOR_RECIPIENT`, `BAD_KEY`, `MALFORMED_ENVELOPE` or `DECRYPT_FAILED`.
 * @example const dataKey = await unwrapDataKey(sealed, 'org1/custodian', sk, aad)
 */
export async function unwrapDataKey(
  sealed: SealedRecord,
  recipientId: string,
  privateKey: Uint8Array,
  aad: Uint8Array,
): Promise<Uint8Array> {
  const env = parseSealedRecord(sealed);
  checkKey(privateKey, 'private key');
  checkBytes(aad, 'aad');
  const entry = env.keys.find((k) => k.recipient === recipientId);
  if (!entry)
    throw new EnvelopeError('NO_KEY_FOR_RECIPIENT', `no wrapped key for ${JSON.stringify(recipientId)}`);
  let recipientKey: CryptoKey;
  try {
    recipientKey = await suite.kem.deserializePrivateKey(ab(privateKey));
  } catch {
    throw new EnvelopeError('BAD_KEY', 'private key is not usable');
  }
  let opened: ArrayBuffer;
  try {
    opened = await suite.open(
      { recipientKey, enc: ab(fromBase64Url(entry.enc)), info: recordKeyInfo(entry.recipient) },
      ab(fromBase64Url(entry.wrapped)),
      ab(aad),
    );
  } catch {
    throw new EnvelopeError('DECRYPT_FAILED');
  }
  const dataKey = new Uint8Array(opened);
  if (dataKey.length !== DATA_KEY_LENGTH) {
    dataKey.fill(0);
    throw new EnvelopeError('DECRYPT_FAILED');
  }
  return dataKey;
}

// ---------------------------------------------------------------------------------------------
// Content encryption (AES-256-GCM, NIST SP 800-38D)
// ---------------------------------------------------------------------------------------------

async function importDataKey(dataKey: Uint8Array, usage: 'encrypt' | 'decrypt'): Promise<CryptoKey> {
  return subtle().importKey('raw', ab(dataKey), { name: 'AES-GCM' }, false, [usage]);
}

async function decryptContent(env: SealedRecord, dataKey: Uint8Array, aad: Uint8Array): Promise<Uint8Array> {
  try {
    const key = await importDataKey(dataKey, 'decrypt');
    const pt = await subtle().decrypt(
      { name: 'AES-GCM', iv: ab(fromBase64Url(env.nonce)), additionalData: ab(aad), tagLength: 128 },
      key,
      ab(fromBase64Url(env.ciphertext)),
    );
    return new Uint8Array(pt);
  } catch {
    throw new EnvelopeError('DECRYPT_FAILED');
  }
}

/**
 * Encrypts one record for one or more recipients: a fresh random 256-bit data key, AES-256-GCM
 * with a random 96-bit nonce and `aad` bound (SP 800-38D §8.2.2), and the data key wrapped for each
 * recipient with HPKE (RFC 9180 §5.1.1). Throws `BAD_RECIPIENT` or `BAD_KEY`.
 * @example
 * const aad = utf8(`${recordId}|${version}|${patientPseudonym}`);
 * const sealed = await sealRecord(utf8(JSON.stringify(resource)), [{ id: 'org1/custodian', publicKey }], aad);
 */
export async function sealRecord(
  plaintext: Uint8Array,
  recipients: Recipient[],
  aad: Uint8Array,
): Promise<SealedRecord> {
  const { sealed, dataKey } = await sealRecordWithKey(plaintext, recipients, aad);
  dataKey.fill(0);
  return sealed;
}

/**
 * {@link sealRecord}, also returning the data key, for a custodian that keeps its own fast
 * symmetric copy ({@link wrapKey}). The caller must zero `dataKey` after use.
 */
export async function sealRecordWithKey(
  plaintext: Uint8Array,
  recipients: Recipient[],
  aad: Uint8Array,
): Promise<{ sealed: SealedRecord; dataKey: Uint8Array }> {
  checkBytes(plaintext, 'plaintext');
  checkBytes(aad, 'aad');
  if (!Array.isArray(recipients) || recipients.length === 0)
    throw new EnvelopeError('BAD_RECIPIENT', 'at least one recipient is required');
  const ids = new Set<string>();
  for (const r of recipients) {
    checkRecipientId(r.id);
    if (ids.has(r.id))
      throw new EnvelopeError('BAD_RECIPIENT', `duplicate recipient ${JSON.stringify(r.id)}`);
    ids.add(r.id);
    checkKey(r.publicKey, `public key of ${JSON.stringify(r.id)}`);
  }
  const dataKey = randomBytes(DATA_KEY_LENGTH);
  try {
    const nonce = randomBytes(NONCE_LENGTH);
    const key = await importDataKey(dataKey, 'encrypt');
    const ct = await subtle().encrypt(
      { name: 'AES-GCM', iv: nonce, additionalData: ab(aad), tagLength: 128 },
      key,
      ab(plaintext),
    );
    const keys = await Promise.all(recipients.map((r) => wrapFor(dataKey, r, aad)));
    const sealed: SealedRecord = {
      v: 1,
      alg: 'A256GCM',
      nonce: toBase64Url(nonce),
      ciphertext: toBase64Url(new Uint8Array(ct)),
      keys,
    };
    return { sealed, dataKey };
  } catch (e) {
    dataKey.fill(0);
    throw e;
  }
}

/**
 * Decrypts a sealed record as `recipientId` with its X25519 private key and the record's `aad`.
 * Throws `NO_KEY_FOR_RECIPIENT`, `BAD_KEY`, `MALFORMED_ENVELOPE`, or `DECRYPT_FAILED` for any
 * authentication failure (never saying which part failed).
 * @example const pt = await openRecord(sealed, 'org1/custodian', privateKey, aad)
 */
export async function openRecord(
  sealed: SealedRecord,
  recipientId: string,
  privateKey: Uint8Array,
  aad: Uint8Array,
): Promise<Uint8Array> {
  const env = parseSealedRecord(sealed);
  const dataKey = await unwrapDataKey(env, recipientId, privateKey, aad);
  try {
    return await decryptContent(env, dataKey, aad);
  } finally {
    dataKey.fill(0);
  }
}

/**
 * Releases a record to a new recipient without re-encrypting the content: unwraps the data key as
 * `fromId`, checks it decrypts the content under `aad`, wraps it for `to` (RFC 9180 §5.1.1) and
 * returns a new envelope with `to`'s entry added (or replaced). The input is not modified.
 * This is what the custodian's gatekeeper does when consent allows a requester to read a record.
 * @example const released = await rewrapFor(sealed, 'org1/custodian', custodianSk, { id: 'org2/dr-bob', publicKey }, aad)
 */
export async function rewrapFor(
  sealed: SealedRecord,
  fromId: string,
  fromPrivateKey: Uint8Array,
  to: Recipient,
  aad: Uint8Array,
): Promise<SealedRecord> {
  const env = parseSealedRecord(sealed);
  checkRecipientId(to.id);
  checkKey(to.publicKey, `public key of ${JSON.stringify(to.id)}`);
  const dataKey = await unwrapDataKey(env, fromId, fromPrivateKey, aad);
  try {
    (await decryptContent(env, dataKey, aad)).fill(0); // never release a key that does not fit
    const entry = await wrapFor(dataKey, to, aad);
    const i = env.keys.findIndex((k) => k.recipient === to.id);
    const keys = env.keys.slice();
    if (i >= 0) keys[i] = entry;
    else keys.push(entry);
    return { ...env, keys };
  } finally {
    dataKey.fill(0);
  }
}

/**
 * A copy of `sealed` without `id`'s wrapped key (idempotent: unchanged if `id` has none). This
 * revokes future access through this copy only; it cannot claw back plaintext or copies already
 * released. Removing the last entry (and destroying other copies) crypto-shreds the record.
 * @example const revoked = forgetRecipient(sealed, 'org2/dr-bob')
 */
export function forgetRecipient(sealed: SealedRecord, id: string): SealedRecord {
  const env = parseSealedRecord(sealed);
  return { ...env, keys: env.keys.filter((k) => k.recipient !== id) };
}

/**
 * The additional authenticated data binding a record envelope to its record id, version and
 * patient, so a ciphertext cannot be passed off as another record's.
 * @example openRecord(sealed, me, sk, recordAad('rec-1', 2, 'st-mary/p-7f3a'))
 */
export function recordAad(id: string, version: number, patient: string): Uint8Array {
  return new TextEncoder().encode(`healthledger/v1/record|${id}|${version}|${patient}`);
}

// ---------------------------------------------------------------------------------------------
// Symmetric key wrapping and release bundles
//
// HPKE costs one X25519 operation per wrap or unwrap. A custodian keeps a second copy of each
// data key wrapped under a symmetric key-encryption key (AES-256-GCM, RFC 5116), and a release
// wraps one fresh release key to the requester with HPKE and each record's data key under the
// release key: one public-key operation per release instead of two per record.
// ---------------------------------------------------------------------------------------------

const WRAP_NONCE_LENGTH = 12;
const RELEASE_AAD = utf8('healthledger/v1/release-key');

/** A key-encryption key imported once for many {@link wrapKey}/{@link unwrapKey} calls. */
export async function importWrappingKey(kek: Uint8Array): Promise<CryptoKey> {
  if (kek.length !== 32) throw new EnvelopeError('BAD_KEY', 'key-encryption key must be 32 bytes');
  return subtle().importKey('raw', ab(kek), { name: 'AES-GCM' }, false, ['encrypt', 'decrypt']);
}

const asWrappingKey = (kek: Uint8Array | CryptoKey): Promise<CryptoKey> =>
  kek instanceof Uint8Array ? importWrappingKey(kek) : Promise.resolve(kek);

/** AES-256-GCM wrap of a 32-byte key under a key-encryption key; `aad` binds it. Returns base64url(nonce ‖ ct ‖ tag). */
export async function wrapKey(
  kek: Uint8Array | CryptoKey,
  key: Uint8Array,
  aad: Uint8Array,
): Promise<string> {
  if (key.length !== DATA_KEY_LENGTH) throw new EnvelopeError('BAD_KEY', 'keys must be 32 bytes');
  const nonce = randomBytes(WRAP_NONCE_LENGTH);
  const ct = await subtle().encrypt(
    { name: 'AES-GCM', iv: nonce, additionalData: ab(aad), tagLength: 128 },
    await asWrappingKey(kek),
    ab(key),
  );
  return toBase64Url(concatBytes(nonce, new Uint8Array(ct)));
}

/** Inverse of {@link wrapKey}; `DECRYPT_FAILED` for a wrong key, aad or any altered byte. */
export async function unwrapKey(
  kek: Uint8Array | CryptoKey,
  wrapped: string,
  aad: Uint8Array,
): Promise<Uint8Array> {
  const bytes = decodeField(wrapped, 'wrapped key', WRAP_NONCE_LENGTH + DATA_KEY_LENGTH + TAG_LENGTH);
  const k = await asWrappingKey(kek);
  try {
    const pt = await subtle().decrypt(
      {
        name: 'AES-GCM',
        iv: ab(bytes.subarray(0, WRAP_NONCE_LENGTH)),
        additionalData: ab(aad),
        tagLength: 128,
      },
      k,
      ab(bytes.subarray(WRAP_NONCE_LENGTH)),
    );
    return new Uint8Array(pt);
  } catch {
    throw new EnvelopeError('DECRYPT_FAILED');
  }
}

/** Decrypts a sealed record's content with its data key (from {@link unwrapKey} or {@link unwrapDataKey}). */
export async function openWithDataKey(
  sealed: SealedRecord,
  dataKey: Uint8Array,
  aad: Uint8Array,
): Promise<Uint8Array> {
  return decryptContent(parseSealedRecord(sealed), dataKey, aad);
}

/** One record in a release: its content ciphertext and its data key wrapped under the release key. */
export interface ReleasedItem {
  id: string;
  version: number;
  resourceType: string;
  nonce: string;
  ciphertext: string;
  /** {@link wrapKey}(releaseKey, dataKey, recordAad(id, version, patient)). */
  key: string;
}

/** What a custodian releases to one requester: one HPKE-wrapped release key, then the records. */
export interface ReleaseBundle {
  v: 1;
  recipient: string;
  patient: string;
  /** The release key, HPKE-wrapped to the recipient (RFC 9180 base mode). */
  releaseKey: WrappedKey;
  records: ReleasedItem[];
}

/** Builds a release for `to` from records and their data keys (the caller zeroes the keys). */
export async function sealRelease(
  to: Recipient,
  patient: string,
  items: readonly {
    id: string;
    version: number;
    resourceType: string;
    sealed: SealedRecord;
    dataKey: Uint8Array;
  }[],
): Promise<ReleaseBundle> {
  checkRecipientId(to.id);
  checkKey(to.publicKey, `public key of ${JSON.stringify(to.id)}`);
  const releaseKey = randomBytes(DATA_KEY_LENGTH);
  try {
    const records: ReleasedItem[] = [];
    for (const it of items)
      records.push({
        id: it.id,
        version: it.version,
        resourceType: it.resourceType,
        nonce: it.sealed.nonce,
        ciphertext: it.sealed.ciphertext,
        key: await wrapKey(releaseKey, it.dataKey, recordAad(it.id, it.version, patient)),
      });
    return {
      v: 1,
      recipient: to.id,
      patient,
      releaseKey: await wrapFor(releaseKey, to, RELEASE_AAD),
      records,
    };
  } finally {
    releaseKey.fill(0);
  }
}

/**
 * HPKE-wraps a release key to its recipient (what {@link sealRelease} does once per release), for
 * custodians that wrap the per-record keys with a native AES-GCM in the same {@link wrapKey} format.
 */
export async function wrapReleaseKey(releaseKey: Uint8Array, to: Recipient): Promise<WrappedKey> {
  checkRecipientId(to.id);
  checkKey(to.publicKey, `public key of ${JSON.stringify(to.id)}`);
  return wrapFor(releaseKey, to, RELEASE_AAD);
}

interface NodeDecipher {
  setAAD(aad: Uint8Array): void;
  setAuthTag(tag: Uint8Array): void;
  update(data: Uint8Array): Uint8Array;
  final(): Uint8Array;
}

/**
 * On Node, OpenSSL's synchronous AES-GCM, found at run time without importing a Node module (this
 * file stays browser-safe); undefined in browsers, which use WebCrypto. Same algorithm, same bytes.
 */
const nodeDecipher: ((key: Uint8Array, iv: Uint8Array) => NodeDecipher) | undefined = (() => {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  const mod = proc?.getBuiltinModule?.('node:crypto') as
    { createDecipheriv?: (alg: string, key: Uint8Array, iv: Uint8Array) => NodeDecipher } | undefined;
  const create = mod?.createDecipheriv;
  return create ? (key, iv) => create('aes-256-gcm', key, iv) : undefined;
})();

/** AES-256-GCM open of `nonce`/`ct‖tag` with native OpenSSL; throws DECRYPT_FAILED on any mismatch. */
function openNative(
  open: NonNullable<typeof nodeDecipher>,
  key: Uint8Array,
  nonce: Uint8Array,
  sealed: Uint8Array,
  aad: Uint8Array,
): Uint8Array {
  if (sealed.length < TAG_LENGTH) throw new EnvelopeError('DECRYPT_FAILED');
  try {
    const d = open(key, nonce);
    d.setAAD(aad);
    d.setAuthTag(sealed.subarray(sealed.length - TAG_LENGTH));
    const a = d.update(sealed.subarray(0, sealed.length - TAG_LENGTH));
    const b = d.final();
    return concatBytes(a, b);
  } catch {
    throw new EnvelopeError('DECRYPT_FAILED');
  }
}

/** Opens a release as its recipient: plaintext per record, in order. `DECRYPT_FAILED` on any tampering. */
export async function openRelease(
  bundle: ReleaseBundle,
  recipientId: string,
  privateKey: Uint8Array,
): Promise<{ id: string; version: number; resourceType: string; plaintext: Uint8Array }[]> {
  if (bundle?.v !== 1 || bundle.recipient !== recipientId || !Array.isArray(bundle.records))
    throw new EnvelopeError('MALFORMED_ENVELOPE', 'not a release for this recipient');
  const carrier: SealedRecord = {
    v: 1,
    alg: 'A256GCM',
    nonce: toBase64Url(new Uint8Array(NONCE_LENGTH)),
    ciphertext: toBase64Url(new Uint8Array(TAG_LENGTH)),
    keys: [bundle.releaseKey],
  };
  const releaseKey = await unwrapDataKey(carrier, recipientId, privateKey, RELEASE_AAD);
  try {
    if (nodeDecipher !== undefined) {
      // Native, synchronous: no per-record WebCrypto round trip (hundreds of records in a release).
      return bundle.records.map((r) => {
        const aad = recordAad(r.id, r.version, bundle.patient);
        const wrapped = decodeField(r.key, 'wrapped key', WRAP_NONCE_LENGTH + DATA_KEY_LENGTH + TAG_LENGTH);
        const dataKey = openNative(
          nodeDecipher,
          releaseKey,
          wrapped.subarray(0, WRAP_NONCE_LENGTH),
          wrapped.subarray(WRAP_NONCE_LENGTH),
          aad,
        );
        try {
          const plaintext = openNative(
            nodeDecipher,
            dataKey,
            decodeField(r.nonce, 'nonce', NONCE_LENGTH),
            decodeField(r.ciphertext, 'ciphertext', undefined, TAG_LENGTH),
            aad,
          );
          return { id: r.id, version: r.version, resourceType: r.resourceType, plaintext };
        } finally {
          dataKey.fill(0);
        }
      });
    }
    const k = await importWrappingKey(releaseKey);
    return await Promise.all(
      bundle.records.map(async (r) => {
        const aad = recordAad(r.id, r.version, bundle.patient);
        const dataKey = await unwrapKey(k, r.key, aad);
        try {
          const plaintext = await decryptContent(
            { v: 1, alg: 'A256GCM', nonce: r.nonce, ciphertext: r.ciphertext, keys: [] },
            dataKey,
            aad,
          );
          return { id: r.id, version: r.version, resourceType: r.resourceType, plaintext };
        } finally {
          dataKey.fill(0);
        }
      }),
    );
  } finally {
    releaseKey.fill(0);
  }
}
