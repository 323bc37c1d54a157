// koffi, loaded straight from its native module: koffi's JavaScript entry point also pulls in
// http, https, zlib and crypto for its installer (~6 ms and ~14 MB per command). The native
// module has every function tsrun uses (load, func, struct, decode, errno, ...).
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { koffiPath, libDir } from './support-files.js';

export type Koffi = typeof import('koffi');

let cached: Koffi | undefined;

export function koffi(): Koffi {
  if (cached) return cached;
  const direct = koffiPath();
  if (existsSync(direct)) {
    // process.dlopen: ~0.4 ms less than require() of the same file under bun.
    const mod = { exports: {} as Koffi };
    process.dlopen(mod, direct);
    cached = mod.exports;
  } else {
    // Running from the sources without `make build`: the package itself.
    (process as { resourcesPath?: string }).resourcesPath = libDir();
    const mod = createRequire(import.meta.url)('koffi') as Koffi & { default?: Koffi };
    cached = mod.default ?? mod;
  }
  return cached;
}
