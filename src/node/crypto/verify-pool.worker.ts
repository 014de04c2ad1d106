/**
 * Worker side of {@link VerifyPool}: receives one packed chunk (a transferred ArrayBuffer),
 * verifies every item — with the precomputed-table addon when built (ADR 0010), else libsodium,
 * same rules — and transfers back one flag byte per item.
 *
 * Chunk layout (little-endian Uint32 header, then the bytes, no padding between items):
 * `count, (sigLen, msgLen, pkLen) × count, (sig ‖ msg ‖ pk) × count`. One buffer per chunk keeps
 * structured-clone and message overhead per chunk, not per item.
 * @module
 */
import { isMainThread, parentPort } from 'node:worker_threads';
import { verifySodium } from './ed25519-native.js';
import { precomputedVerifier } from './ed25519-precomputed.js';
import type { VerifyRequest, VerifyResponse } from './verify-pool.js';

/**
 * Verifies every item of a packed chunk (layout in the module comment); 1 = valid, 0 = invalid.
 * Throws `RangeError` if the buffer is malformed, which crashes the worker: the pool treats
 * that as a bug and rejects the affected batches rather than returning wrong flags.
 */
export function verifyPacked(buffer: ArrayBuffer): Uint8Array<ArrayBuffer> {
  if (buffer.byteLength < 4) throw new RangeError('verify chunk: truncated header');
  const view = new DataView(buffer);
  const count = view.getUint32(0, true);
  const headerBytes = 4 + 12 * count;
  if (headerBytes > buffer.byteLength) throw new RangeError('verify chunk: truncated header');
  const bytes = new Uint8Array(buffer);
  const results = new Uint8Array(count);
  let offset = headerBytes;
  for (let i = 0; i < count; i++) {
    const h = 4 + 12 * i;
    const sigEnd = offset + view.getUint32(h, true);
    const msgEnd = sigEnd + view.getUint32(h + 4, true);
    const pkEnd = msgEnd + view.getUint32(h + 8, true);
    if (pkEnd > bytes.length) throw new RangeError('verify chunk: item overruns buffer');
    const ok = verifySodium(
      bytes.subarray(offset, sigEnd),
      bytes.subarray(sigEnd, msgEnd),
      bytes.subarray(msgEnd, pkEnd),
    );
    results[i] = ok ? 1 : 0;
    offset = pkEnd;
  }
  if (offset !== bytes.length) throw new RangeError('verify chunk: trailing bytes');
  return results;
}

// Only when loaded as a worker: importing this module elsewhere (tests) has no side effects.
if (!isMainThread && parentPort) {
  const port = parentPort;
  port.on('message', (request: VerifyRequest) => {
    const results = precomputedVerifier
      ? precomputedVerifier.verifyPacked(request.buffer)
      : verifyPacked(request.buffer);
    const response: VerifyResponse = { id: request.id, results };
    port.postMessage(response, [results.buffer]);
  });
  const ready: VerifyResponse = { id: -1, results: new Uint8Array(0) };
  port.postMessage(ready);
}
