// Bench bundles: bundles/busybox/config.json with the process and resources
// changed, the shared busybox rootfs mounted read-only.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sampleBundle, sampleRootfs, workDir } from './paths.js';

// crun 1.8.1 rejects config.json files newer than it knows ("unknown version
// specified" for 1.3.0); every runtime gets the same config, so all use 1.0.2.
const OCI_VERSION = '1.0.2';

let n = 0;

export type Config = any;

export function makeBundle(name: string, args: string[], patch?: (c: Config) => void): string {
  const dir = join(workDir(), `bundle-${name}-${++n}`);
  mkdirSync(dir);
  const cfg: Config = JSON.parse(readFileSync(join(sampleBundle, 'config.json'), 'utf8'));
  cfg.ociVersion = OCI_VERSION;
  cfg.root = { path: sampleRootfs, readonly: true };
  cfg.process.args = args;
  if (patch) patch(cfg);
  writeFileSync(join(dir, 'config.json'), JSON.stringify(cfg, null, 2));
  return dir;
}

export function setMemoryLimit(dir: string, bytes: number): void {
  const p = join(dir, 'config.json');
  const cfg: Config = JSON.parse(readFileSync(p, 'utf8'));
  cfg.linux.resources = { ...(cfg.linux.resources ?? {}), memory: { limit: bytes, swap: bytes } };
  writeFileSync(p, JSON.stringify(cfg, null, 2));
}
