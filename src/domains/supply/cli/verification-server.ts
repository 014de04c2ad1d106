/**
 * A verification server process (started by `serveHome` through `node:cluster` when node.json sets
 * `verificationServers`): opens the node's ledger read-only and serves the supply read routes —
 * product verification, timelines, alerts, EPCIS intake — on the verification port, which the
 * cluster primary shares between all such processes. It never writes: the node stays the only writer.
 * @module
 */
import { buildSupplyReadApp } from '../api/routes.js';
import { systemClock } from '../../../node/ordering/orderer.js';
import { ReadOnlySupplyState } from '../node/read-only-state.js';
import { SupplyService, loadEpcisSchema } from '../node/supply-service.js';

const storePath = process.env['HL_VERIFICATION_STORE'];
const host = process.env['HL_VERIFICATION_HOST'] ?? '127.0.0.1';
const port = Number(process.env['HL_VERIFICATION_PORT'] ?? '0');
if (storePath === undefined) throw new Error('HL_VERIFICATION_STORE is required');

const state = new ReadOnlySupplyState(storePath);
const epcisSchema = loadEpcisSchema();
const supply = new SupplyService(state, { clock: systemClock, ...(epcisSchema ? { epcisSchema } : {}) });
const app = await buildSupplyReadApp(supply);
await app.listen({ host, port });
process.on('SIGTERM', () => {
  void app.close().then(() => {
    supply.close();
    state.close();
    process.exit(0);
  });
});
