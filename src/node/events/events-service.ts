/**
 * The patient events service: the event index, bearer tokens, SSE streams, webhook delivery
 * and the FHIR AuditEvent export, behind the few calls the API makes.
 *
 * Who may follow a patient's events: the patient, a proxy the patient named (`actsForPatient`),
 * or an auditor of the patient's organization. They prove it with a signed request — the same
 * `{ body, sig }` envelope as a transaction, checked like one (membership, revocation, strict
 * Ed25519, time window, no replay) but never ordered:
 *
 * - `events.token` `{ patient }` → a bearer token for 15 minutes (tokens.ts);
 * - `subscription.create` `{ patient, url }` → a webhook subscription `{ id, secret }` (webhooks.ts);
 * - `subscription.list` `{}` → the subscriptions the signer created or that follow the signer;
 * - `subscription.delete` `{ id }` → deletes a subscription (its creator or its patient only).
 *
 * Tokens and subscriptions end with their member: a token names the member it was issued to and
 * is refused (EVENTS_TOKEN_REVOKED) once that member is revoked or may no longer follow the
 * subject; a subscription is deleted before its next delivery in the same case.
 *
 * Files in the node home: `data/events.sqlite` (derived index, rebuildable: delete it freely),
 * `data/subscriptions.sqlite` (subscriptions, cursors, seen request ids: not derived — keep it),
 * `keys/events-secret` (token MAC key, 0600).
 * @module
 */
import { join } from 'node:path';
import type { ServerResponse } from 'node:http';
import type { Database as Db } from 'better-sqlite3';
import type { AuditEvent, Bundle } from '@medplum/fhirtypes';
import { HealthLedgerError } from '../../protocol/errors.js';
import type { Role } from '../../protocol/x509.js';
import { MEMBER_ID_PATTERN } from '../../protocol/tx.js';
import { readMember, type MemberRecord } from '../../contracts/contract.js';
import { actsForPatient, readPatient } from '../../domains/health/contracts/model.js';
import { homePaths } from '../home.js';
import type { LedgerNode } from '../ledger-node.js';
import { systemClock, type Clock } from '../ordering/orderer.js';
import { verifySignedRequest, type SignedRequestContext } from '../auth/signed-request.js';
import { openDatabase } from '../store/ledger-store.js';
import { auditEventBundle } from './audit-event.js';
import { EventIndex, SUPPLY_FEED, type PatientEvent } from './event-index.js';
import { EventStreams } from './streams.js';
import type { Sealer } from '../sealer.js';
import { sealStoredWebhookSecrets, webhookSecrets } from './webhook-secrets.js';
import { EventTokens, EVENTS_TOKEN_TTL_MS, loadOrCreateEventsSecret } from './tokens.js';
import {
  WebhookDeliverer,
  resolveWebhookTarget,
  type Lookup,
  type SubscriptionInfo,
  type WebhookOptions,
} from './webhooks.js';

export interface EventsServiceOptions {
  clock?: Clock;
  log?: (event: string, fields: Record<string, unknown>) => void;
  /** SSE heartbeat interval (default 15 s). */
  heartbeatMs?: number;
  tokenTtlMs?: number;
  /**
   * Webhook delivery knobs (timers, retry delays and bounds, timeout, transport) and `allow`,
   * the internal targets admitted anyway (node.json `webhooks.allow`).
   */
  webhooks?: Omit<WebhookOptions, 'clock' | 'log' | 'creatorActive' | 'secrets'>;
  /** Resolves webhook host names at creation (tests). */
  lookup?: Lookup;
  /** Seals the events secret and webhook secrets at rest (ADR 0015); none: stored as they are. */
  sealer?: Sealer | null;
}

/** Paths of the events files in a node home. */
/** Roles that may follow the supply alert feed. */
const SUPPLY_FOLLOWERS: readonly Role[] = ['manufacturer', 'distributor', 'dispenser', 'regulator'];

export const eventsPaths = (home: string) => ({
  index: join(homePaths(home).data, 'events.sqlite'),
  subscriptions: join(homePaths(home).data, 'subscriptions.sqlite'),
  secret: join(home, 'keys', 'events-secret'),
});

/** Page size limits for event listings. */
export const EVENTS_PAGE_DEFAULT = 100;
export const EVENTS_PAGE_MAX = 1000;

export class EventsService {
  private closed = false;

  private constructor(
    private readonly node: LedgerNode,
    readonly index: EventIndex,
    private readonly db: Db,
    readonly tokens: EventTokens,
    readonly streams: EventStreams,
    readonly webhooks: WebhookDeliverer,
    private readonly clock: Clock,
    private readonly log: NonNullable<EventsServiceOptions['log']>,
    private readonly opts: EventsServiceOptions,
  ) {}

  /** Opens the index (catching up with the ledger), the subscriptions, and starts delivery. */
  static async start(
    home: string,
    node: LedgerNode,
    opts: EventsServiceOptions = {},
  ): Promise<EventsService> {
    const clock = opts.clock ?? systemClock;
    const log = opts.log ?? (() => {});
    const paths = eventsPaths(home);
    const tokens = new EventTokens(
      loadOrCreateEventsSecret(paths.secret, opts.sealer ?? null),
      clock,
      opts.tokenTtlMs ?? EVENTS_TOKEN_TTL_MS,
    );
    const index = await EventIndex.open(paths.index, node, { log });
    let db: Db;
    try {
      db = openDatabase(paths.subscriptions);
      db.exec(
        'CREATE TABLE IF NOT EXISTS seen_requests (id TEXT PRIMARY KEY, at_ms INTEGER NOT NULL) WITHOUT ROWID;',
      );
    } catch (e) {
      index.close();
      throw e;
    }
    const streams = new EventStreams(index, {
      clock,
      log,
      ...(opts.heartbeatMs ? { heartbeatMs: opts.heartbeatMs } : {}),
    });
    // Set once the service exists: the deliverer asks it whether a creator may still follow.
    const self: { service?: EventsService } = {};
    const sealer = opts.sealer ?? null;
    const webhooks = new WebhookDeliverer(db, index, {
      ...opts.webhooks,
      clock,
      log,
      creatorActive: (member, subject) => self.service?.mayFollow(member, subject) ?? true,
      secrets: webhookSecrets(sealer),
    });
    sealStoredWebhookSecrets(db, sealer);
    node.metrics.gauge('healthledger_event_streams', () => streams.size);
    node.metrics.gauge('healthledger_webhook_subscriptions', () => webhooks.size);
    node.metrics.gauge('healthledger_events_indexed_height', () => index.indexedHeight);
    const service = new EventsService(node, index, db, tokens, streams, webhooks, clock, log, opts);
    self.service = service;
    webhooks.start();
    return service;
  }

  /** Whether `member` exists, is not revoked, and may still follow `subject`. */
  mayFollow(member: string, subject: string): boolean {
    const m = readMember((k) => this.node.getState(k), member);
    if (m === undefined || m.revokedAtHeight !== null) return false;
    try {
      this.authorizeFollower(m, subject === SUPPLY_FEED ? { feed: SUPPLY_FEED } : { patient: subject });
      return true;
    } catch {
      return false;
    }
  }

  private requestContext(): SignedRequestContext {
    const policies = this.node.genesis.genesis.policies;
    const now = this.clock.now();
    return {
      chainId: this.node.chainId,
      getState: (k) => this.node.getState(k),
      nowMs: now,
      windowMs: policies.timestampWindowMs,
      maxBytes: 16 * 1024,
      rememberRequest: (id, at) => {
        // Requests older than the time window are refused anyway: their ids need not be kept.
        this.db.prepare('DELETE FROM seen_requests WHERE at_ms < ?').run(at - 2 * policies.timestampWindowMs);
        return (
          this.db.prepare('INSERT OR IGNORE INTO seen_requests (id, at_ms) VALUES (?, ?)').run(id, at)
            .changes === 1
        );
      },
    };
  }

  /**
   * The subject a signer may follow: a patient's trail (the patient, a proxy, or an auditor of the
   * patient's organization), or the supply alert feed (supply-chain roles); throws otherwise.
   */
  private authorizeFollower(signer: MemberRecord, payload: Record<string, unknown>): string {
    if ('feed' in payload) {
      if (payload['feed'] !== SUPPLY_FEED || 'patient' in payload)
        throw new HealthLedgerError('INVALID_PAYLOAD', `feed: "${SUPPLY_FEED}" (and no patient)`);
      if (!SUPPLY_FOLLOWERS.includes(signer.role)) throw new HealthLedgerError('NOT_SUPPLY_PARTY');
      return SUPPLY_FEED;
    }
    const patient = payload['patient'];
    if (typeof patient !== 'string' || !MEMBER_ID_PATTERN.test(patient))
      throw new HealthLedgerError('INVALID_PAYLOAD', 'patient: a member id');
    const get = (k: string) => this.node.getState(k);
    const p = readPatient(get, patient);
    if (p === undefined) throw new HealthLedgerError('UNKNOWN_PATIENT');
    if (!actsForPatient(get, signer, patient) && !(signer.role === 'auditor' && signer.org === p.org))
      throw new HealthLedgerError('NOT_PATIENT_PROXY_OR_AUDITOR');
    return patient;
  }

  /** A signed `events.token` request `{ patient }` → a bearer token for the patient's events. */
  issueToken(request: unknown): { token: string; expiresAtMs: number } {
    const { signer, payload } = verifySignedRequest(request, 'events.token', this.requestContext());
    if (Object.keys(payload).some((k) => k !== 'patient' && k !== 'feed'))
      throw new HealthLedgerError('INVALID_PAYLOAD', 'expected { patient } or { feed }');
    let patient: string;
    try {
      patient = this.authorizeFollower(signer, payload);
    } catch (e) {
      this.log('events.token.refused', { signer: signer.id, code: (e as HealthLedgerError).code });
      throw e;
    }
    this.log('events.token.issued', { signer: signer.id, patient });
    return this.tokens.issue(patient, signer.id);
  }

  /**
   * A signed `subscription.create` request `{ patient, url }` → `{ id, secret }` (secret shown once).
   * The target is checked and, for a host name, resolved: internal addresses are refused unless
   * allowlisted (WEBHOOK_TARGET_FORBIDDEN).
   */
  async createSubscription(request: unknown): Promise<{ id: string; secret: string }> {
    const { signer, payload } = verifySignedRequest(request, 'subscription.create', this.requestContext());
    if (Object.keys(payload).some((k) => k !== 'patient' && k !== 'feed' && k !== 'url'))
      throw new HealthLedgerError('INVALID_PAYLOAD', 'expected { patient, url } or { feed, url }');
    const subject = Object.fromEntries(Object.entries(payload).filter(([k]) => k !== 'url'));
    const patient = this.authorizeFollower(signer, subject);
    const url = await resolveWebhookTarget(payload['url'], this.opts.webhooks?.allow ?? [], this.opts.lookup);
    if (this.closed) throw new HealthLedgerError('NODE_UNAVAILABLE');
    const r = this.webhooks.create(patient, url, signer.id);
    this.log('events.subscription.created', { signer: signer.id, patient, subscription: r.id });
    return r;
  }

  /** A signed `subscription.list` request `{}` → the signer's subscriptions and those following the signer. */
  listSubscriptions(request: unknown): { subscriptions: SubscriptionInfo[] } {
    const { signer, payload } = verifySignedRequest(request, 'subscription.list', this.requestContext());
    if (Object.keys(payload).length > 0) throw new HealthLedgerError('INVALID_PAYLOAD', 'expected {}');
    return {
      subscriptions: this.webhooks.list((s) => s.createdBy === signer.id || s.patient === signer.id),
    };
  }

  /** A signed `subscription.delete` request `{ id }`: its creator or its patient only. */
  deleteSubscription(request: unknown): { id: string; deleted: true } {
    const { signer, payload } = verifySignedRequest(request, 'subscription.delete', this.requestContext());
    const id = payload['id'];
    if (typeof id !== 'string' || Object.keys(payload).length !== 1)
      throw new HealthLedgerError('INVALID_PAYLOAD', 'expected { id }');
    const s = this.webhooks.get(id);
    if (s === undefined) throw new HealthLedgerError('SUBSCRIPTION_NOT_FOUND');
    if (s.createdBy !== signer.id && s.patient !== signer.id)
      throw new HealthLedgerError('NOT_SUBSCRIPTION_OWNER');
    this.webhooks.remove(id);
    this.log('events.subscription.deleted', { signer: signer.id, subscription: id });
    return { id, deleted: true };
  }

  /**
   * Checks a bearer token for `patient` (throws 401/403 codes): the token must be valid and its
   * member neither revoked nor no longer allowed to follow (EVENTS_TOKEN_REVOKED); returns its expiry.
   */
  authorize(patient: string, token: string | undefined): { expiresAtMs: number } {
    const { expiresAtMs, member } = this.tokens.verify(token, patient);
    if (!this.mayFollow(member, patient)) throw new HealthLedgerError('EVENTS_TOKEN_REVOKED');
    return { expiresAtMs };
  }

  /** A page of the patient's events after `after`; `next` is the cursor to pass as `after` next. */
  page(patient: string, after = 0, limit = EVENTS_PAGE_DEFAULT): { events: PatientEvent[]; next: number } {
    const events = this.index.page(patient, after, Math.min(Math.max(1, limit), EVENTS_PAGE_MAX));
    return { events, next: events.at(-1)?.seq ?? after };
  }

  /** The patient's events as a FHIR searchset Bundle of AuditEvents (`selfUrl` without query). */
  auditBundle(patient: string, selfUrl: string, after = 0, limit = EVENTS_PAGE_DEFAULT): Bundle<AuditEvent> {
    const n = Math.min(Math.max(1, limit), EVENTS_PAGE_MAX);
    const { events, next } = this.page(patient, after, n);
    return auditEventBundle(
      events,
      { chainId: this.node.chainId, nodeId: this.node.nodeId },
      {
        self: `${selfUrl}?after=${after}&limit=${n}`,
        ...(events.length === n ? { next: `${selfUrl}?after=${next}&limit=${n}` } : {}),
      },
    );
  }

  /** Streams the patient's events after `after` as SSE on `res` (already authorized). */
  openStream(res: ServerResponse, patient: string, after: number, expiresAtMs: number, token?: string): void {
    // The stream ends when the token's member is revoked or may no longer follow the subject.
    const member = token === undefined ? undefined : this.tokens.verify(token, patient).member;
    this.streams.open(res, patient, after, expiresAtMs, () =>
      member === undefined ? true : this.mayFollow(member, patient),
    );
  }

  /** Ends every SSE stream (before the HTTP server closes). */
  closeStreams(): void {
    this.streams.closeAll();
  }

  /**
   * Stops delivery (waiting for requests in flight), indexes what the ledger committed, and
   * closes the files. Call after the node has stopped ordering and before its store closes.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.streams.close();
    await this.webhooks.close();
    this.index.close();
    this.db.close();
  }
}
