/**
 * State access for the deterministic core. State is a key → string map (values are canonical
 * JSON); contracts see it only through these interfaces, never the store itself.
 * @module
 */

/** Read access to committed ledger state as of the start of the block being executed. */
export interface LedgerReader {
  /** The committed value of `key`, or undefined. */
  getState(key: string): string | undefined;
  /** True if a transaction with this id was already accepted in an earlier block. */
  isTxConsumed(txId: string): boolean;
}

/** Key layout, in one place so every reader agrees. */
export const Keys = {
  org: (orgId: string) => `org/${orgId}`,
  member: (memberId: string) => `member/${memberId}`,
  anchor: (owner: string, key: string) => `anchor/${owner}/${key}`,
} as const;

/**
 * Writes buffered over a base reader. A block owns one; each transaction works in a child
 * that is merged into the block's on success and dropped on failure, so an invalid
 * transaction changes nothing.
 */
export class StateOverlay {
  private readonly writes = new Map<string, string | null>();

  constructor(private readonly base: (key: string) => string | undefined) {}

  get(key: string): string | undefined {
    const w = this.writes.get(key);
    if (w !== undefined) return w ?? undefined;
    return this.base(key);
  }

  put(key: string, value: string): void {
    this.writes.set(key, value);
  }

  del(key: string): void {
    this.writes.set(key, null);
  }

  /** Moves this overlay's writes into `parent`. */
  mergeInto(parent: StateOverlay): void {
    for (const [k, v] of this.writes) parent.writes.set(k, v);
  }

  /** The buffered writes in insertion order (null = delete). */
  entries(): [string, string | null][] {
    return [...this.writes];
  }
}
