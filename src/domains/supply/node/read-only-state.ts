/**
 * Ledger state for a verification server: the node's SQLite store opened read-only by another
 * process. SQLite's WAL lets it read while the node writes; `PRAGMA data_version` tells it when
 * the node has committed (it changes whenever another connection commits), which is when cached
 * reads must be dropped — the equivalent of the node's `onBlock` for a process that has no node.
 * @module
 */
import type { Statement } from 'better-sqlite3';
import { LedgerStore } from '../../../node/store/ledger-store.js';
import type { SupplyStateSource } from './supply-service.js';

export class ReadOnlySupplyState implements SupplyStateSource {
  private readonly store: LedgerStore;
  private readonly dataVersion: Statement<[], number>;
  private version = -1;
  private height = 0;
  private readonly listeners = new Set<() => void>();

  /** Opens the store at `path` read-only (the node must have created it). */
  constructor(path: string) {
    this.store = LedgerStore.open(path, { readonly: true });
    this.dataVersion = this.store.db.prepare<[], number>('PRAGMA data_version').pluck();
  }

  getState(key: string): string | undefined {
    return this.store.getState(key);
  }

  /** The committed head; also notices commits since the last call (SupplyService calls it first). */
  chainHead(): { height: number } {
    const v = this.dataVersion.get()!;
    if (v !== this.version) {
      this.version = v;
      this.height = this.store.lastBlock()?.height ?? 0;
      for (const l of this.listeners) l();
    }
    return { height: this.height };
  }

  onBlock(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  close(): void {
    this.store.close();
  }
}
