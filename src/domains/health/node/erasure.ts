/**
 * The custodian's reaction to a committed erasure request: the patient's keys are destroyed at
 * once, then the tombstone is committed ({@link RecordService.erase}).
 * @module
 */
import type { Block } from '../../../protocol/block.js';
import type { RecordService } from './record-service.js';

/** Erases each patient whose `erasure.request` commits VALID; returns the unsubscribe. */
export function eraseOnRequest(
  node: { onBlock(listener: (block: Block) => void): () => void },
  records: Pick<RecordService, 'erase'>,
  log: (event: string, fields: Record<string, unknown>) => void,
): () => void {
  return node.onBlock((block) => {
    block.txs.forEach((t, i) => {
      if (t.body.type === 'erasure.request' && block.codes[i] === 'VALID') {
        const patient = (t.body.payload as { patient: string }).patient;
        records
          .erase(patient)
          .catch((e: unknown) => log('records.erase.failed', { patient, error: (e as Error).message }));
      }
    });
  });
}
