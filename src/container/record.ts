// What tsrun persists for one container under <root>/<id>/state.json.
import type { Hooks, Namespace, Process, Seccomp, Spec, Status } from '../spec/types.js';
import type { CgroupHandle } from '../cgroups/paths.js';
import type { HostRootfs } from './host-rootfs.js';

export interface ContainerRecord {
  ociVersion: string;
  id: string;
  /** Host pid of the container's init (the process that becomes process.args). */
  pid: number;
  /** Field 22 of /proc/<pid>/stat at create time: a recycled pid never matches. */
  pidStartTime: number;
  bundle: string;
  rootfs: string;
  /** ISO-8601 creation time. */
  created: string;
  owner: string;
  annotations?: Record<string, string>;
  /** created until `start` succeeded, then running; `paused` while frozen. Liveness of the pid decides `stopped`. */
  status: Exclude<Status, 'stopped' | 'creating'> | 'creating';
  /** The exec fifo `start` writes to (absent once started). */
  execFifo?: string;
  /** Namespaces of the container as /proc/<pid>/ns/* paths or config paths, for `exec`. */
  namespaces: Namespace[];
  /** The config's process, the defaults for `exec`. */
  process?: Process;
  hooks?: Hooks;
  /** The container's seccomp profile: `exec`'d processes get the same filter. */
  seccomp?: Seccomp;
  /** cgroup placement (owned by src/cgroups): whatever it needs to find the cgroup again. */
  cgroup?: CgroupHandle;
  /** Whether the container has its own pid namespace (kill --all, delete semantics). */
  sharedPidNs: boolean;
  /** No mount namespace: the rootfs mounts create made in the caller's, for delete to detach. */
  hostRootfs?: HostRootfs;
  /** Set by tsrun when it knows the exit status (foreground run). */
  exitStatus?: number;
}

/**
 * The record of a container being created (or restored): until its init exists, it names the
 * process making it, so `state` says "creating" while that runs and "stopped" if it dies.
 */
export function creatingRecord(id: string, spec: Spec, bundle: string, rootfs: string, self: { pid: number; startTime: number }): ContainerRecord {
  return {
    ociVersion: spec.ociVersion,
    id,
    pid: self.pid,
    pidStartTime: self.startTime,
    bundle,
    rootfs,
    created: new Date().toISOString(),
    owner: '',
    annotations: spec.annotations,
    status: 'creating',
    namespaces: spec.linux?.namespaces ?? [],
    process: spec.process,
    hooks: spec.hooks,
    seccomp: spec.linux?.seccomp,
    sharedPidNs: !(spec.linux?.namespaces ?? []).some((n) => n.type === 'pid'),
  };
}
