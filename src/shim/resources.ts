// Where tsrun's support files live (tsrun-init, libtsrun-shim.so, koffi's native module).
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

let cached: string | undefined;

/** True when running as the `bun build --compile` executable rather than under node/bun. */
function isCompiled(): boolean {
  return !/\/(node|nodejs|bun|bun\.exe)$/.test(process.execPath);
}

export function libDir(): string {
  if (cached !== undefined) return cached;
  const env = process.env.TSRUN_LIBDIR;
  if (env) return (cached = resolve(env));
  if (isCompiled()) {
    const bin = dirname(process.execPath);
    const candidates = [join(bin, 'lib', 'tsrun'), join(bin, '..', 'lib', 'tsrun')];
    const found = candidates.find((d) => existsSync(join(d, 'tsrun-init')));
    return (cached = resolve(found ?? candidates[0]!));
  }
  // src/shim/resources.ts -> <repo>/build/lib/tsrun
  const here = dirname(process.getBuiltinModule('node:url').fileURLToPath(import.meta.url));
  return (cached = resolve(here, '..', '..', 'build', 'lib', 'tsrun'));
}

export function initPath(): string {
  return join(libDir(), 'tsrun-init');
}

export function shimPath(): string {
  return join(libDir(), 'libtsrun-shim.so');
}
