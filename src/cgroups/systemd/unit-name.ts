// Where a container goes with the systemd cgroup driver: the unit and its slice, from
// linux.cgroupsPath "slice:prefix:name" exactly as runc reads it (docs/systemd.md of runc).
import { posix } from 'node:path';
import { CgroupError } from '../fs.js';

export interface SystemdPlace {
  /** The parent slice unit, e.g. "system.slice" or "machine-pods.slice" ("-.slice": the root). */
  slice: string;
  /** The transient unit: "prefix-name.scope", or "name" itself when it is a slice. */
  unit: string;
}

/** runc's ExpandSlice: "a-b-c.slice" -> "/a.slice/a-b.slice/a-b-c.slice", "-.slice" -> "/". */
export function expandSlice(slice: string): string {
  const suffix = '.slice';
  if (slice.length < suffix.length || !slice.endsWith(suffix) || slice.includes('/')) {
    throw new CgroupError(`invalid slice name: ${slice}`);
  }
  const name = slice.slice(0, -suffix.length);
  if (name === '-') return '/';
  let path = '';
  let prefix = '';
  for (const component of name.split('-')) {
    if (component === '') throw new CgroupError(`invalid slice name: ${slice}`);
    path += `/${prefix}${component}${suffix}`;
    prefix += `${component}-`;
  }
  return path;
}

/**
 * runc: an empty cgroupsPath is ":runc:<id>"; otherwise exactly three fields. An empty slice is
 * system.slice (user.slice for a rootless container); the unit is "<prefix>-<name>.scope" unless
 * name is a slice.
 */
export function systemdPlace(cgroupsPath: string | undefined, id: string, rootless: boolean): SystemdPlace {
  let slice = '';
  let prefix = 'runc';
  let name = id;
  if (cgroupsPath) {
    const parts = cgroupsPath.split(':');
    if (parts.length !== 3) {
      throw new CgroupError(`linux.cgroupsPath ${JSON.stringify(cgroupsPath)}: expected "slice:prefix:name" for systemd cgroups`);
    }
    [slice, prefix, name] = parts as [string, string, string];
  }
  if (name === '' || name.includes('/')) {
    throw new CgroupError(`linux.cgroupsPath ${JSON.stringify(cgroupsPath)}: invalid unit name ${JSON.stringify(name)} (expected "slice:prefix:name")`);
  }
  slice ||= rootless ? 'user.slice' : 'system.slice';
  expandSlice(slice);
  const unit = name.endsWith('.slice') ? name : `${prefix}-${name}.scope`;
  return { slice, unit };
}

/** The unit's cgroup path: below the slice (runc), inside the user manager's cgroup when rootless. */
export function unitCgroupPath(place: SystemdPlace, managerCgroup = '/'): string {
  return posix.join(managerCgroup, expandSlice(place.slice), place.unit);
}
