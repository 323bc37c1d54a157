// Whether tsrun runs rootless, decided the way runc decides it. Rootless is not only "not
// root": rootless podman runs the runtime as uid 0 of its own user namespace (no --root given,
// XDG_RUNTIME_DIR set), and the host's /run and cgroup trees are then out of reach.
import { fs } from '../io.js';

import { inUserNamespace } from '../user-namespace.js';

/** True inside a user namespace other than the initial one (runc's userns.RunningInUserNS). */
export { inUserNamespace };

/**
 * runc's shouldHonorXDGRuntimeDir: the default state root is $XDG_RUNTIME_DIR/tsrun for a
 * non-root user, and for uid 0 of a user namespace unless $USER says it is the real root.
 */
export function honorsXdgRuntimeDir(): boolean {
  if (!process.env.XDG_RUNTIME_DIR) return false;
  if ((process.geteuid?.() ?? 0) !== 0) return true;
  if (!inUserNamespace()) return false;
  return process.env.USER !== 'root';
}

/**
 * runc's shouldUseRootlessCgroupManager (cgroupfs): --rootless true/false decides; on auto,
 * a non-root user or uid 0 of a user namespace may find the cgroup tree not delegated to it.
 */
export function rootlessCgroups(flag: boolean | 'auto'): boolean {
  if (flag !== 'auto') return flag;
  return (process.geteuid?.() ?? 0) !== 0 || inUserNamespace();
}
