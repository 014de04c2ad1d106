/**
 * The ledger's routes: transaction submission and receipts, blocks, checkpoints, consistency
 * proofs and cross-organization attestations.
 * @module
 */
import { HealthLedgerError } from '../../protocol/errors.js';
import { MAX_BATCH, Routes, type SubmitResultWire } from '../../protocol/api.js';
import type { SubmitResult } from '../../node/ledger-node.js';
import { addRoute } from '../base.js';
import type { RoutePlugin } from './context.js';

function toWire(r: SubmitResult): SubmitResultWire {
  if (r.status === 'committed') return { status: 'committed', ...r.commitment };
  if (r.status === 'accepted') return { txId: r.txId, status: 'accepted' };
  return { txId: r.txId, status: 'rejected', error: { code: r.error.code, message: r.error.message } };
}

/** Transactions, blocks, proofs and attestations. */
export const ledgerRoutes: RoutePlugin = async (app, { node, options }) => {
  const maxWait = options.defaultWaitMs ?? 30_000;
  const waitMs = (q: { timeoutMs?: number }): number => Math.min(q.timeoutMs ?? maxWait, maxWait);

  // A genesis may allow transactions larger than the default 64 KiB: the route's limit follows it
  // (twice it: a somewhat oversized transaction is still named TX_TOO_LARGE, by the node).
  // (A route-table test registers the routes over a stand-in node without a genesis.)
  const maxTxBytes = (node as Partial<typeof node>).genesis?.genesis.policies.maxTxBytes ?? 0;
  const txLimit = Math.max(Routes.submitTx.bodyLimit, 2 * maxTxBytes);
  addRoute(
    app,
    Routes.submitTx,
    async (req, reply) => {
      const [r] = await node.submit([req.body], {
        wait: req.query.wait === true,
        timeoutMs: waitMs(req.query),
      });
      if (r === undefined) throw new HealthLedgerError('INTERNAL');
      if (r.status === 'rejected') throw r.error;
      return reply.status(r.status === 'committed' ? 200 : 202).send(toWire(r));
    },
    { bodyLimit: txLimit },
  );

  addRoute(app, Routes.submitBatch, async (req) => {
    if (req.body.txs.length > MAX_BATCH) throw new HealthLedgerError('BATCH_TOO_LARGE');
    const results = await node.submit(req.body.txs, {
      wait: req.query.wait === true,
      timeoutMs: waitMs(req.query),
    });
    for (const r of results) if (r.status === 'rejected') node.metrics.rejected(r.error.code);
    return { results: results.map(toWire) };
  });

  addRoute(app, Routes.getReceipt, (req) => node.getReceipt(req.params.txId, req.query.treeSize));

  addRoute(app, Routes.listBlocks, (req) => ({
    head: node.chainHead(),
    blocks: node.listBlocks(req.query.from ?? 1, req.query.limit ?? 50),
  }));

  addRoute(app, Routes.getBlock, (req) => {
    const b = node.getBlock(req.params.height);
    if (b === undefined) throw new HealthLedgerError('NOT_FOUND', `no block at height ${req.params.height}`);
    return b;
  });

  addRoute(app, Routes.latestCheckpoint, () => {
    const c = node.latestCheckpoint();
    if (c === undefined) throw new HealthLedgerError('NOT_FOUND', 'no block committed yet');
    return c;
  });

  addRoute(app, Routes.checkpointAt, (req) => {
    const c = node.checkpointAtHeight(req.params.height);
    if (c === undefined)
      throw new HealthLedgerError('NOT_FOUND', `no checkpoint at height ${req.params.height}`);
    return c;
  });

  addRoute(app, Routes.consistency, (req) => node.consistency(req.query.from, req.query.to));

  addRoute(app, Routes.attestations, async (req) => {
    const a = options.attestations;
    if (!a) return { height: req.query.height, attestations: [], status: null };
    return { height: req.query.height, attestations: await a.forHeight(req.query.height), status: a.state };
  });
};
