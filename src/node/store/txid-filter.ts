/**
 * A Bloom filter over accepted transaction ids, in front of the store's replay index. Ids are
 * SHA-256 outputs, so their bits already are independent uniform hashes: probe positions are
 * read straight from the id. "Absent" is certain (no false negatives), so the common case — a
 * new transaction — never touches SQLite; "maybe present" falls back to the index. Grinding ids
 * to cause false positives only costs the attacker work and the node one indexed read.
 * @module
 */

const PROBES = 7;

export class TxIdFilter {
  private bits: Uint32Array;
  private mask: number;
  private count = 0;

  /** `expected` ids at about 1% false positives; grows (rebuilds) via {@link needsGrowth}. */
  constructor(expected: number) {
    let m = 1 << 20;
    while (m < expected * 16 && m < 2 ** 31) m *= 2;
    this.bits = new Uint32Array(m / 32);
    this.mask = m - 1;
  }

  /** Size in bits. */
  get size(): number {
    return this.mask + 1;
  }

  /** True when more ids are held than the filter was sized for (caller rebuilds it larger). */
  get needsGrowth(): boolean {
    return this.count * 12 > this.size;
  }

  get entries(): number {
    return this.count;
  }

  add(txIdHex: string): void {
    for (let i = 0; i < PROBES; i++) {
      const p = parseInt(txIdHex.slice(i * 8, i * 8 + 8), 16) & this.mask;
      this.bits[p >>> 5]! |= 1 << (p & 31);
    }
    this.count++;
  }

  /** False: certainly never added. True: possibly added. */
  mightContain(txIdHex: string): boolean {
    for (let i = 0; i < PROBES; i++) {
      const p = parseInt(txIdHex.slice(i * 8, i * 8 + 8), 16) & this.mask;
      if ((this.bits[p >>> 5]! & (1 << (p & 31))) === 0) return false;
    }
    return true;
  }
}

/**
 * A scalable Bloom filter (Almeida et al., 2007): when the newest filter fills up, a larger one
 * is appended instead of rebuilding from disk — a rebuild would miss ids whose blocks are still
 * being committed. An id is possibly present if any member filter says so.
 */
export class ScalableTxIdFilter {
  private readonly filters: TxIdFilter[];

  constructor(expected: number) {
    this.filters = [new TxIdFilter(expected)];
  }

  add(txIdHex: string): void {
    let last = this.filters[this.filters.length - 1]!;
    if (last.needsGrowth) {
      last = new TxIdFilter(last.entries * 2);
      this.filters.push(last);
    }
    last.add(txIdHex);
  }

  mightContain(txIdHex: string): boolean {
    for (const f of this.filters) if (f.mightContain(txIdHex)) return true;
    return false;
  }

  /** Member filters (for tests and metrics). */
  get generations(): number {
    return this.filters.length;
  }
}
