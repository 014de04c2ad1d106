/**
 * The supply domain's contracts: its public surface for the shared contract registry.
 * @module
 */
import type { Contract } from '../../../contracts/contract.js';
import { clearAlert, recallLot, registerParty, supplyEvent } from './custody.js';

/** Every supply contract, in registry order. */
export const contracts: readonly Contract<never>[] = [
  registerParty as Contract<never>,
  supplyEvent as Contract<never>,
  recallLot as Contract<never>,
  clearAlert as Contract<never>,
];
