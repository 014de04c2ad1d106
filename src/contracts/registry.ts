/**
 * The built-in contracts, by transaction type. Adding a contract means adding it here; the
 * executor, the API's OpenAPI description and docs all read this one table.
 * @module
 */
import type { Contract } from './contract.js';
import { enrollMember, revokeMember } from './membership.js';
import { putAnchor } from './anchor.js';
import {
  grantConsent,
  revokeConsent,
  setBreakGlassExclusions,
  setEncryptionKey,
  setProxies,
} from '../domains/health/contracts/consent.js';
import { completeErasure, registerRecord, requestErasure } from '../domains/health/contracts/records.js';
import { breakGlass, requestAccess } from '../domains/health/contracts/access.js';
import { clearAlert, recallLot, registerParty, supplyEvent } from '../domains/supply/contracts/custody.js';

/** Every built-in contract. */
export const BUILTIN_CONTRACTS: readonly Contract<never>[] = [
  enrollMember as Contract<never>,
  revokeMember as Contract<never>,
  putAnchor as Contract<never>,
  setEncryptionKey as Contract<never>,
  grantConsent as Contract<never>,
  revokeConsent as Contract<never>,
  setProxies as Contract<never>,
  setBreakGlassExclusions as Contract<never>,
  registerRecord as Contract<never>,
  requestAccess as Contract<never>,
  breakGlass as Contract<never>,
  requestErasure as Contract<never>,
  completeErasure as Contract<never>,
  registerParty as Contract<never>,
  supplyEvent as Contract<never>,
  recallLot as Contract<never>,
  clearAlert as Contract<never>,
];

/** Contracts by type. */
export type ContractRegistry = ReadonlyMap<string, Contract<never>>;

/** Builds a registry from contracts (the built-ins unless given). */
export function contractRegistry(
  contracts: readonly Contract<never>[] = BUILTIN_CONTRACTS,
): ContractRegistry {
  return new Map(contracts.map((c) => [c.type, c]));
}
