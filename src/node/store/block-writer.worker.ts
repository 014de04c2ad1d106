/**
 * The store-writer thread: one SQLite connection (synchronous=FULL, like every open) that
 * applies block commits in the order received and answers after each is durable.
 * @module
 */
import { parentPort, workerData } from 'node:worker_threads';
import { LedgerStore, WRITER_BACKSTOP_CHECKPOINT_PAGES, type BlockCommit } from './ledger-store.js';
import type { WriterReply } from './block-writer.js';

const port = parentPort!;
const reply = (m: WriterReply): void => port.postMessage(m);
let store: LedgerStore;
try {
  // The checkpointer thread copies the WAL back; this connection checkpoints (stopping its
  // commits meanwhile) only if the WAL grows far past that thread's pace.
  store = LedgerStore.open((workerData as { path: string }).path, {
    walAutoCheckpoint: WRITER_BACKSTOP_CHECKPOINT_PAGES,
  });
  reply({ type: 'ready' });
} catch (e) {
  reply({ type: 'error', message: (e as Error).message });
  process.exit(1);
}
let failed = false;
port.on('message', (m: { type: 'commit'; commit: BlockCommit } | { type: 'close' }) => {
  if (m.type === 'close') {
    store.close();
    process.exit(0);
  }
  if (failed) return;
  try {
    store.commitBlock(m.commit);
    reply({ type: 'done', height: m.commit.header.height });
  } catch (e) {
    failed = true;
    reply({ type: 'error', message: `block ${m.commit.header.height}: ${(e as Error).message}` });
  }
});
