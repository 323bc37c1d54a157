// Which hierarchy each part of linux.resources goes to, and the dispatch (create and `update`).
import { dirname } from 'node:path';
import type { Resources } from '../spec/types.js';
import { setDevicesV2 } from './devices-ebpf.js';
import { CgroupError, type CgDir, cgDir, warn } from './fs.js';
import { type CgroupHandle, type CgroupMode, type Layout, layout, levels } from './paths.js';
import * as v1 from './v1.js';
import * as v2 from './v2.js';

interface Group {
  /** Name used in errors, as in config.json. */
  label: string;
  v1?: string;
  /** The v2 controller to enable; null: a core file or pseudo-controller that needs none. */
  v2?: string | null;
  asked(r: Resources): boolean;
  setV1?(d: CgDir, r: Resources): void;
  setV2?(d: CgDir, r: Resources): void;
}

const UNIFIED = 'linux.resources.unified';
const nonEmpty = (a: unknown[] | undefined): boolean => (a?.length ?? 0) > 0;

/** In runc's v1 order; cpuset first (tasks need it), unified last (it overrides). */
const GROUPS: Group[] = [
  {
    label: 'linux.resources.cpu.cpus/mems', v1: 'cpuset', v2: 'cpuset',
    asked: (r) => !!(r.cpu?.cpus || r.cpu?.mems),
    setV1: v1.setCpusetV1, setV2: v2.setCpusetV2,
  },
  {
    label: 'linux.resources.devices', v1: 'devices', v2: null,
    asked: (r) => nonEmpty(r.devices),
    setV1: v1.setDevicesV1, setV2: (d, r) => applyDevicesV2(d, r),
  },
  {
    label: 'linux.resources.memory', v1: 'memory', v2: 'memory',
    asked: (r) => {
      const m = r.memory;
      return !!m && !!(m.limit || m.reservation || m.swap || m.disableOOMKiller ||
        (m.swappiness !== undefined && m.swappiness !== -1) || m.kernel !== undefined || m.kernelTCP !== undefined);
    },
    setV1: v1.setMemoryV1, setV2: v2.setMemoryV2,
  },
  {
    label: 'linux.resources.cpu', v1: 'cpu', v2: 'cpu',
    asked: (r) => {
      const c = r.cpu;
      return !!c && !!(c.shares || c.quota || c.period || c.realtimePeriod || c.realtimeRuntime ||
        c.burst !== undefined || c.idle !== undefined);
    },
    setV1: v1.setCpuV1, setV2: v2.setCpuV2,
  },
  {
    label: 'linux.resources.pids', v1: 'pids', v2: 'pids',
    asked: (r) => r.pids?.limit !== undefined,
    setV1: v1.setPids, setV2: v2.setPidsV2,
  },
  {
    label: 'linux.resources.blockIO', v1: 'blkio', v2: 'io',
    asked: (r) => {
      const b = r.blockIO;
      return !!b && !!(b.weight || b.leafWeight || nonEmpty(b.weightDevice) || nonEmpty(b.throttleReadBpsDevice) ||
        nonEmpty(b.throttleWriteBpsDevice) || nonEmpty(b.throttleReadIOPSDevice) || nonEmpty(b.throttleWriteIOPSDevice));
    },
    setV1: v1.setBlkioV1, setV2: v2.setIoV2,
  },
  {
    label: 'linux.resources.hugepageLimits', v1: 'hugetlb', v2: 'hugetlb',
    asked: (r) => nonEmpty(r.hugepageLimits),
    setV1: v1.setHugetlbV1, setV2: v2.setHugetlbV2,
  },
  {
    label: 'linux.resources.network.classID', v1: 'net_cls',
    asked: (r) => !!r.network?.classID,
    setV1: v1.setNetClsV1,
  },
  {
    label: 'linux.resources.network.priorities', v1: 'net_prio',
    asked: (r) => nonEmpty(r.network?.priorities),
    setV1: v1.setNetPrioV1,
  },
  {
    label: 'linux.resources.rdma', v1: 'rdma', v2: 'rdma',
    asked: (r) => Object.keys(r.rdma ?? {}).length > 0,
    setV1: v1.setRdma, setV2: v1.setRdma,
  },
  {
    label: UNIFIED, v2: null,
    asked: (r) => Object.keys(r.unified ?? {}).length > 0,
    setV2: v2.setUnified,
  },
];

/**
 * What the host's cgroup mode rules out before anything is made, with runc's wording: unified
 * keys need a cgroup v2 host (a hybrid host's cgroup2 holds no controllers runc would write).
 */
export function checkResourcesForMode(r: Resources | undefined, mode: CgroupMode): void {
  if (r?.unified != null && mode !== 'unified') throw new CgroupError('invalid configuration: cannot use unified on cgroup v1');
}

/**
 * Device rules on cgroup v2: an eBPF program (BPF_PROG_TYPE_CGROUP_DEVICE) attached to the cgroup,
 * replacing the one attached before. Only where there is no v1 devices hierarchy (like runc).
 */
export function applyDevicesV2(d: CgDir, r: Resources): void {
  setDevicesV2(d.path, r.devices ?? []);
}

const words = (s: string | undefined): string[] => (s ?? '').trim().split(/\s+/).filter(Boolean);

/** Enables ctrl in every ancestor's cgroup.subtree_control if the host has it; false if it does not. */
export function ensureV2Controller(v2dirs: { mount: string; dir: string }, ctrl: string): boolean {
  if (words(cgDir(v2dirs.dir).read('cgroup.controllers')).includes(ctrl)) return true;
  if (!words(cgDir(v2dirs.mount).read('cgroup.controllers')).includes(ctrl)) return false;
  for (const d of [v2dirs.mount, ...levels(v2dirs.mount, dirname(v2dirs.dir))]) {
    const cd = cgDir(d);
    if (!words(cd.read('cgroup.subtree_control')).includes(ctrl)) cd.write('cgroup.subtree_control', `+${ctrl}`);
  }
  return true;
}

/** Sets every resource that is asked for; a controller asked for but absent is an error naming it. */
export function applyToLayout(l: Layout, r: Resources): void {
  for (const g of GROUPS) {
    if (!g.asked(r)) continue;
    const h1 = g.v1 ? l.v1.get(g.v1) : undefined;
    if (h1 && g.setV1) {
      g.setV1(cgDir(h1.dir), r);
      continue;
    }
    if (l.v2 && g.setV2 && g.v2 !== undefined) {
      if (g.v2 === null) {
        if (g.label === UNIFIED) {
          // unified keys: enable the controller a key belongs to, when the host has it.
          for (const key of Object.keys(r.unified ?? {})) {
            const ctrl = key.split('.')[0] ?? '';
            if (ctrl && ctrl !== 'cgroup') ensureV2Controller(l.v2, ctrl);
          }
        }
        g.setV2(cgDir(l.v2.dir), r);
        continue;
      }
      if (ensureV2Controller(l.v2, g.v2)) {
        g.setV2(cgDir(l.v2.dir), r);
        continue;
      }
    }
    if (l.mode === 'unified' && (g.v1 === 'net_cls' || g.v1 === 'net_prio')) {
      warn(`${g.label} is ignored on cgroup v2 (no ${g.v1} controller)`);
      continue;
    }
    if (g.label === UNIFIED) {
      throw new CgroupError(`${g.label}: cgroup v2 is not mounted on this host`);
    }
    const name = l.mode === 'unified' ? g.v2 : g.v1;
    throw new CgroupError(`${g.label}: the ${name} controller is not available on this host`);
  }
}

/** Applies linux.resources to an existing cgroup (create and `update`). */
export function applyResources(h: CgroupHandle, r: Resources): void {
  applyToLayout(layout(h), r);
}
