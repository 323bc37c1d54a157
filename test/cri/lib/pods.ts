// What kubelet sends: pod sandbox and container configs, and the waits it does between
// calls. Every pod made here is remembered by its scenario and removed at its end.
import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import type { Lane } from './lane.js';
import { CriError, type Msg } from './cri.js';

let seq = 0;

export interface Pod {
  id: string;
  config: Msg;
  handler: string;
  logDir: string;
}

export interface PodOptions {
  /** Pod-level Linux security context (namespace_options, sysctls, ...). */
  security?: Msg;
  sysctls?: Record<string, string>;
  hostname?: string;
}

export function podConfig(lane: Lane, handler: string, name: string, o: PodOptions = {}): { config: Msg; logDir: string } {
  const uid = `${name}-${handler}-${process.pid.toString(36)}${(++seq).toString(36)}`;
  const logDir = join(lane.logRoot, uid);
  mkdirSync(logDir, { recursive: true });
  return {
    logDir,
    config: {
      metadata: { name, uid, namespace: 'tsrun-cri', attempt: 0 },
      // kubelet sends no hostname for a host-network pod (it has the host's UTS namespace).
      hostname: o.hostname ?? (o.security?.namespace_options?.network === 'NODE' ? '' : name),
      log_directory: logDir,
      dns_config: { servers: ['127.0.0.53'], searches: ['tsrun.test'], options: [] },
      labels: { 'io.kubernetes.pod.name': name, handler },
      annotations: {},
      linux: {
        // kubelet's cgroupfs driver: /kubepods/<qos>/pod<uid>; systemd driver: the slice
        // kubepods-<qos>-pod<uid with _ for ->.slice. The lane's own root here.
        cgroup_parent: lane.systemd ? `${lane.cgroupRoot.replace(/\.slice$/, '')}-pod${uid.replace(/-/g, '_')}.slice` : `${lane.cgroupRoot}/pod${uid}`,
        sysctls: o.sysctls ?? {},
        security_context: { namespace_options: { network: 'POD', pid: 'CONTAINER', ipc: 'POD' }, ...(o.security ?? {}) },
      },
    },
  };
}

export interface ContainerOptions {
  image?: string;
  command?: string[];
  args?: string[];
  /** A shell script: command sh -c SCRIPT. */
  script?: string;
  security?: Msg;
  resources?: Msg;
  logPath?: string;
  attempt?: number;
  envs?: { key: string; value: string }[];
  /** Keep the container's stdin open (for Attach). */
  stdin?: boolean;
  tty?: boolean;
  workingDir?: string;
  mounts?: Msg[];
  devices?: Msg[];
}

export function containerConfig(lane: Lane, name: string, o: ContainerOptions = {}): Msg {
  return {
    metadata: { name, attempt: o.attempt ?? 0 },
    image: { image: o.image ?? lane.images.busybox },
    command: o.script !== undefined ? ['sh', '-c', o.script] : (o.command ?? []),
    args: o.args ?? [],
    envs: o.envs ?? [],
    log_path: o.logPath ?? `${name}/${o.attempt ?? 0}.log`,
    linux: { resources: o.resources ?? {}, security_context: o.security ?? {} },
    labels: { 'io.kubernetes.container.name': name },
    working_dir: o.workingDir ?? '',
    mounts: o.mounts ?? [],
    devices: o.devices ?? [],
    stdin: o.stdin ?? false,
    tty: o.tty ?? false,
  };
}

/** Polls ContainerStatus until `state` (e.g. CONTAINER_EXITED) or the bound; returns the last status. */
export async function waitContainer(lane: Lane, id: string, state: string, timeoutMs = 30_000): Promise<Msg> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const st = (await lane.cri.call('ContainerStatus', { container_id: id })).status;
    if (st.state === state || Date.now() > deadline) return st;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The error a CRI call fails with, or undefined when it succeeded. */
export async function criError(p: Promise<unknown>): Promise<CriError | Error | undefined> {
  try {
    await p;
    return undefined;
  } catch (e) {
    return e as Error;
  }
}

/** CRI timestamps are int64 nanoseconds (strings here). */
export const ns = (v: unknown): bigint => BigInt(String(v ?? '0'));
