// The features document `tsrun features` prints (features.md, features-linux.md): what this
// build of tsrun implements, independent of the host it runs on.
import { KNOWN_MOUNT_OPTIONS } from '../linux/mount-options.js';
import { CAPABILITY_NAMES } from './capabilities.js';
import { OCI_VERSION_MAX, OCI_VERSION_MIN } from './versions.js';
import type { Features, NamespaceType } from './types.js';

/** Keep in step with package.json's version. */
export const TSRUN_VERSION = '0.1.0';

export const HOOK_NAMES = ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop'] as const;

export const NAMESPACE_TYPES: readonly NamespaceType[] = ['cgroup', 'ipc', 'mount', 'network', 'pid', 'time', 'user', 'uts'];

export const SECCOMP_ACTIONS = [
  'SCMP_ACT_ALLOW',
  'SCMP_ACT_ERRNO',
  'SCMP_ACT_KILL',
  'SCMP_ACT_KILL_PROCESS',
  'SCMP_ACT_KILL_THREAD',
  'SCMP_ACT_LOG',
  'SCMP_ACT_NOTIFY',
  'SCMP_ACT_TRACE',
  'SCMP_ACT_TRAP',
] as const;

export const SECCOMP_OPERATORS = [
  'SCMP_CMP_EQ',
  'SCMP_CMP_GE',
  'SCMP_CMP_GT',
  'SCMP_CMP_LE',
  'SCMP_CMP_LT',
  'SCMP_CMP_MASKED_EQ',
  'SCMP_CMP_NE',
] as const;

/** Architectures libseccomp 2.5 (Debian 12) resolves; the schema's list also has newer ones. */
export const SECCOMP_ARCHS = [
  'SCMP_ARCH_AARCH64',
  'SCMP_ARCH_ARM',
  'SCMP_ARCH_MIPS',
  'SCMP_ARCH_MIPS64',
  'SCMP_ARCH_MIPS64N32',
  'SCMP_ARCH_MIPSEL',
  'SCMP_ARCH_MIPSEL64',
  'SCMP_ARCH_MIPSEL64N32',
  'SCMP_ARCH_PARISC',
  'SCMP_ARCH_PARISC64',
  'SCMP_ARCH_PPC',
  'SCMP_ARCH_PPC64',
  'SCMP_ARCH_PPC64LE',
  'SCMP_ARCH_RISCV64',
  'SCMP_ARCH_S390',
  'SCMP_ARCH_S390X',
  'SCMP_ARCH_X32',
  'SCMP_ARCH_X86',
  'SCMP_ARCH_X86_64',
] as const;

export const SECCOMP_FLAGS = [
  'SECCOMP_FILTER_FLAG_LOG',
  'SECCOMP_FILTER_FLAG_SPEC_ALLOW',
  'SECCOMP_FILTER_FLAG_TSYNC',
  'SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV',
] as const;

export function featuresDocument(): Features {
  return {
    ociVersionMin: OCI_VERSION_MIN,
    ociVersionMax: OCI_VERSION_MAX,
    hooks: [...HOOK_NAMES],
    mountOptions: [...KNOWN_MOUNT_OPTIONS].sort(),
    linux: {
      namespaces: [...NAMESPACE_TYPES],
      capabilities: [...CAPABILITY_NAMES],
      cgroup: { v1: true, v2: true, systemd: false, systemdUser: false, rdma: true },
      seccomp: {
        enabled: true,
        actions: [...SECCOMP_ACTIONS],
        operators: [...SECCOMP_OPERATORS],
        archs: [...SECCOMP_ARCHS],
        knownFlags: [...SECCOMP_FLAGS],
        supportedFlags: [...SECCOMP_FLAGS],
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
