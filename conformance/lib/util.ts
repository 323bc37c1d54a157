import { readFileSync, readlinkSync, existsSync, statSync } from 'node:fs';

const sab = new Int32Array(new SharedArrayBuffer(4));
export function sleepMs(ms: number): void {
  Atomics.wait(sab, 0, 0, ms);
}

export function readText(p: string): string | undefined {
  try {
    return readFileSync(p, 'utf8');
  } catch {
    return undefined;
  }
}

export function readLink(p: string): string | undefined {
  try {
    return readlinkSync(p);
  } catch {
    return undefined;
  }
}

export function exists(p: string): boolean {
  return existsSync(p);
}

export function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** /proc/<pid>/ns/<type> link text, e.g. "net:[4026531840]" */
export function nsOf(pid: number | 'self', type: string): string | undefined {
  return readLink(`/proc/${pid}/ns/${type}`);
}

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    const st = readText(`/proc/${pid}/stat`);
    // a zombie is not a live process for our purposes
    return st !== undefined && !/^\d+ \(.*\) Z /.test(st);
  } catch {
    return false;
  }
}

export interface MountInfo {
  id: number;
  parent: number;
  majmin: string;
  root: string;
  mountPoint: string;
  options: string[];
  optional: string[];
  fsType: string;
  source: string;
  superOptions: string[];
}

function unescapeMount(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)));
}

export function parseMountinfo(text: string): MountInfo[] {
  const out: MountInfo[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const [left, right] = line.split(' - ');
    if (!left || right === undefined) continue;
    const f = left.split(' ');
    const r = right.split(' ');
    out.push({
      id: Number(f[0]),
      parent: Number(f[1]),
      majmin: f[2] ?? '',
      root: unescapeMount(f[3] ?? ''),
      mountPoint: unescapeMount(f[4] ?? ''),
      options: (f[5] ?? '').split(','),
      optional: f.slice(6),
      fsType: r[0] ?? '',
      source: unescapeMount(r[1] ?? ''),
      superOptions: (r[2] ?? '').split(','),
    });
  }
  return out;
}

/** The mount visible at `mp` (the last one listed wins, as in the kernel's view). */
export function mountAt(mounts: MountInfo[], mp: string): MountInfo | undefined {
  let found: MountInfo | undefined;
  for (const m of mounts) if (m.mountPoint === mp) found = m;
  return found;
}

export const CAPS = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_DAC_READ_SEARCH', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL', 'CAP_SETGID',
  'CAP_SETUID', 'CAP_SETPCAP', 'CAP_LINUX_IMMUTABLE', 'CAP_NET_BIND_SERVICE', 'CAP_NET_BROADCAST', 'CAP_NET_ADMIN',
  'CAP_NET_RAW', 'CAP_IPC_LOCK', 'CAP_IPC_OWNER', 'CAP_SYS_MODULE', 'CAP_SYS_RAWIO', 'CAP_SYS_CHROOT', 'CAP_SYS_PTRACE',
  'CAP_SYS_PACCT', 'CAP_SYS_ADMIN', 'CAP_SYS_BOOT', 'CAP_SYS_NICE', 'CAP_SYS_RESOURCE', 'CAP_SYS_TIME',
  'CAP_SYS_TTY_CONFIG', 'CAP_MKNOD', 'CAP_LEASE', 'CAP_AUDIT_WRITE', 'CAP_AUDIT_CONTROL', 'CAP_SETFCAP',
  'CAP_MAC_OVERRIDE', 'CAP_MAC_ADMIN', 'CAP_SYSLOG', 'CAP_WAKE_ALARM', 'CAP_BLOCK_SUSPEND', 'CAP_AUDIT_READ',
  'CAP_PERFMON', 'CAP_BPF', 'CAP_CHECKPOINT_RESTORE',
];

/** Decode a /proc/<pid>/status capability mask into names. */
export function capNames(hex: string | undefined): string[] {
  if (!hex) return [];
  const v = BigInt('0x' + hex);
  const out: string[] = [];
  CAPS.forEach((name, i) => {
    if (v & (1n << BigInt(i))) out.push(name);
  });
  return out;
}

/** Capabilities the host's last_cap knows about. */
export function hostCapCount(): number {
  const t = readText('/proc/sys/kernel/cap_last_cap');
  return t ? Number(t.trim()) + 1 : CAPS.length;
}

export function sortStrings(a: string[]): string[] {
  return [...a].sort();
}
