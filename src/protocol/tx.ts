/**
 * The transaction envelope: what a client signs and the ledger orders.
 *
 * Wire form: `{ body, sig }` where `sig` is the Ed25519 signature (base64url) over
 * `domainSeparated('healthledger/v1/transaction', JCS(body))`, and the transaction id is the
 * SHA-256 of those same bytes. The id covers chain id, type, payload, signer, nonce and
 * timestamp, so the same signed request can be accepted only once per chain (replay protection),
 * and it excludes the signature, so nobody can mint a second id for a request by re-signing it.
 * See docs/adr/0001-canonical-encoding.md for why JCS.
 * @module
 */
import { randomBytes } from '@noble/hashes/utils.js';
import { fromBase64Url, toBase64Url } from './bytes.js';
import { sign as ed25519Sign, SIGNATURE_LENGTH, type PrivateKey } from './ed25519.js';
import { Domain, domainSeparated, domainSeparatedText, sha256Hex } from './hash.js';
import { canonicalBytes, canonicalize } from './jcs.js';
import type { EnvelopeCodes } from './validation.js';

/** JSON values as carried in payloads. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

/** The signed part of a transaction. */
export interface TxBody {
  /** Envelope version; only 1 exists. */
  v: 1;
  /** The chain this transaction is for (genesis `chainId`). */
  chainId: string;
  /** Contract entry point, e.g. `member.enroll`. */
  type: string;
  /** Contract-specific arguments. */
  payload: JsonObject;
  /** Member id of the signer: `<orgId>/<memberId>`. */
  signer: string;
  /** 16–48 random bytes, base64url: makes otherwise identical requests distinct. */
  nonce: string;
  /** Client's clock (ms since epoch); must be within the policy window of the block's time. */
  timestampMs: number;
}

/** A signed transaction as sent on the wire and stored in blocks. */
export interface SignedTx {
  body: TxBody;
  /** Ed25519 signature, base64url (86 chars). */
  sig: string;
}

export const ID_PATTERN = /^[a-z0-9][a-z0-9._-]{0,63}$/;
export const MEMBER_ID_PATTERN = /^[a-z0-9][a-z0-9._-]{0,63}\/[a-z0-9][a-z0-9._-]{0,63}$/;
export const TX_TYPE_PATTERN = /^[a-z][a-z0-9-]{0,31}(\.[a-z][a-z0-9-]{0,31}){1,3}$/;
const NONCE_PATTERN = /^[A-Za-z0-9_-]{22,64}$/;
const SIG_PATTERN = /^[A-Za-z0-9_-]{86}$/;
const BODY_KEYS = ['chainId', 'nonce', 'payload', 'signer', 'timestampMs', 'type', 'v'];
const BODY_KEY_SET: ReadonlySet<string> = new Set(BODY_KEYS);

/** The exact bytes a signer signs for `body`. */
export function txSigningBytes(body: TxBody): Uint8Array {
  return domainSeparated(Domain.transaction, canonicalBytes(body));
}

/** The transaction id: lower-case hex SHA-256 of the signing bytes. */
export function txIdOf(body: TxBody): string {
  return sha256Hex(txSigningBytes(body));
}

/**
 * Builds a body with a fresh random nonce. `nowMs` is the client's clock. Keys, the payload's
 * included, come out in RFC 8785 order, so the JSON a client sends is already canonical and the
 * node's canonicalization takes its fast path (ADR 0001). Throws `TypeError` if the payload has no
 * JSON form (see {@link canonicalize}).
 */
export function createTxBody(opts: {
  chainId: string;
  type: string;
  payload: JsonObject;
  signer: string;
  nowMs: number;
  nonce?: string;
}): TxBody {
  return {
    chainId: opts.chainId,
    nonce: opts.nonce ?? toBase64Url(randomBytes(16)),
    payload: JSON.parse(canonicalize(opts.payload)) as JsonObject,
    signer: opts.signer,
    timestampMs: opts.nowMs,
    type: opts.type,
    v: 1,
  };
}

/**
 * Signs a body. @example
 * const tx = signTx(createTxBody({ chainId, type: 'anchor.put', payload, signer, nowMs: Date.now() }), key)
 */
export function signTx(body: TxBody, privateKey: PrivateKey): SignedTx {
  return { body, sig: toBase64Url(ed25519Sign(txSigningBytes(body), privateKey)) };
}

/** A structurally valid transaction with everything derived from it. */
export interface DecodedTx {
  tx: SignedTx;
  txId: string;
  signingBytes: Uint8Array;
  signature: Uint8Array;
  /** Canonical JSON (RFC 8785) of the whole `{ body, sig }`: the form stored and ordered. */
  encoded: string;
  /** Length in bytes of the UTF-8 of `encoded`. */
  encodedLength: number;
}

/** Why decoding failed: an envelope validation code and a human-readable reason. */
export interface DecodeFailure {
  code: keyof Pick<typeof EnvelopeCodes, 'MALFORMED_TX' | 'TX_TOO_LARGE'>;
  reason: string;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return (
    typeof v === 'object' && v !== null && !Array.isArray(v) && Object.getPrototypeOf(v) === Object.prototype
  );
}

/**
 * Checks the envelope's shape and encodings (not the signature, signer or chain: those need
 * ledger state and are the executor's job). Pure and deterministic: every node decodes a given
 * input to the same result.
 */
export function decodeTx(input: unknown, maxTxBytes: number): DecodedTx | DecodeFailure {
  const fail = (reason: string): DecodeFailure => ({ code: 'MALFORMED_TX', reason });
  if (!isPlainObject(input)) return fail('transaction must be an object');
  const keys = Object.keys(input);
  if (keys.length !== 2 || !('body' in input) || !('sig' in input))
    return fail('transaction must have exactly { body, sig }');
  const { body, sig } = input;
  if (typeof sig !== 'string' || !SIG_PATTERN.test(sig)) return fail('sig must be 86 base64url characters');
  if (!isPlainObject(body)) return fail('body must be an object');
  if (!hasExactlyBodyKeys(body)) return fail(`body must have exactly the fields ${BODY_KEYS.join(', ')}`);
  if (body['v'] !== 1) return fail('unsupported envelope version');
  if (typeof body['chainId'] !== 'string' || !ID_PATTERN.test(body['chainId']))
    return fail('invalid chainId');
  if (typeof body['type'] !== 'string' || !TX_TYPE_PATTERN.test(body['type'])) return fail('invalid type');
  if (typeof body['signer'] !== 'string' || !MEMBER_ID_PATTERN.test(body['signer']))
    return fail('invalid signer');
  if (typeof body['nonce'] !== 'string' || !NONCE_PATTERN.test(body['nonce'])) return fail('invalid nonce');
  const ts = body['timestampMs'];
  if (typeof ts !== 'number' || !Number.isSafeInteger(ts) || ts < 0) return fail('invalid timestampMs');
  if (!isPlainObject(body['payload'])) return fail('payload must be an object');
  let signature: Uint8Array;
  let bodyJson: string;
  try {
    signature = fromBase64Url(sig);
    bodyJson = canonicalize(body);
  } catch (e) {
    return fail(e instanceof Error ? e.message : 'not canonicalizable');
  }
  if (signature.length !== SIGNATURE_LENGTH) return fail('signature must be 64 bytes');
  // JCS of { body, sig }: keys in order, sig is base64url (no escaping needed), so only the
  // body can hold multi-byte characters.
  const encoded = `{"body":${bodyJson},"sig":"${sig}"}`;
  const signingBytes = domainSeparatedText(Domain.transaction, bodyJson);
  const encodedLength = signingBytes.length - TX_TAG_BYTES + ENVELOPE_BYTES + sig.length;
  if (encodedLength > maxTxBytes)
    return { code: 'TX_TOO_LARGE', reason: `transaction is ${encodedLength} bytes; limit is ${maxTxBytes}` };
  const tx = input as unknown as SignedTx;
  return { tx, txId: sha256Hex(signingBytes), signingBytes, signature, encoded, encodedLength };
}

/** Bytes of the transaction tag and its NUL in signing bytes. */
const TX_TAG_BYTES = Domain.transaction.length + 1;
/** Bytes of `{"body":`, `,"sig":"` and `"}` around the body and signature when encoded. */
const ENVELOPE_BYTES = '{"body":'.length + ',"sig":"'.length + '"}'.length;

/** True if `body`'s own keys are exactly {@link BODY_KEYS} (any order). */
function hasExactlyBodyKeys(body: Record<string, unknown>): boolean {
  let n = 0;
  for (const key in body) {
    if (!Object.prototype.hasOwnProperty.call(body, key) || !BODY_KEY_SET.has(key)) return false;
    n++;
  }
  return n === BODY_KEYS.length && Object.getOwnPropertySymbols(body).length === 0;
}

/** True if `r` is a decoding failure. */
export function isDecodeFailure(r: DecodedTx | DecodeFailure): r is DecodeFailure {
  return 'code' in r;
}

/**
 * Decodes a transaction as carried in an ordered batch: canonical JSON text. Anything else
 * (unparsable, non-canonical, oversized) is a failure, so every node sees the same bytes.
 */
export function decodeRawTx(raw: string, maxTxBytes: number): DecodedTx | DecodeFailure {
  if (raw.length > maxTxBytes)
    return { code: 'TX_TOO_LARGE', reason: `transaction exceeds ${maxTxBytes} bytes` };
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return { code: 'MALFORMED_TX', reason: 'not JSON' };
  }
  const decoded = decodeTx(parsed, maxTxBytes);
  if (isDecodeFailure(decoded)) return decoded;
  if (decoded.encoded !== raw) return { code: 'MALFORMED_TX', reason: 'not in canonical (RFC 8785) form' };
  return decoded;
}
