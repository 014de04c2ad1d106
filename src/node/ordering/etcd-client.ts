/**
 * A minimal etcd v3 client over etcd's JSON gateway (`/v3/kv/*`, `/v3/watch`), enough for ordering:
 * linearizable range reads, a create-if-absent transaction (compare `create_revision == 0`), and a
 * watch used only as a wake-up. It fails over between endpoints; every call has a deadline. No
 * locks or leases are used anywhere (Jepsen found etcd locks unsafe).
 * @module
 */
import { KeepAliveAgents } from '../http-post.js';
import { HealthLedgerError } from '../../protocol/errors.js';

/** One key-value as read. */
export interface EtcdKv {
  key: string;
  value: string;
  createRevision: number;
  modRevision: number;
}

const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');
const unb64 = (s: string | undefined): string => (s ? Buffer.from(s, 'base64').toString('utf8') : '');

/** The first key after every key starting with `prefix` (etcd's `range_end` for a prefix). */
export function prefixEnd(prefix: string): string {
  const bytes = Buffer.from(prefix, 'utf8');
  for (let i = bytes.length - 1; i >= 0; i--) {
    if (bytes[i]! < 0xff) {
      bytes[i]!++;
      return bytes.subarray(0, i + 1).toString('latin1');
    }
  }
  return '\0';
}

export class EtcdClient {
  private current = 0;
  /** Kept-alive connections, per client (see ../http-post.ts for why not fetch). */
  private readonly agents = new KeepAliveAgents(32);

  constructor(
    private readonly endpoints: readonly string[],
    private readonly timeoutMs = 3000,
  ) {
    if (endpoints.length === 0) throw new Error('etcd: at least one endpoint');
    for (const e of endpoints) {
      const { protocol } = new URL(e);
      if (protocol !== 'http:' && protocol !== 'https:') throw new Error(`etcd: unsupported endpoint ${e}`);
    }
  }

  /** Closes idle kept-alive connections (in-flight calls finish or fail on their own). */
  close(): void {
    this.agents.close();
  }

  /** POSTs to the current endpoint, failing over to the others; throws ORDERING_UNAVAILABLE. */
  private async call<T>(path: string, body: unknown): Promise<T> {
    const payload = JSON.stringify(body);
    let last: unknown;
    for (let attempt = 0; attempt < this.endpoints.length; attempt++) {
      const endpoint = this.endpoints[(this.current + attempt) % this.endpoints.length]!;
      try {
        const text = await this.agents.post(new URL(path, endpoint), payload, this.timeoutMs);
        this.current = (this.current + attempt) % this.endpoints.length;
        return JSON.parse(text) as T;
      } catch (e) {
        last = e;
      }
    }
    throw new HealthLedgerError('ORDERING_UNAVAILABLE', `etcd: ${(last as Error)?.message ?? 'unreachable'}`);
  }

  /** Keys in [key, rangeEnd), ascending (or descending), at most `limit`; linearizable. */
  async range(
    key: string,
    rangeEnd: string,
    opts: { limit?: number; descending?: boolean } = {},
  ): Promise<EtcdKv[]> {
    type Raw = { kvs?: { key: string; value?: string; create_revision?: string; mod_revision?: string }[] };
    const r = await this.call<Raw>('/v3/kv/range', {
      key: Buffer.from(key, 'latin1').toString('base64'),
      range_end: Buffer.from(rangeEnd, 'latin1').toString('base64'),
      limit: opts.limit ?? 0,
      sort_order: opts.descending ? 'DESCEND' : 'ASCEND',
      sort_target: 'KEY',
    });
    return (r.kvs ?? []).map((kv) => ({
      key: unb64(kv.key),
      value: unb64(kv.value),
      createRevision: Number(kv.create_revision ?? 0),
      modRevision: Number(kv.mod_revision ?? 0),
    }));
  }

  /**
   * Creates `key` only if it does not exist (compare-and-swap on creation); true if it did.
   * `alsoPut` pairs are written in the same transaction, only on success.
   */
  async createIfAbsent(
    key: string,
    value: string,
    alsoPut: readonly (readonly [string, string])[] = [],
  ): Promise<boolean> {
    return (await this.createIfAbsentElseRead(key, value, alsoPut)).created;
  }

  /**
   * {@link createIfAbsent}, optionally only if `requireKey` exists; when the transaction does not
   * write, the value of `readKey` as of that same transaction (undefined if absent): a writer that
   * lost a race learns where the race went without another round trip.
   */
  async createIfAbsentElseRead(
    key: string,
    value: string,
    alsoPut: readonly (readonly [string, string])[] = [],
    readKey?: string,
    requireKey?: string,
  ): Promise<{ created: boolean; read?: string }> {
    type Raw = {
      succeeded?: boolean;
      responses?: { response_range?: { kvs?: { value?: string }[] } }[];
    };
    const r = await this.call<Raw>('/v3/kv/txn', {
      compare: [
        { key: b64(key), target: 'CREATE', result: 'EQUAL', create_revision: '0' },
        ...(requireKey === undefined
          ? []
          : [{ key: b64(requireKey), target: 'CREATE', result: 'GREATER', create_revision: '0' }]),
      ],
      success: [key, ...alsoPut.map(([k]) => k)].map((k, i) => ({
        request_put: { key: b64(k), value: b64(i === 0 ? value : alsoPut[i - 1]![1]) },
      })),
      failure: readKey === undefined ? [] : [{ request_range: { key: b64(readKey) } }],
    });
    if (r.succeeded === true) return { created: true };
    const kv = r.responses?.[0]?.response_range?.kvs?.[0];
    return kv === undefined ? { created: false } : { created: false, read: unb64(kv.value) };
  }

  /**
   * Creates every key of `pairs` in one transaction if none of them exists yet; true if it did
   * (false, writing nothing, if any already existed).
   */
  async createAllIfAbsent(pairs: readonly (readonly [string, string])[]): Promise<boolean> {
    if (pairs.length === 0) return true;
    const r = await this.call<{ succeeded?: boolean }>('/v3/kv/txn', {
      compare: pairs.map(([k]) => ({ key: b64(k), target: 'CREATE', result: 'EQUAL', create_revision: '0' })),
      success: pairs.map(([k, v]) => ({ request_put: { key: b64(k), value: b64(v) } })),
      failure: [],
    });
    return r.succeeded === true;
  }

  /** Writes `key` (overwriting). */
  async put(key: string, value: string): Promise<void> {
    await this.call('/v3/kv/put', { key: b64(key), value: b64(value) });
  }

  /** Deletes the keys in [key, rangeEnd); returns how many. */
  async deleteRange(key: string, rangeEnd: string): Promise<number> {
    const r = await this.call<{ deleted?: string }>('/v3/kv/deleterange', {
      key: Buffer.from(key, 'latin1').toString('base64'),
      range_end: Buffer.from(rangeEnd, 'latin1').toString('base64'),
    });
    return Number(r.deleted ?? 0);
  }

  /**
   * Calls `onChange` whenever something under `prefix` changes (or, with `exact`, the one key
   * `prefix`), until the signal aborts. A wake-up only: callers re-read by key and check
   * continuity, so a missed or duplicated event is harmless.
   */
  async watch(prefix: string, onChange: () => void, signal: AbortSignal, exact = false): Promise<void> {
    while (!signal.aborted) {
      const endpoint = this.endpoints[this.current % this.endpoints.length]!;
      const payload = JSON.stringify({
        create_request: exact
          ? { key: b64(prefix) }
          : { key: b64(prefix), range_end: Buffer.from(prefixEnd(prefix), 'latin1').toString('base64') },
      });
      // Every chunk of the stream is a wake-up; the stream ending or failing means reconnect
      // (possibly to another endpoint) after a pause, and polling covers the gap.
      await new Promise<void>((done) => {
        const req = this.agents.open(
          new URL('/v3/watch', endpoint),
          payload,
          (res) => {
            res.on('data', () => onChange());
            res.on('end', done);
            res.on('error', () => done());
            res.on('close', done);
          },
          signal,
        );
        req.on('error', () => done());
      });
      if (signal.aborted) return;
      this.current++;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

/** Resolves once the etcd member at `url` serves reads (it is in a cluster with quorum). */
export async function waitForEtcd(url: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const client = new EtcdClient([url], 1000);
  try {
    for (;;) {
      try {
        await client.range('/probe', '/probf', { limit: 1 });
        return;
      } catch {
        if (Date.now() > deadline) throw new Error(`etcd at ${url} did not become ready`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  } finally {
    client.close();
  }
}
