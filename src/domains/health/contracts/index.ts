/**
 * The health domain's contracts: its public surface for the shared contract registry.
 * @module
 */
import type { Contract } from '../../../contracts/contract.js';
import {
  grantConsent,
  revokeConsent,
  setBreakGlassExclusions,
  setEncryptionKey,
  setProxies,
  proposeGuardian,
  approveGuardian,
  endGuardian,
} from './consent.js';
import { completeErasure, registerRecord, requestErasure } from './records.js';
import { breakGlass, requestAccess } from './access.js';
import { discloseAccess, endAccess } from './disclosure.js';

/** Every health contract, in registry order. */
export const contracts: readonly Contract<never>[] = [
  setEncryptionKey as Contract<never>,
  grantConsent as Contract<never>,
  revokeConsent as Contract<never>,
  setProxies as Contract<never>,
  proposeGuardian as Contract<never>,
  approveGuardian as Contract<never>,
  endGuardian as Contract<never>,
  setBreakGlassExclusions as Contract<never>,
  registerRecord as Contract<never>,
  requestAccess as Contract<never>,
  breakGlass as Contract<never>,
  endAccess as Contract<never>,
  discloseAccess as Contract<never>,
  requestErasure as Contract<never>,
  completeErasure as Contract<never>,
];
