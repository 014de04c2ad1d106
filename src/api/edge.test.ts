/**
 * Edge limits (issue 16, finding 6): rate limits with 429 + Retry-After, per-route body limits
 * refused from Content-Length before the body is read, a maximum blob size (cut off mid-stream,
 * nothing left behind), request timeouts, security headers and `Cache-Control: no-store`.
 * Every flood here is bounded (a few dozen requests) and goes to 127.0.0.1 only.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { request } from 'node:http';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { toBase64Url } from '../protocol/bytes.js';
import { Routes, MAX_BATCH, type RouteDef } from '../protocol/api.js';
import { HealthRoutes } from '../domains/health/core/routes.js';
import { buildApp, type AppOptions } from './server.js';
import { createApiBase } from './base.js';
import { registerPortal } from './routes/portal.js';
import { startTestNetwork, type TestNetwork } from '../test-support/harness.js';
import type { Identity } from '../sdk/client.js';

const KiB = 1024;
const MiB = 1024 * KiB;

/** A raw HTTP request to `port` that sends `headers`, then `body` (if any); resolves on the answer. */
function raw(
  port: number,
  opts: { method: string; path: string; headers: Record<string, string | number>; body?: Buffer },
): Promise<{ status: number; headers: Record<string, unknown>; text: string; sent: number }> {
  return new Promise((resolve, reject) => {
    let sent = 0;
    const req = request(
      { host: '127.0.0.1', port, method: opts.method, path: opts.path, headers: opts.headers },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, text, sent }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.setTimeout(5_000, () => req.destroy(new Error('no answer within 5 s')));
    if (opts.body) {
      // Sent in 64 KiB pieces, so an early answer is seen before all of it went out.
      const body = opts.body;
      const pump = (o: number): void => {
        if (o >= body.length || req.destroyed) return void req.end();
        const piece = body.subarray(o, o + 64 * KiB);
        sent += piece.length;
        if (req.write(piece)) setImmediate(() => pump(o + piece.length));
        else req.once('drain', () => pump(o + piece.length));
      };
      pump(0);
    } else req.flushHeaders();
  });
}

const listen = async (app: FastifyInstance): Promise<number> => {
  await app.listen({ host: '127.0.0.1', port: 0 });
  const a = app.server.address();
  if (a === null || typeof a === 'string') throw new Error('no port');
  return a.port;
};

describe('edge limits', () => {
  let net: TestNetwork;
  let alice: Identity;
  let dana: Identity;
  const apps: FastifyInstance[] = [];
  let chunkedTx = 0;
  let chunkedBlob = 0;
  const appWith = async (opts: AppOptions): Promise<FastifyInstance> => {
    const app = await buildApp(net.running.node, { records: net.records, events: net.events, ...opts });
    apps.push(app);
    return app;
  };

  before(async () => {
    net = await startTestNetwork();
    alice = await net.enroll('st-mary', 'dr-alice', 'practitioner');
    dana = await net.enroll('st-mary', 'p-dana', 'patient');
  });
  after(async () => {
    for (const a of apps) await a.close();
    await net.destroy();
  });

  test('a bounded flood of bad signatures is answered 429 RATE_LIMITED with Retry-After', async () => {
    const app = await appWith({
      edge: { rateLimit: { perAddress: 20, windowMs: 60_000, exemptLoopback: false } },
    });
    const port = await listen(app);
    const bad = JSON.stringify({ body: { v: 1 }, sig: 'x'.repeat(86) });
    const statuses: number[] = [];
    let limited: { headers: Record<string, unknown>; text: string } | undefined;
    // 40 requests, 4 at a time, to 127.0.0.1 only.
    for (let i = 0; i < 10; i++) {
      const rs = await Promise.all(
        [0, 1, 2, 3].map(() =>
          raw(port, {
            method: 'POST',
            path: '/v1/transactions',
            headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(bad) },
            body: Buffer.from(bad),
          }),
        ),
      );
      for (const r of rs) {
        statuses.push(r.status);
        if (r.status === 429) limited ??= r;
      }
    }
    assert.equal(statuses.filter((s) => s !== 429).length, 20, `statuses: ${statuses.join(',')}`);
    assert.ok(limited, 'no 429');
    assert.match(String(limited.headers['retry-after']), /^\d+$/);
    assert.ok(Number(limited.headers['retry-after']) > 0);
    assert.equal((JSON.parse(limited.text) as { error: { code: string } }).error.code, 'RATE_LIMITED');
  });

  test('loopback is exempt by default (benchmarks), and limits are configurable', async () => {
    const app = await appWith({ edge: { rateLimit: { perAddress: 3, windowMs: 60_000 } } });
    for (let i = 0; i < 10; i++) {
      const r = await app.inject({ method: 'GET', url: '/health' });
      assert.equal(r.statusCode, 200);
    }
  });

  test('per-member limit: an authenticated member is limited whatever address it comes from', async () => {
    const app = await appWith({
      edge: { rateLimit: { perAddress: 1000, perMember: 3, windowMs: 60_000, exemptLoopback: false } },
    });
    const tok = await app.inject({
      method: 'POST',
      url: '/v1/events/token',
      payload: net.client.sign(dana, 'events.token', { patient: dana.memberId }),
    });
    assert.equal(tok.statusCode, 200, tok.body);
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) {
      const token = (tok.json() as { token?: string }).token ?? 'none';
      const r = await app.inject({
        method: 'GET',
        url: `/v1/patients/st-mary/p-dana/events`,
        headers: { authorization: `Bearer ${token}` },
        remoteAddress: `10.0.0.${i + 1}`,
      });
      statuses.push(r.statusCode);
    }
    assert.deepEqual(statuses.slice(0, 3), [200, 200, 200], statuses.join(','));
    assert.deepEqual(statuses.slice(3), [429, 429, 429], statuses.join(','));
  });

  test('route definitions declare body limits: transactions 64 KiB, a batch proportionally', () => {
    assert.equal((Routes.submitTx as RouteDef).bodyLimit, 64 * KiB);
    assert.ok((Routes.submitBatch as RouteDef).bodyLimit! >= 64 * KiB);
    assert.ok((Routes.submitBatch as RouteDef).bodyLimit! <= 64 * KiB * MAX_BATCH);
  });

  test('a 31 MiB body on the transaction route is refused from Content-Length, before it is sent', async () => {
    const app = await appWith({});
    const port = await listen(app);
    const before = process.memoryUsage().rss;
    // Only the headers go out: the answer must come without the body ever being sent.
    const r = await raw(port, {
      method: 'POST',
      path: '/v1/transactions',
      headers: { 'content-type': 'application/json', 'content-length': 31 * MiB },
    });
    assert.equal(r.status, 413);
    assert.equal((JSON.parse(r.text) as { error: { code: string } }).error.code, 'PAYLOAD_TOO_LARGE');
    assert.ok(process.memoryUsage().rss - before < 16 * MiB);
    // Chunked (no Content-Length): cut off once more than 64 KiB arrived.
    const body = Buffer.alloc(2 * MiB, 0x20);
    const c = await raw(port, {
      method: 'POST',
      path: '/v1/transactions',
      headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' },
      body,
    }).catch((e: Error) => ({ status: -1, text: e.message, headers: {}, sent: 0 }));
    if (c.status !== -1) assert.equal(c.status, 413);
    chunkedTx = c.status;
  });

  test('a blob over the configured maximum is refused, and a chunked one cut off, leaving no temp file', async () => {
    const app = await appWith({ edge: { blobMaxBytes: 1 * MiB } });
    const port = await listen(app);
    const signed = net.client.sign(alice, 'blob.put', {
      patient: dana.memberId,
      contentType: 'application/pdf',
    });
    const auth = `HealthLedger ${toBase64Url(new TextEncoder().encode(JSON.stringify(signed)))}`;
    const r = await raw(port, {
      method: 'POST',
      path: '/v1/blobs',
      headers: { 'content-type': 'application/octet-stream', 'content-length': 2 * MiB, authorization: auth },
    });
    assert.equal(r.status, 413, r.text);
    assert.equal((JSON.parse(r.text) as { error: { code: string } }).error.code, 'PAYLOAD_TOO_LARGE');

    const signed2 = net.client.sign(alice, 'blob.put', {
      patient: dana.memberId,
      contentType: 'application/pdf',
    });
    const auth2 = `HealthLedger ${toBase64Url(new TextEncoder().encode(JSON.stringify(signed2)))}`;
    const c = await raw(port, {
      method: 'POST',
      path: '/v1/blobs',
      headers: {
        'content-type': 'application/octet-stream',
        'transfer-encoding': 'chunked',
        authorization: auth2,
      },
      body: Buffer.alloc(3 * MiB, 7),
    }).catch((e: Error) => ({ status: -1, text: e.message, headers: {}, sent: 0 }));
    if (c.status !== -1) assert.equal(c.status, 413, c.text);
    chunkedBlob = c.status;
    await new Promise((res) => setTimeout(res, 100));
    const tmp = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true }).flatMap((d) =>
        d.isDirectory() ? tmp(join(dir, d.name)) : d.name.startsWith('.tmp-') ? [join(dir, d.name)] : [],
      );
    assert.deepEqual(tmp(net.dir), []);
    // Within the maximum, an upload still works.
    const signed3 = net.client.sign(alice, 'blob.put', {
      patient: dana.memberId,
      contentType: 'application/pdf',
    });
    const auth3 = `HealthLedger ${toBase64Url(new TextEncoder().encode(JSON.stringify(signed3)))}`;
    const ok = await raw(port, {
      method: 'POST',
      path: '/v1/blobs',
      headers: {
        'content-type': 'application/octet-stream',
        'content-length': 512 * KiB,
        authorization: auth3,
      },
      body: Buffer.alloc(512 * KiB, 3),
    });
    assert.equal(ok.status, 201, ok.text);
    console.log(`# chunked answers: tx ${chunkedTx}, blob ${chunkedBlob} (-1: reset after the early answer)`);
  });

  test('a slow request is dropped', { timeout: 15_000 }, async () => {
    const app = await appWith({ edge: { requestTimeoutMs: 500, headersTimeoutMs: 500 } });
    const port = await listen(app);
    const started = Date.now();
    const answer = await new Promise<string>((resolve) => {
      const s = connect(port, '127.0.0.1');
      let got = '';
      s.on('data', (d) => (got += d.toString()));
      s.on('close', () => resolve(got));
      s.on('error', () => {});
      // Headers, then the body trickles and stalls.
      s.write(
        'POST /v1/transactions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{',
      );
      setTimeout(() => s.destroy(), 10_000);
    });
    const took = Date.now() - started;
    assert.ok(took < 5_000, `held ${took} ms`);
    assert.ok(answer === '' || answer.startsWith('HTTP/1.1 408'), answer.slice(0, 40));
  });

  test('security headers and Cache-Control: no-store on API answers, health data routes included', async () => {
    const app = net.app; // as `healthledger serve` builds it: records, events, defaults
    const urls: [string, string, unknown?][] = [
      ['GET', '/health'],
      ['POST', HealthRoutes.releaseRecords.url, {}],
      ['POST', HealthRoutes.writeRecord.url, {}],
      ['GET', '/fhir/metadata'],
      ['GET', '/fhir/Patient/$everything'],
      ['GET', `/v1/blobs/${'ab'.repeat(32)}`],
      ['GET', '/v1/patients/st-mary/p-dana/events'],
      ['GET', '/v1/patients/st-mary/p-dana/audit-events'],
      ['GET', '/v1/nope'],
    ];
    for (const [method, url, payload] of urls) {
      const r = await app.inject({
        method: method as 'GET',
        url,
        ...(payload !== undefined ? { payload: payload as object } : {}),
      });
      assert.equal(r.headers['cache-control'], 'no-store', `${method} ${url}`);
      assert.equal(r.headers['x-content-type-options'], 'nosniff', `${method} ${url}`);
      assert.ok(r.headers['x-frame-options'], `${method} ${url}`);
      assert.ok(r.headers['content-security-policy'], `${method} ${url}`);
    }
  });

  test('the portal keeps its own CSP and caching', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hl-portal-'));
    writeFileSync(join(dir, 'index.html'), '<!doctype html><title>p</title>');
    const { app } = await createApiBase({ auth: {} });
    registerPortal(app, dir);
    apps.push(app);
    const r = await app.inject({ method: 'GET', url: '/portal/' });
    assert.equal(r.statusCode, 200);
    assert.match(String(r.headers['content-security-policy']), /connect-src 'self'/);
    assert.match(String(r.headers['content-security-policy']), /style-src 'self' 'unsafe-inline'/);
    assert.equal(r.headers['cache-control'], 'no-cache');
    assert.equal(r.headers['x-content-type-options'], 'nosniff');
  });
});
