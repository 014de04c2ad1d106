/**
 * The patient's live event stream (SSE) over real HTTP: an access arrives within a second of
 * commit; a reconnect with Last-Event-ID gets exactly what was missed; tokens are checked.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, get as httpGet, type ClientRequest, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startTestNetwork, type TestNetwork } from '../../test-support/harness.js';
import type { Identity } from '../../sdk/client.js';
import { HealthLedgerError } from '../../protocol/errors.js';
import type { PatientEventWire } from '../../protocol/api.js';
import { eventsPaths } from './events-service.js';
import { EventTokens, loadOrCreateEventsSecret } from './tokens.js';
import { EventStreams } from './streams.js';
import type { PatientEvent } from './event-index.js';

const H = 3600_000;

interface Frame {
  id: string | undefined;
  event: string | undefined;
  data: PatientEventWire;
  receivedAtMs: number;
}

/** A minimal EventSource over node:http (one connection per stream, no pooling). */
class SseClient {
  readonly frames: Frame[] = [];
  readonly comments: string[] = [];
  private req: ClientRequest | null = null;
  private waiters: (() => void)[] = [];
  done: Promise<void> = Promise.resolve();

  static async connect(url: string, headers: Record<string, string> = {}): Promise<SseClient> {
    const c = new SseClient();
    const res = await new Promise<IncomingMessage>((resolve, reject) => {
      c.req = httpGet(url, { headers, agent: false }, resolve);
      c.req.on('error', reject);
    });
    if (res.statusCode !== 200) {
      res.resume();
      throw new Error(`HTTP ${res.statusCode}`);
    }
    assert.match(res.headers['content-type'] ?? '', /^text\/event-stream/);
    c.done = c.read(res);
    return c;
  }

  private read(res: IncomingMessage): Promise<void> {
    const decoder = new TextDecoder();
    let buf = '';
    return new Promise((resolve) => {
      res.on('data', (chunk: Buffer) => {
        buf += decoder.decode(chunk, { stream: true });
        let i: number;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const f: Partial<Frame> = {};
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) this.comments.push(line);
            else if (line.startsWith('id: ')) f.id = line.slice(4);
            else if (line.startsWith('event: ')) f.event = line.slice(7);
            else if (line.startsWith('data: ')) f.data = JSON.parse(line.slice(6)) as PatientEventWire;
          }
          if (f.data) this.frames.push({ ...(f as Frame), receivedAtMs: Date.now() });
          for (const w of this.waiters.splice(0)) w();
        }
      });
      res.on('close', () => resolve());
      res.on('error', () => resolve());
    });
  }

  /** Resolves once `n` frames arrived (rejects after `ms`). */
  async waitFor(n: number, ms = 3000): Promise<Frame[]> {
    const deadline = Date.now() + ms;
    while (this.frames.length < n) {
      if (Date.now() > deadline) throw new Error(`got ${this.frames.length} of ${n} frames`);
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 50);
      });
    }
    return this.frames;
  }

  close(): void {
    this.req?.destroy();
  }
}

describe('patient event stream (SSE)', () => {
  let net: TestNetwork;
  const who: Record<string, Identity> = {};
  let dana = '';
  let streamUrl = '';

  const access = async () => {
    const r = await net.client.sendAndVerify(who['erin']!, 'access.request', {
      patient: dana,
      purpose: 'treatment',
      categories: ['diabetes'],
    });
    return r;
  };
  const openStreams = async (): Promise<number> => {
    const m = (await net.app.inject({ url: '/metrics' })).body;
    return Number(/^healthledger_event_streams (\d+)$/m.exec(m)?.[1]);
  };

  before(async () => {
    net = await startTestNetwork();
    who['dana'] = await net.enroll('st-mary', 'p-dana', 'patient');
    who['bob'] = await net.enroll('st-mary', 'p-bob', 'patient');
    who['auditor'] = await net.enroll('st-mary', 'auditor-1', 'auditor');
    who['other-auditor'] = await net.enroll('city-clinic', 'auditor-2', 'auditor');
    who['erin'] = await net.enroll('city-clinic', 'dr-erin', 'practitioner', {
      specialty: 'emergency-medicine',
    });
    dana = who['dana']!.memberId;
    streamUrl = `${net.url}/v1/patients/st-mary/p-dana/stream`;
    const now = Date.now();
    const g = await net.client.sendAndVerify(who['dana']!, 'consent.grant', {
      id: 'travel',
      patient: dana,
      actor: { kind: 'member', id: who['erin']!.memberId },
      categories: ['diabetes'],
      purposes: ['treatment'],
      validFromMs: now - 60_000,
      validUntilMs: now + 48 * H,
    });
    assert.equal(g.code, 'VALID');
  });
  after(async () => net.destroy());

  let lastSeq = 0;

  test('backlog first, then an access arrives live within one second of commit', async () => {
    const { token } = await net.client.health.eventsToken(who['dana']!, dana);
    const sse = await SseClient.connect(`${streamUrl}?token=${token}`);
    try {
      const backlog = await sse.waitFor(1);
      assert.equal(backlog[0]!.event, 'consent.granted');
      assert.equal(backlog[0]!.id, String(backlog[0]!.data.seq));
      const submittedAt = Date.now();
      const r = await access();
      const committedAt = Date.now();
      const [, live] = await sse.waitFor(2, 1000);
      assert.equal(live!.data.txId, r.txId);
      assert.equal(live!.event, 'access.granted');
      // The block time precedes the commit, so this bounds commit → delivery from above.
      const latency = live!.receivedAtMs - live!.data.atMs;
      console.log(
        `  SSE latency: block time → event ${latency} ms; submit → event ${live!.receivedAtMs - submittedAt} ms; ` +
          `event vs commit ack ${live!.receivedAtMs - committedAt} ms`,
      );
      assert.ok(latency < 1000, `event arrived ${latency} ms after the block time`);
      lastSeq = live!.data.seq;
      assert.equal(await openStreams(), 1);
    } finally {
      sse.close();
    }
    // The server drops the stream when the client goes away.
    const deadline = Date.now() + 2000;
    while ((await openStreams()) !== 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.equal(await openStreams(), 0);
  });

  test('reconnecting with Last-Event-ID delivers exactly the events missed', async () => {
    const missed = [await access(), await access()];
    // An auditor of the patient's organization may follow too.
    const { token } = await net.client.health.eventsToken(who['auditor']!, dana);
    const sse = await SseClient.connect(streamUrl, {
      authorization: `Bearer ${token}`,
      'last-event-id': String(lastSeq),
    });
    try {
      const frames = await sse.waitFor(2);
      await new Promise((r) => setTimeout(r, 300));
      assert.deepEqual(
        sse.frames.map((f) => f.data.txId),
        missed.map((m) => m.txId),
      );
      // And `?after=` works the same way.
      const sse2 = await SseClient.connect(`${streamUrl}?token=${token}&after=${frames[0]!.data.seq}`);
      try {
        await sse2.waitFor(1);
        await new Promise((r) => setTimeout(r, 200));
        assert.deepEqual(
          sse2.frames.map((f) => f.data.txId),
          [missed[1]!.txId],
        );
      } finally {
        sse2.close();
      }
    } finally {
      sse.close();
    }
  });

  test('node shutdown ends open streams; after a restart the stream resumes from Last-Event-ID', async () => {
    const { token } = await net.client.health.eventsToken(who['dana']!, dana);
    const sse = await SseClient.connect(`${streamUrl}?token=${token}`);
    const backlog = await sse.waitFor(4);
    const stopped = Date.now();
    const stop = net.stop();
    const timedOut = await Promise.race([
      stop.then(() => false),
      new Promise<boolean>((r) => setTimeout(() => r(true), 5000).unref()),
    ]);
    assert.equal(timedOut, false, 'an open stream must not hold up shutdown');
    assert.ok(Date.now() - stopped < 3000, 'an open stream does not hold up shutdown');
    await sse.done;
    await net.restart();
    const missed = await access();
    const again = await SseClient.connect(`${net.url}/v1/patients/st-mary/p-dana/stream?token=${token}`, {
      'last-event-id': String(backlog.at(-1)!.data.seq),
    });
    try {
      assert.deepEqual(
        (await again.waitFor(1)).map((f) => f.data.txId),
        [missed.txId],
      );
    } finally {
      again.close();
    }
    streamUrl = `${net.url}/v1/patients/st-mary/p-dana/stream`;
  });

  test('no token, another patient’s token, an expired or forged token: 401/403 with codes', async () => {
    const code = async (url: string, headers: Record<string, string> = {}) => {
      const res = await fetch(url, { headers });
      const body = (await res.json()) as { error: { code: string } };
      return [res.status, body.error.code];
    };
    assert.deepEqual(await code(streamUrl), [401, 'EVENTS_TOKEN_MISSING']);
    const bobs = await net.client.health.eventsToken(who['bob']!, who['bob']!.memberId);
    assert.deepEqual(await code(`${streamUrl}?token=${bobs.token}`), [403, 'EVENTS_TOKEN_WRONG_PATIENT']);
    const secret = loadOrCreateEventsSecret(eventsPaths(net.dir).secret);
    const expired = new EventTokens(secret, { now: () => Date.now() - 16 * 60_000 }).issue(dana, dana);
    assert.deepEqual(await code(`${streamUrl}?token=${expired.token}`), [401, 'EVENTS_TOKEN_EXPIRED']);
    const forged = new EventTokens(new Uint8Array(32).fill(7), { now: () => Date.now() }).issue(dana, dana);
    assert.deepEqual(await code(`${streamUrl}?token=${forged.token}`), [401, 'EVENTS_TOKEN_INVALID']);
    // The same checks guard the page and AuditEvent routes.
    const events = `${net.url}/v1/patients/st-mary/p-dana/events`;
    assert.deepEqual(await code(events), [401, 'EVENTS_TOKEN_MISSING']);
    assert.deepEqual(await code(events, { authorization: `Bearer ${bobs.token}` }), [
      403,
      'EVENTS_TOKEN_WRONG_PATIENT',
    ]);
    assert.deepEqual(await code(`${net.url}/v1/patients/st-mary/p-dana/audit-events`), [
      401,
      'EVENTS_TOKEN_MISSING',
    ]);
  });

  test('revoking the token’s member ends its open stream and refuses the token', async () => {
    const ann = await net.enroll('st-mary', 'auditor-3', 'auditor');
    const { token } = await net.client.health.eventsToken(ann, dana);
    const sse = await SseClient.connect(`${streamUrl}?token=${token}`);
    try {
      await sse.waitFor(1);
      await net.client.sendAndVerify(net.id('st-mary/admin'), 'member.revoke', {
        memberId: ann.memberId,
        reason: 'left',
      });
      const before = sse.frames.length;
      await access();
      await Promise.race([sse.done, new Promise((r) => setTimeout(r, 3000))]);
      assert.ok(sse.comments.includes(': token revoked'), sse.comments.join('|'));
      assert.equal(sse.frames.length, before, 'nothing after the revocation');
      const res = await fetch(`${streamUrl}?token=${token}`);
      assert.equal(res.status, 401);
      assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'EVENTS_TOKEN_REVOKED');
    } finally {
      sse.close();
    }
  });

  test('only the patient, a proxy or an auditor of their organization gets a token', async () => {
    const refused = async (id: Identity) =>
      assert.rejects(
        net.client.health.eventsToken(id, dana),
        (e: unknown) => e instanceof HealthLedgerError && e.code === 'NOT_PATIENT_PROXY_OR_AUDITOR',
      );
    await refused(who['erin']!);
    await refused(who['bob']!);
    await refused(who['other-auditor']!);
    // A proxy the patient names may.
    assert.equal(
      (
        await net.client.sendAndVerify(who['dana']!, 'patient.set-proxies', {
          patient: dana,
          proxies: [who['bob']!.memberId],
        })
      ).code,
      'VALID',
    );
    const t = await net.client.health.eventsToken(who['bob']!, dana);
    assert.ok(t.expiresAtMs > Date.now() + 14 * 60_000 && t.expiresAtMs <= Date.now() + 15 * 60_000);
    // A signed request cannot be replayed.
    const req = net.client.sign(who['dana']!, 'events.token', { patient: dana });
    const post = () =>
      fetch(`${net.url}/v1/events/token`, {
        method: 'POST',
        body: JSON.stringify(req),
        headers: { 'content-type': 'application/json' },
      });
    assert.equal((await post()).status, 200);
    const replay = await post();
    assert.equal(replay.status, 409);
    assert.equal(((await replay.json()) as { error: { code: string } }).error.code, 'DUPLICATE_TX');
  });
});

describe('event streams (unit)', () => {
  test('heartbeat comments keep the connection; the stream ends when its token expires', async () => {
    const listeners = new Set<(e: PatientEvent[]) => void>();
    const streams = new EventStreams(
      {
        page: () => [],
        onEvents: (l) => {
          listeners.add(l);
          return () => listeners.delete(l);
        },
      },
      { clock: { now: () => Date.now() }, heartbeatMs: 40 },
    );
    const server = createServer((_req, res) => streams.open(res, 'st-mary/p-x', 0, Date.now() + 300));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const t0 = Date.now();
      const sse = await SseClient.connect(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
      await sse.done;
      const took = Date.now() - t0;
      assert.ok(took >= 250 && took < 2000, `ended after ${took} ms`);
      assert.ok(sse.comments.filter((c) => c === ': heartbeat').length >= 3, sse.comments.join('|'));
      assert.ok(sse.comments.includes(': token expired'));
      assert.equal(streams.size, 0);
    } finally {
      streams.close();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });
});
