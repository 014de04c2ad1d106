/**
 * How a domain's committed transactions become events in the shared event index: each domain
 * provides one {@link EventProjection} (src/domains/<d>/node/projection.ts), listed in
 * src/node/domains.ts; the index iterates them and knows no domain's transaction types itself.
 * @module
 */

/** Non-health facts about an event (ids, purpose, times, counts). */
export type EventDetail = Record<string, string | number | boolean | string[]>;

/** Event kinds by transaction type: `[when VALID, otherwise]`. */
export type EventKinds = Readonly<Record<string, readonly [string, string]>>;

/** A committed transaction whose signer was authenticated, as a projection sees it. */
export interface ProjectedTx {
  type: string;
  /** The validation code (`VALID`, or why it was denied or refused). */
  code: string;
  /** The transaction id (computed on first read: most transactions never need it). */
  readonly txId: string;
  payload: Record<string, unknown> | undefined;
  /** Block time (ms since the epoch). */
  atMs: number;
}

/** One domain's share of the event index. */
export interface EventProjection<K extends EventKinds = EventKinds> {
  /** The transaction types this domain indexes, and the event kind each produces. */
  readonly kinds: K;
  /**
   * The subject (a patient's member id, or a feed name that is never a member id) and detail of
   * the event a transaction of one of {@link kinds}' types produces; `undefined` for none.
   * Detail holds no health data: ids, codes, purposes, times and counts only.
   */
  project(tx: ProjectedTx, getState: (k: string) => string | undefined): ProjectedEvent | undefined;
}

/** What a projection makes of one transaction. */
export interface ProjectedEvent {
  subject: string;
  detail: EventDetail;
}

/** `v` if it is a string of at most `max` characters. */
export const str = (v: unknown, max = 128): string | undefined =>
  typeof v === 'string' && v.length <= max ? v : undefined;

/** `v` if it is a safe integer. */
export const num = (v: unknown): number | undefined =>
  typeof v === 'number' && Number.isSafeInteger(v) ? v : undefined;

/** The projection of a domain whose transactions produce no events (`noEvents` in src/node/domains.ts). */
export const noEvents: EventProjection<Record<never, never>> = { kinds: {}, project: () => undefined };
