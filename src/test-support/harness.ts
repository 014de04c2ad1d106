/**
 * A real embedded node in a temporary home for tests: genesis with several organizations,
 * enrolled identities, the API listening on an ephemeral loopback port, and an SDK client.
 */
import type { EventsServiceOptions } from '../node/events/events-service.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { createIdentity, initHome } from '../cli/home-init.js';
import { homePaths, loadHome, readIdentity, writeJson } from '../node/home.js';
import type { RunningNode } from '../node/wiring.js';
import type { RecordService } from '../domains/health/node/record-service.js';
import { serveHome, type Served } from '../cli/serve.js';
import type { GenesisPolicies } from '../protocol/genesis.js';
import type { Role } from '../protocol/x509.js';
import { HealthLedgerClient, identityFromFile, type Identity } from '../sdk/client.js';

export interface TestNetwork {
  dir: string;
  running: RunningNode;
  app: FastifyInstance;
  records: RecordService;
  /** The patient events service the API was built with. */
  events: Served['events'];
  url: string;
  /** The verification servers' URL, when started with `verificationServers`. */
  verificationUrl: string | null;
  client: HealthLedgerClient;
  /** Identity by member id, e.g. `st-mary/admin`. */
  id(memberId: string): Identity;
  /** Creates and enrolls a member; returns its identity. */
  enroll(org: string, memberId: string, role: Role, attributes?: Record<string, string>): Promise<Identity>;
  /** Stops the node and API (keeps the folder). */
  stop(): Promise<void>;
  /** Restarts on the same folder. */
  restart(): Promise<void>;
  /** Stops and deletes the folder. */
  destroy(): Promise<void>;
}

export async function startTestNetwork(
  opts: {
    orgs?: string[];
    policies?: Partial<GenesisPolicies>;
    verifyThreads?: number;
    /** The EPCIS 2.0 JSON Schema for the node's EPCIS intake. */
    epcisSchema?: object;
    /** Verification server processes (node.json `verificationServers`). */
    verificationServers?: number;
    /** Order through this etcd cluster (node.json `etcdEndpoints`). */
    etcdEndpoints?: string[];
    /** Events service options (e.g. `webhooks.allow` for receivers on 127.0.0.1). */
    events?: EventsServiceOptions;
  } = {},
): Promise<TestNetwork> {
  const dir = mkdtempSync(join(tmpdir(), 'hl-test-'));
  initHome(dir, {
    chainId: 'hl-test',
    orgs: opts.orgs ?? ['st-mary:St Mary Hospital', 'city-clinic:City Clinic'],
    host: '127.0.0.1',
    port: 0,
    nowMs: Date.now(),
    policies: { blockTimeoutMs: 5, ...opts.policies },
  });
  const { genesis, config } = loadHome(dir);
  writeJson(homePaths(dir).nodeConfig, {
    ...config,
    verifyThreads: opts.verifyThreads ?? 1,
    ...(opts.verificationServers
      ? { verificationServers: opts.verificationServers, verificationPort: 0 }
      : {}),
    ...(opts.etcdEndpoints ? { etcdEndpoints: opts.etcdEndpoints } : {}),
  });
  let served!: Served;
  const start = async (): Promise<void> => {
    served = await serveHome(dir, {
      port: 0,
      log: () => {},
      ...(opts.epcisSchema ? { epcisSchema: opts.epcisSchema } : {}),
      ...(opts.events ? { events: opts.events } : {}),
    });
  };
  await start();
  const net: TestNetwork = {
    dir,
    get running() {
      return served.running;
    },
    get app() {
      return served.app;
    },
    get url() {
      return served.url;
    },
    get verificationUrl() {
      return served.verificationUrl;
    },
    get records() {
      return served.records;
    },
    get events() {
      return served.events;
    },
    get client() {
      return new HealthLedgerClient({ baseUrl: served.url, genesis });
    },
    id: (memberId) => identityFromFile(readIdentity(dir, memberId)),
    async enroll(org, memberId, role, attributes = {}) {
      const file = createIdentity(dir, { orgId: org, memberId, role, attributes, nowMs: Date.now() });
      const r = await net.client.sendAndVerify(net.id(`${org}/admin`), 'member.enroll', {
        certificate: file.certificate,
      });
      if (r.code !== 'VALID') throw new Error(`enroll ${file.memberId}: ${r.code}`);
      return net.id(file.memberId);
    },
    async stop() {
      await served.close();
    },
    async restart() {
      await start();
    },
    async destroy() {
      try {
        await net.stop();
      } catch {
        // already stopped
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return net;
}
