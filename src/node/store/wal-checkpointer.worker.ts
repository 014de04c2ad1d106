/**
 * The WAL checkpointer thread: its own connection copies committed WAL pages back into the
 * database file every `intervalMs` with a PASSIVE checkpoint, which never waits for (nor blocks)
 * the store writer or readers. Durability does not depend on it: every commit is fsynced in the
 * WAL; this only keeps the WAL short without stopping a commit for the copy.
 * @module
 */
import { parentPort, workerData } from 'node:worker_threads';
import { openDatabase } from './ledger-store.js';

/** Checkpointer → owner messages. */
export type CheckpointerReply = { type: 'ready' } | { type: 'warning'; message: string };

const { path, intervalMs } = workerData as { path: string; intervalMs: number };
const port = parentPort!;
const reply = (m: CheckpointerReply): void => port.postMessage(m);
const db = openDatabase(path);
let warned = false;
const timer = setInterval(() => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
    warned = false;
  } catch (e) {
    // The WAL stays as it was: the writer's own (larger) automatic checkpoint still bounds it.
    if (!warned) reply({ type: 'warning', message: (e as Error).message });
    warned = true;
  }
}, intervalMs);
reply({ type: 'ready' });
port.on('message', (m: { type: 'close' }) => {
  if (m.type !== 'close') return;
  clearInterval(timer);
  db.close();
  process.exit(0);
});
