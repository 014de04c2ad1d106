/**
 * Membership routes: enrolled members and the genesis document.
 * @module
 */
import { HealthLedgerError } from '../../protocol/errors.js';
import { Routes } from '../../protocol/api.js';
import { addRoute } from '../base.js';
import type { RoutePlugin } from './context.js';

/** Members and genesis. */
export const memberRoutes: RoutePlugin = async (app, { node }) => {
  addRoute(app, Routes.getMember, (req) => {
    const m = node.getMember(`${req.params.org}/${req.params.member}`);
    if (m === undefined) throw new HealthLedgerError('NOT_FOUND', 'no such member');
    return m;
  });
  addRoute(app, Routes.genesis, () => ({ hash: node.genesis.hash, genesis: node.genesis.genesis }));
};
