// `tsrun --version`, in runc's shape.
import * as fs from 'node:fs';

export const VERSION = '0.1.0';
export const SPEC_VERSION = '1.3.0';

// Set at build time: bun build --define TSRUN_COMMIT='"<git describe>"' (see the Makefile).
declare const TSRUN_COMMIT: string | undefined;

/** The libseccomp version from its shared object's file name (no FFI needed). */
export function libseccompVersion(): string {
  for (const dir of ['/lib/x86_64-linux-gnu', '/usr/lib/x86_64-linux-gnu', '/lib/aarch64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib64', '/usr/lib', '/lib64', '/lib']) {
    try {
      const m = /libseccomp\.so\.(\d+\.\d+\.\d+)$/.exec(fs.realpathSync(`${dir}/libseccomp.so.2`));
      if (m) return m[1]!;
    } catch {
      // not there
    }
  }
  return 'unknown';
}

export function versionText(): string {
  const commit = typeof TSRUN_COMMIT === 'string' && TSRUN_COMMIT ? TSRUN_COMMIT : 'unknown';
  const engine = process.versions.bun ? `bun: ${process.versions.bun}` : `node: ${process.versions.node}`;
  return `tsrun version ${VERSION}\ncommit: ${commit}\nspec: ${SPEC_VERSION}\n${engine}\nlibseccomp: ${libseccompVersion()}\n`;
}
