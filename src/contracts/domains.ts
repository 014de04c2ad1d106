/**
 * The contracts layer's domain manifest: each domain's contracts, by domain name. Adding a domain
 * means one line here (and in the other layers' manifests; a test checks they all agree with
 * src/domains/). A separate file per layer because pure contracts cannot import node or CLI code.
 * @module
 */
import type { Contract } from './contract.js';
// Every process that runs contracts (nodes, the API, the CLI) thereby knows every domain's error codes.
import '../core/domains.js';
import { contracts as health } from '../domains/health/contracts/index.js';
import { contracts as supply } from '../domains/supply/contracts/index.js';

/** Each domain's contracts, in registry order (domains in this order, after the shared ones). */
export const DOMAIN_CONTRACTS: Readonly<Record<string, readonly Contract<never>[]>> = { health, supply };
