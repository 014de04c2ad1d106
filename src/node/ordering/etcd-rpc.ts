/**
 * The part of etcd's v3 gRPC API (`etcdserverpb`, `mvccpb`) that ordering uses, as protobuf
 * definitions: the KV service (Range, Put, DeleteRange, Txn, Compact) and the Watch stream. Field numbers are
 * etcd's own (api/etcdserverpb/rpc.proto and api/mvccpb/kv.proto, unchanged since 3.3); fields this
 * client never sets or reads are left out, which protobuf permits on both sides (unknown fields are
 * skipped). Talking gRPC instead of etcd's JSON gateway spares etcd a JSON/base64 round trip and a
 * second internal gRPC hop for every batch (ADR 0009).
 * @module
 */
import {
  credentials as grpcCredentials,
  loadPackageDefinition,
  type ChannelCredentials,
  type Client,
} from '@grpc/grpc-js';
import { fromJSON } from '@grpc/proto-loader';
import protobuf from 'protobufjs';

const ETCD_PROTO = `
syntax = "proto3";
package etcdserverpb;

message ResponseHeader {
  uint64 cluster_id = 1;
  uint64 member_id = 2;
  int64 revision = 3;
  uint64 raft_term = 4;
}

message KeyValue {
  bytes key = 1;
  int64 create_revision = 2;
  int64 mod_revision = 3;
  int64 version = 4;
  bytes value = 5;
  int64 lease = 6;
}

message RangeRequest {
  enum SortOrder { NONE = 0; ASCEND = 1; DESCEND = 2; }
  enum SortTarget { KEY = 0; VERSION = 1; CREATE = 2; MOD = 3; VALUE = 4; }
  bytes key = 1;
  bytes range_end = 2;
  int64 limit = 3;
  int64 revision = 4;
  SortOrder sort_order = 5;
  SortTarget sort_target = 6;
  bool serializable = 7;
  bool keys_only = 8;
  bool count_only = 9;
}
message RangeResponse {
  ResponseHeader header = 1;
  repeated KeyValue kvs = 2;
  bool more = 3;
  int64 count = 4;
}

message PutRequest {
  bytes key = 1;
  bytes value = 2;
  int64 lease = 3;
  bool prev_kv = 4;
}
message PutResponse {
  ResponseHeader header = 1;
}

message DeleteRangeRequest {
  bytes key = 1;
  bytes range_end = 2;
  bool prev_kv = 3;
}
message DeleteRangeResponse {
  ResponseHeader header = 1;
  int64 deleted = 2;
}

message RequestOp {
  oneof request {
    RangeRequest request_range = 1;
    PutRequest request_put = 2;
    DeleteRangeRequest request_delete_range = 3;
  }
}
message ResponseOp {
  oneof response {
    RangeResponse response_range = 1;
    PutResponse response_put = 2;
    DeleteRangeResponse response_delete_range = 3;
  }
}

message Compare {
  enum CompareResult { EQUAL = 0; GREATER = 1; LESS = 2; NOT_EQUAL = 3; }
  enum CompareTarget { VERSION = 0; CREATE = 1; MOD = 2; VALUE = 3; LEASE = 4; }
  CompareResult result = 1;
  CompareTarget target = 2;
  bytes key = 3;
  oneof target_union {
    int64 version = 4;
    int64 create_revision = 5;
    int64 mod_revision = 6;
    bytes value = 7;
    int64 lease = 8;
  }
  bytes range_end = 64;
}
message TxnRequest {
  repeated Compare compare = 1;
  repeated RequestOp success = 2;
  repeated RequestOp failure = 3;
}
message TxnResponse {
  ResponseHeader header = 1;
  bool succeeded = 2;
  repeated ResponseOp responses = 3;
}

message CompactionRequest {
  int64 revision = 1;
  bool physical = 2;
}
message CompactionResponse {
  ResponseHeader header = 1;
}

service KV {
  rpc Range(RangeRequest) returns (RangeResponse) {}
  rpc Put(PutRequest) returns (PutResponse) {}
  rpc DeleteRange(DeleteRangeRequest) returns (DeleteRangeResponse) {}
  rpc Txn(TxnRequest) returns (TxnResponse) {}
  rpc Compact(CompactionRequest) returns (CompactionResponse) {}
}

message WatchCreateRequest {
  bytes key = 1;
  bytes range_end = 2;
  int64 start_revision = 3;
  bool progress_notify = 4;
}
message WatchRequest {
  oneof request_union {
    WatchCreateRequest create_request = 1;
  }
}
message Event {
  enum EventType { PUT = 0; DELETE = 1; }
  EventType type = 1;
  KeyValue kv = 2;
}
message WatchResponse {
  ResponseHeader header = 1;
  int64 watch_id = 2;
  bool created = 3;
  bool canceled = 4;
  int64 compact_revision = 5;
  string cancel_reason = 6;
  repeated Event events = 11;
}

service Watch {
  rpc Watch(stream WatchRequest) returns (stream WatchResponse) {}
}
`;

/** A key-value as decoded (int64 as JS numbers: revisions stay far below 2^53). */
export interface RpcKeyValue {
  key: Buffer;
  value: Buffer;
  create_revision: number;
  mod_revision: number;
}
export interface RpcRangeResponse {
  kvs: RpcKeyValue[];
  more: boolean;
}
export interface RpcTxnResponse {
  succeeded: boolean;
  responses: { response_range?: RpcRangeResponse }[];
}
export interface RpcWatchResponse {
  /** The member dropped this watch (e.g. it fell behind a compaction): no more events will come. */
  canceled: boolean;
  events: { type: 'PUT' | 'DELETE'; kv?: RpcKeyValue }[];
}
export interface RpcDeleteRangeResponse {
  header: { revision: number };
  deleted: number;
}

/** The generated client constructors, built once per process (pure; holds no connections). */
let services: { KV: ServiceClientConstructor; Watch: ServiceClientConstructor } | undefined;

type ServiceClientConstructor = new (
  address: string,
  credentials: ChannelCredentials,
  options?: Record<string, unknown>,
) => Client;

/** etcd's KV and Watch client constructors. */
export function etcdServices(): { KV: ServiceClientConstructor; Watch: ServiceClientConstructor } {
  if (services === undefined) {
    const root = protobuf.parse(ETCD_PROTO, { keepCase: true }).root;
    const definition = fromJSON(root.toJSON(), {
      keepCase: true,
      longs: Number,
      enums: String,
      bytes: Buffer,
      defaults: true,
      arrays: true,
      oneofs: false,
    });
    const pkg = loadPackageDefinition(definition)['etcdserverpb'] as unknown as Record<
      'KV' | 'Watch',
      ServiceClientConstructor
    >;
    services = { KV: pkg.KV, Watch: pkg.Watch };
  }
  return services;
}

/**
 * Channel credentials for an endpoint URL: `http:` plaintext, `https:` TLS (the system's trusted
 * roots unless `tls.ca` is given; a client certificate when `tls.cert`/`tls.key` are).
 */
export function endpointCredentials(
  url: URL,
  tls: { ca?: Buffer; cert?: Buffer; key?: Buffer } = {},
): ChannelCredentials {
  if (url.protocol === 'http:') return grpcCredentials.createInsecure();
  return grpcCredentials.createSsl(tls.ca ?? null, tls.key ?? null, tls.cert ?? null);
}
