/**
 * The API's edge limits as node.json `edge` configures them (enforced in `api/base.ts`).
 * @module
 */
/** Edge limits (docs/threat-model.md, Edge); every field has a default. */
export interface EdgeOptions {
  /**
   * Requests per window, counted per client address (before the body is read) and per
   * authenticated member (after the auth hook); `false` turns rate limiting off.
   */
  rateLimit?:
    | false
    | {
        /** Requests per window per client address (default 600). */
        perAddress?: number;
        /** Requests per window per authenticated member (default 300). */
        perMember?: number;
        /** The window (ms, default 60 000). */
        windowMs?: number;
        /** Loopback callers (127.0.0.0/8, ::1) are not limited (default true: benchmarks, local tools). */
        exemptLoopback?: boolean;
      };
  /** Time to receive a whole request, headers and body (ms, default 120 000). */
  requestTimeoutMs?: number;
  /** Time to receive a request's headers (ms, default 10 000). */
  headersTimeoutMs?: number;
  /** Idle socket timeout (ms, default 0 = none: event streams idle between heartbeats). */
  connectionTimeoutMs?: number;
  /** Largest binary accepted by `POST /v1/blobs` (bytes, default 256 MiB). */
  blobMaxBytes?: number;
}
