// The features document `tsrun features` prints (features.md, features-linux.md): what this
// build of tsrun implements, independent of the host it runs on.
import { KNOWN_MOUNT_OPTIONS } from '../linux/mount-options.js';
import { SECCOMP_ACTIONS, SECCOMP_ARCHES, SECCOMP_FLAGS, SECCOMP_OPERATORS } from '../linux/seccomp.js';
import { CAPABILITY_NAMES } from './capabilities.js';
import { OCI_VERSION_MAX, OCI_VERSION_MIN } from './versions.js';
import type { Features, NamespaceType } from './types.js';

/** Keep in step with package.json's version. */
export const TSRUN_VERSION = '0.1.0';

export const HOOK_NAMES = ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop'] as const;

export const NAMESPACE_TYPES: readonly NamespaceType[] = ['cgroup', 'ipc', 'mount', 'network', 'pid', 'time', 'user', 'uts'];

export function featuresDocument(): Features {
  return {
    ociVersionMin: OCI_VERSION_MIN,
    ociVersionMax: OCI_VERSION_MAX,
    hooks: [...HOOK_NAMES],
    mountOptions: [...KNOWN_MOUNT_OPTIONS].sort(),
    linux: {
      namespaces: [...NAMESPACE_TYPES],
      capabilities: [...CAPABILITY_NAMES],
      cgroup: { v1: true, v2: true, systemd: true, systemdUser: true, rdma: true },
      seccomp: {
        enabled: true,
        // Exactly what the seccomp compiler (src/linux/seccomp.ts) accepts.
        actions: [...SECCOMP_ACTIONS].sort(),
        operators: Object.keys(SECCOMP_OPERATORS).sort(),
        archs: [...SECCOMP_ARCHES].sort(),
        knownFlags: Object.keys(SECCOMP_FLAGS).sort(),
        supportedFlags: Object.keys(SECCOMP_FLAGS).sort(),
      },
      apparmor: { enabled: false },
      selinux: { enabled: false },
      intelRdt: { enabled: false },
      mountExtensions: { idmap: { enabled: true } },
    },
    // runc reports org.opencontainers.runc.{version,commit,checkpoint.enabled}; the same under tsrun's name.
    annotations: {
      'io.github.tsrun.version': TSRUN_VERSION,
      'io.github.tsrun.checkpoint.enabled': 'false',
    },
  };
}
