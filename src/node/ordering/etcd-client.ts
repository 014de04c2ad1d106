/**
 * A minimal etcd v3 client over gRPC, enough for ordering: linearizable range reads, a
 * create-if-absent transaction (compare `create_revision == 0`), and a watch used only as a
 * wake-up. It fails over between endpoints; every call has a deadline. No locks or leases are used
 * anywhere (Jepsen found etcd locks unsafe).
 * @module
 */
import {
  Metadata,
  status as GrpcStatus,
  type Client,
  type ClientDuplexStream,
  type ServiceError,
} from '@grpc/grpc-js';
import { HealthLedgerError } from '../../protocol/errors.js';
import {
  endpointCredentials,
  etcdServices,
  type RpcDeleteRangeResponse,
  type RpcRangeResponse,
  type RpcTxnResponse,
  type RpcWatchResponse,
} from './etcd-rpc.js';

/** One key-value as read. */
export interface EtcdKv {
  key: string;
  value: string;
  createRevision: number;
  modRevision: number;
}

/** TLS material for `https:` endpoints (PEM): a private CA, and the node's client certificate. */
export interface EtcdTls {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
}

const bytes = (s: string): Buffer => Buffer.from(s, 'utf8');
/** Keys as etcd compares them: one byte per character (prefixEnd yields bytes above 0x7f). */
const keyBytes = (s: string): Buffer => Buffer.from(s, 'latin1');

/** The first key after every key starting with `prefix` (etcd's `range_end` for a prefix). */
export function prefixEnd(prefix: string): string {
  const b = Buffer.from(prefix, 'utf8');
  for (let i = b.length - 1; i >= 0; i--) {
    if (b[i]! < 0xff) {
      b[i]!++;
      return b.subarray(0, i + 1).toString('latin1');
    }
  }
  return '\0';
}

/** A generated unary method: (request, metadata, options, callback). */
type UnaryMethod<T> = (
  request: object,
  metadata: Metadata,
  options: { deadline: number },
  callback: (err: ServiceError | null, res: T) => void,
) => void;

/** gRPC statuses after which another endpoint may answer (the call may or may not have landed). */
const RETRY_ELSEWHERE: ReadonlySet<number> = new Set([
  GrpcStatus.UNAVAILABLE,
  GrpcStatus.DEADLINE_EXCEEDED,
  GrpcStatus.CANCELLED,
  GrpcStatus.UNKNOWN,
  GrpcStatus.INTERNAL,
  GrpcStatus.RESOURCE_EXHAUSTED,
]);

export class EtcdClient {
  private current = 0;
  /**
   * Per endpoint, opened on first use: a KV client, and a Watch client on the same channel (one
   * HTTP/2 connection per endpoint).
   */
  private readonly kv: (Client | undefined)[];
  private readonly watchers: (Client | undefined)[];
  private readonly urls: URL[];
  private closed = false;

  private readonly timeoutMs: number;
  private readonly tls: EtcdTls;

  /**
   * @param endpoints etcd client URLs (`http:` or `https:`), tried in order on failure.
   * @param opts `timeoutMs`: deadline of each call (default 3 s); `tls`: for `https:` endpoints.
   * @example new EtcdClient(['https://etcd.st-mary.example:2379'], { tls: { ca, cert, key } })
   */
  constructor(
    private readonly endpoints: readonly string[],
    opts: { timeoutMs?: number; tls?: EtcdTls | undefined } = {},
  ) {
    this.timeoutMs = opts.timeoutMs ?? 3000;
    this.tls = opts.tls ?? {};
    if (endpoints.length === 0) throw new Error('etcd: at least one endpoint');
    this.urls = endpoints.map((e) => {
      const url = new URL(e);
      if (url.protocol !== 'http:' && url.protocol !== 'https:')
        throw new Error(`etcd: unsupported endpoint ${e}`);
      return url;
    });
    this.kv = endpoints.map(() => undefined);
    this.watchers = endpoints.map(() => undefined);
  }

  /** Closes every channel: later calls fail with ORDERING_UNAVAILABLE; calls already started finish. */
  close(): void {
    this.closed = true;
    for (const c of this.kv) c?.close(); // the watch clients share these channels
  }

  private channel(which: 'KV' | 'Watch', i: number): Client {
    if (this.closed) throw new Error('client closed');
    const kv = (this.kv[i] ??= this.openChannel(i));
    if (which === 'KV') return kv;
    const url = this.urls[i]!;
    return (this.watchers[i] ??= new (etcdServices().Watch)(url.host, endpointCredentials(url, this.tls), {
      channelOverride: kv.getChannel(),
    }));
  }

  /** A KV client on a new channel to endpoint `i`. */
  private openChannel(i: number): Client {
    const url = this.urls[i]!;
    return new (etcdServices().KV)(url.host, endpointCredentials(url, this.tls), {
      // A range of batches can exceed gRPC's 4 MiB default; etcd itself sends up to 2 GiB.
      'grpc.max_receive_message_length': -1,
      'grpc.max_send_message_length': -1,
      // Let etcd send a whole batch (~130 KB) at once: with HTTP/2's 64 KiB default window, each
      // large reply or watch event waited for window updates — one more turn of a busy event loop.
      'grpc-node.flow_control_window': 16 * 1024 * 1024,
      'grpc.keepalive_time_ms': 10_000,
      'grpc.keepalive_timeout_ms': 5_000,
      // Reconnect to a member that comes back within seconds (gRPC's default backoff grows to
      // 2 minutes, which would hold writes back that long after an outage ends).
      'grpc.initial_reconnect_backoff_ms': 200,
      'grpc.max_reconnect_backoff_ms': 2_000,
    });
  }

  /** Calls KV `method` on the current endpoint, failing over to the others; throws ORDERING_UNAVAILABLE. */
  private async call<T>(
    method: 'Range' | 'Put' | 'DeleteRange' | 'Txn' | 'Compact',
    request: object,
  ): Promise<T> {
    let last: unknown;
    for (let attempt = 0; attempt < this.endpoints.length; attempt++) {
      const i = (this.current + attempt) % this.endpoints.length;
      try {
        const result = await this.unary<T>(this.channel('KV', i), method, request);
        this.current = i;
        return result;
      } catch (e) {
        last = e;
        const code = (e as Partial<ServiceError>).code;
        if (code !== undefined && !RETRY_ELSEWHERE.has(code)) break; // etcd said no: not a member's fault
      }
    }
    throw new HealthLedgerError('ORDERING_UNAVAILABLE', `etcd: ${(last as Error)?.message ?? 'unreachable'}`);
  }

  private unary<T>(client: Client, method: string, request: object): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const fn = (client as unknown as Record<string, UnaryMethod<T>>)[method]!;
      fn.call(
        client,
        request,
        new Metadata(),
        { deadline: Date.now() + this.timeoutMs },
        (err: ServiceError | null, res: T) => (err ? reject(err) : resolve(res)),
      );
    });
  }

  /**
   * Keys in [key, rangeEnd), ascending (or descending), at most `limit`, as of `revision` (default:
   * the latest; an older one fails once compacted away). Linearizable unless
   * `serializable`: then the member answers from its own copy without a Raft round (the read index
   * costs every member a heartbeat exchange), possibly stale — and a member cut off from the
   * others keeps answering so — hence only for hints whose staleness delays, never misleads.
   */
  async range(
    key: string,
    rangeEnd: string,
    opts: { limit?: number; descending?: boolean; serializable?: boolean; revision?: number } = {},
  ): Promise<EtcdKv[]> {
    const r = await this.call<RpcRangeResponse>('Range', {
      key: keyBytes(key),
      range_end: keyBytes(rangeEnd),
      limit: opts.limit ?? 0,
      revision: opts.revision ?? 0,
      sort_order: opts.descending ? 'DESCEND' : 'ASCEND',
      sort_target: 'KEY',
      serializable: opts.serializable ?? false,
    });
    return r.kvs.map((kv) => ({
      key: kv.key.toString('utf8'),
      value: kv.value.toString('utf8'),
      createRevision: kv.create_revision,
      modRevision: kv.mod_revision,
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
    const r = await this.call<RpcTxnResponse>('Txn', {
      compare: [
        { key: bytes(key), target: 'CREATE', result: 'EQUAL', create_revision: 0 },
        ...(requireKey === undefined
          ? []
          : [{ key: bytes(requireKey), target: 'CREATE', result: 'GREATER', create_revision: 0 }]),
      ],
      success: [
        { request_put: { key: bytes(key), value: bytes(value) } },
        ...alsoPut.map(([k, v]) => ({ request_put: { key: bytes(k), value: bytes(v) } })),
      ],
      failure: readKey === undefined ? [] : [{ request_range: { key: bytes(readKey) } }],
    });
    if (r.succeeded) return { created: true };
    const kv = r.responses[0]?.response_range?.kvs[0];
    return kv === undefined ? { created: false } : { created: false, read: kv.value.toString('utf8') };
  }

  /**
   * Creates every key of `pairs` in one transaction if none of them exists yet, and then also
   * writes (overwriting) the `alsoPut` pairs; true if it did (false, writing nothing, if any of
   * `pairs` already existed).
   */
  async createAllIfAbsent(
    pairs: readonly (readonly [string, string])[],
    alsoPut: readonly (readonly [string, string])[] = [],
  ): Promise<boolean> {
    if (pairs.length === 0 && alsoPut.length === 0) return true;
    const r = await this.call<RpcTxnResponse>('Txn', {
      compare: pairs.map(([k]) => ({ key: bytes(k), target: 'CREATE', result: 'EQUAL', create_revision: 0 })),
      success: [...pairs, ...alsoPut].map(([k, v]) => ({ request_put: { key: bytes(k), value: bytes(v) } })),
      failure: [],
    });
    return r.succeeded;
  }

  /** Writes `key` (overwriting). */
  async put(key: string, value: string): Promise<void> {
    await this.call('Put', { key: bytes(key), value: bytes(value) });
  }

  /** Deletes the keys in [key, rangeEnd); returns how many, and the store's revision after it. */
  async deleteRange(key: string, rangeEnd: string): Promise<{ deleted: number; revision: number }> {
    const r = await this.call<RpcDeleteRangeResponse>('DeleteRange', {
      key: keyBytes(key),
      range_end: keyBytes(rangeEnd),
    });
    return { deleted: r.deleted, revision: r.header.revision };
  }

  /**
   * Discards the store's history before `revision` — the values of deleted and overwritten keys —
   * so etcd's backend stops growing with everything ever written (deleting a key alone keeps its
   * old revisions). Current values are untouched; only reads and watches of older revisions fail
   * afterwards. Already compacted that far (another node did it): nothing to do.
   */
  async compact(revision: number): Promise<void> {
    try {
      await this.call('Compact', { revision, physical: false });
    } catch (e) {
      if (!/compacted/.test((e as Error).message)) throw e;
    }
  }

  /**
   * Calls `onChange` whenever something under `prefix` changes, with the value written and its key
   * (value undefined for a deletion or a message without events), until the signal aborts. A
   * wake-up and a hint only: an event can be missed, duplicated or late, so callers check
   * continuity and read by key what the events did not bring.
   */
  async watch(
    prefix: string,
    onChange: (value?: string, key?: string) => void,
    signal: AbortSignal,
  ): Promise<void> {
    while (!signal.aborted && !this.closed) {
      // Every message on the stream is a wake-up; the stream ending or failing means reconnect
      // (possibly to another endpoint) after a pause, and polling covers the gap.
      await new Promise<void>((done) => {
        let stream: ClientDuplexStream<object, object>;
        try {
          const client = this.channel('Watch', this.current % this.endpoints.length);
          stream = (client as unknown as { Watch(): ClientDuplexStream<object, object> }).Watch();
        } catch {
          return done();
        }
        const stop = (): void => stream.cancel();
        signal.addEventListener('abort', stop, { once: true });
        const finish = (): void => {
          signal.removeEventListener('abort', stop);
          done();
        };
        stream.on('data', (r: RpcWatchResponse) => {
          // A watch the member cancelled sends nothing more: start a new one (the caller reads meanwhile).
          if (r.canceled) {
            onChange();
            return stream.cancel();
          }
          if (r.events.length === 0) return onChange();
          for (const e of r.events)
            onChange(
              e.type === 'PUT' ? e.kv?.value.toString('utf8') : undefined,
              e.kv?.key.toString('latin1'),
            );
        });
        stream.on('error', finish);
        stream.on('end', finish);
        stream.write({
          create_request: { key: bytes(prefix), range_end: keyBytes(prefixEnd(prefix)) },
        });
      });
      if (signal.aborted || this.closed) return;
      this.current++;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

/** Resolves once the etcd member at `url` serves reads (it is in a cluster with quorum). */
export async function waitForEtcd(
  url: string,
  timeoutMs = 15_000,
  tls?: EtcdTls,
  signal?: AbortSignal,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const client = new EtcdClient([url], { timeoutMs: 1000, tls });
  try {
    for (;;) {
      try {
        await client.range('/probe', '/probf', { limit: 1 });
        return;
      } catch {
        if (signal?.aborted) throw new Error(`stopped waiting for etcd at ${url}`);
        if (Date.now() > deadline) throw new Error(`etcd at ${url} did not become ready`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  } finally {
    client.close();
  }
}
