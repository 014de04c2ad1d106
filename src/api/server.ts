/**
 * The HTTP API (Fastify). `buildApp` builds the app without listening (tests use `inject()`);
 * the CLI calls `listen()`. Every error leaves as `{ error: { code, message } }` with a code
 * from docs/errors.md; client input never produces a 500.
 * @module
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { ApiErrorCodes, HealthLedgerError } from '../protocol/errors.js';
import { MAX_BATCH, Routes, routePath, type SubmitResultWire } from '../protocol/api.js';
import type { LedgerNode, SubmitResult } from '../node/ledger-node.js';
import type { RecordService } from '../domains/health/node/record-service.js';
import type { EventsService } from '../node/events/events-service.js';
import type { SupplyService } from '../domains/supply/node/supply-service.js';
import type { AttestationService } from '../node/attestations.js';
import { PEER_SNAPSHOT_PATH } from '../node/snapshot.js';
import type { ValidatedGenesis } from '../protocol/genesis.js';
import {
  NODE_AUTH_HEADER,
  NODE_RESPONSE_HEADER,
  PEER_RELEASE_PATH,
  releaseFromPeers,
  signPeerResponse,
  verifyPeerRequest,
} from '../domains/health/node/peers.js';
import { registerSupplyRoutes } from '../domains/supply/api/routes.js';
import { createApiBase } from './base.js';
import { registerPortal } from './portal.js';
import { SUPPLY_FEED } from '../node/events/event-index.js';
import { bearerToken } from '../node/events/tokens.js';
import { registerFhir, registerFhirAuditEvent, signedRequestFromHeader } from '../domains/health/api/fhir.js';
import { Readable } from 'node:stream';

export interface AppOptions {
  /** The custodian's records service; the record routes exist only with it. */
  records?: RecordService;
  /** The patient events service; the events, audit, stream and subscription routes exist only with it. */
  events?: EventsService;
  /** This node's identity for the cross-organization data plane (several organizations with nodes). */
  peer?: {
    genesis: ValidatedGenesis;
    ownOrg: string;
    nodeId: string;
    sign: (message: Uint8Array) => Uint8Array;
    /** A consistent copy of this node's ledger, for a peer syncing a snapshot. */
    snapshot?: () => Promise<Uint8Array>;
  };
  /** Cross-organization attestations (etcd ordering). */
  attestations?: AttestationService | null;
  /** The supply-chain read side (verification, timelines, alerts, EPCIS intake). */
  supply?: SupplyService;
  /** Largest request body accepted (bytes). */
  bodyLimit?: number;
  /** Default and maximum wait for `wait=true` submissions. */
  defaultWaitMs?: number;
  logger?: boolean;
}

function toWire(r: SubmitResult): SubmitResultWire {
  if (r.status === 'committed') return { status: 'committed', ...r.commitment };
  if (r.status === 'accepted') return { txId: r.txId, status: 'accepted' };
  return { txId: r.txId, status: 'rejected', error: { code: r.error.code, message: r.error.message } };
}

/** Builds the API for `node`. */
export async function buildApp(node: LedgerNode, opts: AppOptions = {}): Promise<FastifyInstance> {
  const maxWait = opts.defaultWaitMs ?? 30_000;
  const { app, route } = await createApiBase({
    ...(opts.logger !== undefined ? { logger: opts.logger } : {}),
    ...(opts.bodyLimit !== undefined ? { bodyLimit: opts.bodyLimit } : {}),
    onRejected: (code) => node.metrics.rejected(code),
    openapiTitle: 'HealthLedger node API',
  });

  const waitMs = (q: { timeoutMs?: number }): number => Math.min(q.timeoutMs ?? maxWait, maxWait);

  route<{ wait?: boolean; timeoutMs?: number }, unknown, unknown>(Routes.submitTx, async (req, reply) => {
    const [r] = await node.submit([req.body], {
      wait: req.query.wait === true,
      timeoutMs: waitMs(req.query),
    });
    if (r === undefined) throw new HealthLedgerError('INTERNAL');
    if (r.status === 'rejected') throw r.error;
    return reply.status(r.status === 'committed' ? 200 : 202).send(toWire(r));
  });

  route<{ wait?: boolean; timeoutMs?: number }, unknown, { txs: unknown[] }>(
    Routes.submitBatch,
    async (req) => {
      if (req.body.txs.length > MAX_BATCH) throw new HealthLedgerError('BATCH_TOO_LARGE');
      const results = await node.submit(req.body.txs, {
        wait: req.query.wait === true,
        timeoutMs: waitMs(req.query),
      });
      for (const r of results) if (r.status === 'rejected') node.metrics.rejected(r.error.code);
      return { results: results.map(toWire) };
    },
  );

  route<{ treeSize?: number }, { txId: string }>(Routes.getReceipt, (req) =>
    node.getReceipt(req.params.txId, req.query.treeSize),
  );

  route<{ from?: number; limit?: number }>(Routes.listBlocks, (req) => ({
    head: node.chainHead(),
    blocks: node.listBlocks(req.query.from ?? 1, req.query.limit ?? 50),
  }));

  route<unknown, { height: number }>(Routes.getBlock, (req) => {
    const b = node.getBlock(req.params.height);
    if (b === undefined) throw new HealthLedgerError('NOT_FOUND', `no block at height ${req.params.height}`);
    return b;
  });

  route(Routes.latestCheckpoint, () => {
    const c = node.latestCheckpoint();
    if (c === undefined) throw new HealthLedgerError('NOT_FOUND', 'no block committed yet');
    return c;
  });

  route<unknown, { height: number }>(Routes.checkpointAt, (req) => {
    const c = node.checkpointAtHeight(req.params.height);
    if (c === undefined)
      throw new HealthLedgerError('NOT_FOUND', `no checkpoint at height ${req.params.height}`);
    return c;
  });

  route<{ from: number; to: number }>(Routes.consistency, (req) =>
    node.consistency(req.query.from, req.query.to),
  );

  route<unknown, { org: string; member: string }>(Routes.getMember, (req) => {
    const m = node.getMember(`${req.params.org}/${req.params.member}`);
    if (m === undefined) throw new HealthLedgerError('NOT_FOUND', 'no such member');
    return m;
  });

  const records = opts.records;
  if (records) {
    route(Routes.writeRecord, async (req, reply) => reply.status(201).send(await records.write(req.body)));
    route(Routes.releaseRecords, async (req) => {
      const local = await records.release(req.body);
      const peer = opts.peer;
      if (!peer) return local;
      // Records held by other organizations' custodians: fetched node to node, authenticated both ways.
      const others = await releaseFromPeers({ ...peer, signedRequest: req.body, nowMs: Date.now() });
      return { ...local, others: others.releases, unavailable: others.unavailable };
    });
    const peer = opts.peer;
    if (peer)
      app.post(PEER_RELEASE_PATH, { schema: { hide: true } }, async (req, reply) => {
        const body = JSON.stringify(req.body);
        const caller = verifyPeerRequest(
          req.headers[NODE_AUTH_HEADER] as string | undefined,
          peer.genesis,
          peer.ownOrg,
          'POST',
          PEER_RELEASE_PATH,
          body,
          Date.now(),
          peer.genesis.genesis.policies.timestampWindowMs,
        );
        let status = 200;
        let text: string;
        try {
          // The practitioner's signature and the committed grant are checked here, by the custodian.
          text = JSON.stringify(await records.release(req.body));
        } catch (e) {
          const err = e instanceof HealthLedgerError ? e : new HealthLedgerError('INTERNAL');
          status = err.status;
          text = JSON.stringify({ error: { code: err.code, message: err.message } });
        }
        return reply
          .status(status)
          .header('content-type', 'application/json')
          .header(NODE_RESPONSE_HEADER, signPeerResponse(peer.nodeId, peer.sign, status, text, caller.sig))
          .send(text);
      });
    route(Routes.importBundle, async (req, reply) =>
      reply.status(201).send(await records.importBundle(req.body)),
    );
    // Binaries stream straight through: the body is never buffered.
    app.addContentTypeParser('application/octet-stream', (_req, payload, done) => done(null, payload));
    app.route({
      method: 'POST',
      url: Routes.putBlob.url,
      bodyLimit: 4 * 1024 * 1024 * 1024,
      schema: { summary: Routes.putBlob.summary, tags: Routes.putBlob.tags },
      handler: async (req, reply) => {
        if (!req.headers['content-type']?.startsWith('application/octet-stream'))
          throw new HealthLedgerError('MALFORMED_REQUEST', 'the body must be application/octet-stream');
        const r = await records.putBlob(
          signedRequestFromHeader(req.headers.authorization),
          req.body as AsyncIterable<Uint8Array>,
        );
        return reply.status(201).send(r);
      },
    });
    app.route({
      method: 'GET',
      url: Routes.getBlob.url,
      schema: { summary: Routes.getBlob.summary, tags: Routes.getBlob.tags, params: Routes.getBlob.params },
      handler: async (req, reply) => {
        const signed = signedRequestFromHeader(req.headers.authorization) as {
          body?: { payload?: { blobId?: unknown } };
        };
        if (signed?.body?.payload?.blobId !== (req.params as { id: string }).id)
          throw new HealthLedgerError('MALFORMED_REQUEST', 'the signed request names another binary');
        const blob = await records.getBlob(signed);
        void reply.header('content-type', blob.contentType).header('content-length', String(blob.size));
        return reply.send(Readable.from(blob.stream));
      },
    });
    registerFhir(app, node, records);
  }

  const events = opts.events;
  if (events) {
    type PatientReq = {
      query: { after?: number; limit?: number; token?: string };
      params: { org: string; member: string };
      headers: Record<string, string | string[] | undefined>;
    };
    const patientOf = (req: PatientReq) => `${req.params.org}/${req.params.member}`;
    route(Routes.eventsToken, (req) => events.issueToken(req.body));
    registerFhirAuditEvent(app, node, events);
    route(Routes.createSubscription, (req, reply) =>
      reply.status(201).send(events.createSubscription(req.body)),
    );
    route(Routes.patientEvents, (r) => {
      const req = r as unknown as PatientReq;
      const patient = patientOf(req);
      events.authorize(patient, bearerToken(req.headers['authorization']));
      return events.page(patient, req.query.after, req.query.limit);
    });
    route(Routes.auditEvents, (r, reply) => {
      const req = r as unknown as PatientReq;
      const patient = patientOf(req);
      events.authorize(patient, bearerToken(req.headers['authorization']));
      const self = routePath(Routes.auditEvents.url, { org: req.params.org, member: req.params.member });
      const bundle = events.auditBundle(patient, self, req.query.after, req.query.limit);
      return reply
        .header('content-type', 'application/fhir+json; charset=utf-8')
        .send(JSON.stringify(bundle));
    });
    const openStream = (req: PatientReq, reply: FastifyReply, subject: string): void => {
      const { expiresAtMs } = events.authorize(
        subject,
        req.query.token ?? bearerToken(req.headers['authorization']),
      );
      let after = req.query.after ?? 0;
      const lastId = req.headers['last-event-id'];
      if (lastId !== undefined) {
        if (typeof lastId !== 'string' || !/^[0-9]{1,15}$/.test(lastId.trim()))
          throw new HealthLedgerError('MALFORMED_REQUEST', 'Last-Event-ID must be an event seq');
        after = Number(lastId.trim());
      }
      reply.hijack();
      events.openStream(reply.raw, subject, after, expiresAtMs);
    };
    route(Routes.eventStream, (r, reply) => {
      const req = r as unknown as PatientReq;
      openStream(req, reply, patientOf(req));
    });
    // The supply alert feed: the same index, tokens, streams and webhooks, subject `supply`.
    route(Routes.supplyAlerts, (r) => {
      const req = r as unknown as PatientReq;
      events.authorize(SUPPLY_FEED, bearerToken(req.headers['authorization']));
      return events.page(SUPPLY_FEED, req.query.after, req.query.limit);
    });
    route(Routes.supplyAlertStream, (r, reply) => openStream(r as unknown as PatientReq, reply, SUPPLY_FEED));
    // Open event streams would keep the server from closing: end them first.
    app.addHook('preClose', (done) => {
      events.closeStreams();
      done();
    });
  }

  if (opts.supply) registerSupplyRoutes(route, opts.supply);

  registerPortal(app);

  route(Routes.genesis, () => ({ hash: node.genesis.hash, genesis: node.genesis.genesis }));

  const peerNode = opts.peer;
  if (peerNode?.snapshot) {
    const snapshot = peerNode.snapshot;
    app.get(PEER_SNAPSHOT_PATH, { schema: { hide: true } }, async (req, reply) => {
      const caller = verifyPeerRequest(
        req.headers[NODE_AUTH_HEADER] as string | undefined,
        peerNode.genesis,
        peerNode.ownOrg,
        'GET',
        PEER_SNAPSHOT_PATH,
        '',
        Date.now(),
        peerNode.genesis.genesis.policies.timestampWindowMs,
      );
      const bytes = await snapshot();
      return reply
        .header('content-type', 'application/vnd.sqlite3')
        .header(
          NODE_RESPONSE_HEADER,
          signPeerResponse(peerNode.nodeId, peerNode.sign, 200, bytes, caller.sig),
        )
        .send(Buffer.from(bytes));
    });
  }

  route<{ height: number }>(Routes.attestations, async (req) => {
    const a = opts.attestations;
    if (!a) return { height: req.query.height, attestations: [], status: null };
    return { height: req.query.height, attestations: await a.forHeight(req.query.height), status: a.state };
  });

  route(Routes.health, (_req, reply) => {
    const halted = node.haltReason;
    return reply.status(halted ? 503 : 200).send({
      status: halted ? 'halted' : 'ok',
      ...(halted ? { reason: halted } : {}),
      nodeId: node.nodeId,
      chainId: node.chainId,
      head: node.chainHead(),
      pending: node.pendingCount,
    });
  });

  route(Routes.metrics, (_req, reply) =>
    reply.header('content-type', 'text/plain; version=0.0.4').send(node.metrics.render()),
  );

  app.get('/openapi.json', { schema: { hide: true } }, () => app.swagger());
  return app;
}

/** Every API error code (for docs and tests). */
export const API_ERROR_CODES = Object.keys(ApiErrorCodes);
