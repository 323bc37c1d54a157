// The device cgroup rules a container gets: the config's rules, then the devices every container
// needs (runc's AllowedDevices), then an allow rule for each device of linux.devices.
import type { DeviceCgroup, Spec } from '../spec/types.js';

const rwm = 'rwm';

export const DEFAULT_ALLOWED_DEVICES: DeviceCgroup[] = [
  { allow: true, type: 'c', access: 'm' }, // mknod of any char device
  { allow: true, type: 'b', access: 'm' }, // mknod of any block device
  { allow: true, type: 'c', major: 1, minor: 3, access: rwm }, // null
  { allow: true, type: 'c', major: 1, minor: 8, access: rwm }, // random
  { allow: true, type: 'c', major: 1, minor: 7, access: rwm }, // full
  { allow: true, type: 'c', major: 5, minor: 0, access: rwm }, // tty
  { allow: true, type: 'c', major: 1, minor: 5, access: rwm }, // zero
  { allow: true, type: 'c', major: 1, minor: 9, access: rwm }, // urandom
  { allow: true, type: 'c', major: 136, access: rwm }, // /dev/pts/*
  { allow: true, type: 'c', major: 5, minor: 2, access: rwm }, // ptmx
  { allow: true, type: 'c', major: 10, minor: 200, access: rwm }, // tun
];

export function effectiveDeviceRules(spec: Spec): DeviceCgroup[] {
  const rules = [...(spec.linux?.resources?.devices ?? [])];
  rules.push(...DEFAULT_ALLOWED_DEVICES);
  for (const d of spec.linux?.devices ?? []) {
    if (d.type === 'p') continue;
    rules.push({ allow: true, type: d.type === 'u' ? 'c' : d.type, major: d.major, minor: d.minor, access: rwm });
  }
  return rules;
}
