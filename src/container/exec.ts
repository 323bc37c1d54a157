// `exec`: a new process in a running container, joining its namespaces and cgroup.
import * as fs from 'node:fs';
import type { Ctx } from '../cli/context.js';
import { TsrunError, describeError } from '../errors.js';
import type { Process } from '../spec/types.js';
import { ConfigError, parseProcess } from '../spec/load-config.js';
import { judgeProcess } from '../spec/judge.js';
import { buildExecPlan } from '../linux/exec-plan.js';
import { withHome } from '../linux/home-env.js';
import { withGrantableCaps } from '../linux/host-caps.js';
import { AF_UNIX, SOCK_CLOEXEC, SOCK_STREAM, loadNative } from '../native/native.js';
import { openEntry, type CgroupHandle } from '../cgroups/index.js';
import { parseSubCgroups, subCgroup } from '../cgroups/sub.js';
import { prepareSeccomp, startInit } from './launch.js';
import { realHost } from '../linux/host-facts.js';
import { requireExecutable } from './lifecycle.js';
import { connectConsoleSocket } from './fds.js';
import { pidInInit } from '../native/plan.js';
import { waitForeground } from './foreground.js';
import { currentStatus } from './status.js';
import { Store } from './store.js';
import { writePidFile } from './pid-file.js';
import { fault } from './fault.js';

export interface ExecOptions {
  id: string;
  process?: string;
  args: string[];
  env: string[];
  cwd?: string;
  user?: string;
  additionalGids: number[];
  tty: boolean;
  detach: boolean;
  pidFile?: string;
  consoleSocket?: string;
  preserveFds: number;
  caps: string[];
  noNewPrivs?: boolean;
  apparmor?: string;
  processLabel?: string;
  ignorePaused: boolean;
  /** --cgroup values: sub-cgroups of the container's cgroup to join ([controller[,…]:]path). */
  cgroup: string[];
}

export async function exec(ctx: Ctx, o: ExecOptions): Promise<number> {
  const store = new Store(ctx.root);
  const r = store.load(o.id);
  const status = currentStatus(r);
  requireExecutable(status, o.ignorePaused);
  const warn = (m: string) => ctx.log.warn(`exec ${o.id}: ${m}`);
  const proc = withGrantableCaps(withHome(execProcess(r.process, o, warn), r.rootfs), r.namespaces, warn);
  if (proc.terminal && o.detach && o.consoleSocket === undefined) {
    throw new TsrunError('cannot allocate tty if tsrun will detach without setting console socket');
  }
  if (!proc.terminal && o.consoleSocket !== undefined) {
    throw new TsrunError('cannot use console socket if tsrun will not detach or allocate tty');
  }
  const cgroup = execCgroup(r.cgroup, o.cgroup);
  const host = realHost();
  judgeProcess(proc, host);
  const native = await loadNative();
  const own: number[] = [];
  let pair: [number, number] | undefined;
  let consoleFd: number | undefined;
  try {
    if (proc.terminal) {
      if (o.consoleSocket !== undefined) consoleFd = await connectConsoleSocket(native, o.consoleSocket);
      else {
        pair = native.socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        consoleFd = pair[1];
      }
      own.push(consoleFd);
    }
    const preserved = Array.from({ length: o.preserveFds }, (_, i) => 3 + i);
    const prepared = await prepareSeccomp(native, r.seccomp);
    if (prepared.listenerFd !== undefined) own.push(prepared.listenerFd);
    const seccomp = prepared.plan({ ociVersion: r.ociVersion, id: r.id, status: 'running', pid: r.pid, bundle: r.bundle, annotations: r.annotations }, pidInInit());
    ctx.log.debug(`exec ${o.id}: process ${JSON.stringify(proc.args ?? [])}, cgroup ${cgroup?.path ?? 'none'}${o.cgroup.length ? ` (--cgroup ${o.cgroup.join(' ')})` : ''}`);
    const launched = await startInit(ctx, {
        where: `exec ${o.id}`,
        setup: `cloning tsrun-init to join the namespaces of pid ${r.pid}`,
        cloneFlags: 0,
        keepFds: [...preserved, ...own],
        native,
        cgroup: cgroup ? openEntry(cgroup) : undefined,
        joinAfterFork: true,
        onSpawn: () => {
          fault('exec:spawn');
        },
        plan: () => {
          const plan = buildExecPlan({ host, pid: r.pid, process: proc, consoleFd, firstClosedFd: 3 + preserved.length, seccomp });
          ctx.log.debug(`exec ${o.id}: plan of ${plan.length} ops`);
          return plan;
        },
      });
    fault('exec:ready');
    ctx.log.debug(`setns_init: about to exec: exec ${o.id}: process ${launched.pid}`);
    for (const fd of own.splice(0)) native.close(fd);
    let master: number | undefined;
    if (pair) {
      master = native.recvFd(pair[0]);
      native.clearOnlcr(master);
      native.close(pair[0]);
      pair = undefined;
    }
    if (o.pidFile) {
      try {
        writePidFile(o.pidFile, launched.pid);
      } catch (e) {
        // runc: the process of an exec that failed does not stay behind.
        try {
          process.kill(launched.pid, 'SIGKILL');
        } catch {
          // already gone
        }
        throw e;
      }
    }
    if (o.detach) return 0;
    return await waitForeground({ pid: launched.pid, native, master });
  } finally {
    for (const fd of own) native.close(fd);
    if (pair) native.close(pair[0]);
  }
}

/** The cgroup the exec'd process joins: the container's, or its sub-cgroups given by --cgroup. */
function execCgroup(h: CgroupHandle | undefined, args: readonly string[]): CgroupHandle | undefined {
  if (!args.length) return h;
  const subs = parseSubCgroups(args);
  if (!h) throw new TsrunError('--cgroup: the container has no cgroup');
  return subCgroup(h, subs);
}

/** The exec'd process: --process file, or the container's process adjusted by the flags (runc). */
export function execProcess(base: Process | undefined, o: ExecOptions, warn?: (m: string) => void): Process {
  if (o.process) {
    let text: string;
    try {
      text = fs.readFileSync(o.process, 'utf8');
    } catch (e) {
      throw new TsrunError(`--process ${o.process}: ${describeError(e)}`);
    }
    // runc: the file is the whole process (no flag changes it), checked like config.json's.
    try {
      return parseProcess(text, o.process, { warn });
    } catch (e) {
      if (e instanceof ConfigError) throw new TsrunError(e.message);
      throw e;
    }
  }
  if (!o.args.length) throw new TsrunError('exec: no command given');
  const p: Process = structuredClone(base ?? { user: { uid: 0, gid: 0 }, cwd: '/' });
  p.args = o.args;
  p.terminal = o.tty;
  delete p.consoleSize;
  p.env = mergeEnv(p.env ?? [], o.env);
  if (o.cwd) p.cwd = o.cwd;
  if (o.user) {
    const m = /^(\d+)(?::(\d+))?$/.exec(o.user);
    if (!m) throw new TsrunError(`--user ${o.user}: expected uid[:gid]`);
    p.user = { ...p.user, uid: Number(m[1]), gid: m[2] !== undefined ? Number(m[2]) : p.user.gid };
  }
  if (o.additionalGids.length) p.user = { ...p.user, additionalGids: o.additionalGids };
  if (o.caps.length) {
    const caps = p.capabilities ?? {};
    for (const set of ['bounding', 'effective', 'permitted', 'ambient'] as const) {
      caps[set] = [...new Set([...(caps[set] ?? []), ...o.caps])];
    }
    p.capabilities = caps;
  }
  if (o.noNewPrivs !== undefined) p.noNewPrivileges = o.noNewPrivs;
  if (o.apparmor) p.apparmorProfile = o.apparmor;
  if (o.processLabel) p.selinuxLabel = o.processLabel;
  return p;
}

function mergeEnv(base: string[], extra: string[]): string[] {
  const out = new Map<string, string>();
  for (const kv of [...base, ...extra]) out.set(kv.split('=')[0]!, kv);
  return [...out.values()];
}
