/**
 * The health domain's routes on the node's API: records (write, release, import), binaries, the
 * FHIR R4 edge and the node-to-node data plane. Definitions in `core/routes.ts` (`HealthRoutes`).
 * @module
 */
import { Readable } from 'node:stream';
import { HealthLedgerError } from '../../../protocol/errors.js';
import { addRoute, DEFAULT_BLOB_MAX_BYTES } from '../../../api/base.js';
import type { RoutePlugin } from '../../../api/routes/context.js';
import { HealthRoutes } from '../core/routes.js';
import { releaseFromPeers } from '../node/peers.js';
import { fhirRoutes, signedRequestOf } from './fhir.js';

/** The bytes of `source`, failing with PAYLOAD_TOO_LARGE once more than `max` arrived. */
async function* capped(source: AsyncIterable<Uint8Array>, max: number): AsyncGenerator<Uint8Array> {
  let seen = 0;
  for await (const piece of source) {
    seen += piece.length;
    if (seen > max) throw new HealthLedgerError('PAYLOAD_TOO_LARGE', `binaries are at most ${max} bytes`);
    yield piece;
  }
}

/** Records, blobs, FHIR and the peer data plane (records routes only with a records service). */
export const healthPlugin: RoutePlugin = async (app, { node, options }) => {
  const { records, events, peer } = options;
  await app.register(fhirRoutes, { node, ...(records ? { records } : {}), ...(events ? { events } : {}) });
  if (!records) return;

  addRoute(app, HealthRoutes.writeRecord, async (req, reply) =>
    reply.status(201).send(await records.write(req.body)),
  );
  addRoute(app, HealthRoutes.releaseRecords, async (req) => {
    const local = await records.release(req.body);
    if (!peer) return local;
    // Records held by other organizations' custodians: fetched node to node, authenticated both ways.
    const others = await releaseFromPeers({ ...peer, signedRequest: req.body, nowMs: Date.now() });
    return { ...local, others: others.releases, unavailable: others.unavailable };
  });
  addRoute(app, HealthRoutes.importBundle, async (req, reply) =>
    reply.status(201).send(await records.importBundle(req.body)),
  );

  if (peer)
    // The auth hook checked the calling node and signs this answer, errors included; the
    // practitioner's signature and the committed grant are checked here, by the custodian.
    addRoute(app, HealthRoutes.peerRelease, async (req, reply) => {
      let status = 200;
      let text: string;
      try {
        text = JSON.stringify(await records.release(req.body));
      } catch (e) {
        const err = e instanceof HealthLedgerError ? e : new HealthLedgerError('INTERNAL');
        status = err.status;
        text = JSON.stringify({ error: { code: err.code, message: err.message } });
      }
      return reply.status(status).header('content-type', 'application/json').send(text);
    });

  // Binaries stream straight through: the body is never buffered. A declared size over the route's
  // limit is refused before any byte is read; a chunked body is cut off once it passes the limit
  // (the blob store then deletes its temporary file).
  app.addContentTypeParser('application/octet-stream', (req, payload, done) => {
    const max = req.routeOptions.bodyLimit;
    if (Number(req.headers['content-length']) > max) {
      done(
        new HealthLedgerError('PAYLOAD_TOO_LARGE', `bodies on this route are at most ${max} bytes`),
        undefined,
      );
      return;
    }
    done(null, capped(payload, max));
  });
  addRoute(
    app,
    HealthRoutes.putBlob,
    async (req, reply) =>
      reply
        .status(201)
        .send(await records.putBlob(signedRequestOf(req), req.body as AsyncIterable<Uint8Array>)),
    {
      bodyLimit: options.edge?.blobMaxBytes ?? DEFAULT_BLOB_MAX_BYTES,
      // The body type answers before the signature (as it always has).
      preValidation: async (req) => {
        if (!req.headers['content-type']?.startsWith('application/octet-stream'))
          throw new HealthLedgerError('MALFORMED_REQUEST', 'the body must be application/octet-stream');
      },
    },
  );
  addRoute(app, HealthRoutes.getBlob, async (req, reply) => {
    const signed = signedRequestOf(req) as { body?: { payload?: { blobId?: unknown } } } | undefined;
    if (signed?.body?.payload?.blobId !== req.params.id)
      throw new HealthLedgerError('MALFORMED_REQUEST', 'the signed request names another binary');
    const blob = await records.getBlob(signed);
    void reply.header('content-type', blob.contentType).header('content-length', String(blob.size));
    return reply.send(Readable.from(blob.stream));
  });
};
// Not encapsulated: the octet-stream parser has always applied to the whole app (fastify-plugin's flag).
Object.assign(healthPlugin, { [Symbol.for('skip-override')]: true });
