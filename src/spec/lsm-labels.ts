// LSM labels (process.apparmorProfile, process.selinuxLabel, linux.mountLabel) against the LSMs
// this host runs: a label the host cannot apply refuses the config, naming the field, so that a
// container that asked for confinement never runs silently unconfined. The plan builders
// (src/linux/lsm.ts, create-plan.ts) assert the same before they write a label.
import type { LsmHost } from '../linux/lsm.js';
import type { Process } from './types.js';

/** The problem with the process's labels on this host, worded as the whole line. */
export function processLabelProblem(p: Pick<Process, 'apparmorProfile' | 'selinuxLabel'>, lsm: LsmHost): string | undefined {
  if (p.apparmorProfile && !lsm.apparmor) return 'process.apparmorProfile: AppArmor is not enabled on this host';
  if (p.selinuxLabel && !lsm.selinux) return 'process.selinuxLabel: SELinux is not enabled on this host';
  return undefined;
}

/** The problem with linux.mountLabel on this host, worded as the whole line. */
export function mountLabelProblem(label: string | undefined, lsm: LsmHost): string | undefined {
  return label && !lsm.selinux ? 'linux.mountLabel: SELinux is not enabled on this host' : undefined;
}
