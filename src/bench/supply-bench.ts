/**
 * Product verification at scale: the real node (`healthledger start` in a child process) with
 * N serialized packages commissioned on its ledger (10 million by default), answering
 * VRS-shaped verification requests over HTTP (keep-alive, C in flight) from this process.
 *
 * Building the ledger is slow (every serial goes through signed `supply.event` transactions,
 * execution and SQLite), so the home folder is kept in `.data/bench-supply-<N>` and reused when
 * complete; pass `--supply-fresh` to rebuild. Reports verifications per second and p50/p99
 * latency, plus how fast the ledger was built.
 * @module
 */
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createTxBody, txSigningBytes, type SignedTx } from '../protocol/tx.js';
import { toBase64Url } from '../protocol/bytes.js';
import { HealthLedgerClient, identityFromFile, type Identity } from '../sdk/client.js';
import { createIdentity, initHome } from '../cli/home-init.js';
import { homePaths, loadHome, readIdentity, writeJson, type NodeConfig } from '../node/home.js';
import { nativeSigner } from '../node/crypto/native.js';
import { gs1CheckDigit } from '../domains/supply/core/gs1.js';
import { repoRoot } from '../test-support/paths.js';
import { freePort, startNodeProcess } from './ledger-bench.js';

export interface SupplyBenchResult {
  serials: number;
  /** Serials committed per second while building the ledger (null when the fixture was reused). */
  build_serials_per_s: number | null;
  verifications: number;
  verify_rps: number;
  verify_p50_ms: number;
  verify_p99_ms: number;
  concurrency: number;
  verification_servers: number;
  /** Share of answers that were `verified: true` (the load mixes in unknown serials and wrong lots). */
  verified_share: number;
  ledger_bytes: number;
}

const GTIN = (() => {
  const body = '0061414110734';
  return body + String(gs1CheckDigit(body));
})();
const GLN = (() => {
  const body = '061414100001';
  return body + String(gs1CheckDigit(body));
})();
const REG_GLN = (() => {
  const body = '011111100001';
  return body + String(gs1CheckDigit(body));
})();
const EXPIRY = '2031-12-31';
const PER_TX = 1000;
const serialOf = (i: number) => `S${String(i).padStart(9, '0')}`;
const lotOf = (i: number) => `L${Math.floor(i / 100_000)}`;

const pct = (xs: Float64Array, p: number): number =>
  Math.round((xs[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))] ?? 0) * 1000) / 1000;

async function build(dir: string, serials: number, say: (s: string) => void): Promise<number> {
  rmSync(dir, { recursive: true, force: true });
  initHome(dir, {
    chainId: 'hl-bench-supply',
    orgs: ['acme:Acme Pharma', 'fda:Regulator'],
    host: '127.0.0.1',
    port: await freePort(),
    nowMs: Date.now(),
  });
  const { genesis } = loadHome(dir);
  const { child, url } = await startNodeProcess(dir);
  try {
    const client = new HealthLedgerClient({ baseUrl: url, genesis });
    const enroll = async (org: string, id: string, role: 'manufacturer' | 'regulator'): Promise<Identity> => {
      const f = createIdentity(dir, { orgId: org, memberId: id, role, attributes: {}, nowMs: Date.now() });
      await client.sendAndVerify(identityFromFile(readIdentity(dir, `${org}/admin`)), 'member.enroll', {
        certificate: f.certificate,
      });
      return identityFromFile(f);
    };
    const fda = await enroll('fda', 'inspector', 'regulator');
    const acme = await enroll('acme', 'packer', 'manufacturer');
    await client.sendAndVerify(fda, 'supply.register-party', {
      org: 'acme',
      companyPrefixes: ['0614141'],
      glns: [GLN],
    });
    await client.sendAndVerify(fda, 'supply.register-party', {
      org: 'fda',
      companyPrefixes: [],
      glns: [REG_GLN],
    });
    const sign = nativeSigner(acme.privateKey);
    const txOf = (t: number): SignedTx => {
      const first = t * PER_TX;
      const epcs: string[] = [];
      for (let i = first; i < Math.min(serials, first + PER_TX); i++)
        epcs.push(`sgtin:${GTIN}.${serialOf(i)}`);
      const body = createTxBody({
        chainId: genesis.chainId,
        type: 'supply.event',
        signer: acme.memberId,
        nowMs: Date.now(),
        payload: {
          // Synthetic events: a unique hash in the CBV format (the bench measures the ledger, not hashing).
          eventHash: `ni:///sha-256;${t.toString(16).padStart(64, '0')}?ver=CBV2.0`,
          step: 'commission',
          eventTimeMs: Date.now(),
          location: GLN,
          epcs,
          // One lot per 100,000 packages: lots never span transactions of different expiry.
          lot: { lot: lotOf(first), expiry: EXPIRY },
        },
      });
      return { body, sig: toBase64Url(sign(txSigningBytes(body))) };
    };
    const txCount = Math.ceil(serials / PER_TX);
    const t0 = performance.now();
    let next = 0;
    let done = 0;
    await Promise.all(
      Array.from({ length: 3 }, async () => {
        while (next < txCount) {
          const batch: SignedTx[] = [];
          while (batch.length < 10 && next < txCount) batch.push(txOf(next++));
          const rs = await client.submitBatch(batch, { wait: true, timeoutMs: 120_000 });
          for (const r of rs)
            if (r.status !== 'committed' || r.code !== 'VALID')
              throw new Error(`bench: commission ${JSON.stringify(r)}`);
          done += batch.length;
          if (done % 500 < 10)
            say(`  ${Math.min(serials, done * PER_TX).toLocaleString()} serials committed…`);
        }
      }),
    );
    const seconds = (performance.now() - t0) / 1000;
    writeJson(join(dir, 'bench-fixture.json'), { serials, complete: true });
    return Math.round(serials / seconds);
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
}

/** Runs the benchmark (see the module comment). */
export async function benchSupply(opts: {
  serials: number;
  requests: number;
  concurrency: number;
  /** Verification server processes (0: the node's own API answers). */
  servers: number;
  fresh: boolean;
  say: (s: string) => void;
}): Promise<SupplyBenchResult> {
  const dir = join(repoRoot, '.data', `bench-supply-${opts.serials}`);
  const marker = join(dir, 'bench-fixture.json');
  let buildRate: number | null = null;
  if (opts.fresh || !existsSync(marker)) {
    opts.say(
      `  building a ledger with ${opts.serials.toLocaleString()} serials in ${dir} (kept for later runs)…`,
    );
    buildRate = await build(dir, opts.serials, opts.say);
    opts.say(`  built at ${buildRate.toLocaleString()} serials/s`);
  } else opts.say(`  reusing the ledger in ${dir}`);
  const cfgPath = homePaths(dir).nodeConfig;
  writeFileSync(
    cfgPath,
    JSON.stringify({
      ...(JSON.parse(readFileSync(cfgPath, 'utf8')) as NodeConfig),
      port: await freePort(),
      verificationServers: opts.servers,
      verificationPort: 0,
    }),
  );
  const { child, url, verificationUrl } = await startNodeProcess(dir, {
    verificationServers: opts.servers > 0,
  });
  try {
    const base = new URL(verificationUrl ?? url);
    let seed = 0x9e3779b9;
    const rand = () => {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return (seed >>> 0) / 2 ** 32;
    };
    const path = (): string => {
      const i = Math.floor(rand() * opts.serials);
      const r = rand();
      // 90% genuine, 5% unknown serials, 5% wrong lot.
      const serial = r < 0.05 ? `X${String(i).padStart(9, '0')}` : serialOf(i);
      const lot = r > 0.95 ? 'WRONG' : lotOf(i);
      return `/v1/supply/verify/01/${GTIN}/10/${lot}/21/${serial}?exp=311231&corrUUID=b${i}`;
    };
    // A minimal keep-alive HTTP/1.1 client on raw sockets: the load generator shares the machine
    // with the node, so it must cost far less per request than the server it measures.
    const connections = await Promise.all(
      Array.from({ length: opts.concurrency }, () => rawConnection(base.hostname, Number(base.port))),
    );
    for (let i = 0; i < 2000; i++) await connections[i % connections.length]!.get(path());
    const lat = new Float64Array(opts.requests);
    let issued = 0;
    let verified = 0;
    const t0 = performance.now();
    await Promise.all(
      connections.map(async (conn) => {
        while (issued < opts.requests) {
          const k = issued++;
          const p = path();
          const s = performance.now();
          if ((await conn.get(p)).includes('"verified":true')) verified++;
          lat[k] = performance.now() - s;
        }
      }),
    );
    const seconds = (performance.now() - t0) / 1000;
    lat.sort();
    for (const c of connections) c.close();
    return {
      serials: opts.serials,
      build_serials_per_s: buildRate,
      verifications: opts.requests,
      verify_rps: Math.round(opts.requests / seconds),
      verify_p50_ms: pct(lat, 50),
      verify_p99_ms: pct(lat, 99),
      concurrency: opts.concurrency,
      verification_servers: opts.servers,
      verified_share: Math.round((verified / opts.requests) * 1000) / 1000,
      ledger_bytes: fileSize(homePaths(dir).store),
    };
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
}

/** One keep-alive connection: `get(path)` resolves with the body of a 200 response. */
function rawConnection(
  host: string,
  port: number,
): Promise<{ get(path: string): Promise<string>; close(): void }> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port }, () => {
      socket.setNoDelay(true);
      let buf = '';
      let waiting: ((body: string) => void) | null = null;
      let fail: ((e: Error) => void) | null = null;
      socket.setEncoding('latin1');
      socket.on('data', (chunk: string) => {
        buf += chunk;
        const headerEnd = buf.indexOf('\r\n\r\n');
        if (headerEnd < 0) return;
        const m = /content-length: *([0-9]+)/i.exec(buf.slice(0, headerEnd));
        const length = m ? Number(m[1]) : 0;
        if (buf.length < headerEnd + 4 + length) return;
        const status = buf.slice(9, 12);
        const body = buf.slice(headerEnd + 4, headerEnd + 4 + length);
        buf = buf.slice(headerEnd + 4 + length);
        const w = waiting;
        const f = fail;
        waiting = fail = null;
        if (status !== '200') f?.(new Error(`bench: HTTP ${status} ${body}`));
        else w?.(body);
      });
      socket.on('error', (e) => fail?.(e));
      resolve({
        get(path) {
          return new Promise<string>((res, rej) => {
            waiting = res;
            fail = rej;
            socket.write(`GET ${path} HTTP/1.1\r\nHost: ${host}:${port}\r\n\r\n`);
          });
        },
        close: () => socket.destroy(),
      });
    });
    socket.once('error', reject);
  });
}

function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}
