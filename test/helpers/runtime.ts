// Where the runtimes are: build/tsrun (the one under test by default) and the
// reference runtimes (runc, crun) found on PATH.
import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { basename, delimiter, dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const sampleBundle = join(repoRoot, 'bundles', 'busybox');
export const sampleRootfs = join(sampleBundle, 'rootfs');

function isExecutable(p: string): boolean {
  try {
    accessSync(p, constants.X_OK);
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

/** Absolute path of build/tsrun; throws a clear error when it has not been built. */
export function tsrunBin(): string {
  const p = join(repoRoot, 'build', 'tsrun');
  if (!isExecutable(p)) {
    throw new Error(`${p} is missing: run \`make build\` first (the integration tests run the built executable)`);
  }
  return p;
}

/** A runtime by name ("runc", "crun", "tsrun") or path, as an absolute path. */
export function runtimeBin(name: string): string {
  if (name === 'tsrun') return tsrunBin();
  if (name.includes('/')) {
    const p = isAbsolute(name) ? name : resolve(repoRoot, name);
    if (!isExecutable(p)) throw new Error(`runtime ${p} is missing or not executable`);
    return p;
  }
  for (const d of (process.env.PATH ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin').split(delimiter)) {
    const p = join(d, name);
    if (d && isExecutable(p)) return p;
  }
  for (const d of ['/usr/local/sbin', '/usr/sbin', '/sbin']) {
    const p = join(d, name);
    if (isExecutable(p)) return p;
  }
  throw new Error(`runtime ${name} not found on PATH`);
}

/** The runtime under test: $RUNTIME (name or path), build/tsrun when unset. */
export function runtimeUnderTest(): string {
  const r = process.env.RUNTIME;
  return r ? runtimeBin(r) : tsrunBin();
}

/** Short name of a runtime path ("tsrun", "runc", ...), for messages and per-runtime choices. */
export function runtimeName(bin: string): string {
  return basename(bin);
}

/** True when the runtime under test is tsrun (its own message format applies). */
export function testingTsrun(): boolean {
  const r = process.env.RUNTIME;
  return !r || r === 'tsrun' || runtimeName(r) === 'tsrun';
}

export function rootfsReady(): boolean {
  return existsSync(join(sampleRootfs, 'bin', 'busybox'));
}
