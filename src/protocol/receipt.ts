/**
 * Receipts and their verification. A receipt says "transaction T was committed at height H,
 * position I, with code C" and proves it: an RFC 9162 inclusion proof of T's log leaf in a
 * checkpoint signed by a node the verifier already trusts (from the genesis file). The verifier
 * recomputes everything from the transaction itself and never takes the node's word.
 * @module
 */
import { fromBase64Url, fromHex } from './bytes.js';
import { logLeafBytes, verifyCheckpointSignature, type SignedCheckpoint } from './block.js';
import { verify, type Ed25519Verify, type PublicKey } from './ed25519.js';
import { sha256 } from './hash.js';
import { leafHash, verifyConsistency, verifyInclusion } from './merkle/index.js';
import { txIdOf, type SignedTx } from './tx.js';
import type { ValidationCode } from './validation.js';

/** A transaction's commitment receipt, as served by `GET /v1/transactions/:txId`. */
export interface Receipt {
  txId: string;
  tx: SignedTx;
  height: number;
  /** Position within the block. */
  index: number;
  /** Leaf index in the log. */
  seq: number;
  code: ValidationCode;
  checkpoint: SignedCheckpoint;
  /** Inclusion proof (hex hashes) of leaf `seq` in a tree of `checkpoint.logSize` leaves. */
  proof: string[];
}

/** Why the SDK rejected a receipt or proof, with meanings (for docs/errors.md). */
export const ProofErrorCodes = {
  UNTRUSTED_CHECKPOINT_SIGNER: 'The checkpoint names a node that is not in the trusted genesis.',
  BAD_CHECKPOINT_SIGNATURE: "The checkpoint's signature does not verify under that node's key.",
  WRONG_CHAIN: 'The checkpoint is for another chain.',
  TX_ID_MISMATCH: 'The transaction body in the receipt does not hash to its txId.',
  BAD_INCLUSION_PROOF:
    "The inclusion proof does not lead from the transaction's leaf to the checkpoint root.",
  BAD_CONSISTENCY_PROOF: 'The consistency proof does not show the older checkpoint is a prefix of the newer.',
  MALFORMED_PROOF: 'A proof is not a list of 32-byte hex hashes.',
} as const;

/** Why a receipt or proof was rejected. */
export class ProofVerificationError extends Error {
  override readonly name = 'ProofVerificationError';
  constructor(
    readonly code: keyof typeof ProofErrorCodes,
    message: string,
  ) {
    super(message);
  }
}

/** Node keys a verifier trusts, by node id (normally every node in the genesis file). */
export type TrustedNodeKeys = ReadonlyMap<string, PublicKey>;

/** Checks a checkpoint's signer is trusted and its signature valid, and that it is for `chainId`. */
export function verifyCheckpoint(
  signed: SignedCheckpoint,
  trusted: TrustedNodeKeys,
  chainId: string,
  verifyFn: Ed25519Verify = verify,
): void {
  const key = trusted.get(signed.checkpoint.nodeId);
  if (key === undefined)
    throw new ProofVerificationError(
      'UNTRUSTED_CHECKPOINT_SIGNER',
      `checkpoint signed by unknown node ${signed.checkpoint.nodeId}`,
    );
  if (signed.checkpoint.chainId !== chainId)
    throw new ProofVerificationError('WRONG_CHAIN', `checkpoint is for chain ${signed.checkpoint.chainId}`);
  if (!verifyCheckpointSignature(signed, key, verifyFn))
    throw new ProofVerificationError('BAD_CHECKPOINT_SIGNATURE', 'checkpoint signature does not verify');
}

function hexList(proof: unknown): Uint8Array[] {
  if (!Array.isArray(proof)) throw new ProofVerificationError('MALFORMED_PROOF', 'proof must be an array');
  return proof.map((h) => {
    if (typeof h !== 'string' || h.length !== 64)
      throw new ProofVerificationError('MALFORMED_PROOF', 'proof hash must be 64 hex chars');
    try {
      return fromHex(h);
    } catch {
      throw new ProofVerificationError('MALFORMED_PROOF', 'proof hash is not hex');
    }
  });
}

/**
 * Verifies a receipt end to end: the checkpoint's signature, the transaction id recomputed from
 * the body, and the inclusion of the recomputed leaf (id, signature, height, index, code) under
 * the checkpoint's root. Throws {@link ProofVerificationError}; returns the verified receipt.
 */
export function verifyReceipt(
  receipt: Receipt,
  trusted: TrustedNodeKeys,
  chainId: string,
  verifyFn: Ed25519Verify = verify,
): Receipt {
  verifyCheckpoint(receipt.checkpoint, trusted, chainId, verifyFn);
  if (txIdOf(receipt.tx.body) !== receipt.txId)
    throw new ProofVerificationError('TX_ID_MISMATCH', 'transaction body does not hash to the receipt txId');
  const leaf = logLeafBytes({
    v: 1,
    txId: receipt.txId,
    sig: receipt.tx.sig,
    height: receipt.height,
    index: receipt.index,
    code: receipt.code,
  });
  const cp = receipt.checkpoint.checkpoint;
  try {
    verifyInclusion(
      receipt.seq,
      cp.logSize,
      leafHash(leaf, sha256),
      hexList(receipt.proof),
      fromHex(cp.logRoot),
      sha256,
    );
  } catch (e) {
    if (e instanceof ProofVerificationError) throw e;
    throw new ProofVerificationError(
      'BAD_INCLUSION_PROOF',
      `inclusion proof rejected: ${(e as Error).message}`,
    );
  }
  return receipt;
}

/**
 * Verifies that checkpoint `older` is a prefix of checkpoint `newer` (RFC 9162 §2.1.4): both
 * signatures, then the consistency proof.
 */
export function verifyCheckpointConsistency(
  older: SignedCheckpoint,
  newer: SignedCheckpoint,
  proof: readonly string[],
  trusted: TrustedNodeKeys,
  chainId: string,
  verifyFn: Ed25519Verify = verify,
): void {
  verifyCheckpoint(older, trusted, chainId, verifyFn);
  verifyCheckpoint(newer, trusted, chainId, verifyFn);
  const a = older.checkpoint;
  const b = newer.checkpoint;
  try {
    verifyConsistency(a.logSize, b.logSize, hexList(proof), fromHex(a.logRoot), fromHex(b.logRoot), sha256);
  } catch (e) {
    if (e instanceof ProofVerificationError) throw e;
    throw new ProofVerificationError(
      'BAD_CONSISTENCY_PROOF',
      `consistency proof rejected: ${(e as Error).message}`,
    );
  }
}

/** Trusted node keys from a genesis's node list. */
export function trustedKeysFromGenesis(genesis: {
  orgs: { nodes: { id: string; publicKey: string }[] }[];
}): TrustedNodeKeys {
  const m = new Map<string, PublicKey>();
  for (const org of genesis.orgs) for (const n of org.nodes) m.set(n.id, fromBase64Url(n.publicKey));
  return m;
}
