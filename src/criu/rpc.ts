// The messages of CRIU's RPC interface (`criu swrk`), as a .proto written for tsrun: only the
// fields tsrun sends or reads, with CRIU's field numbers (criu/images/rpc.proto, stable since
// CRIU 3.x: fields are only ever added). Encoded and decoded with protobufjs, which parses this
// text at run time: no generated code to keep in step, no file to ship beside the executable.
import protobuf from 'protobufjs';

export const CRIU_RPC_PROTO = `
syntax = "proto2";

message criu_page_server_info {
  optional string address = 1;
  optional int32  port    = 2;
}

message ext_mount_map {
  required string key = 1;
  required string val = 2;
}

message join_namespace {
  required string ns        = 1;
  required string ns_file   = 2;
  optional string extra_opt = 3;
}

message inherit_fd {
  required string key = 1;
  required int32  fd  = 2;
}

message cgroup_root {
  optional string ctrl = 1;
  required string path = 2;
}

message criu_opts {
  required int32                 images_dir_fd       = 1 [default = -1];
  optional int32                 pid                 = 2;
  optional bool                  leave_running       = 3;
  optional bool                  ext_unix_sk         = 4;
  optional bool                  tcp_established     = 5;
  optional bool                  evasive_devices     = 6;
  optional bool                  shell_job           = 7;
  optional bool                  file_locks          = 8;
  optional int32                 log_level           = 9 [default = 2];
  optional string                log_file            = 10;
  optional criu_page_server_info ps                  = 11;
  optional bool                  notify_scripts      = 12;
  optional string                root                = 13;
  optional string                parent_img          = 14;
  optional bool                  track_mem           = 15;
  optional bool                  auto_dedup          = 16;
  optional int32                 work_dir_fd         = 17;
  repeated ext_mount_map         ext_mnt             = 23;
  optional bool                  manage_cgroups      = 24;
  repeated cgroup_root           cg_root             = 25;
  optional bool                  rst_sibling         = 26;
  repeated inherit_fd            inherit_fd          = 27;
  optional uint32                manage_cgroups_mode = 34;
  repeated string                external            = 37;
  optional uint32                empty_ns            = 38;
  repeated join_namespace        join_ns             = 39;
  optional string                freeze_cgroup       = 44;
  optional bool                  lazy_pages          = 48;
  optional int32                 status_fd           = 49;
  optional bool                  orphan_pts_master   = 50;
  optional string                config_file         = 51;
  optional string                lsm_profile         = 53;
  optional string                lsm_mount_context   = 63;
}

message criu_restore_resp {
  required int32 pid = 1;
}

message criu_notify {
  optional string script = 1;
  optional int32  pid    = 2;
}

message criu_features {
  optional bool mem_track  = 1;
  optional bool lazy_pages = 2;
}

message criu_version {
  required int32  major_number = 1;
  required int32  minor_number = 2;
  optional string gitid        = 3;
  optional int32  sublevel     = 4;
}

message criu_req {
  required uint32        type           = 1;
  optional criu_opts     opts           = 2;
  optional bool          notify_success = 3;
  optional criu_features features       = 5;
}

message criu_resp {
  required uint32            type      = 1;
  required bool              success   = 2;
  optional criu_restore_resp restore   = 4;
  optional criu_notify       notify    = 5;
  optional int32             cr_errno  = 7;
  optional criu_features     features  = 8;
  optional string            cr_errmsg = 9;
  optional criu_version      version   = 10;
}
`;

/** criu_req_type (an enum in CRIU's file; a uint32 here: the same varint on the wire). */
export const ReqType = {
  EMPTY: 0,
  DUMP: 1,
  RESTORE: 2,
  CHECK: 3,
  PRE_DUMP: 4,
  NOTIFY: 6,
  FEATURE_CHECK: 9,
  VERSION: 10,
} as const;

export function reqTypeName(t: number): string {
  return Object.entries(ReqType).find(([, v]) => v === t)?.[0] ?? `type ${t}`;
}

export interface ExtMount { key: string; val: string }
export interface InheritFd { key: string; fd: number }
export interface JoinNs { ns: string; nsFile: string }
export interface CgroupRoot { ctrl?: string; path: string }

/** criu_opts, with protobufjs' camelCase field names. */
export interface CriuOptsMsg {
  imagesDirFd: number;
  pid?: number;
  leaveRunning?: boolean;
  extUnixSk?: boolean;
  tcpEstablished?: boolean;
  evasiveDevices?: boolean;
  shellJob?: boolean;
  fileLocks?: boolean;
  logLevel?: number;
  logFile?: string;
  ps?: { address: string; port: number };
  notifyScripts?: boolean;
  root?: string;
  parentImg?: string;
  trackMem?: boolean;
  autoDedup?: boolean;
  workDirFd?: number;
  extMnt?: ExtMount[];
  manageCgroups?: boolean;
  cgRoot?: CgroupRoot[];
  rstSibling?: boolean;
  inheritFd?: InheritFd[];
  manageCgroupsMode?: number;
  external?: string[];
  emptyNs?: number;
  joinNs?: JoinNs[];
  freezeCgroup?: string;
  lazyPages?: boolean;
  statusFd?: number;
  orphanPtsMaster?: boolean;
  configFile?: string;
  lsmProfile?: string;
  lsmMountContext?: string;
}

export interface CriuFeatures { memTrack?: boolean; lazyPages?: boolean }

export interface CriuReqMsg {
  type: number;
  opts?: CriuOptsMsg;
  notifySuccess?: boolean;
  features?: CriuFeatures;
}

export interface CriuRespMsg {
  type: number;
  success: boolean;
  restore?: { pid: number };
  notify?: { script?: string; pid?: number };
  crErrno?: number;
  features?: CriuFeatures;
  crErrmsg?: string;
  version?: { majorNumber: number; minorNumber: number; gitid?: string; sublevel?: number };
}

let types: { req: protobuf.Type; resp: protobuf.Type } | undefined;

function load(): { req: protobuf.Type; resp: protobuf.Type } {
  if (types) return types;
  const root = protobuf.parse(CRIU_RPC_PROTO, { keepCase: false }).root;
  types = { req: root.lookupType('criu_req'), resp: root.lookupType('criu_resp') };
  return types;
}

export function encodeReq(req: CriuReqMsg): Buffer {
  const t = load().req;
  const err = t.verify(req);
  if (err) throw new Error(`criu request: ${err}`);
  return Buffer.from(t.encode(t.fromObject(req)).finish());
}

export function decodeResp(buf: Uint8Array): CriuRespMsg {
  const t = load().resp;
  const msg = t.decode(buf);
  // Presence matters for optional fields (an absent cr_errno is not 0): defaults off.
  return t.toObject(msg, { defaults: false }) as CriuRespMsg;
}
