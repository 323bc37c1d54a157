// exec --cgroup [controller[,controller]:]path: the sub-cgroups of the container's cgroup that an
// exec'd process joins instead of the container's own, with runc's rules and wording.
import { posix } from 'node:path';
import { existsSync } from 'node:fs';
import { CgroupError } from './fs.js';
import type { Layout } from './paths.js';

/** controller -> sub path; the key "" means every hierarchy. */
export type SubCgroups = Map<string, string>;

/** Parses the --cgroup arguments (runc's getSubCgroupPaths). */
export function parseSubCgroups(args: readonly string[]): SubCgroups | undefined {
  if (args.length === 0) return undefined;
  const out: SubCgroups = new Map();
  for (const arg of args) {
    const parts = arg.split(':');
    if (parts.length > 2) throw new CgroupError(`invalid --cgroup argument: ${arg}`);
    if (parts.length === 1) {
      if (args.length !== 1) throw new CgroupError(`invalid --cgroup argument: ${arg} (missing <controller>: prefix)`);
      out.set('', arg);
      continue;
    }
    for (const ctrl of parts[0]!.split(',')) {
      if (ctrl === '') throw new CgroupError(`invalid --cgroup argument: ${arg} (empty <controller> prefix)`);
      if (out.has(ctrl)) throw new CgroupError(`invalid --cgroup argument(s): controller ${ctrl} specified multiple times`);
      out.set(ctrl, parts[1]!);
    }
  }
  return out;
}

function below(base: string, sub: string): string {
  const dir = posix.join(base, sub);
  if (dir !== base && !dir.startsWith(`${base}/`)) throw new CgroupError(`${sub} is not a sub cgroup path`);
  if (!existsSync(dir)) throw new CgroupError(`adding pid to cgroups: ${dir}/cgroup.procs: no such file or directory`);
  return dir;
}

/** The layout with each named hierarchy's directory moved to its sub-cgroup (which must exist). */
export function withSubCgroups(l: Layout, subs: SubCgroups | undefined): Layout {
  if (!subs) return l;
  const out: Layout = { mode: l.mode, v1: new Map(l.v1), v2: l.v2 };
  for (const [ctrl, sub] of subs) {
    if (ctrl === '') {
      for (const [k, e] of l.v1) out.v1.set(k, { ...e, dir: below(e.dir, sub) });
      if (l.mode === 'unified' && l.v2) out.v2 = { ...l.v2, dir: below(l.v2.dir, sub) };
      continue;
    }
    const e = l.v1.get(ctrl);
    if (!e) throw new CgroupError(l.mode === 'unified' ? `--cgroup ${ctrl}:${sub}: a controller prefix is not supported on cgroup v2` : `unknown controller ${ctrl}`);
    out.v1.set(ctrl, { ...e, dir: below(e.dir, sub) });
  }
  return out;
}
