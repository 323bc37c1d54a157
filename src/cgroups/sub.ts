// exec --cgroup: the sub-cgroup(s) of the container's cgroup an exec'd process joins (runc's
// rules: `[<controller>[,<controller>…]:]<path>`, relative to the container's cgroup, never above
// it; one path without a controller applies to every hierarchy).
import * as fs from 'node:fs';
import { join, posix } from 'node:path';
import { errnoMessage } from '../errors.js';
import { CgroupError, errnoCode } from './fs.js';
import { layout, pathIn, type CgroupHandle } from './paths.js';

/** Parses the --cgroup values: controller -> path, '' for "every hierarchy". */
export function parseSubCgroups(args: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const a of args) {
    const parts = a.split(':');
    if (parts.length > 2) throw new CgroupError(`invalid --cgroup argument: ${a}`);
    if (parts.length === 1) {
      if (args.length !== 1) throw new CgroupError(`invalid --cgroup argument: ${a} (missing <controller>: prefix)`);
      out.set('', a);
      continue;
    }
    for (const ctrl of parts[0]!.split(',')) {
      if (ctrl === '') throw new CgroupError(`invalid --cgroup argument: ${a} (empty <controller> prefix)`);
      if (out.has(ctrl)) throw new CgroupError(`invalid --cgroup argument(s): controller ${ctrl} specified multiple times`);
      out.set(ctrl, parts[1]!);
    }
  }
  return out;
}

function below(base: string, add: string): string {
  const p = posix.join(base, add);
  if (p !== base && !p.startsWith(base.endsWith('/') ? base : `${base}/`)) throw new CgroupError(`${add} is not a sub cgroup path`);
  return p;
}

/**
 * The container's cgroup with the sub-cgroups applied, as a handle; every directory it names must
 * exist (the exec'd process is added to its cgroup.procs).
 */
export function subCgroup(h: CgroupHandle, subs: ReadonlyMap<string, string>): CgroupHandle {
  const l = layout(h);
  const paths: Record<string, string> = { ...h.paths };
  let path = h.path;
  const all = subs.get('');
  if (all !== undefined) {
    path = below(h.path, all);
    for (const key of l.v1.keys()) paths[key] = below(pathIn(h, key), all);
    if (l.mode === 'hybrid') {
      // The cgroup2 tree of a hybrid host is not one runc's v1 driver joins: a sub-cgroup made
      // only in the v1 hierarchies leaves the process in the container's cgroup2 cgroup.
      const v2 = below(pathIn(h, 'unified'), all);
      paths.unified = fs.existsSync(join(l.v2!.mount, v2)) ? v2 : pathIn(h, 'unified');
    }
  } else {
    // Co-mounted controllers (cpu and cpuacct are one hierarchy) are one cgroup: naming either
    // moves the process in both (runc leaves it to map order which write comes last).
    const real = new Map([...l.v1].map(([k, e]) => [k, realMount(e.mount)]));
    for (const [ctrl, add] of subs) {
      if (!l.v1.has(ctrl)) throw new CgroupError(`unknown controller ${ctrl} in --cgroup`);
      for (const [key, mount] of real) {
        if (key === ctrl || (mount === real.get(ctrl) && !subs.has(key))) paths[key] = below(pathIn(h, key), add);
      }
    }
  }
  const sub: CgroupHandle = { ...h, path, paths };
  const sl = layout(sub);
  const dirs = [...new Set([...sl.v1.values()].map((e) => e.dir)), ...(sl.v2 ? [sl.v2.dir] : [])];
  for (const dir of dirs) {
    const procs = join(dir, 'cgroup.procs');
    try {
      fs.closeSync(fs.openSync(procs, 'r+'));
    } catch (e) {
      throw new CgroupError(`adding pid of the exec'd process: open ${procs}: ${errnoMessage(e)}`, errnoCode(e));
    }
  }
  return sub;
}

function realMount(mount: string): string {
  try {
    return fs.realpathSync(mount);
  } catch {
    return mount;
  }
}
