// One CRIU RPC session, the way runc drives CRIU: `criu swrk <fd>` on one end of a
// SOCK_SEQPACKET socketpair, one criu_req per message, criu_resp messages back until the final
// one, NOTIFY messages (the "action scripts": setup-namespaces, post-restore, ...) answered in
// between. The wait for each message is bounded, and a criu that dies ends the session (EOF).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { TsrunError } from '../errors.js';
import { callerRlimits } from '../container/caller-limits.js';
import { AF_UNIX, O_CLOEXEC, SOCK_SEQPACKET, WNOHANG, type Native, type Rlimit } from '../native/native.js';
import { decodeResp, encodeReq, reqTypeName, ReqType, type CriuReqMsg, type CriuRespMsg } from './rpc.js';

/** A NOTIFY message: the script's name, the pid CRIU names (restore), an fd it passed (orphan-pts-master). */
export interface Notify {
  script: string;
  pid: number;
  fd: number;
}

export interface SwrkOptions {
  /** The criu executable (absolute). */
  criu: string;
  native: Native;
  /** fds CRIU must inherit at their numbers (image and work directories, namespaces, status fd). */
  keepFds?: readonly number[];
  /** Called with criu's pid before the request is sent (restore: put criu into the container's cgroup). */
  onSpawn?: (pid: number) => void | Promise<void>;
  /** Answers a NOTIFY; throwing fails the request (CRIU then undoes what it did). */
  onNotify?: (n: Notify) => void | Promise<void>;
  /** Bound of the wait for each message from CRIU. */
  timeoutMs?: number;
}

/** CRIU answered, but not with success; `log` is the file whose Error lines tell why. */
export class CriuFailure extends TsrunError {
  constructor(message: string, readonly resp?: CriuRespMsg) {
    super(message);
    this.name = 'CriuFailure';
  }
}

const MAX_MSG = 10 * 4096; // runc's buffer: CRIU's answers are small
const DEFAULT_TIMEOUT_MS = 10 * 60_000;

/** The criu executable: --criu (a path, or a name looked up in PATH), default "criu". */
export function findCriu(name = 'criu'): string {
  if (name.includes('/')) {
    const p = path.resolve(name);
    if (!isExecutable(p)) throw new TsrunError(`criu: ${p} is not an executable file`);
    return p;
  }
  for (const dir of (process.env.PATH || '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin').split(':')) {
    const p = path.join(dir || '.', name);
    if (isExecutable(p)) return path.resolve(p);
  }
  throw new TsrunError(`criu: "${name}" not found in PATH: install CRIU (Debian: apt-get install criu) or name it with --criu`);
}

function isExecutable(p: string): boolean {
  try {
    fs.accessSync(p, fs.constants.X_OK);
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}

/**
 * Sends `req` to a new `criu swrk` and returns CRIU's final answer (success or not; a failed
 * answer is returned, not thrown, so the caller can name the log). Throws when CRIU cannot be
 * started, dies, or stays silent past the bound.
 */
export async function criuCall(o: SwrkOptions, req: CriuReqMsg): Promise<CriuRespMsg> {
  const { native } = o;
  const [client, server] = native.socketpair(AF_UNIX, SOCK_SEQPACKET | O_CLOEXEC, 0);
  let pid: number | undefined;
  let exited = false;
  try {
    const rlimits = [callerRlimits() as unknown as Rlimit].filter((r) => r.length === 3);
    const env = Object.entries(process.env).map(([k, v]) => `${k}=${v ?? ''}`);
    try {
      pid = native.spawnHost(o.criu, ['criu', 'swrk', String(server)], env, [server, ...(o.keepFds ?? [])].sort((a, b) => a - b), rlimits);
    } catch (e) {
      throw new TsrunError(`cannot start ${o.criu} swrk`, { cause: e });
    } finally {
      // Only criu holds the server end now: if it dies, the client reads EOF.
      native.close(server);
    }
    await o.onSpawn?.(pid);
    const gone = (): never => {
      const st = reap(native, pid!, 1000);
      exited = st !== undefined;
      throw new TsrunError(`criu ${reqTypeName(req.type)}: criu exited without an answer${st ? ` (${st})` : ''}`);
    };
    try {
      send(client, req);
    } catch (e) {
      // EPIPE: criu is gone already (its own stderr, shared with ours, may say why).
      if ((e as { code?: string }).code === 'EPIPE' || (e as { code?: string }).code === 'ECONNRESET') gone();
      throw e;
    }
    const timeout = o.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const buf = Buffer.alloc(MAX_MSG);
    for (;;) {
      if (!native.pollIn(client, timeout)) {
        throw new TsrunError(`criu ${reqTypeName(req.type)}: no answer from criu within ${Math.round(timeout / 1000)} s`);
      }
      let got: { length: number; fd: number };
      try {
        got = native.recvMsg(client, buf);
      } catch (e) {
        // ECONNRESET: criu closed its end without reading our request (it died at once).
        if ((e as { code?: string }).code === 'ECONNRESET') gone();
        throw e;
      }
      const { length, fd } = got!;
      if (length === 0) {
        if (fd >= 0) native.close(fd);
        gone();
      }
      const resp = decodeResp(buf.subarray(0, length));
      if (resp.type !== ReqType.NOTIFY || !resp.success) {
        if (fd >= 0) native.close(fd);
        return resp;
      }
      let ok = true;
      try {
        await o.onNotify?.({ script: resp.notify?.script ?? '', pid: resp.notify?.pid ?? 0, fd });
      } catch (e) {
        ok = false;
        // CRIU undoes its work when the notify fails; tell it, then report the cause.
        try {
          send(client, { type: ReqType.NOTIFY, notifySuccess: false });
        } catch {
          /* criu gone */
        }
        throw e;
      } finally {
        if (fd >= 0) native.close(fd);
        if (ok) send(client, { type: ReqType.NOTIFY, notifySuccess: true });
      }
    }
  } finally {
    native.close(client);
    // criu exits once its request is served and the socket closed (a pre-dump's criu waits for
    // another request until then). Its exit status carries nothing the answer did not.
    if (pid !== undefined && !exited) reap(native, pid, 10_000, true);
  }
}

function send(sock: number, req: CriuReqMsg): void {
  const data = encodeReq(req);
  const n = fs.writeSync(sock, data);
  if (n !== data.length) throw new TsrunError(`criu: short write on the RPC socket (${n} of ${data.length} bytes)`);
}

/** Waits up to ms for criu to exit (SIGKILL after, when kill); returns how it ended, or undefined. */
function reap(native: Native, pid: number, ms: number, kill = false): string | undefined {
  const deadline = Date.now() + ms;
  for (let delay = 1; ; delay = Math.min(delay * 2, 50)) {
    const st = native.waitpid(pid, WNOHANG);
    if (st) return st.exited ? `exit status ${st.code}` : `killed by signal ${st.signal}`;
    if (Date.now() >= deadline) break;
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, delay);
  }
  if (!kill) return undefined;
  try {
    native.kill(pid, 9);
  } catch {
    /* gone */
  }
  native.waitpid(pid, 0);
  return 'killed';
}
