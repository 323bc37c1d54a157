// Checks of config.json beyond its schema: cross-field rules of config.md / config-linux.md,
// runc's libcontainer/configs/validate rules, and facts of this host (rootfs, namespace files).
// Each problem names a JSON pointer into config.json and says what is wrong.
import { lstatSync, readFileSync, readlinkSync, statSync, statfsSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { isCapabilityName } from './capabilities.js';
import { escapePointerToken as esc } from './json-pointer.js';
import { isRlimitName } from './rlimits.js';
import type { Mount, NamespaceType, Process, Spec } from './types.js';
import { ociVersionProblem } from './versions.js';

export interface SemanticIssue {
  pointer: string;
  message: string;
  severity: 'error' | 'warning';
}

export interface SemanticOptions {
  /** The bundle directory: relative root.path and mount sources are relative to it. */
  bundleDir: string;
  /** Require a runnable process (create/run). Default true. */
  requireProcess?: boolean;
}

export { OCI_VERSION_MAX, OCI_VERSION_MIN } from './versions.js';

/** Namespace type of the spec -> the name the kernel uses in /proc/<pid>/ns and nsfs. */
export const NS_KERNEL_NAME: Record<NamespaceType, string> = {
  pid: 'pid',
  network: 'net',
  mount: 'mnt',
  ipc: 'ipc',
  uts: 'uts',
  user: 'user',
  cgroup: 'cgroup',
  time: 'time',
};

const NSFS_MAGIC = 0x6e736673;
const HOST_NAME_MAX = 64;
const IFNAMSIZ = 16;
const SECCOMP_MAX_ARGS = 6;
const TIME_CLOCKS = ['boottime', 'monotonic'];

/** sysctls that the IPC namespace isolates (besides fs.mqueue.*), as runc lists them. */
const IPC_SYSCTLS = new Set([
  'kernel.msgmax',
  'kernel.msgmnb',
  'kernel.msgmni',
  'kernel.sem',
  'kernel.shmall',
  'kernel.shmmax',
  'kernel.shmmni',
  'kernel.shm_rmid_forced',
]);

/** Every semantic problem of `spec`, which must already have passed the config schema. */
export function checkSemantics(spec: Spec, opts: SemanticOptions): SemanticIssue[] {
  return new Checker(spec, opts).run();
}

/**
 * The semantic problems of a process object on its own (`exec --process FILE`): the checks of
 * config.json's process, with pointers relative to the object.
 */
export function checkProcessSemantics(process: Process): SemanticIssue[] {
  const checker = new Checker({ ociVersion: '', root: { path: '' }, process }, { bundleDir: '/' });
  return checker.processOnly().map((i) => ({ ...i, pointer: i.pointer.slice('/process'.length) }));
}

// --- helpers other modules may use -------------------------------------------------------

/** Parses a CPU or NUMA node list such as "0-3,7" ("" is the empty list); null when malformed. */
export function parseIdList(text: string): number[] | null {
  if (text.trim() === '') return [];
  const out: number[] = [];
  for (const raw of text.split(',')) {
    const m = /^\s*(\d+)(?:\s*-\s*(\d+))?\s*$/.exec(raw);
    if (!m) return null;
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    if (hi < lo || hi > 65535) return null;
    for (let i = lo; i <= hi; i++) out.push(i);
  }
  return out;
}

/** Whether the kernel accepts `name` for a network interface (dev_valid_name). */
export function isValidInterfaceName(name: string): boolean {
  return name.length > 0 && name.length < IFNAMSIZ && name !== '.' && name !== '..' && !/[/:\s]/.test(name);
}

/** runc accepts sysctl names written with "/" as well as "."; compare them in dotted form. */
export function dottedSysctlName(name: string): string {
  const first = name.search(/[./]/);
  if (first === -1 || name[first] === '.') return name;
  return name.replace(/[./]/g, (c) => (c === '.' ? '/' : '.'));
}

export type NamespaceFile =
  | { ok: true; type: string; inode: number }
  | { ok: false; problem: 'missing' | 'not-namespace' | 'unreadable'; detail?: string };

/**
 * What namespace a file refers to: a /proc/<pid>/ns/* link (its text is "net:[4026531840]"),
 * a symlink to one, or an nsfs file bind-mounted elsewhere (e.g. /run/netns/x), whose type
 * /proc/self/mountinfo gives as the mount's root ("net:[4026532281]").
 */
export function inspectNamespaceFile(path: string): NamespaceFile {
  let inode: number;
  try {
    inode = statSync(path).ino;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return { ok: false, problem: 'missing' };
    return { ok: false, problem: 'unreadable', detail: (e as Error).message };
  }
  let p = path;
  for (let hops = 0; hops < 40; hops++) {
    let link: string;
    try {
      if (!lstatSync(p).isSymbolicLink()) break;
      link = readlinkSync(p);
    } catch {
      break;
    }
    const m = /^([a-z_]+):\[(\d+)\]$/.exec(link);
    if (m) return { ok: true, type: m[1]!, inode: Number(m[2]) };
    p = resolve(dirname(p), link);
  }
  try {
    if (statfsSync(path).type !== NSFS_MAGIC) return { ok: false, problem: 'not-namespace' };
  } catch (e) {
    return { ok: false, problem: 'unreadable', detail: (e as Error).message };
  }
  const type = nsfsMountType(inode);
  if (type) return { ok: true, type, inode };
  return { ok: false, problem: 'not-namespace', detail: 'an nsfs file of unknown type' };
}

function nsfsMountType(inode: number): string | undefined {
  let text: string;
  try {
    text = readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return undefined;
  }
  for (const line of text.split('\n')) {
    const sep = line.indexOf(' - ');
    if (sep < 0 || !line.slice(sep + 3).startsWith('nsfs ')) continue;
    const root = line.split(' ')[3] ?? '';
    const m = /^([a-z_]+):\[(\d+)\]$/.exec(root);
    if (m && Number(m[2]) === inode) return m[1];
  }
  return undefined;
}

/** Whether `path` is the network namespace tsrun itself runs in (runc's isHostNetNS). */
export function isOwnNetworkNamespace(path: string): boolean {
  try {
    const a = statSync('/proc/self/ns/net');
    const b = statSync(path);
    return a.dev === b.dev && a.ino === b.ino;
  } catch {
    return false;
  }
}

/** The absolute rootfs directory of a bundle. */
export function rootfsPath(bundleDir: string, spec: Spec): string {
  return resolve(bundleDir, spec.root?.path ?? '');
}

export function isBindMount(m: Mount): boolean {
  return (m.options ?? []).some((o) => o === 'bind' || o === 'rbind');
}

/** A mount that the plan makes as a bind mount: type "bind", or a bind/rbind option. */
export function isBind(m: Mount): boolean {
  return m.type === 'bind' || isBindMount(m);
}

// --- the checks --------------------------------------------------------------------------

class Checker {
  private readonly issues: SemanticIssue[] = [];
  private readonly nsTypes = new Map<NamespaceType, { index: number; path?: string }>();

  constructor(
    private readonly spec: Spec,
    private readonly opts: SemanticOptions,
  ) {
    for (const [i, ns] of (spec.linux?.namespaces ?? []).entries()) {
      if (!this.nsTypes.has(ns.type)) this.nsTypes.set(ns.type, { index: i, path: ns.path || undefined });
    }
  }

  run(): SemanticIssue[] {
    this.version();
    this.root();
    this.process();
    this.hostnames();
    this.mounts();
    this.hooks();
    this.annotations();
    this.otherPlatforms();
    this.namespaces();
    this.idMappings();
    this.timeOffsets();
    this.devices();
    this.resources();
    this.sysctl();
    this.seccomp();
    this.paths();
    this.lsm();
    this.intelRdt();
    this.memoryPolicy();
    this.personality();
    this.netDevices();
    return this.issues;
  }

  processOnly(): SemanticIssue[] {
    this.process();
    return this.issues;
  }

  private error(pointer: string, message: string): void {
    this.issues.push({ pointer, message, severity: 'error' });
  }

  private warn(pointer: string, message: string): void {
    this.issues.push({ pointer, message, severity: 'warning' });
  }

  private has(type: NamespaceType): boolean {
    return this.nsTypes.has(type);
  }

  private absolute(pointer: string, path: string): boolean {
    if (path.startsWith('/')) return true;
    this.error(pointer, `must be an absolute path; got ${JSON.stringify(path)}`);
    return false;
  }

  private noNul(pointer: string, text: string): boolean {
    if (!text.includes('\0')) return true;
    this.error(pointer, 'must not contain a NUL byte');
    return false;
  }

  private version(): void {
    const problem = ociVersionProblem(this.spec.ociVersion);
    if (problem) this.error('/ociVersion', problem);
  }

  private root(): void {
    const path = this.spec.root?.path;
    if (path === undefined) return;
    if (path === '') {
      this.error('/root/path', 'must not be empty');
      return;
    }
    const abs = rootfsPath(this.opts.bundleDir, this.spec);
    try {
      if (!statSync(abs).isDirectory()) this.error('/root/path', `rootfs ${abs} is not a directory`);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') this.error('/root/path', `rootfs ${abs} does not exist`);
      else this.error('/root/path', `rootfs ${abs}: ${(e as Error).message}`);
    }
  }

  private process(): void {
    const p = this.spec.process;
    if (!p) {
      if (this.opts.requireProcess !== false) {
        this.error('/process', 'is required: the container needs a process to start');
      }
      return;
    }
    if (this.absolute('/process/cwd', p.cwd)) this.noNul('/process/cwd', p.cwd);
    if (p.args === undefined) {
      if (this.opts.requireProcess !== false) this.error('/process/args', 'is required: it names the program to run');
    } else {
      p.args.forEach((a, i) => this.noNul(`/process/args/${i}`, a));
      if (p.args[0] === '') this.error('/process/args/0', 'must name the program to run, not be empty');
    }
    (p.env ?? []).forEach((entry, i) => this.envEntry(`/process/env/${i}`, entry));

    if (p.consoleSize) {
      if (p.terminal !== true) {
        this.warn('/process/consoleSize', 'is ignored because process.terminal is not true');
      } else {
        for (const k of ['height', 'width'] as const) {
          if (p.consoleSize[k] > 65535) this.error(`/process/consoleSize/${k}`, `must be at most 65535 (a terminal's size is 16-bit); got ${p.consoleSize[k]}`);
        }
      }
    }

    const seen = new Map<string, number>();
    (p.rlimits ?? []).forEach((r, i) => {
      const at = `/process/rlimits/${i}`;
      if (!isRlimitName(r.type)) {
        this.error(`${at}/type`, `unknown rlimit type ${JSON.stringify(r.type)}`);
      } else if (seen.has(r.type)) {
        this.error(`${at}/type`, `duplicate rlimit type ${r.type} (also at /process/rlimits/${seen.get(r.type)})`);
      } else {
        seen.set(r.type, i);
      }
      if (r.soft > r.hard) this.error(`${at}/soft`, `soft limit ${r.soft} is greater than hard limit ${r.hard}`);
    });

    const caps = p.capabilities ?? {};
    for (const set of ['bounding', 'effective', 'inheritable', 'permitted', 'ambient'] as const) {
      (caps[set] ?? []).forEach((name, i) => {
        // config.md: runtimes SHOULD NOT fail on capabilities that cannot be granted (runc warns too).
        if (!isCapabilityName(name)) this.warn(`/process/capabilities/${set}/${i}`, `unknown capability ${JSON.stringify(name)} is ignored`);
      });
    }
    if (p.oomScoreAdj !== undefined && (p.oomScoreAdj < -1000 || p.oomScoreAdj > 1000)) {
      this.error('/process/oomScoreAdj', `must be between -1000 and 1000; got ${p.oomScoreAdj}`);
    }

    const s = p.scheduler;
    if (s) {
      if ((s.policy === 'SCHED_OTHER' || s.policy === 'SCHED_BATCH') && s.nice !== undefined && (s.nice < -20 || s.nice > 19)) {
        this.error('/process/scheduler/nice', `must be between -20 and 19 for ${s.policy}; got ${s.nice}`);
      }
      if (s.priority && s.policy !== 'SCHED_FIFO' && s.policy !== 'SCHED_RR') {
        this.error('/process/scheduler/priority', `can only be set for SCHED_FIFO or SCHED_RR, not ${s.policy}`);
      }
      if (s.policy !== 'SCHED_DEADLINE') {
        for (const k of ['runtime', 'deadline', 'period'] as const) {
          if (s[k]) this.error(`/process/scheduler/${k}`, `can only be set for SCHED_DEADLINE, not ${s.policy}`);
        }
      }
    }
    if (p.ioPriority && (p.ioPriority.priority < 0 || p.ioPriority.priority > 7)) {
      this.error('/process/ioPriority/priority', `must be between 0 (highest) and 7 (lowest); got ${p.ioPriority.priority}`);
    }
    for (const k of ['initial', 'final'] as const) {
      const list = p.execCPUAffinity?.[k];
      if (list !== undefined && parseIdList(list) === null) {
        this.error(`/process/execCPUAffinity/${k}`, `${JSON.stringify(list)} is not a CPU list such as 0-3,7`);
      }
    }
  }

  private envEntry(pointer: string, entry: string): void {
    const eq = entry.indexOf('=');
    if (eq < 0) this.error(pointer, `${JSON.stringify(entry)} is not of the form NAME=value`);
    else if (eq === 0) this.error(pointer, `${JSON.stringify(entry)} has an empty variable name`);
    else this.noNul(pointer, entry);
  }

  private hostnames(): void {
    for (const key of ['hostname', 'domainname'] as const) {
      const name = this.spec[key];
      if (!name) continue;
      if (!this.has('uts')) {
        this.error(`/${key}`, `cannot set the ${key} without a UTS namespace: add {"type": "uts"} to linux.namespaces`);
      }
      if (name.length > HOST_NAME_MAX) this.error(`/${key}`, `must be at most ${HOST_NAME_MAX} characters long; got ${name.length}`);
      this.noNul(`/${key}`, name);
    }
  }

  private mounts(): void {
    const userns = this.has('user');
    (this.spec.mounts ?? []).forEach((m, i) => {
      const at = `/mounts/${i}`;
      if (m.destination === '') this.error(`${at}/destination`, 'must not be empty');
      else if (!isAbsolute(m.destination)) {
        this.warn(`${at}/destination`, `relative destination ${JSON.stringify(m.destination)} is deprecated; it is taken as relative to /`);
      }
      const hasUid = m.uidMappings !== undefined;
      const hasGid = m.gidMappings !== undefined;
      if (hasUid !== hasGid) {
        this.error(`${at}/${hasUid ? 'gidMappings' : 'uidMappings'}`, 'is required: uidMappings and gidMappings of a mount go together');
      }
      const idmapOpt = (m.options ?? []).find((o) => o === 'idmap' || o === 'ridmap');
      const idmapped = idmapOpt !== undefined || hasUid || hasGid;
      if (idmapped && !isBindMount(m)) {
        this.error(at, 'id-mapped mounts are only supported for bind mounts (add "bind" or "rbind" to options)');
      }
      if (idmapOpt && !hasUid && !hasGid && !userns) {
        this.error(`${at}/options`, `option "${idmapOpt}" needs uidMappings and gidMappings, or a user namespace whose mappings it can use`);
      }
      for (const k of ['uidMappings', 'gidMappings'] as const) {
        (m[k] ?? []).forEach((e, j) => {
          if (e.size === 0) this.error(`${at}/${k}/${j}/size`, 'must be at least 1');
        });
      }
    });
  }

  private hooks(): void {
    for (const [phase, list] of Object.entries(this.spec.hooks ?? {})) {
      if (!Array.isArray(list)) continue;
      list.forEach((h: { path: string }, i: number) => this.absolute(`/hooks/${esc(phase)}/${i}/path`, h.path));
    }
  }

  private annotations(): void {
    if (this.spec.annotations && Object.prototype.hasOwnProperty.call(this.spec.annotations, '')) {
      this.error('/annotations/', 'annotation keys must not be empty');
    }
  }

  private otherPlatforms(): void {
    for (const key of ['windows', 'solaris', 'vm', 'zos', 'freebsd'] as const) {
      if (this.spec[key] !== undefined) {
        this.warn(`/${key}`, `is ignored: tsrun runs Linux containers`);
      }
    }
  }

  private namespaces(): void {
    const first = new Map<string, number>();
    (this.spec.linux?.namespaces ?? []).forEach((ns, i) => {
      const at = `/linux/namespaces/${i}`;
      if (first.has(ns.type)) {
        this.error(`${at}/type`, `duplicate namespace type "${ns.type}" (also at /linux/namespaces/${first.get(ns.type)})`);
        return;
      }
      first.set(ns.type, i);
      if (!ns.path) return;
      if (!this.absolute(`${at}/path`, ns.path)) return;
      const info = inspectNamespaceFile(ns.path);
      const want = NS_KERNEL_NAME[ns.type];
      if (info.ok) {
        if (info.type !== want) {
          this.error(`${at}/path`, `${ns.path} is a ${info.type} namespace, not a ${want} namespace (type "${ns.type}")`);
        }
      } else if (info.problem === 'missing') {
        this.error(`${at}/path`, `namespace path ${ns.path} does not exist`);
      } else if (info.problem === 'not-namespace') {
        this.error(`${at}/path`, `${ns.path} is not a namespace file (not an nsfs file nor a /proc/<pid>/ns link${info.detail ? `: ${info.detail}` : ''})`);
      } else {
        this.error(`${at}/path`, `cannot inspect ${ns.path}: ${info.detail}`);
      }
    });
  }

  private idMappings(): void {
    const linux = this.spec.linux;
    const hasMappings = linux?.uidMappings !== undefined || linux?.gidMappings !== undefined;
    const user = this.nsTypes.get('user');
    if (!user) {
      if (hasMappings) {
        const key = linux?.uidMappings !== undefined ? 'uidMappings' : 'gidMappings';
        this.error(`/linux/${key}`, 'user namespace mappings need a user namespace: add {"type": "user"} to linux.namespaces');
      }
    } else if (!user.path && !hasMappings) {
      this.error(`/linux/namespaces/${user.index}`, 'a new user namespace needs linux.uidMappings and linux.gidMappings');
    } else if (user.path && hasMappings) {
      // runc 1.2: mappings next to a joined namespace must be the ones it has.
      const dir = user.path.replace(/\/ns\/user$/, '');
      for (const k of ['uidMappings', 'gidMappings'] as const) {
        const given = linux?.[k];
        if (!given) continue;
        let actual: string;
        try {
          actual = readFileSync(`${dir}/${k === 'uidMappings' ? 'uid_map' : 'gid_map'}`, 'utf8');
        } catch {
          continue; // a bind-mounted namespace file: its maps cannot be read from here
        }
        const norm = (rows: string[]) => rows.map((r) => r.trim().split(/\s+/).join(' ')).filter(Boolean).sort().join(';');
        const want = norm(given.map((m) => `${m.containerID} ${m.hostID} ${m.size}`));
        if (norm(actual.split('\n')) !== want) {
          this.error(`/linux/${k}`, `does not match the mappings of the joined user namespace ${user.path}`);
        }
      }
    }
    for (const k of ['uidMappings', 'gidMappings'] as const) {
      (linux?.[k] ?? []).forEach((e, j) => {
        if (e.size === 0) this.error(`/linux/${k}/${j}/size`, 'must be at least 1');
      });
    }
  }

  private timeOffsets(): void {
    const offsets = this.spec.linux?.timeOffsets;
    if (!offsets) return;
    for (const [clock, off] of Object.entries(offsets)) {
      const at = `/linux/timeOffsets/${esc(clock)}`;
      if (!TIME_CLOCKS.includes(clock)) {
        this.error(at, `unknown clock ${JSON.stringify(clock)}: a time namespace offsets only boottime and monotonic`);
      } else if (off.nanosecs !== undefined && off.nanosecs >= 1e9) {
        this.error(`${at}/nanosecs`, `must be less than 1000000000; got ${off.nanosecs}`);
      }
    }
    const time = this.nsTypes.get('time');
    if (!time) this.error('/linux/timeOffsets', 'needs a time namespace: add {"type": "time"} to linux.namespaces');
    else if (time.path) this.error('/linux/timeOffsets', 'cannot be set when joining an existing time namespace by path');
  }

  private devices(): void {
    (this.spec.linux?.devices ?? []).forEach((d, i) => {
      const at = `/linux/devices/${i}`;
      this.absolute(`${at}/path`, d.path);
      if (d.type !== 'p') {
        for (const k of ['major', 'minor'] as const) {
          if (d[k] === undefined) this.error(`${at}/${k}`, `is required for a device of type "${d.type}"`);
        }
      }
      // fileMode may be a whole st_mode (podman passes the host node's): like runc, only its
      // permission bits are used (rootfs-plan), so any uint32 is accepted.
    });
  }

  private resources(): void {
    const r = this.spec.linux?.resources;
    if (!r) return;
    (r.blockIO?.weightDevice ?? []).forEach((w, i) => {
      if (w.weight === undefined && w.leafWeight === undefined) {
        this.error(`/linux/resources/blockIO/weightDevice/${i}`, 'must set weight, leafWeight or both');
      }
    });
    for (const [dev, lim] of Object.entries(r.rdma ?? {})) {
      if (lim.hcaHandles === undefined && lim.hcaObjects === undefined) {
        this.error(`/linux/resources/rdma/${esc(dev)}`, 'must set hcaHandles, hcaObjects or both');
      }
    }
    const swappiness = r.memory?.swappiness;
    if (swappiness !== undefined && swappiness > 100) {
      this.error('/linux/resources/memory/swappiness', `must be between 0 and 100; got ${swappiness}`);
    }
    const cpu = r.cpu;
    if (cpu?.burst !== undefined && cpu.quota !== undefined && cpu.quota > 0 && cpu.burst > cpu.quota) {
      this.error('/linux/resources/cpu/burst', `must not be larger than quota (${cpu.quota}); got ${cpu.burst}`);
    }
    for (const k of ['cpus', 'mems'] as const) {
      const list = cpu?.[k];
      if (list !== undefined && parseIdList(list) === null) {
        this.error(`/linux/resources/cpu/${k}`, `${JSON.stringify(list)} is not a list such as 0-3,7`);
      }
    }
  }

  private sysctl(): void {
    for (const key of Object.keys(this.spec.linux?.sysctl ?? {})) {
      const at = `/linux/sysctl/${esc(key)}`;
      const name = dottedSysctlName(key);
      if (name === '') {
        this.error(at, 'sysctl names must not be empty');
      } else if (IPC_SYSCTLS.has(name) || name.startsWith('fs.mqueue.')) {
        if (!this.has('ipc')) this.error(at, `sysctl ${name} needs an IPC namespace: add {"type": "ipc"} to linux.namespaces`);
      } else if (name.startsWith('net.')) {
        const net = this.nsTypes.get('network');
        if (!net) this.error(at, `sysctl ${name} needs a network namespace: add {"type": "network"} to linux.namespaces`);
        else if (net.path && isOwnNetworkNamespace(net.path)) {
          this.error(at, `sysctl ${name} is not allowed in the host's network namespace (${net.path})`);
        }
      } else if (name === 'kernel.hostname') {
        this.error(at, 'sysctl kernel.hostname is not allowed: set the hostname field instead');
      } else if (name === 'kernel.domainname') {
        if (!this.has('uts')) this.error(at, 'sysctl kernel.domainname needs a UTS namespace: add {"type": "uts"} to linux.namespaces');
      } else {
        this.error(at, `sysctl ${name} is not in a namespace of the container: setting it would change the host`);
      }
    }
  }

  private seccomp(): void {
    const s = this.spec.linux?.seccomp;
    if (!s) return;
    const at = '/linux/seccomp';
    const errnoActions = new Set(['SCMP_ACT_ERRNO', 'SCMP_ACT_TRACE']);
    if (s.defaultErrnoRet !== undefined && !errnoActions.has(s.defaultAction)) {
      this.error(`${at}/defaultErrnoRet`, `only SCMP_ACT_ERRNO and SCMP_ACT_TRACE return an errno, not defaultAction ${s.defaultAction}`);
    }
    if (s.defaultAction === 'SCMP_ACT_NOTIFY') {
      this.error(`${at}/defaultAction`, 'SCMP_ACT_NOTIFY cannot be used as default action (the container init itself would wait on the agent)');
    }
    if (s.listenerMetadata !== undefined && s.listenerPath === undefined) {
      this.error(`${at}/listenerMetadata`, 'must not be set without listenerPath');
    }
    let notify = false;
    (s.syscalls ?? []).forEach((rule, i) => {
      const r = `${at}/syscalls/${i}`;
      if (rule.action === 'SCMP_ACT_NOTIFY') notify = true;
      rule.names.forEach((n, j) => {
        if (n === '') this.error(`${r}/names/${j}`, 'a syscall name must not be empty');
        // as runc: the init reports over pipes with write(2), which would wait on the agent
        if (n === 'write' && rule.action === 'SCMP_ACT_NOTIFY') this.error(`${r}/names/${j}`, 'SCMP_ACT_NOTIFY cannot be used for the write syscall');
      });
      if (rule.errnoRet !== undefined && !errnoActions.has(rule.action)) {
        this.error(`${r}/errnoRet`, `only SCMP_ACT_ERRNO and SCMP_ACT_TRACE return an errno, not ${rule.action}`);
      }
      (rule.args ?? []).forEach((a, j) => {
        if (a.index >= SECCOMP_MAX_ARGS) this.error(`${r}/args/${j}/index`, `must be between 0 and ${SECCOMP_MAX_ARGS - 1} (a syscall has at most ${SECCOMP_MAX_ARGS} arguments); got ${a.index}`);
      });
    });
    if (notify && !s.listenerPath) {
      this.error(`${at}/listenerPath`, 'is required when a rule uses SCMP_ACT_NOTIFY');
    }
  }

  private paths(): void {
    for (const key of ['maskedPaths', 'readonlyPaths'] as const) {
      const list = this.spec.linux?.[key] ?? [];
      list.forEach((p, i) => this.absolute(`/linux/${key}/${i}`, p));
      if (list.length > 0 && !this.has('mount')) {
        this.error(`/linux/${key}`, 'needs a mount namespace: add {"type": "mount"} to linux.namespaces');
      }
    }
  }

  // AppArmor and SELinux labels are a question of the host, not of the document: judge.ts
  // refuses them, naming the field, where the LSM does not run (lsm-labels.ts).
  private lsm(): void {}

  private intelRdt(): void {
    const rdt = this.spec.linux?.intelRdt;
    if (!rdt) return;
    const clos = rdt.closID;
    if (clos !== undefined && (clos === '.' || clos === '..' || clos.includes('/'))) {
      this.error('/linux/intelRdt/closID', `${JSON.stringify(clos)} cannot name a resctrl group`);
      return;
    }
    this.error('/linux/intelRdt', 'tsrun does not support Intel RDT (its features say intelRdt.enabled: false)');
  }

  private memoryPolicy(): void {
    const mp = this.spec.linux?.memoryPolicy;
    if (!mp) return;
    const at = '/linux/memoryPolicy';
    const nodes = mp.nodes ?? '';
    if (mp.nodes !== undefined && parseIdList(mp.nodes) === null) {
      this.error(`${at}/nodes`, `${JSON.stringify(mp.nodes)} is not a node list such as 0-3,7`);
      return;
    }
    const needNodes = ['MPOL_BIND', 'MPOL_INTERLEAVE', 'MPOL_WEIGHTED_INTERLEAVE', 'MPOL_PREFERRED_MANY'];
    if (needNodes.includes(mp.mode) && nodes.trim() === '') this.error(`${at}/nodes`, `is required for ${mp.mode}`);
    if ((mp.mode === 'MPOL_DEFAULT' || mp.mode === 'MPOL_LOCAL') && nodes.trim() !== '') {
      this.error(`${at}/nodes`, `must not be set for ${mp.mode}`);
    }
    const flags = mp.flags ?? [];
    if (flags.includes('MPOL_F_STATIC_NODES') && flags.includes('MPOL_F_RELATIVE_NODES')) {
      this.error(`${at}/flags`, 'MPOL_F_STATIC_NODES and MPOL_F_RELATIVE_NODES exclude each other');
    }
    if (flags.includes('MPOL_F_NUMA_BALANCING') && mp.mode !== 'MPOL_BIND' && mp.mode !== 'MPOL_PREFERRED_MANY') {
      this.error(`${at}/flags`, `MPOL_F_NUMA_BALANCING applies to MPOL_BIND and MPOL_PREFERRED_MANY only, not ${mp.mode}`);
    }
  }

  private personality(): void {
    const flags = this.spec.linux?.personality?.flags ?? [];
    if (flags.length > 0) this.error('/linux/personality/flags', 'no personality flags are supported (runtime-spec v1.3.0 defines none)');
  }

  private netDevices(): void {
    const devs = this.spec.linux?.netDevices;
    if (!devs || Object.keys(devs).length === 0) return;
    const net = this.nsTypes.get('network');
    if (!net) {
      this.error('/linux/netDevices', 'needs a network namespace: add {"type": "network"} to linux.namespaces');
    } else if (net.path && isOwnNetworkNamespace(net.path)) {
      this.error('/linux/netDevices', `cannot move devices into the host's own network namespace (${net.path})`);
    }
    const targets = new Map<string, string>();
    for (const [hostName, dev] of Object.entries(devs)) {
      const at = `/linux/netDevices/${esc(hostName)}`;
      if (!isValidInterfaceName(hostName)) {
        this.error(at, `${JSON.stringify(hostName)} is not a valid interface name (1-15 characters, no "/", ":" or space, not "." or "..")`);
      }
      const target = dev.name || hostName;
      if (dev.name !== undefined && dev.name !== '' && !isValidInterfaceName(dev.name)) {
        this.error(`${at}/name`, `${JSON.stringify(dev.name)} is not a valid interface name (1-15 characters, no "/", ":" or space, not "." or "..")`);
      }
      const other = targets.get(target);
      if (other !== undefined) this.error(at, `would be named ${target} in the container, like ${other}`);
      else targets.set(target, hostName);
    }
  }
}
