// What the systemd cgroup driver (--systemd-cgroup) needs of a config: a cgroupsPath of the form
// "slice:prefix:name" and org.systemd.property.* annotations that are GVariant text. The parsers
// are the driver's own (src/cgroups/systemd), so a config is judged by the code that will use it.
import { annotationProperties } from '../cgroups/systemd/gvariant.js';
import { systemdPlace } from '../cgroups/systemd/unit-name.js';
import type { Spec } from './types.js';

export interface CgroupDriver {
  systemd: boolean;
  /** Rootless: the default slice is user.slice. */
  rootless: boolean;
}

export function systemdCgroupProblem(spec: Spec, id: string, driver: CgroupDriver | undefined): string | undefined {
  if (!driver?.systemd) return undefined;
  try {
    systemdPlace(spec.linux?.cgroupsPath, id, driver.rootless);
    annotationProperties(spec.annotations);
  } catch (e) {
    return (e as Error).message;
  }
  return undefined;
}
