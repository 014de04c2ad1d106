/**
 * The route definitions the supply actions call: the one place this module names them, so moving
 * them to the domain's own table (`core/routes.ts`, same keys) is a change of this import.
 * @module
 */
import { Routes } from '../../../protocol/api.js';

/** The supply API routes (today part of the shared table). */
export const SupplyRoutes = Routes;
