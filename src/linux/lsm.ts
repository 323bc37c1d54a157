// LSM labels: process.apparmorProfile, process.selinuxLabel and linux.mountLabel. They are
// applied only on a host that runs that LSM; otherwise the config is refused, naming the field
// (src/spec/lsm-labels.ts): a container that asked for confinement never runs silently unconfined.
import * as fs from 'node:fs';
import type { Process } from '../spec/types.js';
import { processLabelProblem } from '../spec/lsm-labels.js';
import type { PlanOp } from '../native/plan.js';
import { Op } from '../native/ops.js';

export interface LsmHost {
  apparmor: boolean;
  selinux: boolean;
  /** /proc/self/attr/apparmor/exec exists (kernels with LSM stacking); else attr/exec. */
  apparmorOwnAttr: boolean;
}

function readText(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

/** What this host runs (AppArmor: the module is enabled; SELinux: selinuxfs is mounted). */
export function probeLsmHost(): LsmHost {
  return {
    apparmor: readText('/sys/module/apparmor/parameters/enabled')?.trim() === 'Y',
    selinux: fs.existsSync('/sys/fs/selinux/enforce'),
    apparmorOwnAttr: fs.existsSync('/proc/self/attr/apparmor/exec'),
  };
}


/**
 * The ops that label the process at its next execve (written by tsrun-init through a verified
 * procfs handle, PROC_WRITE). Asserts what the judge checked: never a label that no LSM here takes.
 */
export function planLsm(p: Process, host: LsmHost): PlanOp[] {
  const problem = processLabelProblem(p, host);
  if (problem) throw new Error(problem);
  const ops: PlanOp[] = [];
  if (p.apparmorProfile) {
    ops.push({
      op: Op.PROC_WRITE,
      strs: [host.apparmorOwnAttr ? 'self/attr/apparmor/exec' : 'self/attr/exec', `exec ${p.apparmorProfile}`],
      what: `apply the AppArmor profile "${p.apparmorProfile}"`,
    });
  }
  if (p.selinuxLabel) {
    ops.push({ op: Op.PROC_WRITE, strs: ['self/attr/exec', p.selinuxLabel], what: `set the SELinux label "${p.selinuxLabel}"` });
  }
  return ops;
}

// Filesystems that take a context= option from mountLabel (runc labels the same: not proc,
// sysfs, cgroup or bind mounts; mqueue gets its label by setxattr there, which tsrun does not do).
const UNLABELED = new Set(['proc', 'sysfs', 'mqueue', 'cgroup', 'cgroup2', 'bind', 'securityfs', 'debugfs', 'tracefs']);

/** The mount data with the SELinux context of linux.mountLabel added (runc's FormatMountLabel). */
export function withMountLabel(type: string, data: string, label: string | undefined): string {
  if (!label || UNLABELED.has(type)) return data;
  const ctx = `context="${label}"`;
  return data ? `${data},${ctx}` : ctx;
}
