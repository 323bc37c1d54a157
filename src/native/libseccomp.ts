// Typed bindings to libseccomp (Debian libseccomp2), loaded with koffi only when a config has
// a seccomp section: the filter is compiled here, in the parent, and exported as raw BPF.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { koffi as loadKoffi } from './koffi.js';

export interface ArgCmp {
  arg: number;
  op: number;
  a: bigint;
  b: bigint;
}

export interface LibSeccomp {
  version: string;
  /** Builds a filter and returns its BPF program (struct sock_filter[]). */
  compile(build: (f: FilterBuilder) => void, defaultAction: number): Uint8Array;
  resolveSyscall(name: string): number;
  /** The syscall's number on an architecture (a SCMP_ARCH_* token); negative when unknown there. */
  resolveSyscallArch(arch: number, name: string): number;
  resolveArch(name: string): number;
  /** The SCMP_ARCH_* token of the architecture libseccomp was built for. */
  nativeArch(): number;
  /** The running kernel accepts this SECCOMP_FILTER_FLAG_* (seccomp(2) with a NULL program: EFAULT). */
  filterFlagSupported(flag: number): boolean;
}

export interface FilterBuilder {
  addArch(token: number): void;
  addRule(action: number, syscall: number, args: ArgCmp[]): void;
}

let cached: Promise<LibSeccomp> | undefined;

export function loadLibSeccomp(): Promise<LibSeccomp> {
  cached ??= load();
  return cached;
}

async function load(): Promise<LibSeccomp> {
  const koffi = loadKoffi();
  let lib;
  try {
    lib = koffi.load('libseccomp.so.2');
  } catch (e) {
    throw new Error(`seccomp: cannot load libseccomp.so.2 (install libseccomp2): ${(e as Error).message}`);
  }
  koffi.struct('scmp_arg_cmp', { arg: 'uint', op: 'int', datum_a: 'uint64', datum_b: 'uint64' });
  koffi.struct('scmp_version', { major: 'uint', minor: 'uint', micro: 'uint' });
  const init = lib.func('void *seccomp_init(uint32_t def_action)');
  const release = lib.func('void seccomp_release(void *ctx)');
  const archAdd = lib.func('int seccomp_arch_add(void *ctx, uint32_t arch)');
  const archResolve = lib.func('uint32_t seccomp_arch_resolve_name(const char *name)');
  const syscallResolve = lib.func('int seccomp_syscall_resolve_name(const char *name)');
  const syscallResolveArch = lib.func('int seccomp_syscall_resolve_name_arch(uint32_t arch, const char *name)');
  const archNative = lib.func('uint32_t seccomp_arch_native()');
  const ruleAdd = lib.func('int seccomp_rule_add_array(void *ctx, uint32_t action, int syscall, unsigned int n, const scmp_arg_cmp *args)');
  const exportBpf = lib.func('int seccomp_export_bpf(void *ctx, int fd)');
  const versionFn = lib.func('const scmp_version *seccomp_version()');
  const ptr = versionFn(); // a pointer to a static struct: decode it
  const v = ptr ? (koffi.decode(ptr, 'scmp_version') as { major: number; minor: number; micro: number }) : null;
  const version = v ? `${v.major}.${v.minor}.${v.micro}` : 'unknown';
  const errText = (r: number) => os.constants.errno && Object.entries(os.constants.errno).find(([, n]) => n === -r)?.[0];

  const libc = koffi.load('libc.so.6');
  const syscall = libc.func('long syscall(long nr, ...)');
  const SYS_SECCOMP: Record<string, number> = { x64: 317, arm64: 277, ia32: 354, arm: 383, riscv64: 277, ppc64: 358, s390x: 348 };
  const EFAULT = os.constants.errno.EFAULT;

  return {
    version,
    filterFlagSupported(flag) {
      const nr = SYS_SECCOMP[process.arch];
      if (nr === undefined) return true; // let the kernel decide at load time
      // WAIT_KILLABLE_RECV (32) is refused without NEW_LISTENER (8) before the program is read
      const probe = flag & 32 ? flag | 8 : flag;
      const r = syscall(nr, 'uint', 1 /* SECCOMP_SET_MODE_FILTER */, 'uint', probe, 'void *', null) as number;
      return r < 0 && koffi.errno() === EFAULT;
    },
    resolveSyscall: (name) => syscallResolve(name) as number,
    resolveSyscallArch: (arch, name) => syscallResolveArch(arch, name) as number,
    resolveArch: (name) => archResolve(name) as number,
    nativeArch: () => archNative() as number,
    compile(build, defaultAction) {
      const ctx = init(defaultAction);
      if (!ctx) throw new Error('seccomp: seccomp_init failed (invalid default action?)');
      try {
        build({
          addArch(token) {
            const r = archAdd(ctx, token) as number;
            if (r < 0 && r !== -17 /* EEXIST: the native arch */) throw new Error(`seccomp: add architecture: ${errText(r)}`);
          },
          addRule(action, syscall, args) {
            const arr = args.map((a) => ({ arg: a.arg, op: a.op, datum_a: a.a, datum_b: a.b }));
            const r = ruleAdd(ctx, action, syscall, arr.length, arr.length ? arr : null) as number;
            if (r < 0) throw new Error(`seccomp: add rule for syscall ${syscall}: ${errText(r)}`);
          },
        });
        const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-bpf-'));
        const file = path.join(tmp, 'filter');
        const fd = fs.openSync(file, 'w+', 0o600);
        try {
          const r = exportBpf(ctx, fd) as number;
          if (r < 0) throw new Error(`seccomp: export the filter: ${errText(r)}`);
          return new Uint8Array(fs.readFileSync(file));
        } finally {
          fs.closeSync(fd);
          fs.rmSync(tmp, { recursive: true, force: true });
        }
      } finally {
        release(ctx);
      }
    },
  };
}
