// `tsrun --version`, in runc's shape: version, commit, spec, runtime engine, libseccomp.
import * as fs from 'node:fs';
import * as path from 'node:path';

export const VERSION = '0.1.0';
export const SPEC_VERSION = '1.3.0';

// Set at build time: bun build --define TSRUN_COMMIT='"<git describe>"' (see the Makefile).
declare const TSRUN_COMMIT: string | undefined;

const MULTIARCH: Record<string, string> = { x64: 'x86_64-linux-gnu', arm64: 'aarch64-linux-gnu' };

/** Where the dynamic linker looks for libseccomp.so.2, in its order (minus ld.so.cache). */
function libraryDirs(): string[] {
  const fromEnv = (process.env.LD_LIBRARY_PATH ?? '').split(':').filter((d) => d.startsWith('/'));
  const ma = MULTIARCH[process.arch];
  const multi = ma ? [`/lib/${ma}`, `/usr/lib/${ma}`, `/usr/local/lib/${ma}`] : [];
  return [...fromEnv, ...multi, '/usr/local/lib', '/usr/lib64', '/lib64', '/usr/lib', '/lib'];
}

/**
 * The libseccomp version from the real file name behind libseccomp.so.2 (libseccomp.so.2.5.4):
 * no FFI, a few stat calls. undefined when no such file or its name says nothing.
 */
export function libseccompFromFileName(dirs: readonly string[] = libraryDirs()): string | undefined {
  for (const dir of dirs) {
    let real: string;
    try {
      real = fs.realpathSync(path.join(dir, 'libseccomp.so.2'));
    } catch {
      continue; // not there
    }
    const m = /^libseccomp\.so\.(\d+\.\d+\.\d+)$/.exec(path.basename(real));
    return m ? m[1] : undefined;
  }
  return undefined;
}

/** libseccomp's own seccomp_version(), through koffi (about 10 ms: only when the file name fails). */
async function libseccompFromLibrary(): Promise<string> {
  try {
    const { loadLibSeccomp } = await import('../native/libseccomp.js');
    return (await loadLibSeccomp()).version;
  } catch {
    return 'unknown';
  }
}

export function versionText(seccomp: string = libseccompFromFileName() ?? 'unknown'): string {
  const commit = typeof TSRUN_COMMIT === 'string' && TSRUN_COMMIT ? TSRUN_COMMIT : 'unknown';
  const engine = process.versions.bun ? `bun: ${process.versions.bun}` : `node: ${process.versions.node}`;
  return `tsrun version ${VERSION}\ncommit: ${commit}\nspec: ${SPEC_VERSION}\n${engine}\nlibseccomp: ${seccomp}\n`;
}

/** `tsrun --version`. */
export async function fullVersionText(): Promise<string> {
  return versionText(libseccompFromFileName() ?? (await libseccompFromLibrary()));
}
