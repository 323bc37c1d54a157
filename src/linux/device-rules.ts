// The device cgroup rules a container gets, as runc's specconv builds them: the config's
// linux.resources.devices, then the devices every container needs (runc's AllowedDevices).
// linux.devices only creates nodes: access to them is what linux.resources.devices says.
import type { DeviceCgroup, Spec } from '../spec/types.js';

const rwm = 'rwm';

/** A default rule, with the node's path where runc's default names one. */
export interface DefaultDeviceRule extends DeviceCgroup {
  path?: string;
}

export const DEFAULT_ALLOWED_DEVICES: DefaultDeviceRule[] = [
  { allow: true, type: 'c', access: 'm' }, // mknod of any char device
  { allow: true, type: 'b', access: 'm' }, // mknod of any block device
  { allow: true, type: 'c', major: 1, minor: 3, access: rwm, path: '/dev/null' },
  { allow: true, type: 'c', major: 1, minor: 8, access: rwm, path: '/dev/random' },
  { allow: true, type: 'c', major: 1, minor: 7, access: rwm, path: '/dev/full' },
  { allow: true, type: 'c', major: 5, minor: 0, access: rwm, path: '/dev/tty' },
  { allow: true, type: 'c', major: 1, minor: 5, access: rwm, path: '/dev/zero' },
  { allow: true, type: 'c', major: 1, minor: 9, access: rwm, path: '/dev/urandom' },
  { allow: true, type: 'c', major: 136, access: rwm }, // /dev/pts/*
  { allow: true, type: 'c', major: 5, minor: 2, access: rwm }, // ptmx
  { allow: true, type: 'c', major: 10, minor: 200, access: rwm }, // tun
];

/**
 * The config's rules, then the defaults. A default whose path the config lists in linux.devices
 * gives way to the config's entry (runc: "the spec one takes priority"), so the config's own
 * resources.devices decide access to that node too.
 */
export function effectiveDeviceRules(spec: Spec): DeviceCgroup[] {
  const listed = new Set((spec.linux?.devices ?? []).map((d) => d.path));
  const defaults = DEFAULT_ALLOWED_DEVICES.filter((d) => d.path === undefined || !listed.has(d.path)).map(({ path: _path, ...rule }) => rule);
  return [...(spec.linux?.resources?.devices ?? []), ...defaults];
}
