/**
 * The node's view of signature verification: batched and asynchronous so it can run on worker
 * threads. Implementations must apply strict RFC 8032 rules (Wycheproof-tested).
 * @module
 */

export interface SignatureItem {
  signature: Uint8Array;
  message: Uint8Array;
  publicKey: Uint8Array;
}

export interface SignatureVerifier {
  /** 1 = valid, 0 = invalid, in input order. */
  verifyBatch(items: readonly SignatureItem[]): Promise<Uint8Array>;
  close(): Promise<void>;
}
