/**
 * Bloom filters in front of the store's point lookups whose usual answer is "absent": the replay
 * index (a new transaction's id was never accepted) and the state table (a new key was never
 * written). "Absent" is certain (no false negatives), so the common case never touches SQLite;
 * "maybe present" falls back to the query. Grinding keys to cause false positives only costs the
 * attacker work and the node one indexed read.
 * @module
 */

/** Probe positions per key. */
const PROBES = 7;

/** Fills `out[0..PROBES)` with the key's probe hashes (any 32-bit values; the filter masks them). */
export type Probes = (key: string, out: Uint32Array) => void;

/**
 * Transaction ids are SHA-256 outputs (hex), so their bits already are independent uniform
 * hashes: two 32-bit words are read straight from the id and combined by double hashing
 * (Kirsch & Mitzenmacher, 2006).
 */
export const txIdProbes: Probes = (txIdHex, out) => {
  const h1 = hexWord(txIdHex, 0);
  const h2 = hexWord(txIdHex, 8) | 1;
  for (let i = 0; i < PROBES; i++) out[i] = (h1 + Math.imul(i, h2)) >>> 0;
};

/** The 32-bit word of 8 hex digits at `at` (no slicing; a non-hex digit reads as some value). */
function hexWord(hex: string, at: number): number {
  let w = 0;
  for (let i = at; i < at + 8; i++) {
    const c = hex.charCodeAt(i);
    w = (w << 4) | (c <= 57 ? c - 48 : (c | 32) - 87);
  }
  return w >>> 0;
}

/**
 * Arbitrary text (state keys): two 32-bit hashes of the UTF-16 code units (FNV-1a and a
 * Murmur-style multiply–rotate), combined by double hashing (Kirsch & Mitzenmacher, 2006).
 */
export const textProbes: Probes = (text, out) => {
  let h1 = 0x811c9dc5;
  let h2 = 0x9747b28c ^ text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193);
    h2 = Math.imul(h2 ^ c, 0x5bd1e995);
    h2 = (h2 << 13) | (h2 >>> 19);
  }
  h2 = Math.imul(h2 ^ (h2 >>> 15), 0x2c1b3c6d) | 1;
  for (let i = 0; i < PROBES; i++) out[i] = (h1 + Math.imul(i, h2)) >>> 0;
};

export class BloomFilter {
  private bits: Uint32Array;
  private mask: number;
  private count = 0;
  private readonly probe = new Uint32Array(PROBES);

  /** `expected` keys at about 1% false positives; grows (by the caller) via {@link needsGrowth}. */
  constructor(
    expected: number,
    private readonly probes: Probes,
  ) {
    let m = 1 << 20;
    while (m < expected * 16 && m < 2 ** 31) m *= 2;
    this.bits = new Uint32Array(m / 32);
    this.mask = m - 1;
  }

  /** Size in bits. */
  get size(): number {
    return this.mask + 1;
  }

  /** True when more keys are held than the filter was sized for (caller adds a larger one). */
  get needsGrowth(): boolean {
    return this.count * 12 > this.size;
  }

  get entries(): number {
    return this.count;
  }

  add(key: string): void {
    this.probes(key, this.probe);
    for (let i = 0; i < PROBES; i++) {
      const p = this.probe[i]! & this.mask;
      this.bits[p >>> 5]! |= 1 << (p & 31);
    }
    this.count++;
  }

  /** False: certainly never added. True: possibly added. */
  mightContain(key: string): boolean {
    this.probes(key, this.probe);
    for (let i = 0; i < PROBES; i++) {
      const p = this.probe[i]! & this.mask;
      if ((this.bits[p >>> 5]! & (1 << (p & 31))) === 0) return false;
    }
    return true;
  }
}

/**
 * A scalable Bloom filter (Almeida et al., 2007): when the newest filter fills up, a larger one
 * is appended instead of rebuilding from disk — a rebuild would miss keys whose blocks are still
 * being committed. A key is possibly present if any member filter says so.
 */
export class ScalableBloomFilter {
  private readonly filters: BloomFilter[];

  constructor(
    expected: number,
    private readonly probes: Probes,
  ) {
    this.filters = [new BloomFilter(expected, probes)];
  }

  add(key: string): void {
    let last = this.filters[this.filters.length - 1]!;
    if (last.needsGrowth) {
      last = new BloomFilter(last.entries * 2, this.probes);
      this.filters.push(last);
    }
    last.add(key);
  }

  mightContain(key: string): boolean {
    for (const f of this.filters) if (f.mightContain(key)) return true;
    return false;
  }

  /** Member filters (for tests and metrics). */
  get generations(): number {
    return this.filters.length;
  }
}

/** A filter over accepted transaction ids (hex). @example new TxIdFilter(1e6).add(txId) */
export class TxIdFilter extends BloomFilter {
  constructor(expected: number) {
    super(expected, txIdProbes);
  }
}

/** A growing filter over accepted transaction ids (hex). */
export class ScalableTxIdFilter extends ScalableBloomFilter {
  constructor(expected: number) {
    super(expected, txIdProbes);
  }
}

/** A growing filter over state keys. @example new StateKeyFilter(1e6).mightContain('member/a/b') */
export class StateKeyFilter extends ScalableBloomFilter {
  constructor(expected: number) {
    super(expected, textProbes);
  }
}
