/**
 * Webhook subscriptions to a patient's events, delivered in order, at least once, with signed
 * payloads and retries.
 *
 * **Delivery.** Each subscription has a cursor (the `seq` of the last event acknowledged),
 * persisted in SQLite (`data/subscriptions.sqlite`). The deliverer POSTs the next event after the
 * cursor as JSON (the event object, as `GET /v1/patients/…/events` shows it), one at a time; a 2xx
 * answer advances the cursor, anything else — another status (redirects are never followed),
 * a network error, no answer within 5 s — is retried after 0.5 s, 1 s, 2 s, … capped at 30 s,
 * forever. A new subscription starts after the newest event indexed when it is created.
 * After a restart delivery resumes from the stored cursor; on a clean shutdown the deliverer
 * waits for a request in flight and records its outcome, so nothing is lost or repeated. Only
 * a crash between a receiver's 2xx and the cursor write repeats an event: receivers must dedupe
 * by event id (at-least-once).
 *
 * **Headers.**
 *
 *     Content-Type: application/json
 *     X-HealthLedger-Event-Id: <seq>                 (unique per chain; dedupe on it)
 *     X-HealthLedger-Subscription-Id: <subscription id>
 *     X-HealthLedger-Signature: t=<unix ms>,v1=<hex HMAC-SHA256(secret, t + "." + body)>
 *
 * **Verifying** (Stripe-style): split the header on `,` into `t` and `v1`; compute
 * HMAC-SHA256 with the key = the subscription secret exactly as returned at creation (its ASCII
 * text, 64 hex characters), over the bytes of `t`, `"."` and the raw request body; compare with
 * `v1` in constant time; reject if `t` is more than 5 minutes from your clock (replay window).
 * @module
 */
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Database as Db } from 'better-sqlite3';
import { HealthLedgerError } from '../../protocol/errors.js';
import type { Clock } from '../ordering/orderer.js';
import type { PatientEvent } from './event-index.js';

/** Sends one webhook request; resolves with the HTTP status (any), rejects on network failure. */
export type WebhookTransport = (req: {
  url: string;
  headers: Record<string, string>;
  body: string;
  timeoutMs: number;
}) => Promise<{ status: number }>;

/** Timer functions (injected by tests to control retries). */
export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemTimers: Timers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

/** What the deliverer reads events from (an {@link EventIndex}). */
export interface EventFeed {
  page(patient: string, after: number, limit: number): PatientEvent[];
  onEvents(listener: (events: PatientEvent[]) => void): () => void;
  latestSeq(): number;
}

export interface WebhookOptions {
  clock: Clock;
  timers?: Timers;
  /** First retry delay (doubles per failure). Default 500 ms. */
  retryBaseMs?: number;
  /** Longest retry delay. Default 30 s. */
  retryMaxMs?: number;
  /** Per-request timeout. Default 5 s. */
  timeoutMs?: number;
  transport?: WebhookTransport;
  log?: (event: string, fields: Record<string, unknown>) => void;
  /** Seals secrets at rest (ADR 0015, `webhook-secrets.ts`); default: stored as given. */
  secrets?: { seal(id: string, secret: string): string; unseal(id: string, stored: string): string };
}

/** `t=<ms>,v1=<hex HMAC-SHA256(secret, t + "." + body)>` */
export function webhookSignature(secret: string, t: number, body: string): string {
  return `t=${t},v1=${createHmac('sha256', secret).update(`${t}.${body}`).digest('hex')}`;
}

/** Delay before retry number `attempt` (1-based). */
export function retryDelayMs(attempt: number, baseMs: number, maxMs: number): number {
  return Math.min(maxMs, baseMs * 2 ** Math.min(attempt - 1, 30));
}

/** Checks a webhook URL; throws INVALID_WEBHOOK_URL. */
export function checkWebhookUrl(url: unknown): string {
  if (typeof url !== 'string' || url.length > 2048) throw new HealthLedgerError('INVALID_WEBHOOK_URL');
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new HealthLedgerError('INVALID_WEBHOOK_URL');
  }
  if ((u.protocol !== 'http:' && u.protocol !== 'https:') || u.hostname === '' || u.username || u.password)
    throw new HealthLedgerError('INVALID_WEBHOOK_URL');
  return u.toString();
}

/** POST over node:http(s): no redirects followed, no connection reuse, a hard timeout. */
export const httpTransport: WebhookTransport = ({ url, headers, body, timeoutMs }) =>
  new Promise((resolve, reject) => {
    const u = new URL(url);
    const send = u.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = send(
      u,
      {
        method: 'POST',
        agent: false,
        headers: { ...headers, 'content-length': String(Buffer.byteLength(body)), connection: 'close' },
      },
      (res) => {
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? 0 });
        // The body is not needed: do not let a receiver keep us reading.
        res.destroy();
      },
    );
    const timer = setTimeout(() => req.destroy(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    req.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    req.end(body);
  });

interface Subscription {
  id: string;
  patient: string;
  url: string;
  secret: string;
  cursor: number;
  attempt: number;
  state: 'idle' | 'busy' | 'backoff';
  timer: unknown;
  running: Promise<void> | null;
}

type SubRow = { id: string; patient: string; url: string; secret: string; cursor: number };

export class WebhookDeliverer {
  private readonly subs = new Map<string, Subscription>();
  private readonly byPatient = new Map<string, Set<Subscription>>();
  private readonly timers: Timers;
  private readonly transport: WebhookTransport;
  private readonly retryBaseMs: number;
  private readonly retryMaxMs: number;
  private readonly timeoutMs: number;
  private readonly log: NonNullable<WebhookOptions['log']>;
  private unsubscribe: (() => void) | null = null;
  private closed = false;

  constructor(
    private readonly db: Db,
    private readonly feed: EventFeed,
    private readonly opts: WebhookOptions,
  ) {
    this.timers = opts.timers ?? systemTimers;
    this.transport = opts.transport ?? httpTransport;
    this.retryBaseMs = opts.retryBaseMs ?? 500;
    this.retryMaxMs = opts.retryMaxMs ?? 30_000;
    this.timeoutMs = opts.timeoutMs ?? 5000;
    this.log = opts.log ?? (() => {});
    db.exec(`
      CREATE TABLE IF NOT EXISTS subscriptions (
        id TEXT PRIMARY KEY, patient TEXT NOT NULL, url TEXT NOT NULL, secret TEXT NOT NULL,
        created_by TEXT NOT NULL, created_at_ms INTEGER NOT NULL, cursor INTEGER NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0, last_error TEXT, last_attempt_ms INTEGER) WITHOUT ROWID;
      CREATE INDEX IF NOT EXISTS subscriptions_by_patient ON subscriptions (patient);
    `);
  }

  /** Loads the subscriptions and starts delivering what each has pending. */
  start(): void {
    const rows = this.db
      .prepare('SELECT id, patient, url, secret, cursor FROM subscriptions ORDER BY created_at_ms')
      .all() as SubRow[];
    for (const r of rows) this.add({ ...r, secret: this.opts.secrets?.unseal(r.id, r.secret) ?? r.secret });
    this.unsubscribe = this.feed.onEvents((events) => {
      for (const p of new Set(events.map((e) => e.patient)))
        for (const s of this.byPatient.get(p) ?? []) this.pump(s);
    });
    for (const s of this.subs.values()) this.pump(s);
  }

  /** Subscriptions being delivered. */
  get size(): number {
    return this.subs.size;
  }

  /** Creates a subscription (URL already checked); returns its id and secret (shown once). */
  create(patient: string, url: string, createdBy: string): { id: string; secret: string } {
    const id = randomUUID();
    const secret = randomBytes(32).toString('hex');
    const stored = this.opts.secrets?.seal(id, secret) ?? secret;
    const cursor = this.feed.latestSeq();
    this.db
      .prepare(
        'INSERT INTO subscriptions (id, patient, url, secret, created_by, created_at_ms, cursor) VALUES (?, ?, ?, ?, ?, ?, ?)',
      )
      .run(id, patient, url, stored, createdBy, this.opts.clock.now(), cursor);
    const s = this.add({ id, patient, url, secret, cursor });
    this.pump(s);
    return { id, secret };
  }

  private add(r: SubRow): Subscription {
    const s: Subscription = { ...r, attempt: 0, state: 'idle', timer: null, running: null };
    this.subs.set(s.id, s);
    let set = this.byPatient.get(s.patient);
    if (!set) this.byPatient.set(s.patient, (set = new Set()));
    set.add(s);
    return s;
  }

  /** Delivers `s`'s pending events in order until none is left or one fails. */
  private pump(s: Subscription): void {
    if (this.closed || s.state !== 'idle') return;
    s.state = 'busy';
    s.running = (async () => {
      try {
        for (;;) {
          if (this.closed) break;
          const [e] = this.feed.page(s.patient, s.cursor, 1);
          if (e === undefined) break;
          if (!(await this.deliver(s, e))) {
            if (this.closed) break;
            const delay = retryDelayMs(s.attempt, this.retryBaseMs, this.retryMaxMs);
            s.state = 'backoff';
            s.timer = this.timers.setTimeout(() => {
              s.timer = null;
              s.state = 'idle';
              this.pump(s);
            }, delay);
            return;
          }
        }
      } catch (e) {
        this.log('events.webhook.failed', { subscription: s.id, error: (e as Error).message });
      }
      s.state = 'idle';
    })();
  }

  private async deliver(s: Subscription, e: PatientEvent): Promise<boolean> {
    const body = JSON.stringify(e);
    const t = this.opts.clock.now();
    let status = 0;
    let error: string | null = null;
    try {
      status = (
        await this.transport({
          url: s.url,
          headers: {
            'content-type': 'application/json',
            'user-agent': 'HealthLedger-Webhooks/1',
            'x-healthledger-event-id': String(e.seq),
            'x-healthledger-subscription-id': s.id,
            'x-healthledger-signature': webhookSignature(s.secret, t, body),
          },
          body,
          timeoutMs: this.timeoutMs,
        })
      ).status;
    } catch (err) {
      error = (err as Error).message.slice(0, 200);
    }
    if (status >= 200 && status < 300) {
      this.db
        .prepare(
          'UPDATE subscriptions SET cursor = ?, attempts = 0, last_error = NULL, last_attempt_ms = ? WHERE id = ?',
        )
        .run(e.seq, t, s.id);
      s.cursor = e.seq;
      s.attempt = 0;
      return true;
    }
    s.attempt++;
    const reason = error ?? `HTTP ${status}`;
    this.db
      .prepare('UPDATE subscriptions SET attempts = ?, last_error = ?, last_attempt_ms = ? WHERE id = ?')
      .run(s.attempt, reason, t, s.id);
    // No URL or payload in logs: ids and the failure only.
    this.log('events.webhook.retry', { subscription: s.id, seq: e.seq, attempt: s.attempt, reason });
    return false;
  }

  /** Stops delivering: cancels retry timers and waits for requests in flight (≤ the timeout). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.unsubscribe?.();
    for (const s of this.subs.values()) if (s.timer !== null) this.timers.clearTimeout(s.timer);
    await Promise.all([...this.subs.values()].map((s) => s.running));
  }
}
