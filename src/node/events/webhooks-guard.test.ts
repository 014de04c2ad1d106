/**
 * Issue 16, finding 5: webhook targets must not reach internal addresses, deliveries must not
 * retry forever, subscriptions can be listed and deleted and end with their member, and events
 * tokens are bound to the member they were issued to. No test here connects anywhere but
 * loopback; forbidden targets are refused before any connection (a transport spy, or a loopback
 * listener that counts connections).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import Database from 'better-sqlite3';
import { HealthLedgerError } from '../../protocol/errors.js';
import type { PatientEvent } from './event-index.js';
import { EventTokens } from './tokens.js';
import {
  WebhookDeliverer,
  checkWebhookUrl,
  httpTransport,
  resolveWebhookTarget,
  type EventFeed,
  type Timers,
  type WebhookTransport,
} from './webhooks.js';

const code =
  (c: string) =>
  (e: unknown): boolean =>
    e instanceof HealthLedgerError && e.code === c;

const event = (seq: number): PatientEvent => ({
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
});

function fixture(n: number) {
  const events = Array.from({ length: n }, (_, i) => event(i + 1));
  const feed: EventFeed = {
    page: (p, afterSeq, limit) => events.filter((e) => e.patient === p && e.seq > afterSeq).slice(0, limit),
    onEvents: () => () => {},
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
  return { feed, pending, timers };
}
const settle = async (n = 5) => {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
};

describe('webhook targets (SSRF)', () => {
  test('IP-literal internal targets and port 0 are refused at creation', () => {
    for (const url of [
      'http://127.0.0.1/',
      'http://127.0.0.1:8080/v1/health',
      'http://2130706433/',
      'http://0x7f000001/',
      'http://017700000001/',
      'http://[::1]/',
      'http://[::ffff:127.0.0.1]/',
      'http://0.0.0.0/',
      'http://[::]/',
      'http://169.254.169.254/latest/meta-data',
      'http://10.0.0.5/',
      'http://192.168.1.1/',
      'http://172.16.0.1/',
      'http://100.64.0.1/',
      'http://224.0.0.1/',
      'http://255.255.255.255/',
      'http://[fe80::1]/',
      'http://[fd00::1]/',
    ])
      assert.throws(() => checkWebhookUrl(url), code('WEBHOOK_TARGET_FORBIDDEN'), url);
    assert.throws(() => checkWebhookUrl('http://example.org:0/'), code('INVALID_WEBHOOK_URL'));
    assert.equal(checkWebhookUrl('https://93.184.215.14/h'), 'https://93.184.215.14/h');
  });

  test('node.json webhooks.allow admits listed addresses (host:port or CIDR) and nothing else', () => {
    const allow = ['127.0.0.1:9000', '10.1.0.0/16'];
    assert.equal(checkWebhookUrl('http://127.0.0.1:9000/h', allow), 'http://127.0.0.1:9000/h');
    assert.throws(() => checkWebhookUrl('http://127.0.0.1:9001/h', allow), code('WEBHOOK_TARGET_FORBIDDEN'));
    assert.equal(checkWebhookUrl('http://10.1.2.3/h', allow), 'http://10.1.2.3/h');
    assert.throws(() => checkWebhookUrl('http://10.2.0.1/h', allow), code('WEBHOOK_TARGET_FORBIDDEN'));
    assert.throws(() => checkWebhookUrl('http://169.254.169.254/', allow), code('WEBHOOK_TARGET_FORBIDDEN'));
  });

  test('a hostname is resolved at creation and refused if any address is forbidden', async () => {
    const lookup = (addrs: string[]) => async () =>
      addrs.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
    await assert.rejects(
      resolveWebhookTarget('https://hooks.example.org/x', [], lookup(['93.184.215.14', '169.254.169.254'])),
      code('WEBHOOK_TARGET_FORBIDDEN'),
    );
    await assert.rejects(
      resolveWebhookTarget('https://hooks.example.org/x', [], lookup(['::1'])),
      code('WEBHOOK_TARGET_FORBIDDEN'),
    );
    assert.equal(
      await resolveWebhookTarget('https://hooks.example.org/x', [], lookup(['93.184.215.14'])),
      'https://hooks.example.org/x',
    );
  });

  test('the delivery transport refuses a loopback target before connecting (DNS rebinding)', async () => {
    let connections = 0;
    const server = createServer((s) => {
      connections++;
      s.destroy();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    try {
      await assert.rejects(
        httpTransport({ url: `http://localhost:${port}/h`, headers: {}, body: '{}', timeoutMs: 1000 }),
      );
      await assert.rejects(
        httpTransport({ url: `http://127.0.0.1:${port}/h`, headers: {}, body: '{}', timeoutMs: 1000 }),
      );
      assert.equal(connections, 0);
    } finally {
      await new Promise((r) => server.close(r));
    }
  });
});

describe('webhook lifetime', () => {
  test('after maxAttempts failures the event is dead-lettered and delivery continues', async () => {
    const { feed, pending, timers } = fixture(2);
    const sent: string[] = [];
    const transport: WebhookTransport = async ({ headers }) => {
      const seq = headers['x-healthledger-event-id']!;
      sent.push(seq);
      return { status: seq === '1' ? 500 : 200 };
    };
    const db = new Database(':memory:');
    const d = new WebhookDeliverer(db, feed, {
      clock: { now: () => 1_700_000_000_000 },
      timers,
      transport,
      maxAttempts: 3,
    });
    d.start();
    const { id } = d.create('st-mary/p-x', 'http://127.0.0.1:9/hook', 'st-mary/p-x');
    await settle();
    for (let i = 0; i < 5 && pending.length > 0; i++) {
      pending.shift()!.fn();
      await settle();
    }
    assert.deepEqual(sent, ['1', '1', '1', '2']);
    assert.equal(pending.length, 0, 'no retry scheduled forever');
    const dead = d.deadLetters(id);
    assert.equal(dead.length, 1);
    assert.equal(dead[0]!.seq, 1);
    assert.equal(dead[0]!.attempts, 3);
    assert.equal(dead[0]!.lastError, 'HTTP 500');
    await d.close();
    db.close();
  });

  test('subscriptions are listed and deleted; a deleted one delivers nothing', async () => {
    const { feed, timers } = fixture(1);
    const sent: string[] = [];
    const db = new Database(':memory:');
    const d = new WebhookDeliverer(db, feed, {
      clock: { now: () => 1 },
      timers,
      transport: async ({ headers }) => {
        sent.push(headers['x-healthledger-subscription-id']!);
        return { status: 500 };
      },
    });
    d.start();
    const a = d.create('st-mary/p-x', 'http://127.0.0.1:9/a', 'st-mary/aud');
    const b = d.create('st-mary/p-y', 'http://127.0.0.1:9/b', 'st-mary/p-y');
    assert.deepEqual(
      d.list((s) => s.createdBy === 'st-mary/aud').map((s) => [s.id, s.patient, s.url]),
      [[a.id, 'st-mary/p-x', 'http://127.0.0.1:9/a']],
    );
    assert.equal(
      d.list(() => true).some((s) => 'secret' in s),
      false,
      'secrets are never listed',
    );
    assert.equal(d.get(b.id)?.createdBy, 'st-mary/p-y');
    assert.equal(d.remove(a.id), true);
    assert.equal(d.remove(a.id), false);
    assert.equal(d.size, 1);
    assert.equal((db.prepare('SELECT count(*) AS n FROM subscriptions').get() as { n: number }).n, 1);
    await d.close();
    db.close();
  });

  test('a revoked creator’s subscription ends and delivers nothing more', async () => {
    const { feed, timers } = fixture(2);
    const sent: string[] = [];
    const revoked = new Set<string>();
    const db = new Database(':memory:');
    const d = new WebhookDeliverer(db, feed, {
      clock: { now: () => 1 },
      timers,
      transport: async ({ headers }) => {
        sent.push(headers['x-healthledger-event-id']!);
        return { status: 200 };
      },
      creatorActive: (member) => !revoked.has(member),
    });
    revoked.add('st-mary/aud');
    d.start();
    d.create('st-mary/p-x', 'http://127.0.0.1:9/a', 'st-mary/aud');
    await settle();
    assert.deepEqual(sent, []);
    assert.equal(d.size, 0);
    assert.equal((db.prepare('SELECT count(*) AS n FROM subscriptions').get() as { n: number }).n, 0);
    await d.close();
    db.close();
  });
});

describe('events tokens are bound to their member', () => {
  test('the token records the member it was issued to', () => {
    const t = new EventTokens(new Uint8Array(32).fill(7), { now: () => 1000 });
    const { token } = t.issue('st-mary/p-x', 'st-mary/aud');
    assert.equal(t.verify(token, 'st-mary/p-x').member, 'st-mary/aud');
    // Tampering with the member breaks the MAC.
    const parts = token.split('.');
    parts[2] = Buffer.from('st-mary/p-x').toString('base64url');
    assert.throws(() => t.verify(parts.join('.'), 'st-mary/p-x'), code('EVENTS_TOKEN_INVALID'));
  });
});
