/**
 * Webhook delivery: signed payloads a receiver can verify, retries with backoff until a 2xx,
 * in order, exactly once across a node restart (the receiver dedupes by event id and asserts
 * it never has to).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Database from 'better-sqlite3';
import { startTestNetwork, type TestNetwork } from '../../test-support/harness.js';
import type { Identity } from '../../sdk/client.js';
import { HealthLedgerError } from '../../protocol/errors.js';
import type { PatientEventWire } from '../../protocol/api.js';
import type { PatientEvent } from './event-index.js';
import { WebhookDeliverer, checkWebhookUrl, retryDelayMs, type EventFeed, type Timers } from './webhooks.js';

const H = 3600_000;

/** A receiver: verifies signatures, answers per a script, dedupes by event id. */
class Receiver {
  server!: Server;
  url = '';
  /** Status codes to answer next (then 200). */
  script: number[] = [];
  /** Answer this to everything while set. */
  down: number | null = null;
  readonly attempts: { id: string; status: number }[] = [];
  readonly delivered: PatientEventWire[] = [];
  readonly duplicates: string[] = [];
  readonly badSignatures: string[] = [];
  secret = '';
  private readonly seen = new Set<string>();

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const id = String(req.headers['x-healthledger-event-id']);
        if (!this.verify(req.headers, body)) this.badSignatures.push(id);
        const status = this.down ?? this.script.shift() ?? 200;
        this.attempts.push({ id, status });
        if (status === 200) {
          if (this.seen.has(id)) this.duplicates.push(id);
          else {
            this.seen.add(id);
            this.delivered.push(JSON.parse(body) as PatientEventWire);
          }
        }
        res.writeHead(status).end();
      });
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hook`;
  }

  /** The documented scheme, implemented independently of the node's code. */
  verify(headers: IncomingHttpHeaders, body: string): boolean {
    const sig = String(headers['x-healthledger-signature'] ?? '');
    const m = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(sig);
    if (!m) return false;
    if (Math.abs(Date.now() - Number(m[1])) > 5 * 60_000) return false;
    const expected = createHmac('sha256', this.secret).update(`${m[1]}.${body}`).digest();
    return timingSafeEqual(expected, Buffer.from(m[2]!, 'hex'));
  }

  async waitDelivered(n: number, ms = 8000): Promise<void> {
    const deadline = Date.now() + ms;
    while (this.delivered.length < n) {
      if (Date.now() > deadline) throw new Error(`delivered ${this.delivered.length} of ${n}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((r) => this.server.close(() => r()));
  }
}

describe('webhook deliverer (unit, injected timers)', () => {
  test('retry delays double from the base and are capped', () => {
    assert.deepEqual(
      [1, 2, 3, 4, 5, 6, 7, 8].map((a) => retryDelayMs(a, 500, 30_000)),
      [500, 1000, 2000, 4000, 8000, 16000, 30000, 30000],
    );
    assert.equal(retryDelayMs(1000, 500, 30_000), 30_000);
  });

  test('failures are retried on the injected timer, in order, each event acknowledged once', async () => {
    const events: PatientEvent[] = [1, 2, 3].map((seq) => ({
      seq,
      kind: 'access.granted',
      patient: 'st-mary/p-x',
      txId: String(seq).repeat(64).slice(0, 64),
      type: 'access.request',
      code: 'VALID',
      actor: 'city-clinic/dr-y',
      height: seq,
      atMs: 0,
      detail: {},
    }));
    let visible = 0;
    const listeners = new Set<(e: PatientEvent[]) => void>();
    const feed: EventFeed = {
      page: (p, afterSeq, limit) =>
        events
          .slice(0, visible)
          .filter((e) => e.patient === p && e.seq > afterSeq)
          .slice(0, limit),
      onEvents: (l) => {
        listeners.add(l);
        return () => listeners.delete(l);
      },
      latestSeq: () => 0,
    };
    const pending: { fn: () => void; ms: number }[] = [];
    const timers: Timers = {
      setTimeout: (fn, ms) => {
        const t = { fn, ms };
        pending.push(t);
        return t;
      },
      clearTimeout: (h) => {
        const i = pending.indexOf(h as (typeof pending)[number]);
        if (i >= 0) pending.splice(i, 1);
      },
    };
    const answers = [500, 503, 200, 200, 200];
    const sent: { seq: string; status: number }[] = [];
    const db = new Database(':memory:');
    const d = new WebhookDeliverer(db, feed, {
      clock: { now: () => 1_700_000_000_000 },
      timers,
      transport: async ({ headers }) => {
        const status = answers.shift() ?? 200;
        sent.push({ seq: headers['x-healthledger-event-id']!, status });
        return { status };
      },
    });
    d.start();
    const { id } = d.create('st-mary/p-x', 'http://127.0.0.1:9/hook', 'st-mary/p-x');
    const settle = () => new Promise((r) => setImmediate(r));
    visible = 3;
    for (const l of listeners) l(events);
    await settle();
    assert.deepEqual(sent, [{ seq: '1', status: 500 }]);
    assert.deepEqual(
      pending.map((p) => p.ms),
      [500],
    );
    pending.shift()!.fn();
    await settle();
    assert.deepEqual(
      pending.map((p) => p.ms),
      [1000],
    );
    pending.shift()!.fn();
    for (let i = 0; i < 5; i++) await settle();
    assert.deepEqual(sent, [
      { seq: '1', status: 500 },
      { seq: '1', status: 503 },
      { seq: '1', status: 200 },
      { seq: '2', status: 200 },
      { seq: '3', status: 200 },
    ]);
    assert.equal(pending.length, 0);
    const row = db.prepare('SELECT cursor, attempts FROM subscriptions WHERE id = ?').get(id);
    assert.deepEqual(row, { cursor: 3, attempts: 0 });
    await d.close();
    db.close();
  });

  test('webhook URLs must be absolute http(s) without credentials', () => {
    assert.equal(checkWebhookUrl('https://example.org/h?x=1'), 'https://example.org/h?x=1');
    for (const bad of [
      'ftp://example.org/',
      'javascript:alert(1)',
      '/relative',
      'https://u:p@example.org/',
      42,
    ])
      assert.throws(
        () => checkWebhookUrl(bad),
        (e: unknown) => e instanceof HealthLedgerError && e.code === 'INVALID_WEBHOOK_URL',
      );
  });
});

describe('webhooks (end to end)', () => {
  let net: TestNetwork;
  const rx = new Receiver();
  const who: Record<string, Identity> = {};
  let dana = '';
  const access = async () =>
    (
      await net.client.sendAndVerify(who['erin']!, 'access.request', {
        patient: dana,
        purpose: 'treatment',
        categories: ['diabetes'],
      })
    ).txId;

  before(async () => {
    await rx.start();
    // The receivers listen on loopback: allowlisted here, refused by default.
    net = await startTestNetwork({ events: { webhooks: { allow: ['127.0.0.1'] } } });
    who['dana'] = await net.enroll('st-mary', 'p-dana', 'patient');
    who['erin'] = await net.enroll('city-clinic', 'dr-erin', 'practitioner', {
      specialty: 'emergency-medicine',
    });
    dana = who['dana']!.memberId;
  });
  after(async () => {
    await net.destroy();
    await rx.close();
  });

  test('a subscription receives the patient’s events with a valid signature', async () => {
    await assert.rejects(
      net.client.health.createSubscription(who['dana']!, dana, 'file:///etc/passwd'),
      (e: unknown) => e instanceof HealthLedgerError && e.code === 'INVALID_WEBHOOK_URL',
    );
    await assert.rejects(
      net.client.health.createSubscription(who['erin']!, dana, rx.url),
      (e: unknown) => e instanceof HealthLedgerError && e.code === 'NOT_PATIENT_PROXY_OR_AUDITOR',
    );
    const sub = await net.client.health.createSubscription(who['dana']!, dana, rx.url);
    assert.match(sub.secret, /^[0-9a-f]{64}$/);
    rx.secret = sub.secret;
    const now = Date.now();
    const grant = await net.client.sendAndVerify(who['dana']!, 'consent.grant', {
      id: 'care',
      patient: dana,
      actor: { kind: 'member', id: who['erin']!.memberId },
      categories: ['diabetes'],
      purposes: ['treatment'],
      validFromMs: now - 60_000,
      validUntilMs: now + 48 * H,
    });
    const txId = await access();
    await rx.waitDelivered(2);
    assert.deepEqual(
      rx.delivered.map((e) => [e.kind, e.txId]),
      [
        ['consent.granted', grant.txId],
        ['access.granted', txId],
      ],
    );
    assert.deepEqual(rx.badSignatures, []);
    // A tampered body would not verify.
    const sig = `t=${Date.now()},v1=${createHmac('sha256', rx.secret).update(`${Date.now()}.{}`).digest('hex')}`;
    assert.equal(rx.verify({ 'x-healthledger-signature': sig }, '{"seq":1}'), false);
  });

  test('500 twice then 200: delivered once, in order, after retries', async () => {
    const start = rx.delivered.length;
    rx.script = [500, 500];
    const a = await access();
    const b = await access();
    await rx.waitDelivered(start + 2);
    assert.deepEqual(
      rx.delivered.slice(start).map((e) => e.txId),
      [a, b],
    );
    const forA = rx.attempts.filter((x) => x.id === String(rx.delivered[start]!.seq));
    assert.deepEqual(
      forA.map((x) => x.status),
      [500, 500, 200],
    );
    assert.deepEqual(rx.duplicates, []);
    assert.deepEqual(rx.badSignatures, []);
  });

  test('node stopped while events are pending: delivered after restart, none lost, none duplicated', async () => {
    const start = rx.delivered.length;
    rx.down = 503;
    const pending = [await access(), await access()];
    const deadline = Date.now() + 3000;
    while (!rx.attempts.some((x) => x.status === 503) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    await net.stop();
    rx.down = null;
    await net.restart();
    await rx.waitDelivered(start + 2);
    const later = await access();
    await rx.waitDelivered(start + 3);
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(
      rx.delivered.slice(start).map((e) => e.txId),
      [...pending, later],
    );
    assert.deepEqual(rx.duplicates, []);
    assert.deepEqual(rx.badSignatures, []);
    // Everything the patient's trail holds since subscribing was delivered, in order.
    const { token } = await net.client.health.eventsToken(who['dana']!, dana);
    const trail = (await net.client.health.events(dana, token)).events;
    assert.deepEqual(
      rx.delivered.map((e) => e.seq),
      trail.map((e) => e.seq),
    );
  });

  test('internal targets are refused at creation, before any connection', async () => {
    for (const url of [
      'http://169.254.169.254/latest/meta-data',
      'http://[::1]/',
      'http://0.0.0.0/',
      'http://10.0.0.1/',
      // (127.0.0.1 in every spelling is allowlisted in this network: see webhooks-guard.test.ts.)
    ])
      await assert.rejects(
        net.client.health.createSubscription(who['dana']!, dana, url),
        (e: unknown) => e instanceof HealthLedgerError && e.code === 'WEBHOOK_TARGET_FORBIDDEN',
        url,
      );
    await assert.rejects(
      net.client.health.createSubscription(who['dana']!, dana, 'http://example.org:0/'),
      (e: unknown) => e instanceof HealthLedgerError && e.code === 'INVALID_WEBHOOK_URL',
    );
  });

  test('list and delete; a revoked auditor’s subscription and token end', async () => {
    const code = (c: string) => (e: unknown) => e instanceof HealthLedgerError && e.code === c;
    const ann = await net.enroll('st-mary', 'aud-ann', 'auditor');
    const rx2 = new Receiver();
    await rx2.start();
    try {
      const annSub = await net.client.health.createSubscription(ann, dana, rx2.url);
      rx2.secret = annSub.secret;
      const { token } = await net.client.health.eventsToken(ann, dana);
      await net.client.health.events(dana, token);
      const first = await access();
      await rx2.waitDelivered(1);
      assert.equal(rx2.delivered[0]!.txId, first);
      // The patient sees both subscriptions; the auditor only its own; secrets are never listed.
      const danas = await net.client.health.listSubscriptions(who['dana']!);
      assert.ok(danas.some((s) => s.id === annSub.id && s.createdBy === ann.memberId));
      assert.ok(danas.every((s) => s.patient === dana && !('secret' in s)));
      assert.deepEqual(
        (await net.client.health.listSubscriptions(ann)).map((s) => s.id),
        [annSub.id],
      );
      await assert.rejects(
        net.client.health.deleteSubscription(who['erin']!, annSub.id),
        code('NOT_SUBSCRIPTION_OWNER'),
      );
      await assert.rejects(
        net.client.health.deleteSubscription(who['dana']!, 'no-such-id'),
        code('SUBSCRIPTION_NOT_FOUND'),
      );
      // Revoking the auditor ends its token and its subscription.
      await net.client.sendAndVerify(net.id('st-mary/admin'), 'member.revoke', {
        memberId: ann.memberId,
        reason: 'left',
      });
      await assert.rejects(net.client.health.events(dana, token), code('EVENTS_TOKEN_REVOKED'));
      const start = rx.delivered.length;
      const second = await access();
      await rx.waitDelivered(start + 1);
      await new Promise((r) => setTimeout(r, 300));
      assert.deepEqual(
        rx2.delivered.map((e) => e.txId),
        [first],
      );
      assert.ok(!(await net.client.health.listSubscriptions(who['dana']!)).some((s) => s.id === annSub.id));
      assert.equal(rx.delivered.at(-1)!.txId, second);
      // The patient deletes a subscription: nothing more is delivered to it.
      const mine = (await net.client.health.listSubscriptions(who['dana']!)).map((s) => s.id);
      for (const id of mine) await net.client.health.deleteSubscription(who['dana']!, id);
      assert.deepEqual(await net.client.health.listSubscriptions(who['dana']!), []);
      const n = rx.attempts.length;
      await access();
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(rx.attempts.length, n);
    } finally {
      await rx2.close();
    }
  });
});
