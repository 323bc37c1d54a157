// Where tsrun's support files live (tsrun-init, libtsrun-shim.so, koffi's native module).
//
// The built executable carries them inside itself, appended after bun's part with a footer
// (scripts/append-natives.ts): it is one file that works wherever it is copied. The kernel can
// only exec or dlopen real files, so the first command that needs them (create, run, exec)
// unpacks them from /proc/self/exe into a private cache named by their sha256,
// /run/tsrun-lib/<hash>/ for root, owned by the caller and writable by nobody else (checked on
// every use); later commands find it there. Appended data costs the commands that never come
// here (state, kill, list, ...) nothing: it is not even mapped (bun's own embedded files are
// read at start-up, ~300 page faults more per command).
import { inUserNamespace } from '../user-namespace.js';
import { closeSync, fstatSync, lstatSync, mkdirSync, mkdtempSync, openSync, readSync, renameSync, rmSync, writeSync, type Stats } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/** The footer: magic, the three sizes (u64 LE: init, shim, koffi), sha256 of the three. */
export const FOOTER_MAGIC = 'TSRUNLIB';
export const FOOTER_SIZE = 64;
const NAMES = ['tsrun-init', 'libtsrun-shim.so', 'koffi.node'] as const;

export interface SupportFiles {
  /** Directory of the files (what `lib/tsrun` was). */
  dir: string;
  init: string;
  shim: string;
  koffi: string;
}

let cached: SupportFiles | undefined;

/** True when running as the `bun build --compile` executable rather than under node/bun. */
function isCompiled(): boolean {
  return !/\/(node|nodejs|bun|bun\.exe)$/.test(process.execPath);
}

export class SupportFilesError extends Error {}

const layout = (dir: string, koffi: string): SupportFiles => ({
  dir,
  init: join(dir, 'tsrun-init'),
  shim: join(dir, 'libtsrun-shim.so'),
  koffi: join(dir, koffi),
});

/**
 * A directory root (or this user) executes from must be writable by nobody else: owned by the
 * effective uid, a real directory (not a symlink), not group/other writable; the same for each
 * file in it. Else an unprivileged user could swap what root runs.
 */
function checkPrivate(path: string, st: Stats, kind: 'dir' | 'file'): void {
  const uid = process.geteuid?.() ?? 0;
  const what = kind === 'dir' ? st.isDirectory() : st.isFile();
  if (!what) throw new SupportFilesError(`${path}: not a ${kind === 'dir' ? 'directory' : 'regular file'}`);
  if (st.uid !== uid) throw new SupportFilesError(`${path}: owned by uid ${st.uid}, not ${uid}`);
  if (st.mode & 0o022) throw new SupportFilesError(`${path}: writable by group or others (mode ${(st.mode & 0o7777).toString(8)})`);
}

function checkTree(files: SupportFiles, sizes?: Record<'init' | 'shim' | 'koffi', number>): SupportFiles {
  checkPrivate(files.dir, lstatSync(files.dir), 'dir');
  for (const k of ['init', 'shim', 'koffi'] as const) {
    for (let d = dirname(files[k]); d.startsWith(files.dir + '/'); d = dirname(d)) checkPrivate(d, lstatSync(d), 'dir');
    const st = lstatSync(files[k]);
    checkPrivate(files[k], st, 'file');
    if (sizes && st.size !== sizes[k]) throw new SupportFilesError(`${files[k]}: ${st.size} bytes, expected ${sizes[k]}`);
  }
  return files;
}

/** The cache's parent: root's /run/tsrun-lib, a user's $XDG_RUNTIME_DIR/tsrun-lib. */
function cacheBase(): string {
  const uid = process.geteuid?.() ?? 0;
  // uid 0 of a user namespace (rootless podman) is not the host's root: /run is not its own.
  if (uid === 0 && !inUserNamespace()) return '/run/tsrun-lib';
  const xdg = process.env.XDG_RUNTIME_DIR;
  return join(xdg && xdg.startsWith('/') ? xdg : `/run/user/${uid}`, 'tsrun-lib');
}

interface Appended {
  exe: number;
  /** offsets and sizes of the three files in the executable */
  at: number[];
  sizes: number[];
  key: string;
}

function preadAll(fd: number, len: number, pos: number): Buffer {
  const b = Buffer.allocUnsafe(len);
  for (let off = 0; off < len; ) {
    const n = readSync(fd, b, off, len - off, pos + off);
    if (n <= 0) throw new SupportFilesError(`/proc/self/exe: short read at ${pos + off}`);
    off += n;
  }
  return b;
}

function readFooter(exe: number): Appended {
  const size = fstatSync(exe).size;
  const f = size >= FOOTER_SIZE ? preadAll(exe, FOOTER_SIZE, size - FOOTER_SIZE) : Buffer.alloc(0);
  if (f.subarray(0, 8).toString('latin1') !== FOOTER_MAGIC) throw new SupportFilesError(`${process.execPath} carries no support files (not built by make build?)`);
  const sizes = [0, 1, 2].map((i) => Number(f.readBigUInt64LE(8 + i * 8)));
  let pos = size - FOOTER_SIZE - sizes.reduce((a, b) => a + b, 0);
  if (pos < 0) throw new SupportFilesError(`${process.execPath}: bad support files footer`);
  const at = sizes.map((n) => ((pos += n), pos - n));
  return { exe, at, sizes, key: f.subarray(32, 48).toString('hex') };
}

function unpack(): SupportFiles {
  // The executable this process runs: it cannot change while it runs (ETXTBSY).
  const exe = openSync('/proc/self/exe', 'r');
  try {
    const a = readFooter(exe);
    const base = cacheBase();
    const files = layout(join(base, a.key), 'koffi.node');
    const sizes = { init: a.sizes[0]!, shim: a.sizes[1]!, koffi: a.sizes[2]! };
    try {
      return checkTree(files, sizes);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    try {
      mkdirSync(base, { mode: 0o700 });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    checkPrivate(base, lstatSync(base), 'dir');
    // Written aside, checked against the hash, then renamed into place in one step: a reader
    // sees all of it or nothing.
    const tmp = mkdtempSync(join(base, '.new-'));
    try {
      const hash = process.getBuiltinModule('node:crypto').createHash('sha256');
      NAMES.forEach((name, i) => {
        const bytes = preadAll(exe, a.sizes[i]!, a.at[i]!);
        hash.update(bytes);
        const fd = openSync(join(tmp, name), 'wx', name === 'tsrun-init' ? 0o500 : 0o400);
        try {
          for (let off = 0; off < bytes.length; ) off += writeSync(fd, bytes, off);
        } finally {
          closeSync(fd);
        }
      });
      if (hash.digest().subarray(0, 16).toString('hex') !== a.key) throw new SupportFilesError(`${process.execPath}: support files do not match their hash`);
      try {
        renameSync(tmp, files.dir);
      } catch (err) {
        // another tsrun unpacked the same files meanwhile: use theirs
        if (!['EEXIST', 'ENOTEMPTY'].includes((err as NodeJS.ErrnoException).code ?? '')) throw err;
      }
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
    return checkTree(files, sizes);
  } finally {
    closeSync(exe);
  }
}

function find(): SupportFiles {
  const env = process.env.TSRUN_LIBDIR;
  if (env) return checkTree(layout(resolve(env), join('koffi', 'linux_x64', 'koffi.node')));
  if (isCompiled()) return unpack();
  // Running from the sources: src/native/resources.ts -> <repo>/build/lib/tsrun
  const here = dirname(process.getBuiltinModule('node:url').fileURLToPath(import.meta.url));
  return layout(resolve(here, '..', '..', 'build', 'lib', 'tsrun'), join('koffi', 'linux_x64', 'koffi.node'));
}

/** The support files; a failure is one line naming the file and the cause. */
export function supportFiles(): SupportFiles {
  if (cached) return cached;
  try {
    return (cached = find());
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const why = e instanceof SupportFilesError ? e.message : `${e.path ?? ''}${e.path ? ': ' : ''}${e.code ?? e.message}`;
    throw new SupportFilesError(`tsrun's support files (tsrun-init, libtsrun-shim.so, koffi.node) unusable: ${why}`);
  }
}

export function libDir(): string {
  return supportFiles().dir;
}

export function initPath(): string {
  return supportFiles().init;
}

export function shimPath(): string {
  return supportFiles().shim;
}

export function koffiPath(): string {
  return supportFiles().koffi;
}
