/**
 * The state transition: an ordered batch of raw transactions plus the state at the block's
 * start gives the validation codes and the block's writes. Pure and deterministic; the only
 * input not derived from state is the signature check, which the caller performs (in parallel,
 * natively) over the jobs {@link prepareBlock} lists, with strict RFC 8032 rules on every node.
 * @module
 */
import { fromBase64Url, utf8 } from '../protocol/bytes.js';
import type { StateWrite } from '../protocol/block.js';
import type { GenesisPolicies } from '../protocol/genesis.js';
import { sha256Hex } from '../protocol/hash.js';
import { decodeRawTx, isDecodeFailure, type DecodedTx, type DecodeFailure } from '../protocol/tx.js';
import type { ValidationCode } from '../protocol/validation.js';
import { isInvalid, readMember, type ContractContext, type MemberRecord } from './contract.js';
import type { ContractRegistry } from './registry.js';
import { StateOverlay, type LedgerReader } from './state.js';

/** What a block's execution may depend on besides state. */
export interface BlockContext {
  chainId: string;
  height: number;
  /** The orderer-assigned block time. */
  timestampMs: number;
  policies: GenesisPolicies;
}

/** One transaction after decoding and signer lookup. */
export interface PreparedTx {
  raw: string;
  /** Transaction id (hex); for undecodable input, SHA-256 of the raw text. */
  txId: string;
  decoded: DecodedTx | null;
  /** A code already decided before the signature check, if any. */
  early: ValidationCode | null;
  signer: MemberRecord | null;
}

/** A signature the caller must check: `publicKey` from state at the block's start. */
export interface SignatureJob {
  index: number;
  signature: Uint8Array;
  message: Uint8Array;
  publicKey: Uint8Array;
}

export interface PreparedBlock {
  ctx: BlockContext;
  txs: PreparedTx[];
  jobs: SignatureJob[];
}

/** Outcome of a block: a code per transaction, the writes, the ids it consumed. */
export interface BlockOutcome {
  codes: ValidationCode[];
  txIds: string[];
  /** Final value per written key, in first-write order (null = delete). */
  writes: StateWrite[];
  /** Transaction ids accepted (signature valid, not a replay) in this block. */
  consumedTxIds: string[];
}

/** Decodes one raw transaction; must behave exactly as {@link decodeRawTx} (a node may memoize it). */
export type RawTxDecoder = (raw: string, maxTxBytes: number) => DecodedTx | DecodeFailure;

/** Decodes each transaction and resolves its signer against state at the block's start. */
export function prepareBlock(
  reader: LedgerReader,
  rawTxs: readonly string[],
  ctx: BlockContext,
  decode: RawTxDecoder = decodeRawTx,
): PreparedBlock {
  const txs: PreparedTx[] = [];
  const jobs: SignatureJob[] = [];
  const memberCache = new Map<string, MemberRecord | undefined>();
  // Decoded once per key per block: blocks hold many transactions from few signers.
  const keyBytes = new Map<string, Uint8Array>();
  for (let index = 0; index < rawTxs.length; index++) {
    const raw = rawTxs[index]!;
    const decoded = decode(raw, ctx.policies.maxTxBytes);
    if (isDecodeFailure(decoded)) {
      txs.push({ raw, txId: sha256Hex(utf8(raw)), decoded: null, early: decoded.code, signer: null });
      continue;
    }
    const body = decoded.tx.body;
    if (body.chainId !== ctx.chainId) {
      txs.push({ raw, txId: decoded.txId, decoded, early: 'WRONG_CHAIN_ID', signer: null });
      continue;
    }
    let signer = memberCache.get(body.signer);
    if (!memberCache.has(body.signer)) {
      signer = readMember((k) => reader.getState(k), body.signer);
      memberCache.set(body.signer, signer);
    }
    if (signer === undefined) {
      txs.push({ raw, txId: decoded.txId, decoded, early: 'UNKNOWN_SIGNER', signer: null });
      continue;
    }
    txs.push({ raw, txId: decoded.txId, decoded, early: null, signer });
    jobs.push({
      index,
      signature: decoded.signature,
      message: decoded.signingBytes,
      publicKey: publicKeyBytes(keyBytes, signer.publicKey),
    });
  }
  return { ctx, txs, jobs };
}

/** `fromBase64Url(key)`, memoized in `cache`. */
export function publicKeyBytes(cache: Map<string, Uint8Array>, key: string): Uint8Array {
  let bytes = cache.get(key);
  if (bytes === undefined) {
    bytes = fromBase64Url(key);
    cache.set(key, bytes);
  }
  return bytes;
}

/**
 * Executes a prepared block. `signatureValid(i)` reports the strict RFC 8032 result for the
 * job of transaction `i`.
 */
export function executeBlock(
  reader: LedgerReader,
  prepared: PreparedBlock,
  signatureValid: (index: number) => boolean,
  registry: ContractRegistry,
): BlockOutcome {
  const { ctx } = prepared;
  const block = new StateOverlay((k) => reader.getState(k));
  const codes: ValidationCode[] = [];
  const txIds: string[] = [];
  const consumed = new Set<string>();
  for (let i = 0; i < prepared.txs.length; i++) {
    const p = prepared.txs[i]!;
    txIds.push(p.txId);
    codes.push(executeOne(p, i));
  }
  const writes: StateWrite[] = block.entries();
  return { codes, txIds, writes, consumedTxIds: [...consumed] };

  function executeOne(p: PreparedTx, index: number): ValidationCode {
    if (p.early !== null) return p.early;
    const decoded = p.decoded!;
    const signer = p.signer!;
    if (!signatureValid(index)) return 'BAD_SIGNATURE';
    // The signer really sent this request: from here on its id is spent, whatever the outcome.
    if (consumed.has(p.txId) || reader.isTxConsumed(p.txId)) return 'DUPLICATE_TX';
    consumed.add(p.txId);
    if (signer.revokedAtHeight !== null) return 'SIGNER_REVOKED';
    if (ctx.timestampMs < signer.notBeforeMs || ctx.timestampMs > signer.notAfterMs) return 'CERT_EXPIRED';
    const body = decoded.tx.body;
    if (Math.abs(body.timestampMs - ctx.timestampMs) > ctx.policies.timestampWindowMs)
      return 'TIMESTAMP_OUT_OF_WINDOW';
    const contract = registry.get(body.type);
    if (contract === undefined) return 'UNKNOWN_TX_TYPE';
    if (contract.roles !== 'any' && !contract.roles.includes(signer.role)) return 'UNAUTHORIZED_ROLE';
    const payload = contract.parse(body.payload);
    if (isInvalid(payload)) return 'INVALID_PAYLOAD';
    const tx = new StateOverlay((k) => block.get(k));
    const cctx: ContractContext = {
      chainId: ctx.chainId,
      height: ctx.height,
      timestampMs: ctx.timestampMs,
      txId: p.txId,
      signer,
      get: (k) => tx.get(k),
      put: (k, v) => tx.put(k, v),
      del: (k) => tx.del(k),
    };
    let code: ValidationCode;
    try {
      code = contract.execute(cctx, payload as never);
    } catch {
      // Deterministic on every node (same code, same input); never applied.
      return 'CONTRACT_FAULT';
    }
    if (code === 'VALID') tx.mergeInto(block);
    return code;
  }
}
