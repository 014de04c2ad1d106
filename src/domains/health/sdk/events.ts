/**
 * Patient-trail actions: events tokens, event pages, the FHIR AuditEvent trail (verified against
 * the ledger), the live stream's URL and webhook subscriptions. Plain functions of a
 * {@link LedgerCore}; the client binds them as `client.health`.
 * @module
 */
import type { AuditEvent, Bundle } from '@medplum/fhirtypes';
import type { EventsPageWire } from '../../../protocol/api.js';
import { HealthLedgerError } from '../../../protocol/errors.js';
import type { Receipt } from '../../../protocol/receipt.js';
import type { Identity, LedgerCore } from '../../../sdk/core.js';
import { routeUrl } from '../../../sdk/transport.js';
import { HealthRoutes } from './routes.js';

/** A patient `<org>/<member>` as the two path segments of the patient routes. */
function patientParams(patient: string): { org: string; member: string } {
  const [org, member] = patient.split('/');
  return { org: org ?? '', member: member ?? '' };
}

/** `Authorization: Bearer <token>`, as the events routes take it. */
const bearer = (token: string): RequestInit => ({ headers: { authorization: `Bearer ${token}` } });

/**
 * A bearer token (15 min) for `patient`'s events, for a signer who is the patient, a proxy, or
 * an auditor of the patient's organization. The request is signed but never ordered.
 */
export function eventsToken(
  core: LedgerCore,
  identity: Identity,
  patient: string,
): Promise<{ token: string; expiresAtMs: number }> {
  return core.call(HealthRoutes.eventsToken, { body: core.sign(identity, 'events.token', { patient }) });
}

/** A page of `patient`'s events after the cursor `after` (oldest first); pass `next` back as `after`. */
export function events(
  core: LedgerCore,
  patient: string,
  token: string,
  after?: number,
  limit?: number,
): Promise<EventsPageWire> {
  return core.call(
    HealthRoutes.patientEvents,
    { params: patientParams(patient), query: { after, limit } },
    bearer(token),
  );
}

/**
 * The URL of `patient`'s live event stream (Server-Sent Events) from cursor `after`, for an
 * `EventSource` — which cannot send headers, so the token rides in the query.
 */
export function eventStreamUrl(core: LedgerCore, patient: string, token: string, after?: number): string {
  return routeUrl(core.baseUrl, HealthRoutes.eventStream, {
    params: patientParams(patient),
    query: { token, after },
  }).toString();
}

/**
 * `patient`'s trail as a FHIR R4 Bundle of AuditEvents. Unless `verify: false`, every entry is
 * checked against the ledger: its receipt (by txId) is fetched and verified locally (inclusion
 * proof against a checkpoint signed by a genesis node), and the AuditEvent must say what the
 * proven transaction says — patient, signer, validation code, height — or this throws
 * AUDIT_EVENT_MISMATCH. Returns the bundle and the verified receipts, in entry order.
 */
export async function auditEvents(
  core: LedgerCore,
  patient: string,
  token: string,
  opts: { after?: number; limit?: number; verify?: boolean } = {},
): Promise<{ bundle: Bundle<AuditEvent>; receipts: Receipt[] }> {
  const bundle: Bundle<AuditEvent> = await core.call(
    HealthRoutes.auditEvents,
    { params: patientParams(patient), query: { after: opts.after, limit: opts.limit } },
    bearer(token),
  );
  const receipts: Receipt[] = [];
  if (opts.verify === false) return { bundle, receipts };
  for (const entry of bundle.entry ?? []) {
    const ev = entry.resource;
    const mismatch = (what: string): never => {
      throw new HealthLedgerError('AUDIT_EVENT_MISMATCH', `AuditEvent ${ev?.id ?? '?'}: ${what}`);
    };
    if (ev?.resourceType !== 'AuditEvent' || typeof ev.id !== 'string') return mismatch('not an AuditEvent');
    const detail = (k: string) => ev.entity?.[1]?.detail?.find((d) => d.type === k)?.valueString;
    const txId = detail('txId');
    if (txId !== ev.id) mismatch('txId detail differs from the id');
    const r = await core.verifiedReceipt(ev.id);
    const body = r.tx.body;
    if ((body.payload as Record<string, unknown>)['patient'] !== patient) mismatch('another patient');
    if (ev.entity?.[0]?.what?.identifier?.value !== patient) mismatch('entity is not the patient');
    if (ev.agent[0]?.who?.identifier?.value !== body.signer) mismatch('agent is not the signer');
    if (ev.outcomeDesc !== r.code || ev.outcome !== (r.code === 'VALID' ? '0' : '4'))
      mismatch('outcome differs from the validation code');
    if (detail('type') !== body.type) mismatch('type differs');
    if (detail('height') !== String(r.height) || detail('seq') !== String(r.seq + 1))
      mismatch('position differs');
    receipts.push(r);
  }
  return { bundle, receipts };
}

/**
 * Subscribes a webhook to `patient`'s events (same signers as {@link eventsToken}). The secret
 * is returned once: deliveries carry `X-HealthLedger-Signature: t=<ms>,v1=<hex
 * HMAC-SHA256(secret, t + "." + body)>`.
 */
export function createSubscription(
  core: LedgerCore,
  identity: Identity,
  patient: string,
  url: string,
): Promise<{ id: string; secret: string }> {
  const req = core.sign(identity, 'subscription.create', { patient, url });
  return core.call(HealthRoutes.createSubscription, { body: req });
}

/** A webhook subscription as listed (never its secret). */
export interface SubscriptionInfo {
  id: string;
  patient: string;
  url: string;
  createdBy: string;
  createdAtMs: number;
  cursor: number;
  /** Failed attempts at the pending event. */
  attempts: number;
  lastError: string | null;
  /** Events given up on after the retry bound. */
  deadLetters: number;
}

/** The subscriptions `identity` created, and those following `identity` as patient. */
export async function listSubscriptions(core: LedgerCore, identity: Identity): Promise<SubscriptionInfo[]> {
  const r: { subscriptions: SubscriptionInfo[] } = await core.call(HealthRoutes.listSubscriptions, {
    body: core.sign(identity, 'subscription.list', {}),
  });
  return r.subscriptions;
}

/** Deletes a subscription (its creator or its patient only); nothing more is delivered. */
export function deleteSubscription(
  core: LedgerCore,
  identity: Identity,
  id: string,
): Promise<{ id: string; deleted: true }> {
  return core.call(HealthRoutes.deleteSubscription, {
    body: core.sign(identity, 'subscription.delete', { id }),
  });
}
