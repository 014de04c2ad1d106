/**
 * The built-in contracts, by transaction type: the shared ones here, and each domain's from its
 * `contracts/index.ts` as listed in ./domains.ts. The executor, the API's OpenAPI description and
 * docs all read this one table.
 * @module
 */
import type { Contract } from './contract.js';
import { enrollMember, revokeMember } from './membership.js';
import { putAnchor } from './anchor.js';
import { DOMAIN_CONTRACTS } from './domains.js';

/** Every built-in contract: the shared ones, then each domain's (see {@link DOMAIN_CONTRACTS}). */
export const BUILTIN_CONTRACTS: readonly Contract<never>[] = [
  enrollMember as Contract<never>,
  revokeMember as Contract<never>,
  putAnchor as Contract<never>,
  ...Object.values(DOMAIN_CONTRACTS).flat(),
];

/** Contracts by type. */
export type ContractRegistry = ReadonlyMap<string, Contract<never>>;

/** Builds a registry from contracts (the built-ins unless given). */
export function contractRegistry(
  contracts: readonly Contract<never>[] = BUILTIN_CONTRACTS,
): ContractRegistry {
  return new Map(contracts.map((c) => [c.type, c]));
}
