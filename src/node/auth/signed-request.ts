/**
 * Off-ledger requests signed like transactions. Writing a record or fetching released records
 * must not put health data on the chain, but must be as attributable as a transaction: the
 * client signs the same `{ body, sig }` envelope (chain id, type, payload, signer, nonce, time)
 * and the custodian checks it exactly as the executor would — membership, revocation, strict
 * Ed25519, time window — and refuses a replayed request id.
 * @module
 */
import { fromBase64Url, fromUtf8 } from '../../protocol/bytes.js';
import { HealthLedgerError } from '../../protocol/errors.js';
import { decodeTx, isDecodeFailure, type DecodedTx } from '../../protocol/tx.js';
import { readMember, type MemberRecord } from '../../contracts/contract.js';
import { verifySodium } from '../crypto/ed25519-native.js';

export interface SignedRequestContext {
  chainId: string;
  getState: (key: string) => string | undefined;
  nowMs: number;
  windowMs: number;
  maxBytes: number;
  /** Records the id; false if it was seen before (replay). */
  rememberRequest: (id: string, nowMs: number) => boolean;
}

/** A verified request: who signed it, and what. */
export interface VerifiedRequest {
  decoded: DecodedTx;
  signer: MemberRecord;
  payload: Record<string, unknown>;
}

/** Verifies a signed request of `type`; throws HealthLedgerError with a documented code. */
export function verifySignedRequest(
  input: unknown,
  type: string,
  ctx: SignedRequestContext,
): VerifiedRequest {
  const d = decodeTx(input, ctx.maxBytes);
  if (isDecodeFailure(d)) throw new HealthLedgerError(d.code, d.reason);
  const body = d.tx.body;
  if (body.chainId !== ctx.chainId) throw new HealthLedgerError('WRONG_CHAIN_ID');
  if (body.type !== type) throw new HealthLedgerError('MALFORMED_TX', `expected a signed ${type} request`);
  const signer = readMember(ctx.getState, body.signer);
  if (signer === undefined) throw new HealthLedgerError('UNKNOWN_SIGNER');
  if (!verifySodium(d.signature, d.signingBytes, fromBase64Url(signer.publicKey)))
    throw new HealthLedgerError('BAD_SIGNATURE');
  if (signer.revokedAtHeight !== null) throw new HealthLedgerError('SIGNER_REVOKED');
  if (ctx.nowMs < signer.notBeforeMs || ctx.nowMs > signer.notAfterMs)
    throw new HealthLedgerError('CERT_EXPIRED');
  if (Math.abs(body.timestampMs - ctx.nowMs) > ctx.windowMs)
    throw new HealthLedgerError('TIMESTAMP_OUT_OF_WINDOW');
  if (!ctx.rememberRequest(d.txId, ctx.nowMs))
    throw new HealthLedgerError('DUPLICATE_TX', 'this signed request was already used');
  return { decoded: d, signer, payload: body.payload };
}

/** Parses `Authorization: HealthLedger <base64url(JSON signed request)>`; throws a documented code. */
export function signedRequestFromHeader(h: string | undefined): unknown {
  const m = typeof h === 'string' ? /^HealthLedger ([A-Za-z0-9_-]+)$/.exec(h) : null;
  if (!m)
    throw new HealthLedgerError('UNKNOWN_SIGNER', 'missing Authorization: HealthLedger <signed request>');
  try {
    return JSON.parse(fromUtf8(fromBase64Url(m[1]!)));
  } catch {
    throw new HealthLedgerError('MALFORMED_TX', 'Authorization does not hold a signed request');
  }
}
