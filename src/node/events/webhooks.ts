/**
 * Webhook subscriptions to a patient's events, delivered in order, at least once, with signed
 * payloads and retries.
 *
 * **Delivery.** Each subscription has a cursor (the `seq` of the last event acknowledged),
 * persisted in SQLite (`data/subscriptions.sqlite`). The deliverer POSTs the next event after the
 * cursor as JSON (the event object, as `GET /v1/patients/…/events` shows it), one at a time; a 2xx
 * answer advances the cursor, anything else — another status (redirects are never followed),
 * a network error, no answer within 5 s — is retried after 0.5 s, 1 s, 2 s, … capped at 30 s.
 * Retries are bounded: after `maxAttempts` (default 12, about 4 minutes) or `maxRetryMs`
 * (default 1 hour) of failures for one event, that event is moved to the subscription's
 * dead-letter list (`dead_letters` table: seq, attempts, last error, time) and delivery
 * continues with the next event — one bad event never wedges a subscription, and nothing
 * retries forever. A new subscription starts after the newest event indexed when it is created.
 *
 * **Targets (SSRF).** A target must not be an internal address: loopback, private (RFC 1918,
 * ULA), link-local (including the cloud metadata address 169.254.169.254), unspecified,
 * carrier-grade NAT, multicast, broadcast or reserved — unless node.json `webhooks.allow` lists
 * it (`"127.0.0.1:9000"`, `"10.1.0.0/16"`, `"::1"`). IP-literal hosts (in every form WHATWG URL
 * normalizes: decimal, hex, octal IPv4) are refused at creation, hostnames are resolved at
 * creation and refused if any address is forbidden (WEBHOOK_TARGET_FORBIDDEN), and every
 * delivery goes through `request-filtering-agent`, which checks the address actually connected
 * to (DNS rebinding after creation is refused at connect time).
 *
 * **Lifetime.** A subscription ends when deleted (by its creator or the patient) or when its
 * creator is revoked: the deliverer checks the creator before every delivery and deletes the
 * subscription of a revoked member.
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
import { lookup as dnsLookup } from 'node:dns/promises';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { BlockList, isIP } from 'node:net';
import { RequestFilteringHttpAgent, RequestFilteringHttpsAgent } from 'request-filtering-agent';
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
  /** Failed attempts at one event before it is dead-lettered. Default 12. */
  maxAttempts?: number;
  /** Time since an event's first failed attempt after which it is dead-lettered. Default 1 h. */
  maxRetryMs?: number;
  /** Internal targets admitted anyway (node.json `webhooks.allow`): `ip`, `ip:port`, `[v6]:port`, CIDR. */
  allow?: readonly string[];
  /** Whether a subscription's creator may still follow (not revoked); checked before each delivery. */
  creatorActive?: (member: string, subject: string) => boolean;
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

/** Address ranges a webhook may never reach unless allowlisted. */
const FORBIDDEN = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8], // "this network", unspecified
  ['10.0.0.0', 8],
  ['100.64.0.0', 10], // carrier-grade NAT
  ['127.0.0.0', 8],
  ['169.254.0.0', 16], // link-local, cloud metadata
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.88.99.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, broadcast
] as const)
  FORBIDDEN.addSubnet(net, prefix, 'ipv4');
for (const [net, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['64:ff9b::', 96],
  ['100::', 64],
  ['2001::', 23],
  ['2001:db8::', 32],
  ['fc00::', 7], // unique local
  ['fe80::', 10], // link-local
  ['fec0::', 10],
  ['ff00::', 8], // multicast
] as const)
  FORBIDDEN.addSubnet(net, prefix, 'ipv6');

/** The IPv4 address an IPv4-mapped IPv6 address (`::ffff:a.b.c.d`) stands for, else undefined. */
function mappedV4(ip: string): string | undefined {
  const m = /^::ffff:(?:(\d+\.\d+\.\d+\.\d+)|([0-9a-f]{1,4}):([0-9a-f]{1,4}))$/i.exec(ip);
  if (!m) return undefined;
  if (m[1]) return m[1];
  const hi = parseInt(m[2]!, 16);
  const lo = parseInt(m[3]!, 16);
  return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
}

/** Whether `ip` (an address) at `port` is listed in `allow` (`ip`, `ip:port`, `[v6]:port`, CIDR). */
function allowed(ip: string, port: number, allow: readonly string[]): boolean {
  const family = isIP(ip) === 6 ? 'ipv6' : 'ipv4';
  for (const entry of allow) {
    const cidr = /^(.+)\/(\d{1,3})$/.exec(entry);
    if (cidr) {
      const list = new BlockList();
      try {
        list.addSubnet(cidr[1]!, Number(cidr[2]), isIP(cidr[1]!) === 6 ? 'ipv6' : 'ipv4');
      } catch {
        continue;
      }
      if (list.check(ip, family)) return true;
      continue;
    }
    const hp = /^\[([^\]]+)\]:(\d+)$/.exec(entry) ?? /^([^:]+):(\d+)$/.exec(entry);
    const [host, p] = hp ? [hp[1]!, Number(hp[2])] : [entry, undefined];
    if (isIP(host) === 0) continue;
    const same = isIP(host) === isIP(ip) && new BlockList();
    if (same) same.addAddress(host, family);
    if (same && same.check(ip, family) && (p === undefined || p === port)) return true;
  }
  return false;
}

/** Whether a webhook may connect to address `ip` on `port`. */
export function webhookAddressAllowed(ip: string, port: number, allow: readonly string[] = []): boolean {
  if (allowed(ip, port, allow)) return true;
  const v4 = mappedV4(ip);
  if (v4 !== undefined) return webhookAddressAllowed(v4, port, allow);
  const family = isIP(ip);
  if (family === 0) return false;
  return !FORBIDDEN.check(ip, family === 6 ? 'ipv6' : 'ipv4');
}

const forbidden = (why: string) => new HealthLedgerError('WEBHOOK_TARGET_FORBIDDEN', why);

/** The URL's port as a number (the scheme's default when absent). */
const portOf = (u: URL): number => (u.port ? Number(u.port) : u.protocol === 'https:' ? 443 : 80);

/** The URL's host as an address if it is an IP literal (brackets stripped), else undefined. */
function ipLiteral(u: URL): string | undefined {
  const h = u.hostname.startsWith('[') ? u.hostname.slice(1, -1) : u.hostname;
  return isIP(h) ? h : undefined;
}

/**
 * Checks a webhook URL syntactically; throws INVALID_WEBHOOK_URL (not an absolute http(s) URL
 * without credentials, or port 0) or WEBHOOK_TARGET_FORBIDDEN (an IP-literal host in a forbidden
 * range and not in `allow`). WHATWG URL has already turned decimal/hex/octal IPv4 into dotted form.
 */
export function checkWebhookUrl(url: unknown, allow: readonly string[] = []): string {
  if (typeof url !== 'string' || url.length > 2048) throw new HealthLedgerError('INVALID_WEBHOOK_URL');
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new HealthLedgerError('INVALID_WEBHOOK_URL');
  }
  if ((u.protocol !== 'http:' && u.protocol !== 'https:') || u.hostname === '' || u.username || u.password)
    throw new HealthLedgerError('INVALID_WEBHOOK_URL');
  if (u.port === '0') throw new HealthLedgerError('INVALID_WEBHOOK_URL', 'port 0');
  const ip = ipLiteral(u);
  if (ip !== undefined && !webhookAddressAllowed(ip, portOf(u), allow))
    throw forbidden(`${ip} is an internal address`);
  return u.toString();
}

/** Resolves a host name to its addresses (injected by tests). */
export type Lookup = (host: string) => Promise<{ address: string; family: number }[]>;
const systemLookup: Lookup = (host) => dnsLookup(host, { all: true, verbatim: true });

/**
 * {@link checkWebhookUrl}, then resolves a host name and refuses it (WEBHOOK_TARGET_FORBIDDEN) if
 * any of its addresses is forbidden, or INVALID_WEBHOOK_URL if it does not resolve.
 */
export async function resolveWebhookTarget(
  url: unknown,
  allow: readonly string[] = [],
  lookup: Lookup = systemLookup,
): Promise<string> {
  const checked = checkWebhookUrl(url, allow);
  const u = new URL(checked);
  if (ipLiteral(u) !== undefined) return checked;
  let addrs: { address: string }[];
  try {
    addrs = await lookup(u.hostname);
  } catch {
    throw new HealthLedgerError('INVALID_WEBHOOK_URL', 'the host name does not resolve');
  }
  if (addrs.length === 0)
    throw new HealthLedgerError('INVALID_WEBHOOK_URL', 'the host name does not resolve');
  for (const { address } of addrs)
    if (!webhookAddressAllowed(address, portOf(u), allow))
      throw forbidden('the host name resolves to an internal address');
  return checked;
}

/**
 * POST over node:http(s) through request-filtering-agent (the address connected to is checked,
 * after DNS: internal ranges refused unless in `allow`): no redirects followed, no connection
 * reuse, a hard timeout.
 */
export function filteringTransport(allow: readonly string[] = []): WebhookTransport {
  // The agent takes addresses and CIDRs (ports are checked here, from the URL).
  const allowIPAddressList = allow.map((e) => {
    const hp = /^\[([^\]]+)\]:(\d+)$/.exec(e) ?? /^([^:/]+):(\d+)$/.exec(e);
    return hp ? hp[1]! : e;
  });
  const agentOpts = { keepAlive: false, allowIPAddressList };
  const httpAgent = new RequestFilteringHttpAgent(agentOpts);
  const httpsAgent = new RequestFilteringHttpsAgent(agentOpts);
  return ({ url, headers, body, timeoutMs }) =>
    new Promise((resolve, reject) => {
      const u = new URL(url);
      const ip = ipLiteral(u);
      // An allowlisted address admits only its listed port.
      if (ip !== undefined && !webhookAddressAllowed(ip, portOf(u), allow))
        return reject(forbidden(`${ip} is an internal address`));
      const https = u.protocol === 'https:';
      const send = https ? httpsRequest : httpRequest;
      const req = send(
        u,
        {
          method: 'POST',
          agent: https ? httpsAgent : httpAgent,
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
}

/** The default transport: {@link filteringTransport} with nothing allowlisted. */
export const httpTransport: WebhookTransport = filteringTransport();

/** A subscription as listed (never its secret). */
export interface SubscriptionInfo {
  id: string;
  patient: string;
  url: string;
  createdBy: string;
  createdAtMs: number;
  cursor: number;
  attempts: number;
  lastError: string | null;
  deadLetters: number;
}

/** An event that was given up on. */
export interface DeadLetter {
  subscription: string;
  seq: number;
  attempts: number;
  lastError: string | null;
  atMs: number;
}

interface Subscription {
  id: string;
  patient: string;
  url: string;
  secret: string;
  cursor: number;
  createdBy: string;
  attempt: number;
  /** When the pending event first failed (for `maxRetryMs`). */
  firstFailureMs: number | null;
  state: 'idle' | 'busy' | 'backoff';
  timer: unknown;
  running: Promise<void> | null;
  /** Deleted (or its creator revoked): deliver nothing more. */
  removed: boolean;
}

type SubRow = { id: string; patient: string; url: string; secret: string; cursor: number; createdBy: string };

export class WebhookDeliverer {
  private readonly subs = new Map<string, Subscription>();
  private readonly byPatient = new Map<string, Set<Subscription>>();
  private readonly timers: Timers;
  private readonly transport: WebhookTransport;
  private readonly retryBaseMs: number;
  private readonly retryMaxMs: number;
  private readonly timeoutMs: number;
  private readonly maxAttempts: number;
  private readonly maxRetryMs: number;
  private readonly log: NonNullable<WebhookOptions['log']>;
  private unsubscribe: (() => void) | null = null;
  private closed = false;

  constructor(
    private readonly db: Db,
    private readonly feed: EventFeed,
    private readonly opts: WebhookOptions,
  ) {
    this.timers = opts.timers ?? systemTimers;
    this.transport = opts.transport ?? (opts.allow?.length ? filteringTransport(opts.allow) : httpTransport);
    this.maxAttempts = opts.maxAttempts ?? 12;
    this.maxRetryMs = opts.maxRetryMs ?? 3600_000;
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
      CREATE TABLE IF NOT EXISTS dead_letters (
        subscription TEXT NOT NULL, seq INTEGER NOT NULL, attempts INTEGER NOT NULL, last_error TEXT,
        at_ms INTEGER NOT NULL, PRIMARY KEY (subscription, seq)) WITHOUT ROWID;
    `);
    const cols = db.prepare('PRAGMA table_info(subscriptions)').all() as { name: string }[];
    if (!cols.some((c) => c.name === 'first_failure_ms'))
      db.exec('ALTER TABLE subscriptions ADD COLUMN first_failure_ms INTEGER');
  }

  /** Loads the subscriptions and starts delivering what each has pending. */
  start(): void {
    const rows = this.db
      .prepare(
        'SELECT id, patient, url, secret, cursor, created_by AS createdBy, attempts, first_failure_ms AS firstFailureMs FROM subscriptions ORDER BY created_at_ms',
      )
      .all() as (SubRow & { attempts: number; firstFailureMs: number | null })[];
    for (const r of rows) {
      const s = this.add({ ...r, secret: this.opts.secrets?.unseal(r.id, r.secret) ?? r.secret });
      s.attempt = r.attempts;
      s.firstFailureMs = r.firstFailureMs;
    }
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
    const s = this.add({ id, patient, url, secret, cursor, createdBy });
    this.pump(s);
    return { id, secret };
  }

  /** The subscriptions `filter` admits (without secrets), oldest first. */
  list(filter: (s: SubscriptionInfo) => boolean): SubscriptionInfo[] {
    const rows = this.db
      .prepare(
        `SELECT id, patient, url, created_by AS createdBy, created_at_ms AS createdAtMs, cursor, attempts,
           last_error AS lastError,
           (SELECT count(*) FROM dead_letters d WHERE d.subscription = s.id) AS deadLetters
         FROM subscriptions s ORDER BY created_at_ms, id`,
      )
      .all() as SubscriptionInfo[];
    return rows.filter(filter);
  }

  /** One subscription (without its secret), or undefined. */
  get(id: string): SubscriptionInfo | undefined {
    return this.list((s) => s.id === id)[0];
  }

  /** The events given up on for subscription `id`, oldest first. */
  deadLetters(id: string): DeadLetter[] {
    return this.db
      .prepare(
        'SELECT subscription, seq, attempts, last_error AS lastError, at_ms AS atMs FROM dead_letters WHERE subscription = ? ORDER BY seq',
      )
      .all(id) as DeadLetter[];
  }

  /** Deletes subscription `id` (and its dead letters); a request in flight finishes unrecorded. */
  remove(id: string): boolean {
    const s = this.subs.get(id);
    if (s) {
      this.subs.delete(id);
      this.byPatient.get(s.patient)?.delete(s);
      if (s.timer !== null) this.timers.clearTimeout(s.timer);
      s.timer = null;
      s.removed = true;
    }
    const n = this.db.prepare('DELETE FROM subscriptions WHERE id = ?').run(id).changes;
    this.db.prepare('DELETE FROM dead_letters WHERE subscription = ?').run(id);
    return n > 0 || s !== undefined;
  }

  private add(r: SubRow): Subscription {
    const s: Subscription = {
      ...r,
      attempt: 0,
      firstFailureMs: null,
      state: 'idle',
      timer: null,
      running: null,
      removed: false,
    };
    this.subs.set(s.id, s);
    let set = this.byPatient.get(s.patient);
    if (!set) this.byPatient.set(s.patient, (set = new Set()));
    set.add(s);
    return s;
  }

  /** Delivers `s`'s pending events in order until none is left or one fails. */
  private pump(s: Subscription): void {
    if (this.closed || s.removed || s.state !== 'idle') return;
    s.state = 'busy';
    s.running = (async () => {
      try {
        for (;;) {
          if (this.closed || s.removed) break;
          const [e] = this.feed.page(s.patient, s.cursor, 1);
          if (e === undefined) break;
          if (this.opts.creatorActive && !this.opts.creatorActive(s.createdBy, s.patient)) {
            // Subscriptions end with their member: nothing more goes to a revoked member's URL.
            this.remove(s.id);
            this.log('events.webhook.ended', { subscription: s.id, reason: 'creator revoked' });
            break;
          }
          if (!(await this.deliver(s, e))) {
            if (this.closed || s.removed) break;
            if (this.giveUp(s, e)) continue;
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
    if (s.removed) return true;
    if (status >= 200 && status < 300) {
      this.db
        .prepare(
          'UPDATE subscriptions SET cursor = ?, attempts = 0, last_error = NULL, last_attempt_ms = ?, first_failure_ms = NULL WHERE id = ?',
        )
        .run(e.seq, t, s.id);
      s.cursor = e.seq;
      s.attempt = 0;
      s.firstFailureMs = null;
      return true;
    }
    s.attempt++;
    s.firstFailureMs ??= t;
    const reason = error ?? `HTTP ${status}`;
    this.db
      .prepare(
        'UPDATE subscriptions SET attempts = ?, last_error = ?, last_attempt_ms = ?, first_failure_ms = ? WHERE id = ?',
      )
      .run(s.attempt, reason, t, s.firstFailureMs, s.id);
    // No URL or payload in logs: ids and the failure only.
    this.log('events.webhook.retry', { subscription: s.id, seq: e.seq, attempt: s.attempt, reason });
    return false;
  }

  /**
   * After a failed attempt: if `e` has failed `maxAttempts` times or for `maxRetryMs`, moves it to
   * the dead letters, advances the cursor past it and returns true (deliver the next one).
   */
  private giveUp(s: Subscription, e: PatientEvent): boolean {
    const now = this.opts.clock.now();
    if (s.attempt < this.maxAttempts && now - (s.firstFailureMs ?? now) < this.maxRetryMs) return false;
    const row = this.db
      .prepare('SELECT last_error AS lastError FROM subscriptions WHERE id = ?')
      .get(s.id) as { lastError: string | null } | undefined;
    this.db.transaction(() => {
      this.db
        .prepare(
          'INSERT OR REPLACE INTO dead_letters (subscription, seq, attempts, last_error, at_ms) VALUES (?, ?, ?, ?, ?)',
        )
        .run(s.id, e.seq, s.attempt, row?.lastError ?? null, now);
      this.db
        .prepare('UPDATE subscriptions SET cursor = ?, attempts = 0, first_failure_ms = NULL WHERE id = ?')
        .run(e.seq, s.id);
    })();
    this.log('events.webhook.dead_letter', { subscription: s.id, seq: e.seq, attempts: s.attempt });
    s.cursor = e.seq;
    s.attempt = 0;
    s.firstFailureMs = null;
    return true;
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
