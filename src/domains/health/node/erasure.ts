/**
 * The custodian's reaction to a committed erasure request: the patient's keys are destroyed at
 * once, then the tombstone is committed ({@link RecordService.erase}). Requests committed while the
 * node was down, or whose erasure a crash interrupted, are carried out when it starts.
 * @module
 */
import type { Block } from '../../../protocol/block.js';
import { HealthKeys } from '../contracts/model.js';
import type { RecordService } from './record-service.js';

/**
 * Erases each patient whose `erasure.request` commits VALID, and at once every patient the vault
 * still holds anything of although their erasure was requested; returns the unsubscribe.
 */
export function eraseOnRequest(
  node: {
    onBlock(listener: (block: Block) => void): () => void;
    getState(key: string): string | undefined;
  },
  records: Pick<RecordService, 'erase' | 'vault'>,
  log: (event: string, fields: Record<string, unknown>) => void,
): () => void {
  for (const patient of records.vault.patients())
    if (node.getState(HealthKeys.erasure(patient)) !== undefined)
      records
        .erase(patient)
        .catch((e: unknown) => log('records.erase.failed', { patient, error: (e as Error).message }));
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
