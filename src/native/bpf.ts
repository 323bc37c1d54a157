// bpf(2) for cgroup device programs: load, query, attach, detach (koffi over libc's syscall()).
// koffi is only required when a program is loaded, and synchronously: the cgroup code is synchronous.
import * as fs from 'node:fs';
import { ENOSPC, SysError } from './native.js';
import { koffi as loadKoffi } from './koffi.js';

const BPF_PROG_LOAD = 5;
const BPF_PROG_ATTACH = 8;
const BPF_PROG_DETACH = 9;
const BPF_PROG_GET_FD_BY_ID = 13;
const BPF_OBJ_GET_INFO_BY_FD = 15;
const BPF_PROG_QUERY = 16;

export const BPF_PROG_TYPE_CGROUP_DEVICE = 15;
export const BPF_CGROUP_DEVICE = 6;
export const BPF_F_ALLOW_MULTI = 1 << 1;
export const BPF_F_REPLACE = 1 << 2;
const BPF_OBJ_NAME_LEN = 16;

/** sizeof(union bpf_attr) is larger in newer kernels; they only require the bytes we pass to be valid. */
const ATTR_SIZE = 128;
/** struct bpf_prog_info up to and including name[16]. */
const PROG_INFO_SIZE = 80;
const LOG_SIZE = 1 << 16;
const MAX_QUERY = 64;

const SYS_BPF: Record<string, number> = { x64: 321, arm64: 280, riscv64: 280, ia32: 357, arm: 386 };

export interface ProgramInfo {
  id: number;
  type: number;
  name: string;
  /** The kernel's tag (hash of the instructions), hex. */
  tag: string;
}

export interface AttachedPrograms {
  ids: number[];
  /** attach_flags of the cgroup for this attach type (BPF_F_ALLOW_MULTI when programs were attached so). */
  flags: number;
}

/** The bpf(2) commands the device controller needs. fds returned are O_CLOEXEC (the kernel's default). */
export interface Bpf {
  /** BPF_PROG_LOAD of a BPF_PROG_TYPE_CGROUP_DEVICE program; returns its fd. A failure carries verifierLog (its last lines). */
  loadDeviceProgram(insns: Uint8Array, license: string, name: string): number;
  /** BPF_PROG_QUERY: the programs attached to this cgroup itself (not inherited) for BPF_CGROUP_DEVICE. */
  queryDevicePrograms(cgroupFd: number): AttachedPrograms;
  /** BPF_PROG_GET_FD_BY_ID. */
  programFd(id: number): number;
  /** BPF_OBJ_GET_INFO_BY_FD on a program fd. */
  programInfo(progFd: number): ProgramInfo;
  /** BPF_PROG_ATTACH with BPF_F_ALLOW_MULTI, plus BPF_F_REPLACE of replaceFd when given (kernel >= 5.6). */
  attachDeviceProgram(cgroupFd: number, progFd: number, replaceFd?: number): void;
  /** BPF_PROG_DETACH of one program (it must be named, the cgroup has BPF_F_ALLOW_MULTI programs). */
  detachDeviceProgram(cgroupFd: number, progFd: number): void;
}

/** An O_RDONLY|O_DIRECTORY fd of a cgroup directory (O_CLOEXEC). */
export function openCgroupDir(path: string): number {
  return fs.openSync(path, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
}

export function closeFd(fd: number): void {
  fs.closeSync(fd);
}

let cached: Bpf | undefined;

export function loadBpf(): Bpf {
  cached ??= load();
  return cached;
}

function load(): Bpf {
  const nr = SYS_BPF[process.arch];
  if (nr === undefined) throw new Error(`bpf: no bpf(2) syscall number known for ${process.arch}`);
  const koffi = loadKoffi();
  const libc = koffi.load('libc.so.6');
  const syscall = libc.func('long syscall(long number, ...)');
  const memcpy = libc.func('void *memcpy(void *dst, const void *src, size_t n)');
  const cStrerror = libc.func('const char *strerror(int errnum)');

  const fail = (what: string, e: number, detail = ''): never => {
    throw new SysError(what, e, (cStrerror(e) as string) + detail);
  };

  /** Memory the kernel reads or writes through a pointer in bpf_attr: koffi.alloc does not move. */
  class Native {
    readonly ptr: unknown;
    readonly addr: bigint;
    constructor(readonly size: number, init?: Uint8Array) {
      this.ptr = koffi.alloc('uint8_t', Math.max(size, 1));
      this.addr = koffi.address(this.ptr);
      const zero = Buffer.alloc(size);
      if (init) zero.set(init);
      memcpy(this.ptr, zero, size);
    }
    read(): Buffer {
      const out = Buffer.alloc(this.size);
      memcpy(out, this.ptr, this.size);
      return out;
    }
    free(): void {
      koffi.free(this.ptr);
    }
  }

  /** bpf(cmd, attr, size); returns the result and the errno (0 on success). */
  const bpf = (cmd: number, attr: Buffer): [number, number] => {
    const r = Number(syscall(nr, 'int', cmd, 'void *', attr, 'unsigned int', attr.length));
    return r < 0 ? [r, koffi.errno()] : [r, 0];
  };

  const cstr = (s: string): Uint8Array => Buffer.from(`${s}\0`, 'utf8');

  const loadOnce = (insns: Uint8Array, license: string, name: string, log: Native | undefined): [number, number] => {
    const code = new Native(insns.length, insns);
    const lic = new Native(Buffer.byteLength(license) + 1, cstr(license));
    try {
      const attr = Buffer.alloc(ATTR_SIZE);
      attr.writeUInt32LE(BPF_PROG_TYPE_CGROUP_DEVICE, 0);
      attr.writeUInt32LE(insns.length / 8, 4);
      attr.writeBigUInt64LE(code.addr, 8);
      attr.writeBigUInt64LE(lic.addr, 16);
      if (log) {
        attr.writeUInt32LE(1, 24);
        attr.writeUInt32LE(log.size, 28);
        attr.writeBigUInt64LE(log.addr, 32);
      }
      Buffer.from(name, 'utf8').subarray(0, BPF_OBJ_NAME_LEN - 1).copy(attr, 48);
      return bpf(BPF_PROG_LOAD, attr);
    } finally {
      code.free();
      lic.free();
    }
  };

  const attachAttr = (cgroupFd: number, progFd: number, flags: number, replaceFd = 0): Buffer => {
    const attr = Buffer.alloc(ATTR_SIZE);
    attr.writeUInt32LE(cgroupFd, 0);
    attr.writeUInt32LE(progFd, 4);
    attr.writeUInt32LE(BPF_CGROUP_DEVICE, 8);
    attr.writeUInt32LE(flags, 12);
    attr.writeUInt32LE(replaceFd, 16);
    return attr;
  };

  return {
    loadDeviceProgram(insns, license, name) {
      if (insns.length % 8 !== 0) throw new Error('bpf: instructions are 8 bytes each');
      const [fd, e] = loadOnce(insns, license, name, undefined);
      if (e === 0) return fd;
      // Again with the verifier's log, so the error says why.
      const log = new Native(LOG_SIZE);
      try {
        const [fd2, e2] = loadOnce(insns, license, name, log);
        if (e2 === 0) return fd2;
        const text = log.read().toString('utf8').replace(/\0.*$/s, '').trim();
        const err = new SysError('BPF_PROG_LOAD', e2, cStrerror(e2) as string);
        throw Object.assign(err, { verifierLog: text.split('\n').filter(Boolean).slice(-2).join('; ') });
      } finally {
        log.free();
      }
    },

    queryDevicePrograms(cgroupFd) {
      let size = MAX_QUERY;
      for (let tries = 0; tries < 10; tries++) {
        const ids = new Native(size * 4);
        try {
          const attr = Buffer.alloc(ATTR_SIZE);
          attr.writeUInt32LE(cgroupFd, 0);
          attr.writeUInt32LE(BPF_CGROUP_DEVICE, 4);
          attr.writeBigUInt64LE(ids.addr, 16);
          attr.writeUInt32LE(size, 24);
          const [, e] = bpf(BPF_PROG_QUERY, attr);
          const count = attr.readUInt32LE(24);
          if (e === ENOSPC) {
            size = Math.max(count, size * 2);
            continue;
          }
          if (e !== 0) fail('BPF_PROG_QUERY', e);
          const raw = ids.read();
          const out: number[] = [];
          for (let i = 0; i < count; i++) out.push(raw.readUInt32LE(i * 4));
          return { ids: out, flags: attr.readUInt32LE(12) };
        } finally {
          ids.free();
        }
      }
      return fail('BPF_PROG_QUERY', ENOSPC, ' (the list of programs kept growing)');
    },

    programFd(id) {
      const attr = Buffer.alloc(ATTR_SIZE);
      attr.writeUInt32LE(id, 0);
      const [fd, e] = bpf(BPF_PROG_GET_FD_BY_ID, attr);
      return e === 0 ? fd : fail(`BPF_PROG_GET_FD_BY_ID ${id}`, e);
    },

    programInfo(progFd) {
      const info = new Native(PROG_INFO_SIZE);
      try {
        const attr = Buffer.alloc(ATTR_SIZE);
        attr.writeUInt32LE(progFd, 0);
        attr.writeUInt32LE(PROG_INFO_SIZE, 4);
        attr.writeBigUInt64LE(info.addr, 8);
        const [, e] = bpf(BPF_OBJ_GET_INFO_BY_FD, attr);
        if (e !== 0) fail('BPF_OBJ_GET_INFO_BY_FD', e);
        const b = info.read();
        const name = b.subarray(64, 64 + BPF_OBJ_NAME_LEN);
        const end = name.indexOf(0);
        return {
          type: b.readUInt32LE(0),
          id: b.readUInt32LE(4),
          tag: b.subarray(8, 16).toString('hex'),
          name: name.subarray(0, end < 0 ? name.length : end).toString('utf8'),
        };
      } finally {
        info.free();
      }
    },

    attachDeviceProgram(cgroupFd, progFd, replaceFd) {
      const flags = BPF_F_ALLOW_MULTI | (replaceFd !== undefined ? BPF_F_REPLACE : 0);
      const [, e] = bpf(BPF_PROG_ATTACH, attachAttr(cgroupFd, progFd, flags, replaceFd));
      if (e !== 0) fail(replaceFd !== undefined ? 'BPF_PROG_ATTACH (BPF_F_REPLACE)' : 'BPF_PROG_ATTACH', e);
    },

    detachDeviceProgram(cgroupFd, progFd) {
      const [, e] = bpf(BPF_PROG_DETACH, attachAttr(cgroupFd, progFd, 0));
      if (e !== 0) fail('BPF_PROG_DETACH', e);
    },
  };
}
