/**
 * The health domain's SDK actions (records, blobs, consents, the patient trail), bound on the
 * client as `client.health`; import single actions from here to call them on a bare core.
 * @module
 */
// Registers this domain's error codes: its actions throw them as the server sends them.
import '../core/errors.js';
import {
  auditEvents,
  createSubscription,
  deleteSubscription,
  eventStreamUrl,
  events,
  eventsToken,
  listSubscriptions,
} from './events.js';
import {
  consents,
  getBlob,
  grantFromFhirConsent,
  importBundle,
  putBlob,
  releaseRecords,
  writeRecord,
} from './records.js';

export * from './events.js';
export * from './records.js';
export { FhirConsentsRoute } from './routes.js';

/** Every health action, as `client.health` binds them. */
export const healthActions = {
  writeRecord,
  importBundle,
  releaseRecords,
  putBlob,
  getBlob,
  grantFromFhirConsent,
  consents,
  eventsToken,
  events,
  eventStreamUrl,
  auditEvents,
  createSubscription,
  listSubscriptions,
  deleteSubscription,
};
