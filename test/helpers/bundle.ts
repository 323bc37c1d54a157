// makeBundle(): a bundle dir in the test's temp dir, its config.json being
// bundles/busybox/config.json changed by the test's patch.
//
// By default root.path is the absolute path of the shared
// bundles/busybox/rootfs, mounted read-only (root.readonly stays true). A test
// that writes into its rootfs asks for `copyRootfs`: it gets its own copy
// (bundle/rootfs, root.path "rootfs", writable).
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Test } from 'tap';
import { context } from './context.js';
import { rootfsReady, sampleBundle, sampleRootfs } from './runtime.js';

// Configs in tests are deliberately loose: bad-input tests put wrong types in.
export type Config = any;

export interface BundleOptions {
  /** Give the bundle its own writable copy of the rootfs. */
  copyRootfs?: boolean;
  /** Shortcut for process.args (applied before the patch). */
  args?: string[];
  /** Start from this config instead of bundles/busybox/config.json. */
  base?: Config;
  /** Do not add TSRUN_TEST_MARK to process.env (tests that compare `env`). */
  noMarker?: boolean;
}

export interface Bundle {
  dir: string;
  configPath: string;
  /** The config as written. */
  config: Config;
  /** Absolute path of the rootfs the bundle uses. */
  rootfs: string;
}

export function baseConfig(): Config {
  return JSON.parse(readFileSync(join(sampleBundle, 'config.json'), 'utf8'));
}

export function makeBundle(t: Test, patch?: (cfg: Config) => void, opts: BundleOptions = {}): Bundle {
  if (!rootfsReady()) {
    throw new Error(`${sampleRootfs} is missing: run \`make rootfs\` first`);
  }
  const c = context(t);
  const dir = join(c.dir, `bundle-${++c.seq}`);
  mkdirSync(dir);
  c.paths.add(dir);
  const cfg: Config = opts.base !== undefined ? structuredClone(opts.base) : baseConfig();
  let rootfs = sampleRootfs;
  if (opts.copyRootfs) {
    rootfs = join(dir, 'rootfs');
    const cp = spawnSync('cp', ['-a', sampleRootfs, rootfs], { encoding: 'utf8' });
    if (cp.status !== 0) throw new Error(`copying the rootfs failed: ${cp.stderr}`);
    cfg.root = { ...(cfg.root ?? {}), path: 'rootfs', readonly: false };
  } else {
    cfg.root = { ...(cfg.root ?? {}), path: sampleRootfs, readonly: true };
  }
  if (cfg.process && typeof cfg.process === 'object') {
    if (opts.args) cfg.process.args = opts.args;
    if (!opts.noMarker) {
      cfg.process.env = [...(Array.isArray(cfg.process.env) ? cfg.process.env : []), `TSRUN_TEST_MARK=${c.mark}`];
    }
  }
  if (patch) patch(cfg);
  const configPath = join(dir, 'config.json');
  writeFileSync(configPath, JSON.stringify(cfg, null, 2) + '\n');
  return { dir, configPath, config: cfg, rootfs };
}

/** Replace a bundle's config.json with raw text (broken JSON and the like). */
export function writeRawConfig(b: Bundle, text: string): void {
  writeFileSync(b.configPath, text);
}
