// A CRI v1 client (runtime.v1 RuntimeService and ImageService) over a unix socket, as
// kubelet talks to containerd. The API is ../shared/cri-api/api.proto (the version
// containerd 1.6 serves); its gogoproto import and options are only for Go code
// generation, so they are stripped into a temp file before loading.
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { repoRoot } from '../../engines/lib/setup.js';

/** Where the CRI proto is: $CRI_API_PROTO, else ../shared/cri-api/api.proto beside the repo. */
export function criProtoPath(): string {
  const env = process.env.CRI_API_PROTO;
  if (env) return env;
  for (const shared of [process.env.SHARED, join(repoRoot, '..', 'shared')]) {
    if (!shared) continue;
    const p = resolve(shared, 'cri-api', 'api.proto');
    if (existsSync(p)) return p;
  }
  throw new Error(`the CRI API proto is missing: ../shared/cri-api/api.proto (or set CRI_API_PROTO)`);
}

/** api.proto without the gogoproto import and `option (gogoproto...)` lines. */
export function stripGogo(text: string): string {
  return text
    .split('\n')
    .filter((l) => !/^\s*import\s+"github\.com\/gogo\/protobuf\/gogoproto\/gogo\.proto";/.test(l) && !/^\s*option\s+\(gogoproto\./.test(l))
    .join('\n');
}

function loadPackage(): grpc.GrpcObject {
  const dir = mkdtempSync(join(tmpdir(), 'tsrun-cri-proto-'));
  try {
    const file = join(dir, 'api.proto');
    writeFileSync(file, stripGogo(readFileSync(criProtoPath(), 'utf8')));
    // keepCase: the proto's own field names; int64 as strings (nanosecond timestamps exceed 2^53).
    const def = protoLoader.loadSync(file, { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true });
    return grpc.loadPackageDefinition(def);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A CRI error: the gRPC status code's name and containerd's message. */
export class CriError extends Error {
  constructor(
    readonly method: string,
    readonly code: string,
    readonly details: string,
  ) {
    super(`${method}: ${code}: ${details}`);
  }
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Msg = any;

type Unary = (req: Msg, meta: grpc.Metadata, opts: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res: Msg) => void) => void;

export class CriClient {
  private readonly runtime: grpc.Client;
  private readonly image: grpc.Client;

  constructor(socket: string) {
    const pkg = loadPackage();
    const v1 = (pkg.runtime as grpc.GrpcObject).v1 as grpc.GrpcObject;
    const Runtime = v1.RuntimeService as grpc.ServiceClientConstructor;
    const Image = v1.ImageService as grpc.ServiceClientConstructor;
    const opts = { 'grpc.max_receive_message_length': 16 << 20 };
    this.runtime = new Runtime(`unix://${socket}`, grpc.credentials.createInsecure(), opts);
    this.image = new Image(`unix://${socket}`, grpc.credentials.createInsecure(), opts);
  }

  /** RuntimeService.<method>(req); every call has a deadline (default 60 s): a hang is an error. */
  call(method: string, req: Msg = {}, timeoutMs = 60_000): Promise<Msg> {
    return this.invoke(this.runtime, method, req, timeoutMs);
  }

  imageCall(method: string, req: Msg = {}, timeoutMs = 60_000): Promise<Msg> {
    return this.invoke(this.image, method, req, timeoutMs);
  }

  private invoke(client: grpc.Client, method: string, req: Msg, timeoutMs: number): Promise<Msg> {
    const fn = (client as unknown as Record<string, Unary>)[method];
    if (typeof fn !== 'function') return Promise.reject(new Error(`no CRI method ${method}`));
    return new Promise((res, rej) => {
      fn.call(client, req, new grpc.Metadata(), { deadline: Date.now() + timeoutMs }, (err, out) => {
        if (err) rej(new CriError(method, grpc.status[err.code] ?? String(err.code), err.details || err.message));
        else res(out);
      });
    });
  }

  close(): void {
    this.runtime.close();
    this.image.close();
  }
}
