/**
 * The supply domain's SDK actions, bound on the client as `client.supply`; import single actions
 * from here to call them on a bare core.
 * @module
 */
// Registers this domain's error codes: its actions throw them as the server sends them.
import '../core/errors.js';
import {
  captureEpcis,
  createSupplySubscription,
  supplyAlert,
  supplyAlertStreamUrl,
  supplyAlerts,
  supplyAlertsToken,
  supplyEvent,
  supplyFacts,
  supplyHistory,
  verifyProduct,
} from './actions.js';

export * from './actions.js';

/** Every supply action, as `client.supply` binds them. */
export const supplyActions = {
  captureEpcis,
  supplyFacts,
  supplyEvent,
  verifyProduct,
  supplyHistory,
  supplyAlert,
  supplyAlertsToken,
  createSupplySubscription,
  supplyAlerts,
  supplyAlertStreamUrl,
};
