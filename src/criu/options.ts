// checkpoint/restore command lines -> CRIU options, with runc's checks (checkpoint.go,
// restore.go): they run before CRIU or the container is touched, so a bad flag changes nothing.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UsageError, TsrunError, describeError } from '../errors.js';
import type { ParsedArgs } from '../cli/table.js';

/** criu_cg_mode of CRIU's rpc.proto. */
export const CG_MODE = { ignore: 0, soft: 3, full: 4, strict: 5, default: 6 } as const;
export type CgModeName = keyof typeof CG_MODE;

export const CLONE_NEWNET = 0x40000000;

export interface CriuOptions {
  /** Absolute; made (0700) before CRIU runs unless it exists. */
  imagesDir: string;
  /** Absolute, or undefined: CRIU's work files and log then go to imagesDir. */
  workDir?: string;
  /** Relative to imagesDir (checked to exist as a directory). */
  parentImage?: string;
  leaveRunning: boolean;
  tcpEstablished: boolean;
  extUnixSk: boolean;
  shellJob: boolean;
  fileLocks: boolean;
  preDump: boolean;
  autoDedup: boolean;
  lazyPages: boolean;
  /** -1: none. */
  statusFd: number;
  pageServer?: { address: string; port: number };
  manageCgroupsMode: number;
  /** CLONE_NEW* mask of namespaces CRIU creates empty; the network one always (runc). */
  emptyNs: number;
  lsmProfile?: string;
  lsmMountContext?: string;
}

const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const bool = (v: unknown): boolean => v === true;

/** runc's criuCgMode: '' lets CRIU choose (soft). */
export function cgMode(mode: string): number {
  if (mode === '') return CG_MODE.default;
  if (mode === 'soft' || mode === 'full' || mode === 'strict' || mode === 'ignore') return CG_MODE[mode];
  throw new UsageError(`invalid --manage-cgroups-mode value "${mode}": use soft, full, strict or ignore`);
}

/** --empty-ns: runc knows only "network" (it does not manage network devices). */
export function emptyNsMask(names: readonly string[]): number {
  let mask = CLONE_NEWNET;
  for (const ns of names) {
    if (ns !== 'network') throw new UsageError(`--empty-ns: namespace "${ns}" is not supported (only "network")`);
    mask |= CLONE_NEWNET;
  }
  return mask;
}

/** Go's net.SplitHostPort for ADDRESS:PORT ([v6]:port too). */
export function pageServer(v: string): { address: string; port: number } {
  const m = /^\[([^\]]+)\]:([^:]*)$/.exec(v) ?? /^([^:[\]]*):([^:]*)$/.exec(v);
  if (!m || !m[1] || !m[2]) throw new UsageError('Use --page-server ADDRESS:PORT to specify page server');
  if (!/^\d+$/.test(m[2]) || Number(m[2]) > 65535) throw new UsageError(`--page-server ${v}: invalid port number`);
  return { address: m[1], port: Number(m[2]) };
}

/**
 * runc's prepareImagePaths: --image-path defaults to ./checkpoint; --parent-path must be
 * relative and name an existing directory under the image path. Checked without making
 * anything, so a refused command leaves no directory behind.
 */
export function imagePaths(imagePath: string, parentPath: string): { imagesDir: string; parentImage?: string } {
  const imagesDir = path.resolve(imagePath || 'checkpoint');
  if (!parentPath) return { imagesDir };
  if (path.isAbsolute(parentPath)) throw new UsageError(`--parent-path must be relative (to --image-path), got ${parentPath}`);
  const real = path.join(imagesDir, parentPath);
  let st: fs.Stats;
  try {
    st = fs.statSync(real);
  } catch (e) {
    throw new TsrunError(`invalid --parent-path ${parentPath}: ${describeError(e)}`);
  }
  if (!st.isDirectory()) throw new TsrunError(`invalid --parent-path ${parentPath}: ${real}: not a directory`);
  return { imagesDir, parentImage: parentPath };
}

/** The options both commands share, from their parsed flags (absent flags: runc's defaults). */
export function criuOptions(args: ParsedArgs): CriuOptions {
  const f = args.flags;
  const cg = cgMode(str(f['manage-cgroups-mode']));
  const emptyNs = emptyNsMask((f['empty-ns'] as string[] | undefined) ?? []);
  const ps = str(f['page-server']);
  const statusFd = typeof f['status-fd'] === 'number' ? f['status-fd'] : -1;
  const lazyPages = bool(f['lazy-pages']);
  if (statusFd !== -1 && !lazyPages) throw new UsageError('--status-fd is only meaningful with --lazy-pages');
  if (statusFd < -1) throw new UsageError(`invalid --status-fd ${statusFd}`);
  const workPath = str(f['work-path']);
  const { imagesDir, parentImage } = imagePaths(str(f['image-path']), str(f['parent-path']));
  return {
    imagesDir,
    workDir: workPath ? path.resolve(workPath) : undefined,
    parentImage,
    leaveRunning: bool(f['leave-running']),
    tcpEstablished: bool(f['tcp-established']),
    extUnixSk: bool(f['ext-unix-sk']),
    shellJob: bool(f['shell-job']),
    fileLocks: bool(f['file-locks']),
    preDump: bool(f['pre-dump']),
    autoDedup: bool(f['auto-dedup']),
    lazyPages,
    statusFd,
    pageServer: ps ? pageServer(ps) : undefined,
    manageCgroupsMode: cg,
    emptyNs,
    lsmProfile: str(f['lsm-profile']) || undefined,
    lsmMountContext: str(f['lsm-mount-context']) || undefined,
  };
}
