/**
 * Starts a node from its home folder and serves the API: the body of `healthledger start`.
 * @module
 */
import type { FastifyInstance } from 'fastify';
import cluster from 'node:cluster';
import { fileURLToPath } from 'node:url';
import { buildApp } from '../api/server.js';
import { nativeSigner } from '../node/crypto/native.js';
import { createSnapshot } from '../node/snapshot.js';
import { homePaths, loadHome, loadHomeConfig, readEtcdTls } from '../node/home.js';
import { openSealer } from '../node/sealer.js';
import { startEmbeddedNode, type RunningNode } from '../node/wiring.js';
import { systemClock } from '../node/ordering/orderer.js';
import { RecordService } from '../domains/health/node/record-service.js';
import { ensureCustodian } from '../domains/health/node/custodian.js';
import { eraseOnRequest } from '../domains/health/node/erasure.js';
import { join } from 'node:path';
import { EventsService, type EventsServiceOptions } from '../node/events/events-service.js';
import { SupplyService, loadEpcisSchema } from '../domains/supply/node/supply-service.js';

export interface Served {
  running: RunningNode;
  records: RecordService;
  /** Patient events: index, tokens, SSE streams, webhooks, AuditEvent export. */
  events: EventsService;
  supply: SupplyService;
  app: FastifyInstance;
  url: string;
  /** The verification servers' base URL, when node.json starts any. */
  verificationUrl: string | null;
  close(): Promise<void>;
}

/** JSON-lines event log on stdout: events and counts only, never payloads (no PHI in logs). */
export function jsonLog(event: string, fields: Record<string, unknown>): void {
  process.stdout.write(JSON.stringify({ time: new Date().toISOString(), event, ...fields }) + '\n');
}

export async function serveHome(
  dir: string,
  overrides: {
    host?: string;
    port?: number;
    log?: (e: string, f: Record<string, unknown>) => void;
    /** Events service knobs (tests: heartbeat, webhook timers and retry delays). */
    events?: EventsServiceOptions;
    /** The EPCIS 2.0 JSON Schema for EPCIS intake (default: `HEALTHLEDGER_EPCIS_SCHEMA`). */
    epcisSchema?: object;
  } = {},
): Promise<Served> {
  const log = overrides.log ?? jsonLog;
  // The KEK (node.json `seal` or HEALTHLEDGER_KEK) opens the home's secrets; an unsealed home found
  // with one is sealed now (ADR 0015). A sealed home without it is refused naming what is missing.
  const sealer = openSealer(dir, loadHomeConfig(dir).config.seal);
  // Each part pushes its closer as it starts; a failed start or close() unwinds them in reverse.
  const closers = new CloserStack(log);
  if (sealer) closers.push(() => sealer.close());
  try {
    const { genesis, config, nodeKey } = loadHome(dir, sealer);
    if (sealer) log('node.sealed', { by: sealer.kind });
    const running = await startEmbeddedNode({
      storePath: homePaths(dir).store,
      genesis,
      nodeId: config.nodeId,
      nodeKey,
      log,
      ...(config.verifyThreads !== undefined ? { verifyThreads: config.verifyThreads } : {}),
      ...(config.etcdEndpoints ? { etcdEndpoints: config.etcdEndpoints } : {}),
      ...(config.etcdTls ? { etcdTls: readEtcdTls(dir, config.etcdTls) } : {}),
      ...(config.compactEveryMs !== undefined ? { compactEveryMs: config.compactEveryMs } : {}),
      ...(config.keepBatches !== undefined ? { keepBatches: config.keepBatches } : {}),
    });
    closers.push(() => running.close());
    const custodian = await ensureCustodian(dir, config.orgId, running.node, systemClock, sealer);
    const records = new RecordService(
      join(homePaths(dir).data, 'records.sqlite'),
      running.node,
      custodian,
      systemClock,
      log,
    );
    closers.push(() => records.close());
    closers.push(eraseOnRequest(running.node, records, log));
    // Patient events: the index catches up with the ledger before the API serves it.
    const webhookAllow = [...(config.webhooks?.allow ?? []), ...(overrides.events?.webhooks?.allow ?? [])];
    const events = await EventsService.start(dir, running.node, {
      ...overrides.events,
      log,
      sealer,
      ...(webhookAllow.length ? { webhooks: { ...overrides.events?.webhooks, allow: webhookAllow } } : {}),
    });
    closers.push(() => events.close());
    const epcisSchema = overrides.epcisSchema ?? loadEpcisSchema();
    const supply = new SupplyService(running.node, {
      clock: systemClock,
      ...(epcisSchema ? { epcisSchema } : {}),
    });
    closers.push(() => supply.close());
    // Ordering stops before the services close, so the last blocks reach the event index.
    closers.push(() => running.node.stop());
    // With other organizations' nodes in the genesis, this node fetches their records for its users.
    const hasPeers = running.node.genesis.genesis.orgs.some(
      (o) => o.id !== config.orgId && o.nodes.some((n) => n.endpoint),
    );
    const app = await buildApp(running.node, {
      records,
      events,
      supply,
      attestations: running.attestations,
      ...(config.edge ? { edge: config.edge } : {}),
      ...(hasPeers
        ? {
            peer: {
              genesis: running.node.genesis,
              ownOrg: config.orgId,
              nodeId: config.nodeId,
              sign: nativeSigner(nodeKey),
              snapshot: () => createSnapshot(running.store, join(homePaths(dir).data, 'snapshot.tmp')),
            },
          }
        : {}),
    });
    closers.push(() => app.close());
    const host = overrides.host ?? config.host;
    const port = overrides.port ?? config.port;
    const address = await app.listen({ host, port });
    log('api.listening', { url: address });
    let verification: { url: string; stop(): Promise<void> } | null = null;
    if ((config.verificationServers ?? 0) > 0) {
      const v = await startVerificationServers(homePaths(dir).store, {
        count: config.verificationServers!,
        host,
        port: config.verificationPort ?? 0,
      });
      closers.push(() => v.stop());
      verification = v;
      log('verification.listening', { url: verification.url, servers: config.verificationServers });
    }
    return {
      running,
      records,
      events,
      supply,
      app,
      url: address,
      verificationUrl: verification?.url ?? null,
      close: () => closers.close(),
    };
  } catch (e) {
    await closers.close().catch(() => {});
    throw e;
  }
}

/** Closers run last-pushed first, once, however often {@link close} is called. */
class CloserStack {
  private readonly closers: (() => unknown)[] = [];
  private closing: Promise<void> | null = null;

  constructor(private readonly log: (e: string, f: Record<string, unknown>) => void) {}

  push(closer: () => unknown): void {
    this.closers.push(closer);
  }

  /** Runs every closer in reverse (one failing does not skip the rest); rejects with the first failure. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      let first: unknown;
      for (const c of this.closers.splice(0).reverse()) {
        try {
          await c();
        } catch (e) {
          this.log('node.close.failed', { error: (e as Error).message });
          first ??= e;
        }
      }
      if (first !== undefined) throw first;
    })();
    return this.closing;
  }
}

/**
 * Forks `count` verification server processes (node:cluster) that share one port; resolves with
 * their URL once all listen.
 */
async function startVerificationServers(
  storePath: string,
  opts: { count: number; host: string; port: number },
): Promise<{ url: string; stop(): Promise<void> }> {
  cluster.setupPrimary({
    exec: fileURLToPath(new URL('../domains/supply/cli/verification-server.js', import.meta.url)),
  });
  const env = {
    HL_VERIFICATION_STORE: storePath,
    HL_VERIFICATION_HOST: opts.host,
    HL_VERIFICATION_PORT: String(opts.port),
  };
  const workers = Array.from({ length: opts.count }, () => cluster.fork(env));
  const addresses = await Promise.all(
    workers.map(
      (w) =>
        new Promise<{ address: string; port: number }>((resolve, reject) => {
          w.once('listening', resolve);
          w.once('exit', (code) => reject(new Error(`verification server exited with ${code}`)));
        }),
    ),
  );
  const a = addresses[0]!;
  return {
    url: `http://${a.address.includes(':') ? `[${a.address}]` : a.address}:${a.port}`,
    async stop() {
      await Promise.all(
        workers.map(
          (w) =>
            new Promise<void>((resolve) => {
              if (w.isDead()) return resolve();
              w.once('exit', () => resolve());
              w.process.kill('SIGTERM');
            }),
        ),
      );
    },
  };
}
