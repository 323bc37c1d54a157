// Bundles for the tests: a config.json in a fresh directory whose root.path
// points at the shared rootfs (busybox + the probe), built once by run.sh.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

// The config is plain JSON; tests edit it freely.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Config = Record<string, any>;

export const DEFAULT_CAPS = ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'];

/** The configuration `runc spec` writes, with the probe as the process. */
export function baseConfig(rootfs: string): Config {
  return {
    ociVersion: '1.0.2',
    process: {
      terminal: false,
      user: { uid: 0, gid: 0 },
      args: ['/bin/probe', 'report'],
      env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'TERM=xterm'],
      cwd: '/',
      capabilities: {
        bounding: [...DEFAULT_CAPS],
        effective: [...DEFAULT_CAPS],
        permitted: [...DEFAULT_CAPS],
      },
      rlimits: [{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 }],
      noNewPrivileges: true,
    },
    root: { path: rootfs, readonly: false },
    hostname: 'conformance',
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc' },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
      { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
      { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
      { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
      { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
      { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['nosuid', 'noexec', 'nodev', 'relatime', 'ro'] },
    ],
    linux: {
      resources: { devices: [{ allow: false, access: 'rwm' }] },
      namespaces: [{ type: 'pid' }, { type: 'network' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }],
      maskedPaths: [
        '/proc/acpi', '/proc/asound', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list',
        '/proc/timer_stats', '/proc/sched_debug', '/sys/firmware', '/proc/scsi',
      ],
      readonlyPaths: ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'],
    },
  };
}

export interface Bundle {
  dir: string;
  config: Config;
  /** (re)write config.json from `config` */
  write(): void;
}

export function makeBundle(dir: string, config: Config): Bundle {
  mkdirSync(dir, { recursive: true });
  const b: Bundle = {
    dir,
    config,
    write() {
      writeFileSync(join(dir, 'config.json'), JSON.stringify(b.config, null, 2));
    },
  };
  b.write();
  return b;
}

/** Replace (or add) the namespace list entry of `type`. */
export function setNamespace(c: Config, type: string, path?: string): void {
  const ns = (c.linux.namespaces as { type: string; path?: string }[]).filter((n) => n.type !== type);
  ns.push(path ? { type, path } : { type });
  c.linux.namespaces = ns;
}

export function dropNamespace(c: Config, type: string): void {
  c.linux.namespaces = (c.linux.namespaces as { type: string }[]).filter((n) => n.type !== type);
}

/** A user namespace mapping container 0..65535 onto host 100000.. */
export function addUserns(c: Config, hostBase = 100000, size = 65536): void {
  setNamespace(c, 'user');
  c.linux.uidMappings = [{ containerID: 0, hostID: hostBase, size }];
  c.linux.gidMappings = [{ containerID: 0, hostID: hostBase, size }];
  // sysfs and cgroup cannot be mounted from a user namespace that does not own the network namespace's... keep it simple
  c.mounts = (c.mounts as { destination: string }[]).filter((m) => m.destination !== '/sys/fs/cgroup');
}
