/**
 * The route definitions the supply actions call: the domain's own table plus the shared events
 * routes (alert-feed tokens and subscriptions), named in this one place.
 * @module
 */
import { Routes } from '../../../protocol/api.js';
import { SupplyRoutes as DomainRoutes } from '../core/routes.js';

/** The routes the supply actions use, by their table keys. */
export const SupplyRoutes = { ...Routes, ...DomainRoutes } as const;
